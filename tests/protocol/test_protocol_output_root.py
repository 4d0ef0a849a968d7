"""Tests of pyop.protocol.output_root against the golden v0 output root (kona)."""

from __future__ import annotations

import json

import pytest
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.protocol.output_root import (
    OutputRootError,
    OutputV0,
    output_root,
    unmarshal_output,
)
from tests.conftest import SHARED_VECTORS


def _golden() -> dict[str, str]:
    g: dict[str, str] = json.loads((SHARED_VECTORS / "golden-values.json").read_text())[
        "output_root"
    ]
    return g


def _b(s: str) -> bytes:
    return bytes.fromhex(s.removeprefix("0x"))


def test_golden_output_root() -> None:
    g = _golden()
    out = OutputV0(_b(g["state_root"]), _b(g["message_passer_storage_root"]), _b(g["block_hash"]))
    assert out.marshal() == _b(g["version"]) + _b(g["state_root"]) + _b(
        g["message_passer_storage_root"]
    ) + _b(g["block_hash"])
    assert len(out.marshal()) == 128
    assert out.root() == _b(g["expected_hash"])
    assert output_root(out.state_root, out.message_passer_storage_root, out.block_hash) == _b(
        g["expected_hash"]
    )
    assert unmarshal_output(out.marshal()) == out


@settings(max_examples=50)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32),
       st.binary(min_size=32, max_size=32))
def test_round_trip_and_formula(a: bytes, b: bytes, c: bytes) -> None:
    out = OutputV0(a, b, c)
    assert unmarshal_output(out.marshal()) == out
    assert out.root() == keccak(bytes(32) + a + b + c)


def test_unmarshal_errors() -> None:
    good = OutputV0(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32).marshal()
    with pytest.raises(OutputRootError, match="128"):
        unmarshal_output(good[:-1])
    with pytest.raises(OutputRootError, match="128"):
        unmarshal_output(good + b"\x00")
    with pytest.raises(OutputRootError, match="version"):
        unmarshal_output(b"\x00" * 31 + b"\x01" + good[32:])
    with pytest.raises(OutputRootError, match="short"):
        unmarshal_output(b"")
    with pytest.raises(OutputRootError):
        OutputV0(b"\x01" * 31, b"\x02" * 32, b"\x03" * 32)


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_output_root_error(raw: bytes) -> None:
    try:
        out = unmarshal_output(raw)
    except OutputRootError:
        return
    assert out.marshal() == raw
