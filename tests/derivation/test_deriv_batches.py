"""Batch validity rules (pyop.derivation.batches), one test per rule, with the numbers.

Expected outcomes come from specs/protocol/derivation.md "Batch Queue", delta/span-batches.md
"Span Batch Validation", holocene/, isthmus/ and jovian/derivation.md.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from pyop.codec.span_batch import SpanBatch
from pyop.derivation.batches import (
    BatchValidity,
    check_singular_batch,
    check_span_batch,
    check_span_batch_holocene,
    check_span_batch_prefix,
)
from pyop.derivation.drops import DropReason
from pyop.primitives import ExecutionPayload
from pyop.protocol.l1_info import L1OriginInfo, l1_info_deposit_tx
from tests.derivation.deriv_fakes import (
    GENESIS_TIME,
    SYSCFG,
    FakeL2,
    batch_for,
    l1,
    l2,
    make_cfg,
)

CFG = make_cfg(all_until="granite")
HOLO = make_cfg(all_until="holocene")
L1S = [l1(1), l1(2), l1(3)]
# Safe head: L2 block 10 (time G+20) with L1 origin 1 (time G+12).
SAFE = l2(10, l1(1), seq=4)
INCL = l1(3)


def check(b, cfg=CFG, blocks=L1S, incl=INCL):  # type: ignore[no-untyped-def]
    return check_singular_batch(cfg, blocks, SAFE, b, incl)


def assert_drop(v, reason):  # type: ignore[no-untyped-def]
    assert v.validity is BatchValidity.DROP, v
    assert v.drop is not None and v.drop.reason is reason, v.drop
    return v.drop


def test_accept_plain() -> None:
    assert check(batch_for(SAFE, l1(1), [b"\x02abc"])).validity is BatchValidity.ACCEPT


def test_accept_next_epoch() -> None:
    # next timestamp G+22 >= l1(2).time G+24? no: G+22 < G+24 -> timestamp before origin.
    b = batch_for(SAFE, l1(2))
    d = assert_drop(check(b), DropReason.TIMESTAMP_BEFORE_L1_ORIGIN)
    assert d.numbers == {"timestamp": GENESIS_TIME + 22, "l1_origin_time": GENESIS_TIME + 24}


def test_no_l1_blocks_undecided() -> None:
    assert check(batch_for(SAFE, l1(1)), blocks=[]).validity is BatchValidity.UNDECIDED


def test_future_pre_holocene_and_holocene() -> None:
    b = batch_for(SAFE, l1(1), dt=4)
    assert check(b).validity is BatchValidity.FUTURE
    d = assert_drop(check(b, cfg=HOLO), DropReason.FUTURE_TIMESTAMP)
    assert d.numbers == {"timestamp": GENESIS_TIME + 24, "next_timestamp": GENESIS_TIME + 22}
    assert "derivation.md" in d.explain() and str(GENESIS_TIME + 24) in d.explain()


def test_holocene_activates_by_inclusion_time() -> None:
    # Holocene at l1(3)'s time: a batch included in l1(2) still uses the old rules.
    cfg = make_cfg(all_until="granite", holocene_time=l1(3).timestamp)
    b = batch_for(SAFE, l1(1), dt=4)
    assert check(b, cfg=cfg, incl=l1(2)).validity is BatchValidity.FUTURE
    assert check(b, cfg=cfg, incl=l1(3)).validity is BatchValidity.DROP


def test_past_pre_holocene_drop_holocene_past() -> None:
    b = batch_for(SAFE, l1(1), dt=0)
    d = assert_drop(check(b), DropReason.PAST_TIMESTAMP)
    assert d.numbers["timestamp"] == GENESIS_TIME + 20
    v = check(b, cfg=HOLO)
    assert v.validity is BatchValidity.PAST and v.drop is not None
    assert v.drop.reason is DropReason.PAST_BATCH


def test_wrong_parent() -> None:
    b = replace(batch_for(SAFE, l1(1)), parent_hash=b"\x01" * 32)
    assert_drop(check(b), DropReason.WRONG_PARENT)


def test_included_too_late() -> None:
    # epoch 1 + seq window 4 = 5 < inclusion 6
    d = assert_drop(check(batch_for(SAFE, l1(1)), incl=l1(6)), DropReason.INCLUDED_TOO_LATE)
    assert d.numbers == {"epoch": 1, "seq_window_size": 4, "inclusion_block": 6}
    # == 5 is still fine
    assert check(batch_for(SAFE, l1(1)), incl=l1(5)).validity is BatchValidity.ACCEPT


def test_epoch_too_old() -> None:
    d = assert_drop(check(batch_for(SAFE, l1(1)), blocks=[l1(2), l1(3)]), DropReason.EPOCH_TOO_OLD)
    assert d.numbers == {"epoch": 1, "current_epoch": 2}


def test_epoch_too_far_in_future() -> None:
    safe = l2(20, l1(1), t=GENESIS_TIME + 40)
    b = batch_for(safe, l1(3))
    v = check_singular_batch(CFG, L1S, safe, b, INCL)
    assert_drop(v, DropReason.EPOCH_TOO_FAR_IN_FUTURE)


def test_next_epoch_needs_next_l1_block() -> None:
    safe = l2(20, l1(1), t=GENESIS_TIME + 40)
    b = batch_for(safe, l1(2))
    assert check_singular_batch(CFG, [l1(1)], safe, b, INCL).validity is BatchValidity.UNDECIDED
    assert check_singular_batch(CFG, L1S, safe, b, INCL).validity is BatchValidity.ACCEPT


def test_epoch_hash_mismatch() -> None:
    b = replace(batch_for(SAFE, l1(1)), epoch_hash=l1(1, fork="other").hash)
    assert_drop(check(b), DropReason.EPOCH_HASH_MISMATCH)


def test_sequencer_drift_exceeded_with_txs() -> None:
    cfg = make_cfg(all_until="granite", fjord_time=None, granite_time=None, max_sequencer_drift=4)
    # l1(1).time = G+12; max = G+16; next timestamp G+22.
    d = assert_drop(check(batch_for(SAFE, l1(1), [b"\x02tx"]), cfg=cfg), DropReason.SEQUENCER_DRIFT_EXCEEDED)
    assert d.numbers["max_timestamp"] == GENESIS_TIME + 16 and d.numbers["max_drift"] == 4


def test_sequencer_drift_empty_batch_rules() -> None:
    cfg = make_cfg(all_until="granite", fjord_time=None, granite_time=None, max_sequencer_drift=4)
    b = batch_for(SAFE, l1(1))
    # Next L1 block unknown: undecided.
    assert check(b, cfg=cfg, blocks=[l1(1)]).validity is BatchValidity.UNDECIDED
    # Next origin l1(2) at G+24 > G+22: the empty batch keeps L2 time >= L1 time: accepted.
    v = check(b, cfg=cfg)
    assert v.validity is BatchValidity.ACCEPT and "drift" in v.note
    # Next origin already at G+22 <= timestamp: could have been adopted: drop.
    blocks = [l1(1), replace(l1(2), timestamp=GENESIS_TIME + 22), l1(3)]
    d = assert_drop(check(b, cfg=cfg, blocks=blocks), DropReason.SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN)
    assert d.numbers["next_origin_time"] == GENESIS_TIME + 22


def test_fjord_constant_drift() -> None:
    # Fjord: max drift is 1800 regardless of the configured 4.
    cfg = make_cfg(all_until="granite", max_sequencer_drift=4)
    assert check(batch_for(SAFE, l1(1), [b"\x02tx"]), cfg=cfg).validity is BatchValidity.ACCEPT


def test_empty_tx() -> None:
    d = assert_drop(check(batch_for(SAFE, l1(1), [b"\x02ok", b""])), DropReason.EMPTY_BATCH_TXS)
    assert d.numbers["tx_index"] == 1


def test_deposit_tx() -> None:
    assert_drop(check(batch_for(SAFE, l1(1), [b"\x7e\x00"])), DropReason.DEPOSIT_TX_IN_BATCH)


def test_set_code_before_isthmus() -> None:
    b = batch_for(SAFE, l1(1), [b"\x04\xc0"])
    d = assert_drop(check(b), DropReason.SET_CODE_TX_BEFORE_ISTHMUS)
    assert d.numbers["timestamp"] == GENESIS_TIME + 22
    assert check(b, cfg=make_cfg(all_until="isthmus")).validity is BatchValidity.ACCEPT


def test_jovian_activation_block_user_txs() -> None:
    jt = GENESIS_TIME + 22  # the next block is the first Jovian block
    cfg = make_cfg(all_until="isthmus", jovian_time=jt)
    d = assert_drop(check(batch_for(SAFE, l1(1), [b"\x02tx"]), cfg=cfg), DropReason.JOVIAN_ACTIVATION_BLOCK_USER_TXS)
    assert d.numbers == {"timestamp": jt, "txs": 1}
    assert check(batch_for(SAFE, l1(1)), cfg=cfg).validity is BatchValidity.ACCEPT
    # Not the activation block any more: user txs are fine.
    cfg2 = make_cfg(all_until="isthmus", jovian_time=jt - 2)
    assert check(batch_for(SAFE, l1(1), [b"\x02tx"]), cfg=cfg2).validity is BatchValidity.ACCEPT


# ------------------------------------------------------------------ span batches


def span(parent_hash: bytes, elems: list[tuple[int, int, tuple[bytes, ...]]], origin_check: bytes) -> SpanBatch:
    from pyop.codec.span_batch import SpanBatchElement

    return SpanBatch(parent_hash[:20], origin_check[:20], GENESIS_TIME, 901,
                     tuple(SpanBatchElement(e, t, txs) for e, t, txs in elems))  # fmt: skip


def test_span_accept_and_prefix() -> None:
    s = span(SAFE.hash, [(1, GENESIS_TIME + 22, ()), (2, GENESIS_TIME + 24, (b"\x02a",))], l1(2).hash)
    v, parent = check_span_batch_prefix(CFG, L1S, SAFE, s, INCL, FakeL2())
    assert v.validity is BatchValidity.ACCEPT and parent == SAFE
    assert check_span_batch(CFG, L1S, SAFE, s, INCL, FakeL2()).validity is BatchValidity.ACCEPT


def test_span_before_delta() -> None:
    cfg = make_cfg(all_until="canyon")
    s = span(SAFE.hash, [(1, GENESIS_TIME + 22, ())], l1(1).hash)
    v, _ = check_span_batch_prefix(cfg, L1S, SAFE, s, INCL, FakeL2())
    assert_drop(v, DropReason.SPAN_BATCH_BEFORE_DELTA)


def test_span_no_new_blocks() -> None:
    s = span(SAFE.hash, [(1, GENESIS_TIME + 18, ()), (1, GENESIS_TIME + 20, ())], l1(1).hash)
    v, _ = check_span_batch_prefix(CFG, L1S, SAFE, s, INCL, FakeL2())
    d = assert_drop(v, DropReason.SPAN_BATCH_NO_NEW_BLOCKS)
    assert d.numbers == {"end_timestamp": GENESIS_TIME + 20, "next_timestamp": GENESIS_TIME + 22}
    v2, _ = check_span_batch_prefix(HOLO, L1S, SAFE, s, INCL, FakeL2())
    assert v2.validity is BatchValidity.PAST


def test_span_starting_exactly_at_the_safe_head() -> None:
    """op-node ``checkSpanBatchPrefix`` drops a span whose first timestamp lies strictly
    between the safe head and the next block (``first > safe.time``); a span starting at the
    safe head's own time is aligned: its parent is the block before the safe head."""
    p9 = l2(9, l1(1))
    fake = FakeL2(refs={9: p9}, payloads={10: _payload(10, 1, ())})
    s = span(p9.hash, [(1, GENESIS_TIME + 20, ()), (1, GENESIS_TIME + 22, ())], l1(1).hash)
    v, parent = check_span_batch_prefix(CFG, L1S, SAFE, s, INCL, fake)
    assert v.validity is BatchValidity.ACCEPT and parent == p9
    assert check_span_batch(CFG, L1S, SAFE, s, INCL, fake).validity is BatchValidity.ACCEPT
    assert check_span_batch_holocene(HOLO, L1S, SAFE, s, INCL, fake).validity is BatchValidity.ACCEPT


def test_span_misaligned() -> None:
    s = span(SAFE.hash, [(1, GENESIS_TIME + 21, ()), (1, GENESIS_TIME + 23, ())], l1(1).hash)
    v, _ = check_span_batch_prefix(CFG, L1S, SAFE, s, INCL, FakeL2())
    assert_drop(v, DropReason.TIMESTAMP_NOT_ALIGNED)
    cfg3 = make_cfg(all_until="granite", block_time=3)
    safe = l2(10, l1(1), t=GENESIS_TIME + 30)
    s3 = span(SAFE.hash, [(1, GENESIS_TIME + 29, ()), (1, GENESIS_TIME + 32, ()), (1, GENESIS_TIME + 35, ())], l1(1).hash)
    v3, _ = check_span_batch_prefix(cfg3, L1S, safe, s3, INCL, FakeL2())
    assert_drop(v3, DropReason.SPAN_NOT_OVERLAPPED_EXACTLY)


def test_span_wrong_parent_and_origin_hash() -> None:
    s = span(b"\x09" * 32, [(1, GENESIS_TIME + 22, ())], l1(1).hash)
    v, _ = check_span_batch_prefix(CFG, L1S, SAFE, s, INCL, FakeL2())
    assert_drop(v, DropReason.WRONG_PARENT)
    s2 = span(SAFE.hash, [(1, GENESIS_TIME + 22, ())], l1(2).hash)
    v2, _ = check_span_batch_prefix(CFG, L1S, SAFE, s2, INCL, FakeL2())
    assert_drop(v2, DropReason.EPOCH_HASH_MISMATCH)
    # End epoch not among the known L1 blocks yet: undecided.
    s3 = span(SAFE.hash, [(1, GENESIS_TIME + 22, ()), (2, GENESIS_TIME + 24, ())], l1(2).hash)
    v3, _ = check_span_batch_prefix(CFG, [l1(1)], SAFE, s3, INCL, FakeL2())
    assert v3.validity is BatchValidity.UNDECIDED


def test_span_included_too_late_and_future_epoch() -> None:
    s = span(SAFE.hash, [(1, GENESIS_TIME + 22, ())], l1(1).hash)
    v, _ = check_span_batch_prefix(CFG, L1S, SAFE, s, l1(6), FakeL2())
    d = assert_drop(v, DropReason.INCLUDED_TOO_LATE)
    assert d.numbers == {"epoch": 1, "seq_window_size": 4, "inclusion_block": 6}
    # op-node: drop only if start epoch + window < inclusion; 1 + 4 == 5 is still in the window
    for cfg in (CFG, HOLO):
        v5, _ = check_span_batch_prefix(cfg, L1S, SAFE, s, l1(5), FakeL2())
        assert v5.validity is BatchValidity.ACCEPT, v5
    safe = l2(19, l1(1), t=GENESIS_TIME + 38)
    s2 = span(safe.hash, [(3, GENESIS_TIME + 40, ())], l1(3).hash)
    v2, _ = check_span_batch_prefix(CFG, L1S, safe, s2, INCL, FakeL2())
    assert_drop(v2, DropReason.EPOCH_TOO_FAR_IN_FUTURE)


def _payload(n: int, origin_num: int, txs: tuple[bytes, ...]) -> ExecutionPayload:
    info = L1OriginInfo(l1(origin_num).hash, origin_num, l1(origin_num).timestamp, 1)
    dep = l1_info_deposit_tx(CFG, SYSCFG, info, 0, GENESIS_TIME + 2 * n).encode()
    z = b"\x00" * 32
    return ExecutionPayload(z, b"\x00" * 20, z, z, b"\x00" * 256, z, n, 1, 0, GENESIS_TIME + 2 * n,
                            b"", 1, l2(n, l1(origin_num)).hash, (dep, *txs))  # fmt: skip


def test_span_overlap_rules() -> None:
    # Span starts at block 9 (overlaps the safe head 10), parent = block 8.
    fake = FakeL2(refs={8: l2(8, l1(1))}, payloads={9: _payload(9, 1, (b"\x02a",)), 10: _payload(10, 1, ())})
    elems = [(1, GENESIS_TIME + 18, (b"\x02a",)), (1, GENESIS_TIME + 20, ()), (1, GENESIS_TIME + 22, ())]
    s = span(l2(8, l1(1)).hash, elems, l1(1).hash)
    assert check_span_batch(CFG, L1S, SAFE, s, INCL, fake).validity is BatchValidity.ACCEPT
    bad_tx = span(l2(8, l1(1)).hash, [(1, GENESIS_TIME + 18, (b"\x02b",)), *elems[1:]], l1(1).hash)
    assert_drop(check_span_batch(CFG, L1S, SAFE, bad_tx, INCL, fake), DropReason.OVERLAP_TX_MISMATCH)
    bad_count = span(l2(8, l1(1)).hash, [(1, GENESIS_TIME + 18, ()), *elems[1:]], l1(1).hash)
    d = assert_drop(check_span_batch(CFG, L1S, SAFE, bad_count, INCL, fake), DropReason.OVERLAP_TX_COUNT_MISMATCH)
    assert d.numbers["safe_txs"] == 1 and d.numbers["batch_txs"] == 0
    fake_origin = FakeL2(refs=fake.refs, payloads={9: _payload(9, 1, (b"\x02a",)), 10: _payload(10, 0, ())})
    d = assert_drop(check_span_batch(CFG, L1S, SAFE, s, INCL, fake_origin), DropReason.OVERLAP_L1_ORIGIN_MISMATCH)
    assert d.numbers == {"number": 10, "l1_origin": 0, "epoch": 1}  # the safe head is compared too
    at_head = span(l2(8, l1(1)).hash, [elems[0], (1, GENESIS_TIME + 20, (b"\x02z",)), elems[2]], l1(1).hash)
    d = assert_drop(check_span_batch(CFG, L1S, SAFE, at_head, INCL, fake), DropReason.OVERLAP_TX_COUNT_MISMATCH)
    assert d.numbers["number"] == 10
    # Missing parent ref or payload: undecided.
    assert check_span_batch(CFG, L1S, SAFE, s, INCL, FakeL2()).validity is BatchValidity.UNDECIDED


def test_span_overlap_rules_holocene() -> None:
    """Audit D4: from Holocene a span batch gets the same overlap check as a whole (op-node
    ``checkSpanBatchHolocene`` = ``checkSpanBatchPrefix`` + ``checkSpanBatchOverlap``), for
    every block ``parent + 1 .. safe head`` (the safe head 10 included)."""
    fake = FakeL2(refs={8: l2(8, l1(1))}, payloads={9: _payload(9, 1, (b"\x02a",)), 10: _payload(10, 1, ())})
    elems = [(1, GENESIS_TIME + 18, (b"\x02a",)), (1, GENESIS_TIME + 20, ()), (1, GENESIS_TIME + 22, ())]
    p8 = l2(8, l1(1)).hash
    s = span(p8, elems, l1(1).hash)
    assert check_span_batch_holocene(HOLO, L1S, SAFE, s, INCL, fake).validity is BatchValidity.ACCEPT
    bad_tx = span(p8, [(1, GENESIS_TIME + 18, (b"\x02b",)), *elems[1:]], l1(1).hash)
    d = assert_drop(check_span_batch_holocene(HOLO, L1S, SAFE, bad_tx, INCL, fake), DropReason.OVERLAP_TX_MISMATCH)
    assert d.numbers == {"number": 9, "tx_index": 0}
    # the mismatch is in the last overlapped block, the safe head itself
    extra = span(p8, [elems[0], (1, GENESIS_TIME + 20, (b"\x02z",)), elems[2]], l1(1).hash)
    d = assert_drop(check_span_batch_holocene(HOLO, L1S, SAFE, extra, INCL, fake), DropReason.OVERLAP_TX_COUNT_MISMATCH)
    assert d.numbers == {"number": 10, "safe_txs": 0, "batch_txs": 1}
    fake_origin = FakeL2(refs=fake.refs, payloads={9: _payload(9, 1, (b"\x02a",)), 10: _payload(10, 0, ())})
    d = assert_drop(check_span_batch_holocene(HOLO, L1S, SAFE, s, INCL, fake_origin), DropReason.OVERLAP_L1_ORIGIN_MISMATCH)
    assert d.numbers == {"number": 10, "l1_origin": 0, "epoch": 1}
    # a payload that cannot be fetched: undecided (the batch stage then skips the span)
    only9 = FakeL2(refs=fake.refs, payloads={9: fake.payloads[9]})
    assert check_span_batch_holocene(HOLO, L1S, SAFE, s, INCL, only9).validity is BatchValidity.UNDECIDED
    # a span that does not overlap: nothing to compare
    fresh = span(SAFE.hash, [elems[2]], l1(1).hash)
    assert check_span_batch_holocene(HOLO, L1S, SAFE, fresh, INCL, FakeL2()).validity is BatchValidity.ACCEPT


@pytest.mark.parametrize(
    ("elems", "reason"),
    [
        ([(1, GENESIS_TIME + 22, (b"\x7e",))], DropReason.DEPOSIT_TX_IN_BATCH),
        ([(1, GENESIS_TIME + 22, (b"",))], DropReason.EMPTY_BATCH_TXS),
        ([(1, GENESIS_TIME + 22, (b"\x04\xc0",))], DropReason.SET_CODE_TX_BEFORE_ISTHMUS),
    ],
)
def test_span_block_tx_rules(elems: list[tuple[int, int, tuple[bytes, ...]]], reason: DropReason) -> None:
    s = span(SAFE.hash, elems, l1(1).hash)
    assert_drop(check_span_batch(CFG, L1S, SAFE, s, INCL, FakeL2()), reason)


def test_span_block_timestamp_before_origin() -> None:
    s = span(SAFE.hash, [(1, GENESIS_TIME + 22, ()), (2, GENESIS_TIME + 24, ()), (3, GENESIS_TIME + 26, ())], l1(3).hash)
    assert_drop(check_span_batch(CFG, L1S, SAFE, s, INCL, FakeL2()), DropReason.TIMESTAMP_BEFORE_L1_ORIGIN)


def test_span_with_wrapped_origin_number_is_dropped() -> None:
    """Audit D10: op-node derives a span batch whose origin bits count below L1 block 0 (uint64
    wrap, block 0 gets origin 2**64 - 1) and the batch checks drop it; with Holocene that
    flushes the channel. (op-node's own reason is "included too late", because its
    ``startEpoch + seqWindow`` wraps too; the outcome, DROP, is the same.)"""
    s = span(SAFE.hash, [(2**64 - 1, GENESIS_TIME + 22, ()), (0, GENESIS_TIME + 24, ())], l1(1).hash)
    for cfg in (CFG, HOLO):
        v, _ = check_span_batch_prefix(cfg, L1S, SAFE, s, INCL, FakeL2())
        assert v.validity is BatchValidity.DROP, v


def test_channel_reader_passes_wrapped_span_to_the_batch_checks() -> None:
    """Audit D10, reader side: no derive error (before: dropped alone and the channel read on;
    op-node: the batch reaches validation, which drops it and, with Holocene, the channel)."""
    from pyop.codec.channel_out import compress_batches
    from pyop.codec.span_batch import RawSpanBatch, SpanBatch
    from pyop.codec.span_txs import SpanBatchTxs
    from pyop.derivation.channel_reader import ChannelReader
    from pyop.derivation.drops import Explainer
    from pyop.derivation.errors import NotEnoughData
    from tests.derivation.deriv_fakes import FifoData

    txs = SpanBatchTxs(0, 0, 0, (), (), (), (), (), 0, ())
    raw = RawSpanBatch(2, 0, SAFE.hash[:20], l1(0).hash[:20], 2, 0b10, (0, 0), txs)
    ex = Explainer()
    r = ChannelReader(HOLO, FifoData(l1(1), [compress_batches([raw.encode()])]), ex)
    out = None
    for _ in range(5):
        try:
            out = r.next_batch()
            break
        except NotEnoughData:
            continue
    assert isinstance(out, SpanBatch) and [e.epoch_num for e in out.batches] == [2**64 - 1, 0]
    assert ex.drops == []


class _FlakyL2(FakeL2):
    """An L2 source whose reads fail with a transport error while ``down`` (the node bridge
    turns such failures into ``TemporaryError``)."""

    down = True

    def l2_block_ref_by_number(self, number: int):  # type: ignore[no-untyped-def]
        from pyop.derivation.errors import TemporaryError

        if self.down:
            raise TemporaryError("connection reset")
        return super().l2_block_ref_by_number(number)

    def payload_by_number(self, number: int):  # type: ignore[no-untyped-def]
        from pyop.derivation.errors import TemporaryError

        if self.down:
            raise TemporaryError("connection reset")
        return super().payload_by_number(number)


def test_pre_holocene_span_kept_on_transient_l2_error() -> None:
    """Audit D12: op-node ``BatchQueue.AddBatch`` keeps every batch whose check is not
    ``BatchDrop``, and an L2 fetch error of any kind in the span checks is ``BatchUndecided``.
    So an overlapping span batch read while the L2 RPC hiccups is kept and accepted later."""
    from pyop.derivation.batch_queue import BatchQueue
    from pyop.derivation.drops import Explainer
    from pyop.derivation.errors import NotEnoughData
    from tests.derivation.deriv_fakes import FifoBatches

    elems = [(1, GENESIS_TIME + 18, (b"\x02a",)), (1, GENESIS_TIME + 20, ()), (1, GENESIS_TIME + 22, (b"\x02c",))]
    s = span(l2(8, l1(1)).hash, elems, l1(1).hash)
    flaky = _FlakyL2(refs={8: l2(8, l1(1))}, payloads={9: _payload(9, 1, (b"\x02a",)), 10: _payload(10, 1, ())})
    assert check_span_batch(CFG, L1S, SAFE, s, INCL, flaky).validity is BatchValidity.UNDECIDED
    src = FifoBatches(l1(1), [s])
    ex = Explainer()
    bq = BatchQueue(CFG, src, flaky, ex)
    bq.reset(l1(1), SYSCFG)
    src.origin = l1(2)
    with pytest.raises(NotEnoughData):
        bq.next_batch(SAFE)  # the span is read now, while L2 is down
    assert ex.drops == [] and len(bq.batches) == 1
    flaky.down = False
    b, concluding = bq.next_batch(SAFE)
    assert b.timestamp == GENESIS_TIME + 22 and b.transactions == (b"\x02c",) and concluding


def test_span_overlap_safe_block_with_wrong_l1_info_format() -> None:
    """Audit D14: the overlap check reads the safe block's L1 origin with op-node's
    ``PayloadToBlockRef``, which decodes the L1-info calldata in the format the block's time
    requires (Ecotone here) and fails otherwise -> ``BatchDrop``."""
    from pyop.protocol.l1_info import L1InfoFormat, decode_l1_info_tx, encode_l1_info

    good10 = _payload(10, 1, ())
    dep, info = decode_l1_info_tx(good10.transactions[0])
    bedrock = replace(dep, data=encode_l1_info(info, L1InfoFormat.BEDROCK)).encode()
    bad10 = replace(good10, transactions=(bedrock,))
    fake = FakeL2(refs={8: l2(8, l1(1))}, payloads={9: _payload(9, 1, (b"\x02a",)), 10: bad10})
    elems = [(1, GENESIS_TIME + 18, (b"\x02a",)), (1, GENESIS_TIME + 20, ()), (1, GENESIS_TIME + 22, ())]
    s = span(l2(8, l1(1)).hash, elems, l1(1).hash)
    for cfg in (CFG, HOLO):
        assert_drop(check_span_batch(cfg, L1S, SAFE, s, INCL, fake) if cfg is CFG
                    else check_span_batch_holocene(cfg, L1S, SAFE, s, INCL, fake),
                    DropReason.OVERLAP_PAYLOAD_INVALID)  # fmt: skip


# ------------------------------------------------------------------ Karst / Lagoon (op-node v1.19.6)


@pytest.mark.parametrize("fork", ["karst", "lagoon"])
def test_karst_and_lagoon_activation_block_user_txs(fork: str) -> None:
    """op-node v1.19.6 ``checkSingularBatch``: a batch with user txs at the Karst or the Lagoon
    (= interop) activation block is dropped (derivation audit D1/D9); empty batches are fine,
    as are user txs in the next block."""
    t = GENESIS_TIME + 22
    cfg = make_cfg(all_until="jovian", **{f"{fork}_time": t})
    d = assert_drop(check(batch_for(SAFE, l1(1), [b"\x02tx"]), cfg=cfg), DropReason.UPGRADE_ACTIVATION_BLOCK_USER_TXS)
    assert d.numbers == {"timestamp": t, "txs": 1}
    assert check(batch_for(SAFE, l1(1)), cfg=cfg).validity is BatchValidity.ACCEPT
    after = make_cfg(all_until="jovian", **{f"{fork}_time": t - 2})
    assert check(batch_for(SAFE, l1(1), [b"\x02tx"]), cfg=after).validity is BatchValidity.ACCEPT


def test_post_exec_tx_needs_sdm() -> None:
    """op-node v1.19.6 ``checkSequencerTxData``: a PostExec (0x7D) tx is ``BatchDrop`` unless SDM
    (= Lagoon) is active at the batch timestamp (derivation audit D9)."""
    b = batch_for(SAFE, l1(1), [b"\x02ok", b"\x7d\xc0"])
    d = assert_drop(check(b, cfg=make_cfg(all_until="jovian")), DropReason.POST_EXEC_TX_BEFORE_SDM)
    assert d.numbers["tx_index"] == 1 and d.numbers["timestamp"] == GENESIS_TIME + 22
    # Lagoon active (not at its activation block, where user txs are refused anyway)
    sdm = make_cfg(all_until="jovian", lagoon_time=GENESIS_TIME + 20)
    assert check(b, cfg=sdm).validity is BatchValidity.ACCEPT
    # the activation block itself: dropped for having user txs at all
    at = make_cfg(all_until="jovian", lagoon_time=GENESIS_TIME + 22)
    assert_drop(check(b, cfg=at), DropReason.UPGRADE_ACTIVATION_BLOCK_USER_TXS)


def test_span_element_post_exec_tx_needs_sdm() -> None:
    """The same rule for every span-batch element (op-node ``checkSpanBatch`` calls
    ``checkSequencerTxData`` per element, by the element's timestamp)."""
    elems = [(1, GENESIS_TIME + 22, (b"\x02a",)), (1, GENESIS_TIME + 24, (b"\x7d\xc0",))]
    s = span(SAFE.hash, elems, l1(1).hash)
    cfg = make_cfg(all_until="jovian")
    d = assert_drop(check_span_batch(cfg, L1S, SAFE, s, INCL, FakeL2()), DropReason.POST_EXEC_TX_BEFORE_SDM)
    assert d.numbers["timestamp"] == GENESIS_TIME + 24
    # SDM active for both elements: accepted
    sdm = make_cfg(all_until="jovian", lagoon_time=GENESIS_TIME + 20)
    assert check_span_batch(sdm, L1S, SAFE, s, INCL, FakeL2()).validity is BatchValidity.ACCEPT
