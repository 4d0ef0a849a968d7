"""Gzip-compressed derivation fixtures: ``load_fixture`` recognizes gzip by its magic bytes,
``save_fixture`` compresses when the name ends in ``.gz`` (the stored differential fixture,
spec_vectors/derivation/differential/, is a ``.json.gz``)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pyop.config import network_config
from pyop.tools.fixture import FixtureError, load_fixture, save_fixture
from tests.conftest import SPEC_VECTORS

EXAMPLE = SPEC_VECTORS / "derivation" / "op-test-vectors-derivation_fixture.json"


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """The op-test-vectors example with a real rollup config (its own is kona's all-zero
    default, see test_tools_fixture.py), as a plain JSON file."""
    obj = json.loads(EXAMPLE.read_text())
    obj["rollupConfig"] = network_config("op-mainnet").to_json()
    p = tmp_path / "plain.json"
    p.write_text(json.dumps(obj))
    return p


def test_gzip_round_trip(tmp_path: Path, plain: Path) -> None:
    fx = load_fixture(plain)
    out = tmp_path / "fx.json.gz"
    save_fixture(fx, out)
    data = out.read_bytes()
    assert data[:2] == b"\x1f\x8b"
    # independently readable as gzip + JSON
    assert json.loads(gzip.decompress(data)) == fx.to_json()
    assert load_fixture(out).to_json() == fx.to_json()
    # deterministic bytes (no timestamp in the gzip header)
    save_fixture(fx, tmp_path / "again.json.gz")
    assert (tmp_path / "again.json.gz").read_bytes() == data


def test_gzip_detected_by_content_not_name(tmp_path: Path, plain: Path) -> None:
    p = tmp_path / "fixture.json"
    p.write_bytes(gzip.compress(plain.read_bytes()))
    assert load_fixture(p).to_json() == load_fixture(plain).to_json()


@pytest.mark.parametrize(
    "data", [b"\x1f\x8b\x08\x00garbage", gzip.compress(b"not json {", mtime=0), gzip.compress(b"\xff\xfe", mtime=0)]
)
def test_bad_gzip_raises_fixture_error(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "bad.json.gz"
    p.write_bytes(data)
    with pytest.raises(FixtureError):
        load_fixture(p)
