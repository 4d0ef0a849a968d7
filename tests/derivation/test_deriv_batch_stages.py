"""Batch queue (pre-Holocene) and batch stage (Holocene) over a FIFO fake channel reader.

Expected behaviour from specs/protocol/derivation.md "Batch Queue" (reordering, empty batches
when the sequencing window expires) and holocene/derivation.md "Batch Queue" (no buffering,
past batches skipped, invalid batches flush the channel).
"""

from __future__ import annotations

from pyop.codec.batch import SingularBatch
from pyop.codec.span_batch import SpanBatch
from pyop.derivation.batch_queue import BatchQueue
from pyop.derivation.batch_stage import BatchStage
from pyop.derivation.drops import DecisionKind, DropReason, Explainer
from pyop.derivation.errors import EndOfSource, NotEnoughData
from pyop.primitives import L1BlockRef, L2BlockRef
from tests.derivation.deriv_fakes import GENESIS_TIME, SYSCFG, FakeL2, FifoBatches, h, l1, make_cfg

PRE = make_cfg(all_until="granite")
HOLO = make_cfg(all_until="holocene")
GENESIS = L2BlockRef(PRE.genesis.l2.hash, 0, b"\x00" * 32, GENESIS_TIME, l1(0).id(), 0)


def child(parent: L2BlockRef, b: SingularBatch) -> L2BlockRef:
    seq = 0 if b.epoch_num != parent.l1_origin.number else parent.sequence_number + 1
    return L2BlockRef(h("l2", parent.number + 1, b.transactions), parent.number + 1, parent.hash,
                      b.timestamp, b.epoch(), seq)  # fmt: skip


def run_concluding(stage: BatchQueue | BatchStage, src: FifoBatches, parent: L2BlockRef,
                   origins: list[L1BlockRef]) -> list[tuple[SingularBatch, bool]]:  # fmt: skip
    """Step the stage like the pipeline does: on EndOfSource move the origin to the next block.
    Returns every batch with its ``concluding`` flag."""
    out: list[tuple[SingularBatch, bool]] = []
    todo = list(origins)
    for _ in range(500):
        try:
            b, concluding = stage.next_batch(parent)
        except NotEnoughData:
            continue
        except EndOfSource:
            if not todo:
                return out
            src.origin = todo.pop(0)
            continue
        out.append((b, concluding))
        parent = child(parent, b)
    raise AssertionError("did not finish")


def run(stage: BatchQueue | BatchStage, src: FifoBatches, parent: L2BlockRef,
        origins: list[L1BlockRef]) -> list[SingularBatch]:  # fmt: skip
    return [b for b, _ in run_concluding(stage, src, parent, origins)]


def batch(parent_hash: bytes, ts: int, origin: L1BlockRef, txs: tuple[bytes, ...] = (b"\x02x",)) -> SingularBatch:
    return SingularBatch(parent_hash, origin.number, origin.hash, ts, txs)


def test_empty_batches_when_sequencing_window_expires() -> None:
    ex = Explainer()
    src = FifoBatches(l1(0))
    bq = BatchQueue(PRE, src, FakeL2(), ex)
    bq.reset(l1(0), SYSCFG)
    out = run(bq, src, GENESIS, [l1(n) for n in range(1, 7)])
    # seq window 4: epoch 0 expires at L1 block 4; blocks at G+2..G+10 (< l1(1).time G+12) in
    # epoch 0, then epoch 1 from G+12 (< G+24), epoch 2 expires at block 6 (with data exhausted).
    assert [b.timestamp - GENESIS_TIME for b in out] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34]
    assert [b.epoch_num for b in out] == [0] * 5 + [1] * 6 + [2] * 6
    assert all(b.transactions == () for b in out)
    kinds = [d.kind for d in ex.decisions]
    assert DecisionKind.EMPTY_BATCH_GENERATED in kinds and DecisionKind.EPOCH_ADVANCED in kinds
    first = next(d for d in ex.decisions if d.kind is DecisionKind.EMPTY_BATCH_GENERATED)
    assert first.numbers["epoch"] == 0 and first.numbers["origin"] == 4


def test_batch_queue_reorders_future_batches() -> None:
    ex = Explainer()
    g = GENESIS
    b1 = batch(g.hash, GENESIS_TIME + 2, l1(0))
    p1 = child(g, b1)
    b2 = batch(p1.hash, GENESIS_TIME + 4, l1(0))
    src = FifoBatches(l1(0), [b2, b1])  # out of order within one L1 block
    bq = BatchQueue(PRE, src, FakeL2(), ex)
    bq.reset(l1(0), SYSCFG)
    out = run(bq, src, g, [l1(1)])
    assert out[:2] == [b1, b2]
    assert ex.drops == []


def test_batch_queue_drops_wrong_parent() -> None:
    ex = Explainer()
    bad = batch(h("nope"), GENESIS_TIME + 2, l1(0))
    src = FifoBatches(l1(0), [bad])
    bq = BatchQueue(PRE, src, FakeL2(), ex)
    bq.reset(l1(0), SYSCFG)
    assert run(bq, src, GENESIS, []) == []
    assert [d.reason for d in ex.drops] == [DropReason.WRONG_PARENT]


def test_batch_stage_drops_future_and_flushes() -> None:
    ex = Explainer()
    g = GENESIS
    future = batch(g.hash, GENESIS_TIME + 4, l1(0))
    good = batch(g.hash, GENESIS_TIME + 2, l1(0))
    src = FifoBatches(l1(0), [future, good])
    bs = BatchStage(HOLO, src, FakeL2(), ex)
    bs.reset(l1(0), SYSCFG)
    src.origin = l1(1)
    out = run(bs, src, g, [])
    assert out == []  # the good batch was in the flushed channel
    assert src.flushes == 1
    assert [d.reason for d in ex.drops] == [DropReason.FUTURE_TIMESTAMP]


def test_batch_stage_skips_past_batches() -> None:
    ex = Explainer()
    g = GENESIS
    b1 = batch(g.hash, GENESIS_TIME + 2, l1(0))
    p1 = child(g, b1)
    b2 = batch(p1.hash, GENESIS_TIME + 4, l1(0))
    src = FifoBatches(l1(0), [b1, b1, b2])
    bs = BatchStage(HOLO, src, FakeL2(), ex)
    bs.reset(l1(0), SYSCFG)
    src.origin = l1(1)
    out = run(bs, src, g, [])
    assert out == [b1, b2]
    assert [d.reason for d in ex.drops] == [DropReason.PAST_BATCH]
    assert src.flushes == 0


def test_empty_batches_are_concluding_in_both_stages() -> None:
    """An empty batch generated at the end of a sequencing window always advances the safe head
    (op-node v1.19.6 batch_stage.go ``NextBatch``: "An empty batch always advances the (local)
    safe head", ``return empty, true``; batch_queue.go returns a singular batch as last in
    span). Found by the batcher devnet test: with Holocene, pyop node's safe head stayed while
    its pending-safe head advanced through deposit-only blocks."""
    for cfg, cls in ((PRE, BatchQueue), (HOLO, BatchStage)):
        src = FifoBatches(l1(0))
        stage = cls(cfg, src, FakeL2(), Explainer())
        stage.reset(l1(0), SYSCFG)
        parent, todo, lasts = GENESIS, [l1(n) for n in range(1, 7)], []
        for _ in range(500):
            try:
                b, last = stage.next_batch(parent)
            except NotEnoughData:
                continue
            except EndOfSource:
                if not todo:
                    break
                src.origin = todo.pop(0)
                continue
            assert b.transactions == ()
            lasts.append(last)
            parent = child(parent, b)
        assert lasts and all(lasts), f"{cls.__name__}: empty batches not concluding: {lasts}"


# ------------------------------------------------------------------ concluding (op-node Concluding)


def _span_of_three() -> tuple[SpanBatch, list[SingularBatch]]:
    g = GENESIS
    bs: list[SingularBatch] = []
    parent = g
    for i in range(3):
        b = batch(parent.hash, GENESIS_TIME + 2 * (i + 1), l1(0), (bytes([2, i]),))
        bs.append(b)
        parent = child(parent, b)
    return SpanBatch.from_singular_batches(bs, GENESIS_TIME, 901), bs


def test_batch_stage_every_batch_is_concluding() -> None:
    """Holocene: each block of a span batch, and each singular batch, concludes the pending-safe
    phase (op-node batch_stage.go ``return batch, true, nil``: "BatchStage is only used with
    Holocene, where blocks immediately become (local) safe")."""
    span, singles = _span_of_three()
    p3 = GENESIS
    for b in singles:
        p3 = child(p3, b)
    single = batch(p3.hash, GENESIS_TIME + 8, l1(0))
    src = FifoBatches(l1(0), [span, single])
    bs = BatchStage(HOLO, src, FakeL2(), Explainer())
    bs.reset(l1(0), SYSCFG)
    src.origin = l1(1)
    out = run_concluding(bs, src, GENESIS, [])
    assert [b.timestamp - GENESIS_TIME for b, _ in out] == [2, 4, 6, 8]
    assert [c for _, c in out] == [True, True, True, True]


def test_batch_queue_concludes_only_at_span_end() -> None:
    """Pre-Holocene: only the last block of a span batch concludes (op-node batch_queue.go
    ``len(bq.nextSpan) == 0``), a singular batch always does."""
    span, singles = _span_of_three()
    p3 = GENESIS
    for b in singles:
        p3 = child(p3, b)
    single = batch(p3.hash, GENESIS_TIME + 8, l1(0))
    src = FifoBatches(l1(0), [span, single])
    bq = BatchQueue(PRE, src, FakeL2(), Explainer())
    bq.reset(l1(0), SYSCFG)
    out = run_concluding(bq, src, GENESIS, [l1(1)])
    assert [b.timestamp - GENESIS_TIME for b, _ in out][:4] == [2, 4, 6, 8]
    assert [c for _, c in out][:4] == [False, False, True, True]


def test_generated_empty_batches_are_concluding() -> None:
    """Batcher down: the sequencing window of epoch 0 expires (seq window 4) and empty batches
    are generated. Both stages mark them concluding (op-node batch_stage.go ``return empty,
    true, err`` "An empty batch always advances the (local) safe head"; batch_queue.go: no span
    left), so the safe head advances with every forced block."""
    for cfg, cls in ((HOLO, BatchStage), (PRE, BatchQueue)):
        src = FifoBatches(l1(0))
        stage = cls(cfg, src, FakeL2(), Explainer())
        stage.reset(l1(0), SYSCFG)
        out = run_concluding(stage, src, GENESIS, [l1(n) for n in range(1, 7)])
        # the same 17 blocks as test_empty_batches_when_sequencing_window_expires
        assert len(out) == 17, cls
        assert all(b.transactions == () for b, _ in out)
        assert [c for _, c in out] == [True] * 17, cls
