"""Tests of pyop.protocol.deposits: the deposit tx type and source hashes.

Expected values: golden source hashes (op-node deposit_source_test.go), a real L1-info deposit
from an OP Stack L2 block (hildr's op_block_json.txt, spec_vectors/deposits/README.md), and the
L1-info deposits of real OP Sepolia payloads (shared vectors).
"""

from __future__ import annotations

import contextlib
import json

import pytest
import rlp
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.errors import TxError
from pyop.protocol.deposits import (
    DepositTx,
    after_force_include_source_hash,
    decode_deposit_tx,
    l1_info_deposit_source_hash,
    upgrade_deposit_source_hash,
    user_deposit_source_hash,
)
from tests.conftest import SHARED_VECTORS, SPEC_VECTORS

L1_INFO_DEPOSITOR = bytes.fromhex("deaddeaddeaddeaddeaddeaddeaddeaddead0001")
L1_BLOCK = bytes.fromhex("4200000000000000000000000000000000000015")


def _b(s: str) -> bytes:
    return bytes.fromhex(s.removeprefix("0x"))


def test_golden_source_hashes() -> None:
    g = json.loads((SHARED_VECTORS / "golden-values.json").read_text())["deposit_source_hashes"]
    l1hash = _b("0xc00e5d67c2755389aded7d8b151cbd5bcdf7ed275ad5e028b664880fc7581c77")
    key = "L1InfoDepositSource(l1hash=0xc00e5d67c2755389aded7d8b151cbd5bcdf7ed275ad5e028b664880fc7581c77, seq=4)"
    assert l1_info_deposit_source_hash(l1hash, 4) == _b(g[key])
    assert after_force_include_source_hash(l1hash, 4) == _b(g["AfterForceIncludeSource(same)"])
    for intent in ("Ecotone: L1 Block Proxy Update", "Ecotone: beacon block roots contract deployment"):
        assert upgrade_deposit_source_hash(intent) == _b(g[f'UpgradeDepositSource("{intent}")'])
    # ecotone/derivation.md "L1Block Deployment"
    assert upgrade_deposit_source_hash("Ecotone: L1 Block Deployment") == _b(
        "0x877a6077205782ea15a6dc8699fa5ebcec5e0f4389f09cb8eda09488231346f8"
    )


@settings(max_examples=30)
@given(st.binary(min_size=32, max_size=32), st.integers(0, 2**64))
def test_user_and_l1_info_source_hash_formulas(block_hash: bytes, n: int) -> None:
    inner = keccak(block_hash + n.to_bytes(32, "big"))
    assert user_deposit_source_hash(block_hash, n) == keccak(bytes(32) + inner)
    assert l1_info_deposit_source_hash(block_hash, n) == keccak((1).to_bytes(32, "big") + inner)
    assert user_deposit_source_hash(block_hash, n) != l1_info_deposit_source_hash(block_hash, n)


def _check_l1_info_tx(tx: DepositTx) -> None:
    """The L1-info source hash from the calldata (Ecotone+ layout: seq at 12, hash at 100)."""
    seq = int.from_bytes(tx.data[12:20], "big")
    l1_hash = tx.data[100:132]
    assert tx.source_hash == l1_info_deposit_source_hash(l1_hash, seq)


def test_real_l1_info_deposit_from_hildr_block() -> None:
    block = json.loads((SPEC_VECTORS / "deposits" / "op_block_json.txt").read_text())["result"]
    j = block["transactions"][0]
    assert j["type"] == "0x7e"
    tx = DepositTx(
        source_hash=_b(j["sourceHash"]),
        from_=_b(j["from"]),
        to=_b(j["to"]),
        mint=int(j["mint"], 16),
        value=int(j["value"], 16),
        gas=int(j["gas"], 16),
        is_system_tx=False,
        data=_b(j["input"]),
    )
    assert tx.tx_hash() == _b(j["hash"])
    golden = json.loads((SHARED_VECTORS / "golden-values.json").read_text())["hildr_tx_encoding"]
    assert tx.tx_hash() == _b(golden["first_tx_is_deposit"]["expected_tx_hash"])
    assert decode_deposit_tx(tx.encode()) == tx
    assert (tx.from_, tx.to) == (L1_INFO_DEPOSITOR, L1_BLOCK)
    _check_l1_info_tx(tx)


def _payload_files() -> list[str]:
    names = sorted(p.name for p in (SHARED_VECTORS / "payloads").glob("op-sepolia-block-*.json"))
    assert names, "no payload vectors found"
    return names


@pytest.mark.parametrize("name", _payload_files())
def test_op_sepolia_l1_info_deposits(name: str) -> None:
    fixture = json.loads((SHARED_VECTORS / "payloads" / name).read_text())
    raw = _b(fixture["executing_payload"]["transactions"][0])
    tx = decode_deposit_tx(raw)
    assert tx.encode() == raw
    assert (tx.from_, tx.to, tx.mint, tx.value, tx.is_system_tx) == (
        L1_INFO_DEPOSITOR,
        L1_BLOCK,
        0,
        0,
        False,
    )
    _check_l1_info_tx(tx)
    # independent RLP view of the same bytes
    fields = rlp.decode(raw[1:])
    assert fields[0] == tx.source_hash and fields[7] == tx.data


@settings(max_examples=100)
@given(
    source_hash=st.binary(min_size=32, max_size=32),
    frm=st.binary(min_size=20, max_size=20),
    to=st.one_of(st.none(), st.binary(min_size=20, max_size=20)),
    mint=st.integers(0, 2**256 - 1),
    value=st.integers(0, 2**256 - 1),
    gas=st.integers(0, 2**64 - 1),
    system=st.booleans(),
    data=st.binary(max_size=100),
)
def test_round_trip(
    source_hash: bytes,
    frm: bytes,
    to: bytes | None,
    mint: int,
    value: int,
    gas: int,
    system: bool,
    data: bytes,
) -> None:
    tx = DepositTx(source_hash, frm, to, mint, value, gas, system, data)
    raw = tx.encode()
    assert raw[0] == 0x7E
    assert raw[1:] == rlp.encode(
        [source_hash, frm, to or b"", mint, value, gas, 1 if system else 0, data]
    )
    assert decode_deposit_tx(raw) == tx
    assert tx.tx_hash() == keccak(raw)


def _fields() -> list[object]:
    return [b"\x11" * 32, b"\x22" * 20, b"\x33" * 20, 1, 2, 21000, 0, b"data"]


def _enc(fields: list[object]) -> bytes:
    return b"\x7e" + rlp.encode(fields)


def test_decode_errors() -> None:
    decode_deposit_tx(_enc(_fields()))
    cases: list[tuple[bytes, str]] = [
        (b"", "first byte"),
        (b"\x02" + _enc(_fields())[1:], "first byte"),
        (b"\x7e\xff", "RLP"),
        (_enc(_fields()[:7]), "8 fields"),
        (_enc([*_fields(), b""]), "8 fields"),
    ]
    for i, (length, what) in enumerate(((31, "sourceHash"), (19, "from"), (19, "to"))):
        f = _fields()
        f[i if i < 2 else 2] = b"\x01" * length
        cases.append((_enc(f), what))
    f = _fields()
    f[6] = 2
    cases.append((_enc(f), "isSystemTx"))
    f = _fields()
    f[3] = b"\x00\x01"
    cases.append((_enc(f), "leading zero"))
    f = _fields()
    f[5] = 2**64
    cases.append((_enc(f), "gas"))
    f = _fields()
    f[7] = [b"nested"]
    cases.append((_enc(f), "data"))
    for raw, what in cases:
        with pytest.raises(TxError, match=what):
            decode_deposit_tx(raw)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_tx_error(raw: bytes) -> None:
    with contextlib.suppress(TxError):
        decode_deposit_tx(b"\x7e" + raw)


@settings(max_examples=200)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.integers(0, 2**300),
            st.lists(st.binary(max_size=4), max_size=2),
        ),
        min_size=8,
        max_size=8,
    )
)
def test_arbitrary_rlp_lists_raise_only_tx_error(fields: list[object]) -> None:
    try:
        tx = decode_deposit_tx(_enc(fields))
    except TxError:
        return
    assert decode_deposit_tx(tx.encode()) == tx
