"""Scenario tests: invalid batches and span batches, pre-Holocene vs Holocene.

Spec: specs/protocol/derivation.md "Batch Queue", delta/span-batches.md "Span Batch
Validation" (atomic validity, overlap with the safe chain), holocene/derivation.md "Span
Batches" (partial validity), "Batch Queue" (no buffering, ``past``), "Fast Channel
Invalidation", "Engine Queue" (deposit-only replacement of invalid payloads).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from pyop.codec.batch import SingularBatch
from pyop.primitives import L1Header
from tests.derivation.harness import ChainBuilder, Executor, assert_truth, l2_time, run


@pytest.mark.parametrize("span", [False, True], ids=["singular", "span"])
def test_invalid_batch_in_channel(span: bool) -> None:
    """Block 4's batch is invalid (singular: it carries a deposit tx; span: blocks 4 and 5
    claim L1 origin 1, whose time is after theirs). A correct channel follows in L1 block 3.

    Holocene: blocks 1-3 come from the bad channel, batch 4 is dropped and the rest of the
    span batch / channel is discarded; blocks 4..11 come from the repost.
    Pre-Holocene, singular: batches 5..11 of the bad channel are buffered as future batches and
    used after the repost's batch 4; the repost's 5..11 are then past.
    Pre-Holocene, span: the whole span batch is invalid; everything comes from the repost.
    """
    for fork in ("granite", "holocene"):
        b = ChainBuilder(fork=fork, seed=30, txs_per_block=(1, 2))
        l1_1 = b.build(1).header(1)
        dep = b.l2[1].attributes.transactions[0]
        ts4 = l2_time(4)

        def mutate(bs: list[SingularBatch], dep: bytes = dep, ts4: int = ts4,
                   l1_1: L1Header = l1_1) -> list[SingularBatch]:  # fmt: skip
            if not span:
                return [replace(x, transactions=(*x.transactions, dep)) if x.timestamp == ts4
                        else x for x in bs]  # fmt: skip
            return [replace(x, epoch_num=1, epoch_hash=l1_1.hash) if x.timestamp in (ts4, ts4 + 2)
                    else x for x in bs]  # fmt: skip

        b.submit(2, range(1, 12), span=span, mutate=mutate)
        b.submit(3, range(4 if (fork == "holocene" or not span) else 1, 12), span=span)
        b.build(4)
        res = run(b)
        assert_truth(res, 11)
        src = [e.derived_from for e in res.blocks]
        bad = "TIMESTAMP_BEFORE_L1_ORIGIN" if span else "DEPOSIT_TX_IN_BATCH"
        assert res.drops[0].reason.name == bad
        assert res.drops[0].l1_origin.number == 2
        if fork == "holocene":
            # singular: 7 batches left in the channel are flushed; span: the channel held only
            # the span batch, whose remaining blocks are discarded with it
            assert res.reasons() == [bad, "CHANNEL_FLUSHED"] if not span else res.reasons() == [bad]
            assert res.drops[0].numbers["timestamp"] == ts4
            assert src == [2] * 3 + [3] * 8
        elif not span:
            assert res.reasons() == [bad] + ["PAST_TIMESTAMP"] * 7
            assert src == [2] * 3 + [3] * 8
        else:
            assert res.reasons() == [bad]
            assert src == [3] * 11


@pytest.mark.parametrize("fork", ["granite", "holocene"])
def test_span_batch_overlapping_safe_head(fork: str) -> None:
    """A span batch for blocks 6..17 arrives after blocks 1..11 are safe: the overlapping
    blocks 6..11 match the safe chain, 12..17 are new."""
    b = ChainBuilder(fork=fork, seed=31)
    b.submit(2, range(1, 12), span=True)
    b.submit(3, range(6, 18), span=True)
    b.build(4)
    res = run(b)
    assert_truth(res, 17)
    assert [e.derived_from for e in res.blocks] == [2] * 11 + [3] * 6
    # Holocene: the 6 overlapped singular batches are "past" and silently skipped
    assert res.reasons() == []


@pytest.mark.parametrize("fork", ["granite", "holocene"])
def test_span_batch_overlap_mismatch(fork: str) -> None:
    """A span batch whose overlapped block 8 differs from the safe block is dropped whole, before
    and after Holocene: delta/span-batches.md "Span Batch Validation" pre-Holocene, and from
    Holocene op-node v1.19.6 ``checkSpanBatchHolocene`` = prefix + ``checkSpanBatchOverlap``
    (specs PR #928 / optimism PR #22215). Its new blocks 12..17 are not applied; they come from
    the span posted in L1 block 4. (Before that change Holocene skipped the overlapped blocks
    unchecked and took 12..17 from L1 block 3.)"""
    b = ChainBuilder(fork=fork, seed=32, txs_per_block=(1, 1))
    other = b.build(1).l2[3].user_txs
    ts8 = l2_time(8)

    def mutate(bs: list[SingularBatch]) -> list[SingularBatch]:
        return [replace(x, transactions=other) if x.timestamp == ts8 else x for x in bs]

    b.submit(2, range(1, 12), span=True)
    b.submit(3, range(6, 18), span=True, mutate=mutate)
    b.submit(4, range(12, 18), span=True)
    b.build(5)
    res = run(b)
    assert_truth(res, 17)
    assert res.reasons() == ["OVERLAP_TX_MISMATCH"]
    assert res.drops[0].numbers["number"] == 8
    assert res.drops[0].l1_origin.number == 3
    assert [e.derived_from for e in res.blocks] == [2] * 11 + [4] * 6


class _RejectingExecutor(Executor):
    """Rejects the payload at one timestamp (the engine says INVALID) once."""

    def __init__(self, inner: Executor, reject_ts: int) -> None:
        super().__init__(inner.builders, inner.l2)
        self.executed = inner.executed
        self.reject_ts = reject_ts

    def execute(self, item):  # type: ignore[no-untyped-def]
        from pyop.derivation.driver import InvalidPayload

        if item.attributes.timestamp == self.reject_ts and not item.deposits_only:
            raise InvalidPayload("test engine rejects this payload")
        return super().execute(item)


def test_invalid_payload_deposit_only_replacement_holocene() -> None:
    """holocene/derivation.md "Engine Queue": an INVALID payload is replaced by its deposit-only
    version and the rest of its channel is dropped; the blocks after come from a repost."""
    from pyop.derivation.driver import DerivationPipeline, derive_range
    from tests.derivation.harness import new_l2_source

    b = ChainBuilder(fork="holocene", seed=33, txs_per_block=(1, 2))
    b.empty_l2 = {4}
    b.submit(2, range(1, 12))
    b.submit(3, range(5, 12))
    b.build(4)
    l2 = new_l2_source(b)
    pipe = DerivationPipeline(b.cfg, b.l1, l2, blobs=b.blobs)
    ex = _RejectingExecutor(Executor([b], l2), b.l2[4].ref.timestamp)
    items = list(derive_range(pipe, b.genesis_ref(), ex))
    # block 4 has no user txs in the true chain, so deposit-only == true block 4
    refs = [e.ref for e in ex.executed]
    assert refs == [x.ref for x in b.l2[1:12]]
    assert [i.deposits_only for i in items].count(True) == 1
    assert [d.kind.name for d in pipe.decisions if d.kind.name == "DEPOSIT_ONLY_REPLACEMENT"] == [
        "DEPOSIT_ONLY_REPLACEMENT"
    ]
    assert [d.reason.name for d in pipe.drops] == ["CHANNEL_FLUSHED"]
    assert [e.derived_from for e in ex.executed] == [2] * 4 + [3] * 7
