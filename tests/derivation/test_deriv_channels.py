"""Frame queue, channel bank (pre-Holocene), channel assembler (Holocene) and channel reader,
each over a first-in-first-out fake of the stage below.

Expected behaviour from specs/protocol/derivation.md ("Frame Queue", "Channel Bank",
"Channel Reader"), canyon/overview.md (first ready channel), holocene/derivation.md ("Frame
Queue", "Channel Bank"), fjord/derivation.md (brotli), delta/span-batches.md (activation).
"""

from __future__ import annotations

import pytest
import rlp

from pyop.codec.batch import SingularBatch
from pyop.codec.channel_out import compress_batches
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import Frame, encode_frames
from pyop.codec.span_batch import RawSpanBatch, SpanBatch, SpanBatchElement
from pyop.codec.span_txs import SpanBatchTxs
from pyop.derivation.channel_assembler import ChannelAssembler
from pyop.derivation.channel_bank import ChannelBank
from pyop.derivation.channel_reader import ChannelReader
from pyop.derivation.drops import DropReason, Explainer
from pyop.derivation.errors import EndOfSource, NotEnoughData
from pyop.derivation.frame_queue import FrameQueue, prune_frame_queue
from tests.derivation.deriv_fakes import (
    GENESIS_TIME,
    FifoData,
    FifoFrames,
    frame,
    h,
    l1,
    make_cfg,
)

PRE = make_cfg(all_until="granite")
HOLO = make_cfg(all_until="holocene")
A, B, C = b"A" * 16, b"B" * 16, b"C" * 16


def reasons(ex: Explainer) -> list[DropReason]:
    return [d.reason for d in ex.drops]


def drain_frames(fq: FrameQueue) -> list[tuple[bytes, int]]:
    out = []
    while True:
        try:
            f = fq.next_frame()
        except EndOfSource:
            return out
        except NotEnoughData:
            continue
        out.append((f.channel_id, f.frame_number))


# ------------------------------------------------------------------ frame queue


def test_frame_queue_fifo_and_invalid_tx() -> None:
    ex = Explainer()
    data = [encode_frames([frame(A, 0), frame(A, 1, True)]), b"\x01garbage", encode_frames([frame(B, 0, True)])]
    fq = FrameQueue(PRE, FifoData(l1(1), data), ex)
    assert drain_frames(fq) == [(A, 0), (A, 1), (B, 0)]
    assert reasons(ex) == [DropReason.FRAME_INVALID]


def test_frame_queue_pre_holocene_keeps_out_of_order() -> None:
    data = [encode_frames([frame(A, 1), frame(A, 0)])]
    fq = FrameQueue(PRE, FifoData(l1(1), data), Explainer())
    assert drain_frames(fq) == [(A, 1), (A, 0)]


def test_frame_queue_holocene_prunes() -> None:
    ex = Explainer()
    data = [encode_frames([frame(A, 0), frame(A, 2), frame(A, 1, True), frame(A, 2), frame(B, 1)])]
    fq = FrameQueue(HOLO, FifoData(l1(1), data), ex)
    assert drain_frames(fq) == [(A, 0), (A, 1)]
    assert reasons(ex) == [DropReason.FRAME_OUT_OF_ORDER] * 3


@pytest.mark.parametrize(
    ("frames", "kept"),
    [
        # holocene/derivation.md: a first frame after an unclosed channel drops that channel's frames
        ([frame(A, 0), frame(A, 1), frame(B, 0, True)], [(B, 0)]),
        # frame after a closing frame of the same channel is dropped
        ([frame(A, 0, True), frame(A, 1)], [(A, 0)]),
        # non-first frame of another channel is dropped
        ([frame(A, 0, True), frame(B, 1, True)], [(A, 0)]),
        # gap in numbering is dropped, then the next in-order frame continues
        ([frame(A, 0), frame(A, 2), frame(A, 1, True)], [(A, 0), (A, 1)]),
        # well-ordered channels stay
        ([frame(A, 0), frame(A, 1, True), frame(B, 0, True)], [(A, 0), (A, 1), (B, 0)]),
    ],
)
def test_prune_frame_queue(frames: list[Frame], kept: list[tuple[bytes, int]]) -> None:
    out, _ = prune_frame_queue(frames)
    assert [(f.channel_id, f.frame_number) for f in out] == kept


# ------------------------------------------------------------------ channel bank


def pull(stage: ChannelBank | ChannelAssembler) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(stage.next_data())
        except EndOfSource:
            return out
        except NotEnoughData:
            continue


def test_channel_bank_out_of_order_frames_assemble() -> None:
    src = FifoFrames(l1(1), [frame(A, 1, True, b"2"), frame(A, 0, False, b"1")])
    assert pull(ChannelBank(PRE, src, Explainer())) == [b"12"]


def test_channel_bank_pre_canyon_head_blocks_queue() -> None:
    cfg = make_cfg(regolith_time=0)
    frames = [frame(A, 0, False, b"a"), frame(B, 0, True, b"b")]
    bank = ChannelBank(cfg, FifoFrames(l1(1), frames), Explainer())
    assert pull(bank) == []  # head channel A not ready: B waits
    assert len(bank) == 2


def test_channel_bank_canyon_reads_first_ready() -> None:
    frames = [frame(A, 0, False, b"a"), frame(B, 0, True, b"b")]
    bank = ChannelBank(PRE, FifoFrames(l1(1), frames), Explainer())
    assert pull(bank) == [b"b"]


def test_channel_bank_timeout() -> None:
    ex = Explainer()
    src = FifoFrames(l1(1), [frame(A, 0, False, b"a")])
    bank = ChannelBank(make_cfg(all_until="fjord"), src, ex)
    assert pull(bank) == []
    # pre-Granite channel_timeout 10: open 1 + 10 < 12 -> timed out at origin 12; at 11 still alive.
    src.origin = l1(11)
    src.items.append(frame(A, 1, True, b"b"))
    assert pull(bank) == [b"ab"]
    src.origin = l1(12)
    src.items.extend([frame(C, 0, False, b"c")])
    assert pull(bank) == []
    src.origin = l1(23)
    src.items.append(frame(C, 1, True, b"d"))
    assert pull(bank) == []
    drop = ex.drops[-1]
    assert drop.reason is DropReason.CHANNEL_TIMED_OUT
    assert drop.numbers["open_block"] == 12 and drop.numbers["timeout"] == 10


def test_channel_bank_granite_timeout_50() -> None:
    cfg = make_cfg(all_until="fjord", channel_timeout=300, granite_time=GENESIS_TIME + 12 * 100)
    src = FifoFrames(l1(1), [frame(A, 0, False, b"a")])
    bank = ChannelBank(cfg, src, Explainer())
    pull(bank)
    src.origin = l1(60)  # pre-Granite: 300 blocks
    src.items.append(frame(A, 1, True, b"b"))
    assert pull(bank) == [b"ab"]
    src.items.append(frame(B, 0, False, b"x"))
    src.origin = l1(100)
    pull(bank)
    src.origin = l1(151)  # Granite: 100 + 50 < 151
    src.items.append(frame(B, 1, True, b"y"))
    assert pull(bank) == []


def test_channel_bank_duplicate_frame_dropped() -> None:
    ex = Explainer()
    frames = [frame(A, 0, False, b"a"), frame(A, 0, False, b"z"), frame(A, 1, True, b"b")]
    assert pull(ChannelBank(PRE, FifoFrames(l1(1), frames), ex)) == [b"ab"]
    assert reasons(ex) == [DropReason.FRAME_REJECTED]


def test_channel_bank_reset_clears() -> None:
    src = FifoFrames(l1(1), [frame(A, 0, False, b"a")])
    bank = ChannelBank(PRE, src, Explainer())
    pull(bank)
    bank.reset(l1(5), PRE.genesis.system_config)
    assert len(bank) == 0 and src.resets == [l1(5)]


# ------------------------------------------------------------------ channel assembler


def test_channel_assembler_in_order() -> None:
    frames = [frame(A, 0, False, b"a"), frame(A, 1, True, b"b"), frame(B, 0, True, b"c")]
    assert pull(ChannelAssembler(HOLO, FifoFrames(l1(1), frames), Explainer())) == [b"ab", b"c"]


def test_channel_assembler_rules() -> None:
    ex = Explainer()
    frames = [
        frame(C, 1, True, b"?"),  # non-first frame without a channel
        frame(A, 0, False, b"a"),
        frame(A, 2, False, b"?"),  # out of order -> rejected
        frame(B, 0, False, b"b"),  # replaces unclosed A
        frame(B, 1, True, b"c"),
    ]
    assert pull(ChannelAssembler(HOLO, FifoFrames(l1(1), frames), ex)) == [b"bc"]
    assert reasons(ex) == [DropReason.FRAME_WITHOUT_CHANNEL, DropReason.FRAME_REJECTED, DropReason.CHANNEL_REPLACED]


def test_channel_assembler_timeout() -> None:
    ex = Explainer()
    src = FifoFrames(l1(1), [frame(A, 0, False, b"a")])
    ca = ChannelAssembler(HOLO, src, ex)
    assert pull(ca) == []
    src.origin = l1(52)  # Granite timeout 50: 1 + 50 < 52
    src.items.append(frame(A, 1, True, b"b"))
    assert pull(ca) == []
    assert DropReason.CHANNEL_TIMED_OUT in reasons(ex)


# ------------------------------------------------------------------ channel reader


def singular(ts: int, txs: tuple[bytes, ...] = ()) -> SingularBatch:
    return SingularBatch(h("p", ts), 1, h("e"), ts, txs)


def read_all(r: ChannelReader) -> list[object]:
    out: list[object] = []
    while True:
        try:
            out.append(r.next_batch())
        except EndOfSource:
            return out
        except NotEnoughData:
            continue


def test_channel_reader_batches_in_order() -> None:
    b1, b2 = singular(10), singular(12, (b"\x02x",))
    ch = compress_batches([b1.encode(), b2.encode()])
    r = ChannelReader(PRE, FifoData(l1(1), [ch]), Explainer())
    assert read_all(r) == [b1, b2]


def test_channel_reader_brotli_needs_fjord() -> None:
    b1 = singular(10)
    ch = compress_batches([b1.encode()], CompressionAlgo.BROTLI)
    ex = Explainer()
    pre_fjord = make_cfg(all_until="ecotone")
    assert read_all(ChannelReader(pre_fjord, FifoData(l1(1), [ch]), ex)) == []
    assert reasons(ex) == [DropReason.CHANNEL_DECOMPRESS_ERROR]
    assert read_all(ChannelReader(PRE, FifoData(l1(1), [ch]), Explainer())) == [b1]


def test_channel_reader_decode_error_drops_rest() -> None:
    b1, b3 = singular(10), singular(14)
    ch = compress_batches([b1.encode(), b"\x00\xff\xff", b3.encode()])
    ex = Explainer()
    assert read_all(ChannelReader(PRE, FifoData(l1(1), [ch]), ex)) == [b1]
    assert reasons(ex) == [DropReason.BATCH_DECODE_ERROR]


def test_channel_reader_span_before_delta_dropped_alone() -> None:
    cfg = make_cfg(all_until="canyon")
    sb = SpanBatch(b"\x00" * 20, b"\x00" * 20, GENESIS_TIME, 901, (SpanBatchElement(1, GENESIS_TIME + 2, ()),))
    b2 = singular(GENESIS_TIME + 4)
    ch = compress_batches([sb.encode(), b2.encode()])
    ex = Explainer()
    assert read_all(ChannelReader(cfg, FifoData(l1(1), [ch]), ex)) == [b2]
    assert reasons(ex) == [DropReason.SPAN_BATCH_BEFORE_DELTA]
    out = read_all(ChannelReader(PRE, FifoData(l1(1), [ch]), Explainer()))
    assert isinstance(out[0], SpanBatch) and out[0].batches == sb.batches and out[1] == b2


def test_channel_reader_flush() -> None:
    b1, b2 = singular(10), singular(12)
    ex = Explainer()
    r = ChannelReader(HOLO, FifoData(l1(1), [compress_batches([b1.encode(), b2.encode()])]), ex)
    assert r.next_batch() == b1
    r.flush_channel()
    assert read_all(r) == []
    assert reasons(ex) == [DropReason.CHANNEL_FLUSHED]


def _span_with_tx_entry(entry: bytes, tx_type: int) -> bytes:
    """A one-block span batch (wire form) whose only tx has the ``tx_datas`` entry ``entry``."""
    txs = SpanBatchTxs(
        total_block_tx_count=1, contract_creation_bits=0, y_parity_bits=0, tx_sigs=((1, 1),),
        tx_tos=(b"\x11" * 20,), tx_datas=(entry,), tx_nonces=(0,), tx_gases=(21000,),
        protected_bits=0, tx_types=(tx_type,),
    )  # fmt: skip
    raw = RawSpanBatch(rel_timestamp=2, l1_origin_num=1, parent_check=b"\x00" * 20,
                       l1_origin_check=b"\x00" * 20, block_count=1, origin_bits=0,
                       block_tx_counts=(1,), txs=txs)  # fmt: skip
    return raw.encode()


@pytest.mark.parametrize("t", [0x00, 0x03, 0x05, 0x7C, 0x7E, 0x7F], ids=lambda t: f"0x{t:02x}")
def test_channel_reader_span_with_unusable_tx_type_dropped_alone(t: int) -> None:
    """Audit D6: op-node decodes a span batch whatever its tx type bytes (``ReadTxData``) and
    fails in ``derive`` (``recoverV`` / ``ErrTxTypeNotSupported``); ``ChannelInReader`` then
    drops that span batch only ("dropping malformed span batch") and reads the rest of the
    channel. The singular batch after it must still come out."""
    span = _span_with_tx_entry(bytes([t]) + rlp.encode([1, 2, b""]), t)
    b2 = singular(GENESIS_TIME + 4)
    ex = Explainer()
    out = read_all(ChannelReader(PRE, FifoData(l1(1), [compress_batches([span, b2.encode()])]), ex))
    assert out == [b2]
    assert reasons(ex) == [DropReason.SPAN_BATCH_DERIVE_ERROR]


def test_channel_reader_post_exec_tx_derives() -> None:
    """A PostExec (0x7D) entry derives (op-node ``convertToFullTx``: ``0x7D ++ data``); whether
    a batch may carry it is decided by the batch checks, not by the reader."""
    entry = b"\x7d" + rlp.encode([b"\x01", [2]])
    b2 = singular(GENESIS_TIME + 4)
    ex = Explainer()
    ch = compress_batches([_span_with_tx_entry(entry, 0x7D), b2.encode()])
    out = read_all(ChannelReader(PRE, FifoData(l1(1), [ch]), ex))
    assert reasons(ex) == []
    assert isinstance(out[0], SpanBatch) and out[0].batches[0].transactions == (entry,)
    assert out[1] == b2


def test_flush_reaches_the_channel_assembler() -> None:
    """Audit D14: op-node ``ChannelInReader.FlushChannel`` also calls ``prev.FlushChannel()``,
    which resets the ``ChannelAssembler``'s staging channel. After a flush the rest of a
    half-received channel finds no channel (``FRAME_WITHOUT_CHANNEL``) and is not read."""
    b1 = singular(10)
    data = compress_batches([b1.encode()])
    fifo = FifoFrames(l1(1), [frame(A, 0, False, data[:5])])
    ex = Explainer()
    ca = ChannelAssembler(HOLO, fifo, ex)
    r = ChannelReader(HOLO, ca, ex)
    assert read_all(r) == []  # frame 0 staged, the channel is not complete
    r.flush_channel()
    fifo.items.append(frame(A, 1, True, data[5:]))
    assert read_all(r) == []
    assert reasons(ex) == [DropReason.CHANNEL_FLUSHED, DropReason.FRAME_WITHOUT_CHANNEL]
    # without the flush the channel completes
    fifo2 = FifoFrames(l1(1), [frame(A, 0, False, data[:5]), frame(A, 1, True, data[5:])])
    assert read_all(ChannelReader(HOLO, ChannelAssembler(HOLO, fifo2, Explainer()), Explainer())) == [b1]
