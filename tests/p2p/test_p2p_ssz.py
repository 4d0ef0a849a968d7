"""SSZ of gossiped blocks (pyop/p2p/ssz.py): round trips for every version (hypothesis), and the
decoding refusals op-service's ``UnmarshalSSZ`` has (the Go vectors in test_p2p_go_vectors.py
pin the bytes)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.p2p.ssz import (
    BlockVersion,
    SSZError,
    decode_block,
    decode_payload,
    decode_transactions,
    encode_block,
    encode_payload,
    fixed_size,
)
from pyop.primitives import ExecutionPayload, Withdrawal

h32 = st.binary(min_size=32, max_size=32)
u64 = st.integers(0, 2**64 - 1)


@st.composite
def payloads(draw: st.DrawFn, version: BlockVersion) -> ExecutionPayload:
    v = version
    return ExecutionPayload(
        parent_hash=draw(h32), fee_recipient=draw(st.binary(min_size=20, max_size=20)),
        state_root=draw(h32), receipts_root=draw(h32), logs_bloom=draw(st.binary(min_size=256, max_size=256)),
        prev_randao=draw(h32), block_number=draw(u64), gas_limit=draw(u64), gas_used=draw(u64),
        timestamp=draw(u64), extra_data=draw(st.binary(max_size=32)),
        base_fee_per_gas=draw(st.integers(0, 2**256 - 1)), block_hash=draw(h32),
        transactions=tuple(draw(st.lists(st.binary(max_size=200), max_size=6))),
        withdrawals=tuple(draw(st.lists(st.builds(Withdrawal, u64, u64, st.binary(min_size=20, max_size=20), u64),
                                        max_size=16))) if v.has_withdrawals else None,
        blob_gas_used=draw(u64) if v.has_blob_properties else None,
        excess_blob_gas=draw(u64) if v.has_blob_properties else None,
        withdrawals_root=draw(h32) if v.has_withdrawals_root else None,
        parent_beacon_block_root=draw(h32) if v.has_parent_beacon_block_root else None,
    )  # fmt: skip


@pytest.mark.parametrize("version", list(BlockVersion))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip(version: BlockVersion, data: st.DataObject) -> None:
    p = data.draw(payloads(version))
    b = encode_block(p, version)
    assert decode_block(b, version) == p
    body = b[32:] if version.has_parent_beacon_block_root else b
    assert len(body) == (fixed_size(version) + len(p.extra_data) + 4 * len(p.transactions)
                         + sum(map(len, p.transactions)) + 44 * len(p.withdrawals or ()))  # fmt: skip


def _v1() -> ExecutionPayload:
    return ExecutionPayload(b"\x01" * 32, b"\x02" * 20, b"\x03" * 32, b"\x04" * 32, b"\x00" * 256, b"\x05" * 32,
                            7, 30_000_000, 21_000, 1000, b"x", 10**9, b"\x06" * 32, (b"\x7e\x01", b"\x02\x03\x04"))  # fmt: skip


def test_fixed_sizes() -> None:
    """op-service ``blockV1FixedPart`` and the later versions' additions."""
    assert [fixed_size(v) for v in BlockVersion] == [508, 512, 528, 560]


def test_encoding_needs_the_version_fields() -> None:
    with pytest.raises(SSZError, match="withdrawals list"):
        encode_payload(_v1(), BlockVersion.V2)
    with pytest.raises(SSZError, match="dencun"):
        encode_payload(_with(_v1(), withdrawals=()), BlockVersion.V3)
    with pytest.raises(SSZError, match="parentBeaconBlockRoot"):
        encode_block(_with(_v1(), withdrawals=(), blob_gas_used=0, excess_blob_gas=0), BlockVersion.V3)


def _with(p: ExecutionPayload, **kw: object) -> ExecutionPayload:
    import dataclasses

    return dataclasses.replace(p, **kw)  # type: ignore[arg-type]


def test_decode_refusals_like_op_service() -> None:
    good = encode_payload(_v1(), BlockVersion.V1)
    assert decode_payload(good, BlockVersion.V1) == _v1()
    with pytest.raises(SSZError, match="scope too small"):
        decode_payload(good[:507], BlockVersion.V1)
    bad_extra = good[:436] + struct.pack("<I", 509) + good[440:]
    with pytest.raises(SSZError, match="unexpected extra data offset"):
        decode_payload(bad_extra, BlockVersion.V1)
    bad_txs = good[:504] + struct.pack("<I", 507) + good[508:]
    with pytest.raises(SSZError, match="transactions offset is smaller"):
        decode_payload(bad_txs, BlockVersion.V1)
    too_much_extra = good[:504] + struct.pack("<I", 508 + 33) + good[508:]
    with pytest.raises(SSZError, match="extra-data is too large"):
        decode_payload(too_much_extra, BlockVersion.V1)
    # a V1 payload read as V2: its first tx-offset word is taken as the withdrawals offset
    with pytest.raises(SSZError):
        decode_payload(good, BlockVersion.V2)


def test_transactions_list_rules() -> None:
    """op-service ``unmarshalTransactions``: empty is fine; offsets must be 4-aligned, in scope,
    non-decreasing; the first offset gives the count."""
    assert decode_transactions(b"") == ()
    assert decode_transactions(struct.pack("<II", 8, 9) + b"ab") == (b"a", b"b")
    assert decode_transactions(struct.pack("<I", 4)) == (b"",)
    for bad, why in ((b"\x01\x02", "not enough scope"), (struct.pack("<I", 6) + b"xx", "multiple of offset size"),
                     (struct.pack("<I", 12), "out of scope"), (struct.pack("<I", 0) + b"x", "no transactions"),
                     (struct.pack("<II", 8, 7) + b"x", "bad next offset")):  # fmt: skip
        with pytest.raises(SSZError, match=why):
            decode_transactions(bad)


def test_withdrawals_limit() -> None:
    p = _with(_v1(), withdrawals=tuple(Withdrawal(i, i, b"\x09" * 20, i) for i in range(17)))
    with pytest.raises(SSZError, match="too many withdrawals"):
        decode_payload(encode_payload(p, BlockVersion.V2), BlockVersion.V2)
