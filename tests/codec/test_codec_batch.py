"""Tests of pyop.codec.batch: singular batches (specs/protocol/derivation.md "Batch Format") and
the batch-type dispatch of ``decode_batch``.

Vectors: hildr's RLP singular batches (spec_vectors/span/span-tx-fields/spanbatchfromsingular.txt,
each line ``rlp([parent_hash, epoch_number, epoch_hash, timestamp, transaction_list])``), checked
against pyrlp as an independent decoder.
"""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.batch import (
    SINGULAR_BATCH_TYPE,
    SPAN_BATCH_TYPE,
    SingularBatch,
    decode_batch,
    decode_singular_batch_body,
)
from pyop.codec.errors import BatchError, CodecError, SpanBatchError
from pyop.codec.span_batch import RawSpanBatch
from pyop.primitives import BlockID
from tests.conftest import SPEC_VECTORS

VEC = SPEC_VECTORS / "span" / "span-tx-fields"


def _hex_lines(name: str) -> list[bytes]:
    lines = [ln.strip() for ln in (VEC / name).read_text().splitlines() if ln.strip()]
    out = [bytes.fromhex(ln.removeprefix("0x")) for ln in lines]
    assert out, f"no vectors in {name}"
    return out


def test_constants() -> None:
    assert (SINGULAR_BATCH_TYPE, SPAN_BATCH_TYPE) == (0, 1)


def test_hildr_singular_batches_decode_like_pyrlp() -> None:
    bodies = _hex_lines("spanbatchfromsingular.txt")
    assert len(bodies) == 27
    for body in bodies:
        b = decode_batch(bytes([SINGULAR_BATCH_TYPE]) + body)
        assert isinstance(b, SingularBatch)
        parent, epoch_num, epoch_hash, ts, txs = rlp.decode(body)
        assert b.parent_hash == parent and b.epoch_hash == epoch_hash
        assert b.epoch_num == int.from_bytes(epoch_num, "big")
        assert b.timestamp == int.from_bytes(ts, "big")
        assert b.transactions == tuple(txs)
        assert b.epoch() == BlockID(epoch_hash, b.epoch_num)
        assert b.encode() == bytes([SINGULAR_BATCH_TYPE]) + body
        assert b.encode_body() == body


_h32 = st.binary(min_size=32, max_size=32)
_u64 = st.integers(min_value=0, max_value=2**64 - 1)
_singular = st.builds(
    SingularBatch,
    parent_hash=_h32,
    epoch_num=_u64,
    epoch_hash=_h32,
    timestamp=_u64,
    transactions=st.lists(st.binary(max_size=120), max_size=6).map(tuple),
)


@given(_singular)
@settings(max_examples=200)
def test_singular_round_trip(b: SingularBatch) -> None:
    enc = b.encode()
    assert enc[0] == 0
    assert decode_batch(enc) == b
    # independent: pyrlp reads the same structure
    parent, _, epoch_hash, _, txs = rlp.decode(enc[1:])
    assert (parent, epoch_hash, tuple(txs)) == (b.parent_hash, b.epoch_hash, b.transactions)


def test_trailing_bytes_after_singular_batch_are_ignored() -> None:
    b = SingularBatch(b"\x01" * 32, 5, b"\x02" * 32, 100, (b"\x02\xc0",))
    assert decode_batch(b.encode() + b"garbage") == b


H = b"\xaa" * 32


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (rlp.encode([H, 1, H, 2]), "4 fields"),
        (rlp.encode([H, 1, H, 2, [], b"x"]), "6 fields"),
        (rlp.encode([H[:31], 1, H, 2, []]), "short parent hash"),
        (rlp.encode([H, b"\x00\x01", H, 2, []]), "leading zero"),
        (rlp.encode([H, b"\x00", H, 2, []]), "zero as 0x00"),
        (rlp.encode([H, 2**64, H, 2, []]), "epoch > u64"),
        (rlp.encode([H, 1, H, 2, b"tx"]), "tx list is a string"),
        (rlp.encode([H, 1, H, 2, [[b"tx"]]]), "tx is a list"),
        (rlp.encode(H), "not a list"),
        (rlp.encode([H, 1, H, 2, []])[:-1], "truncated"),
    ],
)
def test_malformed_singular_batches(body: bytes, why: str) -> None:
    with pytest.raises(BatchError) as ei:
        decode_batch(b"\x00" + body)
    assert not isinstance(ei.value, SpanBatchError)
    with pytest.raises(BatchError):
        decode_singular_batch_body(body)


def test_unknown_and_empty_batch_types() -> None:
    with pytest.raises(BatchError) as ei:
        decode_batch(b"")
    assert ei.value.offset == 0
    for t in (2, 3, 0x7E, 0xFF):
        with pytest.raises(BatchError):
            decode_batch(bytes([t]) + rlp.encode([H, 1, H, 2, []]))


def test_span_dispatch_and_offsets() -> None:
    body = (SPEC_VECTORS / "span" / "synthetic-span-batch-body.bin").read_bytes()
    b = decode_batch(b"\x01" + body)
    assert isinstance(b, RawSpanBatch)
    # a truncated span batch: the error offset counts the type byte
    with pytest.raises(SpanBatchError) as ei:
        decode_batch(b"\x01" + body[:30])
    assert ei.value.offset is not None and 1 <= ei.value.offset <= 31


@given(st.binary(max_size=400))
@settings(max_examples=600)
def test_arbitrary_bytes_only_batch_errors(data: bytes) -> None:
    try:
        decode_batch(data)
    except CodecError as e:
        assert isinstance(e, BatchError)


@given(st.sampled_from([0, 1]), st.binary(max_size=400))
@settings(max_examples=600)
def test_typed_garbage_only_batch_errors(t: int, data: bytes) -> None:
    try:
        decode_batch(bytes([t]) + data)
    except CodecError as e:
        assert isinstance(e, BatchError)
