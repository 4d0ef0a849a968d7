"""Tests of pyop.protocol.deposit_log: TransactionDeposited logs -> deposit txs.

Logs are built independently with eth_abi (abi.encode / abi.encodePacked) as the Solidity
OptimismPortal emits them; source hashes are computed with the spec formula directly.
"""

from __future__ import annotations

import contextlib

import pytest
from eth_abi import encode as abi_encode
from eth_abi.packed import encode_packed
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.protocol.deposit_log import (
    DEPOSIT_EVENT_ABI_HASH,
    DepositLogError,
    UserDepositsError,
    deposit_tx_from_log,
    encode_deposit_log,
    user_deposits_from_receipts,
)
from pyop.protocol.deposits import DepositTx
from pyop.protocol.l1_types import Log, Receipt

PORTAL = bytes.fromhex("bEb5Fc579115071764c7423A4f12eDde41f106Ed")
TOPIC0 = keccak(b"TransactionDeposited(address,address,uint256,bytes)")
BLOCK_HASH = keccak(b"some L1 block")
ALICE = bytes.fromhex("1111111111111111111111111111111111111111")
BOB = bytes.fromhex("2222222222222222222222222222222222222222")


def _addr_topic(a: bytes) -> bytes:
    return abi_encode(["address"], ["0x" + a.hex()])


def _opaque(mint: int, value: int, gas: int, is_creation: bool, data: bytes) -> bytes:
    return encode_packed(
        ["uint256", "uint256", "uint64", "bool", "bytes"], [mint, value, gas, is_creation, data]
    )


def _log(
    opaque: bytes,
    *,
    frm: bytes = ALICE,
    to: bytes = BOB,
    version: int = 0,
    log_index: int = 3,
    topics: tuple[bytes, ...] | None = None,
    data: bytes | None = None,
) -> Log:
    return Log(
        address=PORTAL,
        topics=topics
        if topics is not None
        else (TOPIC0, _addr_topic(frm), _addr_topic(to), abi_encode(["uint256"], [version])),
        data=data if data is not None else abi_encode(["bytes"], [opaque]),
        block_hash=BLOCK_HASH,
        log_index=log_index,
    )


def _user_source_hash(block_hash: bytes, log_index: int) -> bytes:
    return keccak(bytes(32) + keccak(block_hash + log_index.to_bytes(32, "big")))


def test_event_hash() -> None:
    assert DEPOSIT_EVENT_ABI_HASH == TOPIC0
    assert TOPIC0.hex() == "b3813568d9991fc951961fcb4c784893574240a28925604d09fc577c55bb7c32"


def test_call_deposit() -> None:
    log = _log(_opaque(10**18, 5, 100_000, False, b"\xde\xad\xbe\xef"), log_index=7)
    tx = deposit_tx_from_log(log)
    assert tx == DepositTx(
        source_hash=_user_source_hash(BLOCK_HASH, 7),
        from_=ALICE,
        to=BOB,
        mint=10**18,
        value=5,
        gas=100_000,
        is_system_tx=False,
        data=b"\xde\xad\xbe\xef",
    )


def test_creation_deposit() -> None:
    tx = deposit_tx_from_log(_log(_opaque(0, 0, 1_000_000, True, b"\x60\x80"), to=bytes(20)))
    assert tx.to is None
    assert tx.data == b"\x60\x80"


def test_is_creation_any_nonzero_byte() -> None:
    # op-node: `to` is only set when the isCreation byte is 0.
    opaque = bytearray(_opaque(0, 0, 21000, False, b""))
    opaque[72] = 2
    assert deposit_tx_from_log(_log(bytes(opaque))).to is None


@settings(max_examples=60)
@given(
    mint=st.integers(0, 2**256 - 1),
    value=st.integers(0, 2**256 - 1),
    gas=st.integers(0, 2**64 - 1),
    creation=st.booleans(),
    data=st.binary(max_size=200),
    log_index=st.integers(0, 2**32),
)
def test_round_trip_against_eth_abi(
    mint: int, value: int, gas: int, creation: bool, data: bytes, log_index: int
) -> None:
    log = _log(
        _opaque(mint, value, gas, creation, data),
        to=bytes(20) if creation else BOB,
        log_index=log_index,
    )
    tx = deposit_tx_from_log(log, strict=True)
    assert (tx.mint, tx.value, tx.gas, tx.data) == (mint, value, gas, data)
    assert tx.to == (None if creation else BOB)
    assert tx.source_hash == _user_source_hash(BLOCK_HASH, log_index)
    enc = encode_deposit_log(PORTAL, tx, block_hash=BLOCK_HASH, log_index=log_index)
    assert enc.topics == log.topics
    assert enc.data == log.data
    assert deposit_tx_from_log(enc) == tx


GOOD = _opaque(1, 2, 50_000, False, b"hello")


def _raises(log: Log, match: str, *, strict: bool = False) -> None:
    with pytest.raises(DepositLogError, match=match):
        deposit_tx_from_log(log, strict=strict)


def test_topic_checks() -> None:
    log = _log(GOOD)
    _raises(_log(GOOD, topics=log.topics[:3]), "expected 4 event topics")
    _raises(_log(GOOD, topics=(*log.topics, bytes(32))), "expected 4 event topics")
    _raises(_log(GOOD, topics=(keccak(b"x"), *log.topics[1:])), "selector")
    _raises(_log(GOOD, version=1), "version")
    _raises(_log(GOOD, topics=(*log.topics[:3], b"\x00")), "32 bytes")


def test_abi_checks() -> None:
    data = abi_encode(["bytes"], [GOOD])  # 32 offset + 32 length + 96 (78 + padding)
    assert len(data) == 160
    _raises(_log(GOOD, data=data[:63]), "incomplete")
    _raises(_log(GOOD, data=data + b"\x00"), "multiple of 32")
    bad = (64).to_bytes(32, "big") + data[32:]
    _raises(_log(GOOD, data=bad), "offset")
    bad = data[:32] + (2**64).to_bytes(32, "big") + data[64:]
    _raises(_log(GOOD, data=bad), "length")
    bad = data[:32] + (97).to_bytes(32, "big") + data[64:]  # longer than the content
    _raises(_log(GOOD, data=bad), "length")
    _raises(_log(GOOD, data=data + bytes(32)), "length")  # non-minimal padding
    short = _opaque(1, 2, 3, False, b"")[:72]
    _raises(_log(short), "opaqueData length: 72")
    deposit_tx_from_log(_log(_opaque(1, 2, 3, False, b"")))  # exactly 73 is fine


def test_strict_checks_follow_kona() -> None:
    log = _log(GOOD)
    dirty_from = b"\x01" + log.topics[1][1:]
    dirty = _log(GOOD, topics=(log.topics[0], dirty_from, *log.topics[2:]))
    assert deposit_tx_from_log(dirty).from_ == ALICE  # op-node ignores the padding
    _raises(dirty, "padding in the from", strict=True)
    dirty_to = _log(GOOD, topics=(*log.topics[:2], b"\x09" + log.topics[2][1:], log.topics[3]))
    assert deposit_tx_from_log(dirty_to).to == BOB
    _raises(dirty_to, "padding in the to", strict=True)
    data = bytearray(abi_encode(["bytes"], [GOOD]))
    data[-1] = 1  # ABI padding after the 78 bytes of opaque data
    assert deposit_tx_from_log(_log(GOOD, data=bytes(data))).data == b"hello"
    _raises(_log(GOOD, data=bytes(data)), "ABI padding", strict=True)


@settings(max_examples=200)
@given(
    topics=st.lists(st.binary(min_size=0, max_size=33), max_size=5),
    data=st.binary(max_size=300),
    use_topic0=st.booleans(),
)
def test_arbitrary_logs_raise_only_deposit_log_error(
    topics: list[bytes], data: bytes, use_topic0: bool
) -> None:
    if use_topic0 and topics:
        topics[0] = TOPIC0
    log = Log(address=PORTAL, topics=tuple(topics), data=data)
    for strict in (False, True):
        with contextlib.suppress(DepositLogError):
            deposit_tx_from_log(log, strict=strict)


@settings(max_examples=100)
@given(length=st.integers(0, 2**70), tail=st.binary(max_size=200))
def test_arbitrary_abi_header_raises_only_deposit_log_error(length: int, tail: bytes) -> None:
    tail = tail + bytes((-len(tail)) % 32)
    data = (32).to_bytes(32, "big") + length.to_bytes(32, "big") + tail
    with contextlib.suppress(DepositLogError):
        deposit_tx_from_log(_log(GOOD, data=data))


def test_user_deposits_from_receipts() -> None:
    d1 = _log(_opaque(0, 1, 21000, False, b"a"), log_index=0)
    d2 = _log(_opaque(0, 2, 21000, False, b"b"), log_index=5)
    d3 = _log(_opaque(0, 3, 21000, False, b"c"), log_index=9)
    other_addr = Log(BOB, d1.topics, d1.data, BLOCK_HASH, 1)
    other_event = Log(PORTAL, (keccak(b"Other()"),), b"", BLOCK_HASH, 2)
    receipts = [
        Receipt(status=1, logs=(d1, other_addr, other_event)),
        Receipt(status=0, logs=(_log(_opaque(0, 99, 21000, False, b""), log_index=4),)),
        Receipt(status=1, logs=()),
        Receipt(status=1, logs=(d2, d3)),
    ]
    txs = user_deposits_from_receipts(receipts, PORTAL)
    assert [t.value for t in txs] == [1, 2, 3]
    assert [t.source_hash for t in txs] == [
        _user_source_hash(BLOCK_HASH, i) for i in (0, 5, 9)
    ]
    assert user_deposits_from_receipts(receipts, ALICE) == []


def test_user_deposits_collects_errors() -> None:
    good = _log(_opaque(0, 1, 21000, False, b"a"), log_index=0)
    bad1 = _log(GOOD, version=2, log_index=1)
    bad2 = _log(GOOD, data=bytes(64), log_index=2)
    good2 = _log(_opaque(0, 2, 21000, False, b"b"), log_index=3)
    receipts = [Receipt(1, (good, bad1)), Receipt(1, (bad2, good2))]
    with pytest.raises(UserDepositsError) as info:
        user_deposits_from_receipts(receipts, PORTAL)
    err = info.value
    assert [(i, j) for i, j, _ in err.errors] == [(0, 1), (1, 0)]
    assert [t.value for t in err.deposits] == [1, 2]
    assert isinstance(err, DepositLogError)


def test_receipt_from_json() -> None:
    log = _log(GOOD, log_index=0x1F)
    obj = {
        "status": "0x1",
        "type": "0x2",
        "transactionHash": "0x" + "ab" * 32,
        "logs": [
            {
                "address": "0x" + PORTAL.hex(),
                "topics": ["0x" + t.hex() for t in log.topics],
                "data": "0x" + log.data.hex(),
                "blockHash": "0x" + BLOCK_HASH.hex(),
                "blockNumber": "0x10",
                "logIndex": "0x1f",
                "transactionHash": "0x" + "ab" * 32,
                "transactionIndex": "0x0",
                "removed": False,
            }
        ],
    }
    rec = Receipt.from_json(obj)
    assert rec.successful and rec.tx_type == 2
    assert rec.logs[0].topics == log.topics and rec.logs[0].log_index == 0x1F
    assert user_deposits_from_receipts([rec], PORTAL)[0].source_hash == _user_source_hash(
        BLOCK_HASH, 0x1F
    )
