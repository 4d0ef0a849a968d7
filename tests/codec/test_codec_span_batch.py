"""Tests of pyop.codec.span_batch (specs/protocol/delta/span-batches.md).

Vectors (spec_vectors/span/, see README.md): the synthetic Go span-batch body and the real OP
Mainnet batcher transaction with their decoded summaries in expected.json; hildr's raw span
batch (span-tx-fields/spanbatchoriginbits.txt) and RLP singular batches
(span-tx-fields/spanbatchfromsingular.txt).
"""

from __future__ import annotations

import json
import random
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.errors import CodecError, SpanBatchError
from pyop.codec.span_batch import (
    MissingL1OriginError,
    RawSpanBatch,
    SpanBatch,
    SpanBatchElement,
    decode_span_batch_body,
)
from pyop.codec.span_txs import write_uvarint
from pyop.codec.tx import decode_signed_tx, make_signed_tx, rlp_decode_at
from pyop.primitives import ZERO_HASH, BlockID, L1BlockRef, L2BlockRef
from tests.conftest import SPEC_VECTORS

VEC = SPEC_VECTORS / "span"
EXPECTED: dict[str, Any] = json.loads((VEC / "expected.json").read_text())
PARAMS: dict[str, Any] = json.loads((VEC / "hildr-test-params.json").read_text())

# OP Mainnet rollup config (superchain registry): genesis.l2_time and genesis.l2.number
OP_MAINNET_L2_TIME = 1686068903
OP_MAINNET_L2_GENESIS_NUMBER = 105235063
OP_MAINNET_CHAIN_ID = 10
OP_MAINNET_BLOCK_TIME = 2


def _hex(path: str) -> bytes:
    text = (VEC / path).read_text().strip()
    assert text.startswith("0x")
    return bytes.fromhex(text[2:])


def _singular_batches() -> list[SingularBatch]:
    lines = [ln.strip() for ln in (VEC / "span-tx-fields/spanbatchfromsingular.txt").read_text().splitlines()]
    out = []
    for ln in lines:
        if ln:
            b = decode_batch(b"\x00" + bytes.fromhex(ln.removeprefix("0x")))
            assert isinstance(b, SingularBatch)
            out.append(b)
    assert out
    return out


# ---- synthetic Go vector ----------------------------------------------------------------------


def test_synthetic_body_matches_expected() -> None:
    body = (VEC / "synthetic-span-batch-body.bin").read_bytes()
    exp = EXPECTED["span/synthetic-span-batch-body.bin"]
    assert len(body) == exp["len"]
    pre = exp["prefix_and_counts"]
    raw = decode_span_batch_body(body)
    assert raw.rel_timestamp == pre["rel_timestamp"]
    assert raw.l1_origin_num == pre["l1_origin_num"]
    assert raw.parent_check.hex() == pre["parent_check"]
    assert raw.l1_origin_check.hex() == pre["l1_origin_check"]
    assert raw.block_count == pre["block_count"]
    assert bin(raw.origin_bits) == pre["origin_bits"]
    assert list(raw.block_tx_counts) == pre["block_tx_counts"]
    assert raw.txs.total_block_tx_count == pre["total_txs"]
    assert len(raw.txs.encode()) == pre["txs_bytes_len"]
    assert raw.encode_body() == body
    assert raw.encode() == b"\x01" + body
    assert decode_batch(b"\x01" + body) == raw
    # origin numbers walk back from l1_origin_num: bits 2 and 3 set -> +1 at blocks 2 and 3
    n = pre["l1_origin_num"]
    assert raw.block_origin_nums() == (n - 2, n - 2, n - 1, n)


def test_synthetic_derive_and_reencode() -> None:
    body = (VEC / "synthetic-span-batch-body.bin").read_bytes()
    raw = decode_span_batch_body(body)
    sb = raw.derive(block_time=2, genesis_timestamp=1000, chain_id=77)
    assert sb.first_timestamp() == 1000 + raw.rel_timestamp
    assert sb.last_timestamp() == sb.first_timestamp() + 2 * 3
    assert [len(e.transactions) for e in sb.batches] == list(raw.block_tx_counts)
    assert sb.final_epoch_num() == raw.l1_origin_num
    assert sb.start_epoch_num() == raw.l1_origin_num - 2
    assert sb.to_raw() == raw
    assert sb.encode() == b"\x01" + body


def test_hildr_raw_span_batch() -> None:
    data = _hex("span-tx-fields/spanbatchoriginbits.txt")
    raw = decode_span_batch_body(data)
    assert raw.encode_body() == data
    assert len(raw.block_tx_counts) == raw.block_count
    sb = raw.derive(2, 0, 28)
    assert sb.to_raw() == raw
    assert sb.tx_count() == raw.txs.total_block_tx_count


# ---- the real OP Mainnet batcher transaction ---------------------------------------------------


def _batcher_span_bytes() -> bytes:
    tx = decode_signed_tx((VEC / "op-mainnet-batcher-tx-0xe69d9433.bin").read_bytes())
    calldata = tx.data
    assert calldata[0] == 0  # derivation version 0
    # frame = channel_id(16) ++ frame_number(u16) ++ frame_data_length(u32) ++ data ++ is_last
    length = int.from_bytes(calldata[19:23], "big")
    frame_data = calldata[23 : 23 + length]
    assert calldata[23 + length] == 1 and len(calldata) == 24 + length
    decompressed = zlib.decompressobj().decompress(frame_data)
    assert len(decompressed) == EXPECTED["batcher/op-mainnet-batcher-tx-0xe69d9433.bin"]["decompressed_len"]
    batch, end = rlp_decode_at(decompressed, 0)
    assert end == len(decompressed) and isinstance(batch, bytes)
    return batch


def test_real_span_batch() -> None:
    exp = EXPECTED["batcher/op-mainnet-batcher-tx-0xe69d9433.bin"]["span"]
    data = _batcher_span_bytes()
    raw = decode_batch(data)
    assert isinstance(raw, RawSpanBatch)
    assert raw.rel_timestamp == exp["rel_timestamp"]
    assert raw.l1_origin_num == exp["l1_origin_num"]
    assert "0x" + raw.parent_check.hex() == exp["parent_check"]
    assert "0x" + raw.l1_origin_check.hex() == exp["l1_origin_check"]
    assert raw.block_count == exp["block_count"]
    assert list(raw.block_tx_counts) == exp["block_tx_counts"]
    assert raw.txs.total_block_tx_count == exp["total_txs"]
    assert raw.encode() == data

    sb = raw.derive(OP_MAINNET_BLOCK_TIME, OP_MAINNET_L2_TIME, OP_MAINNET_CHAIN_ID)
    assert [e.epoch_num for e in sb.batches] == exp["l1_origin_per_block"]
    assert sb.first_timestamp() == exp["first_timestamp"]
    assert sb.last_timestamp() == exp["last_timestamp"]
    first_num = OP_MAINNET_L2_GENESIS_NUMBER + (sb.first_timestamp() - OP_MAINNET_L2_TIME) // 2
    assert first_num == exp["first_l2_block"]
    assert first_num + sb.block_count() - 1 == exp["last_l2_block"]
    assert sb.start_epoch_num() == exp["l1_origin_per_block"][0]
    assert sb.final_epoch_num() == exp["l1_origin_num"]
    full = [tx for e in sb.batches for tx in e.transactions]
    assert len(full) == exp["total_txs"]
    for t in full:
        st_ = decode_signed_tx(t)
        assert st_.tx_type in (0, 2)
        assert st_.chain_id in (None, OP_MAINNET_CHAIN_ID)
    # re-encoding from the full transactions gives the same bytes
    again = SpanBatch(
        sb.parent_check, sb.l1_origin_check, OP_MAINNET_L2_TIME, OP_MAINNET_CHAIN_ID,
        tuple(SpanBatchElement(e.epoch_num, e.timestamp, e.transactions) for e in sb.batches),
        origin_changed_bit=bool(raw.origin_bits & 1),
    )  # fmt: skip
    assert again.encode() == data


# ---- from singular batches and back ----------------------------------------------------------


@pytest.mark.parametrize("origin_changed_bit", [False, True])
def test_from_singular_batches_and_derive(origin_changed_bit: bool) -> None:
    singulars = _singular_batches()
    chain_id = PARAMS["field_files"]["spanbatchfromsingular.txt"]["chain_id"]
    block_time = PARAMS["field_files"]["spanbatchfromsingular.txt"]["block_time"]
    genesis = singulars[0].timestamp + 1 - 128  # as in hildr's testSpanBatchDerive
    sb = SpanBatch.from_singular_batches(
        singulars, genesis, chain_id, origin_changed_bit=origin_changed_bit
    )
    assert sb.first_timestamp() == singulars[0].timestamp
    assert sb.start_epoch_num() == singulars[0].epoch_num
    assert sb.final_epoch_num() == singulars[-1].epoch_num
    assert sb.check_origin_hash(singulars[-1].epoch_hash)
    assert sb.check_parent_hash(singulars[0].parent_hash)
    assert not sb.check_parent_hash(ZERO_HASH)

    raw = sb.to_raw()
    assert raw.rel_timestamp == 127
    assert raw.l1_origin_num == singulars[-1].epoch_num
    assert raw.parent_check == singulars[0].parent_hash[:20]
    assert raw.l1_origin_check == singulars[-1].epoch_hash[:20]
    # origin bits computed independently from the epoch numbers
    want_bits = int(origin_changed_bit)
    for i in range(1, len(singulars)):
        if singulars[i].epoch_num != singulars[i - 1].epoch_num:
            want_bits |= 1 << i
    assert raw.origin_bits == want_bits

    enc = sb.encode()
    dec = decode_batch(enc)
    assert dec == raw
    derived = dec.derive(block_time, genesis, chain_id)  # type: ignore[union-attr]
    assert derived == sb
    assert len(derived.batches) == len(singulars)
    for el, s in zip(derived.batches, singulars, strict=True):
        assert (el.epoch_num, el.timestamp, el.transactions) == (
            s.epoch_num, s.timestamp, s.transactions,
        )  # fmt: skip


def _l2_ref(hash_: bytes, ts: int, origin: BlockID) -> L2BlockRef:
    return L2BlockRef(hash=hash_, number=1, parent_hash=ZERO_HASH, timestamp=ts, l1_origin=origin,
                      sequence_number=0)  # fmt: skip


def test_get_singular_batches() -> None:
    singulars = _singular_batches()
    sb = SpanBatch.from_singular_batches(singulars, 0, 589)
    origins: dict[int, bytes] = {}
    for s in singulars:
        origins[s.epoch_num] = s.epoch_hash
    l1 = [L1BlockRef(h, n, ZERO_HASH, 0) for n, h in sorted(origins.items())]
    # safe head = block 4 of the span: the result starts at block 5
    safe = _l2_ref(b"\x77" * 32, singulars[4].timestamp, singulars[4].epoch())
    out = sb.get_singular_batches(l1, safe)
    assert len(out) == len(singulars) - 5
    assert out[0].parent_hash == safe.hash
    assert all(b.parent_hash == ZERO_HASH for b in out[1:])
    for got, want in zip(out, singulars[5:], strict=True):
        assert (got.epoch_num, got.epoch_hash, got.timestamp, got.transactions) == (
            want.epoch_num, want.epoch_hash, want.timestamp, want.transactions,
        )  # fmt: skip
    # safe head before the span: everything
    before = _l2_ref(b"\x77" * 32, singulars[0].timestamp - 2, singulars[0].epoch())
    assert len(sb.get_singular_batches(l1, before)) == len(singulars)
    # missing L1 origin
    with pytest.raises(MissingL1OriginError):
        sb.get_singular_batches(l1[:-1], before)
    assert issubclass(MissingL1OriginError, SpanBatchError)


def test_to_raw_rejects_unencodable_spans() -> None:
    el = [SpanBatchElement(10, 100, ()), SpanBatchElement(12, 102, ())]
    with pytest.raises(SpanBatchError):  # origin jumps by 2
        SpanBatch(b"\x00" * 20, b"\x00" * 20, 0, 10, tuple(el)).to_raw()
    el = [SpanBatchElement(10, 100, ()), SpanBatchElement(9, 102, ())]
    with pytest.raises(SpanBatchError):  # origin goes back
        SpanBatch(b"\x00" * 20, b"\x00" * 20, 0, 10, tuple(el)).to_raw()
    with pytest.raises(SpanBatchError):  # before genesis
        SpanBatch(b"\x00" * 20, b"\x00" * 20, 200, 10, (SpanBatchElement(1, 100, ()),)).to_raw()
    with pytest.raises(SpanBatchError):
        SpanBatch(b"\x00" * 20, b"\x00" * 20, 0, 10, ()).first_timestamp()
    with pytest.raises(SpanBatchError):
        SpanBatch.from_singular_batches([], 0, 10)


# ---- limits -------------------------------------------------------------------------------------


def _prefix() -> bytes:
    return write_uvarint(5) + write_uvarint(7) + b"\x01" * 20 + b"\x02" * 20


def test_empty_and_oversized_counts() -> None:
    with pytest.raises(SpanBatchError, match="empty"):
        decode_span_batch_body(_prefix() + write_uvarint(0))
    with pytest.raises(SpanBatchError, match="limit"):
        decode_span_batch_body(_prefix() + write_uvarint(10_000_001))
    with pytest.raises(SpanBatchError, match="limit"):
        decode_span_batch_body(_prefix() + write_uvarint(3), max_elements=2)
    # one block with too many txs
    with pytest.raises(SpanBatchError, match="limit"):
        decode_span_batch_body(_prefix() + write_uvarint(1) + b"\x00" + write_uvarint(10_000_001))
    # two blocks whose sum is over the limit
    body = _prefix() + write_uvarint(2) + b"\x00" + write_uvarint(9_999_999) * 2
    with pytest.raises(SpanBatchError, match="limit"):
        decode_span_batch_body(body)
    # origin bits beyond block_count
    with pytest.raises(SpanBatchError):
        decode_span_batch_body(_prefix() + write_uvarint(2) + b"\x04" + b"\x00\x00")


def test_origin_number_and_timestamp_wrap_like_uint64() -> None:
    """Audit D10. op-node ``RawSpanBatch.derive`` counts origin numbers down in ``uint64``:
    ``l1_origin_num = 0`` with the origin bit of block 1 set gives block 0 the origin
    ``2**64 - 1`` (no error: the batch reaches validation). Timestamps are uint64 sums too."""
    body = (write_uvarint(5) + write_uvarint(0) + b"\x01" * 20 + b"\x02" * 20
            + write_uvarint(2) + b"\x02" + write_uvarint(0) * 2 + b"")  # fmt: skip
    raw = decode_span_batch_body(body)
    assert raw.block_origin_nums() == (2**64 - 1, 0)
    sb = raw.derive(block_time=2, genesis_timestamp=1000, chain_id=1)
    assert [e.epoch_num for e in sb.batches] == [2**64 - 1, 0]
    assert [e.timestamp for e in sb.batches] == [1005, 1007]
    # rel_timestamp near 2**64: genesis + rel wraps to a small timestamp, as in Go
    body2 = (write_uvarint(2**64 - 1000) + write_uvarint(3) + b"\x01" * 20 + b"\x02" * 20
             + write_uvarint(1) + b"\x00" + write_uvarint(0))  # fmt: skip
    sb2 = decode_span_batch_body(body2).derive(block_time=2, genesis_timestamp=1010, chain_id=1)
    assert sb2.batches[0].timestamp == 10


def test_real_batch_respects_a_smaller_limit() -> None:
    data = _batcher_span_bytes()
    assert isinstance(decode_batch(data, max_span_elements=209), RawSpanBatch)
    with pytest.raises(SpanBatchError):
        decode_batch(data, max_span_elements=208)


def test_trailing_bytes_ignored() -> None:
    body = (VEC / "synthetic-span-batch-body.bin").read_bytes()
    assert decode_span_batch_body(body + b"\xff\xff") == decode_span_batch_body(body)


# ---- robustness ---------------------------------------------------------------------------------


def test_mutated_vectors_raise_only_span_batch_errors() -> None:
    body = (VEC / "synthetic-span-batch-body.bin").read_bytes()
    rng = random.Random(1234)
    for _ in range(400):
        b = bytearray(body)
        op = rng.randrange(3)
        if op == 0:
            b = b[: rng.randrange(len(b))]
        else:
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            raw = decode_span_batch_body(bytes(b))
            raw.derive(2, 0, 10)
        except CodecError as e:
            assert isinstance(e, SpanBatchError), e


@given(st.binary(max_size=300))
@settings(max_examples=400)
def test_arbitrary_bytes(data: bytes) -> None:
    try:
        decode_span_batch_body(_prefix() + data).derive(2, 0, 10)
    except CodecError as e:
        assert isinstance(e, SpanBatchError)


# ---- hypothesis round trip -------------------------------------------------------------------

CHAIN_ID = 4242


@st.composite
def _tx(draw: st.DrawFn) -> bytes:
    t = draw(st.sampled_from([0, 1, 2, 4]))
    y = draw(st.integers(0, 1))
    kw: dict[str, Any] = dict(
        nonce=draw(st.integers(0, 2**64 - 1)), gas=draw(st.integers(0, 2**64 - 1)),
        to=draw(st.none() | st.binary(min_size=20, max_size=20)) if t != 4 else b"\x01" * 20,
        value=draw(st.integers(0, 2**256 - 1)), data=draw(st.binary(max_size=40)),
        r=draw(st.integers(1, 2**256 - 1)), s=draw(st.integers(1, 2**256 - 1)),
    )  # fmt: skip
    if t == 0:
        protected = draw(st.booleans())
        v = CHAIN_ID * 2 + 35 + y if protected else 27 + y
        return make_signed_tx(0, chain_id=None, v=v, gas_price=draw(st.integers(0, 10**12)), **kw)[1]
    if t == 1:
        return make_signed_tx(1, chain_id=CHAIN_ID, v=y, gas_price=5, **kw)[1]
    return make_signed_tx(t, chain_id=CHAIN_ID, v=y, max_priority_fee_per_gas=1,
                          max_fee_per_gas=draw(st.integers(0, 10**12)), **kw)[1]  # fmt: skip


@st.composite
def _span(draw: st.DrawFn) -> SpanBatch:
    n = draw(st.integers(1, 8))
    epoch = draw(st.integers(0, 2**40))
    t0 = draw(st.integers(1_000, 2**40))
    els = []
    for i in range(n):
        if i > 0 and draw(st.booleans()):
            epoch += 1
        els.append(SpanBatchElement(epoch, t0 + 2 * i, tuple(draw(st.lists(_tx(), max_size=3)))))
    return SpanBatch(
        draw(st.binary(min_size=20, max_size=20)), draw(st.binary(min_size=20, max_size=20)),
        1_000, CHAIN_ID, tuple(els), origin_changed_bit=draw(st.booleans()),
    )  # fmt: skip


@given(_span())
@settings(max_examples=100, deadline=None)
def test_span_batch_round_trip(sb: SpanBatch) -> None:
    enc = sb.encode()
    raw = decode_batch(enc)
    assert isinstance(raw, RawSpanBatch)
    assert raw == sb.to_raw()
    assert raw.encode() == enc
    assert raw.derive(2, 1_000, CHAIN_ID) == sb
    # the spec's start-epoch formula: l1_origin_num - sum(origin_bits) + origin_bits[0]
    ones = bin(raw.origin_bits).count("1")
    assert raw.l1_origin_num - ones + (raw.origin_bits & 1) == sb.start_epoch_num()


@given(st.lists(st.builds(SingularBatch,
                          parent_hash=st.binary(min_size=32, max_size=32),
                          epoch_num=st.just(0), epoch_hash=st.binary(min_size=32, max_size=32),
                          timestamp=st.just(0), transactions=st.lists(_tx(), max_size=2).map(tuple)),
                min_size=1, max_size=5),
       st.integers(0, 2**32))  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_singular_to_span_and_back(shapes: list[SingularBatch], epoch0: int) -> None:
    # make them consecutive: timestamps by 2, epochs non-decreasing by at most 1
    batches = []
    epoch = epoch0
    for i, s in enumerate(shapes):
        if i and s.parent_hash[0] & 1:
            epoch += 1
        batches.append(SingularBatch(s.parent_hash, epoch, s.epoch_hash, 5000 + 2 * i, s.transactions))
    sb = SpanBatch.from_singular_batches(batches, 4000, CHAIN_ID)
    derived = decode_batch(sb.encode()).derive(2, 4000, CHAIN_ID)  # type: ignore[union-attr]
    l1 = []
    seen = set()
    for b in batches:
        if b.epoch_num not in seen:
            seen.add(b.epoch_num)
            l1.append(L1BlockRef(b.epoch_hash, b.epoch_num, ZERO_HASH, 0))
    safe = _l2_ref(batches[0].parent_hash, 4998, BlockID(ZERO_HASH, epoch0))
    out = derived.get_singular_batches(l1, safe)
    assert [(b.epoch_num, b.timestamp, b.transactions) for b in out] == [
        (b.epoch_num, b.timestamp, b.transactions) for b in batches
    ]
    assert out[0].parent_hash == batches[0].parent_hash
