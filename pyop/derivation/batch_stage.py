"""Batch Stage (Holocene): strict batch ordering, partial span batch validity, fast channel
invalidation.

Spec: specs/protocol/holocene/derivation.md "Span Batches" (prefix checks and the overlap with
the safe chain, then each singular batch is checked on its own: forwards-invalidation; the
overlap check is the retroactive specs PR #928, see ``check_span_batch_holocene``), "Batch
Queue" (no buffering: future -> drop, ``past`` -> silently skipped, an invalid batch flushes
the rest of its span batch and channel), "Fast Channel Invalidation".
Go: op-node/rollup/derive/batch_stage.go; kona: batch_stream.rs + batch_validator.rs.
"""

from __future__ import annotations

from pyop.codec.batch import SingularBatch
from pyop.codec.span_batch import MissingL1OriginError
from pyop.derivation.batch_queue import BaseBatchStage
from pyop.derivation.batches import (
    BatchValidity,
    check_singular_batch,
    check_span_batch_holocene,
)
from pyop.derivation.drops import DecisionKind, DropReason
from pyop.derivation.errors import CriticalError, EndOfSource, NotEnoughData, ResetError
from pyop.primitives import L1BlockRef, L2BlockRef, SystemConfig, to_hex

STAGE = "batch_stage"


class BatchStage(BaseBatchStage):
    """op-node ``BatchStage``: at most one span batch in flight, no batch buffer."""

    stage_name = STAGE

    def flush_channel(self) -> None:
        """Drop the rest of the span batch and of the channel it came from."""
        self.next_span.clear()
        self.prev.flush_channel()

    def next_batch(self, parent: L2BlockRef) -> tuple[SingularBatch, bool]:
        """The next singular batch on top of ``parent`` and whether it is concluding (always
        true here: see below)."""
        self._update_origins(parent)
        origin = self.stage_origin if self.stage_origin is not None else self.prev.origin
        # Drain older data while the origin is behind the safe head's origin, and read one
        # batch per step while still in the parent's epoch (the batch is not used: op-node).
        if self._origin_behind(parent) or parent.l1_origin.number == origin.number:
            self.prev.next_batch()
            raise NotEnoughData("origin behind or at the safe head's L1 origin")
        if len(self.l1_blocks) < 2:
            raise CriticalError(
                f"unexpectedly few buffered L1 blocks ({len(self.l1_blocks)}) at origin "
                f"{origin.number}, parent epoch {parent.l1_origin.number}"
            )
        epoch = self.l1_blocks[0]
        if parent.l1_origin != epoch.id() and parent.l1_origin.number != epoch.number - 1:
            raise ResetError(
                f"buffered L1 epoch {epoch.number} does not match safe head origin "
                f"{parent.l1_origin.number}"
            )
        try:
            batch = self._next_singular_batch_candidate(parent, origin)
        except EndOfSource:
            # Only once the span and the stage below are drained: empty batches when the
            # sequencing window expired. Like every Holocene batch it is concluding (op-node
            # batch_stage.go: "An empty batch always advances the (local) safe head"), so the
            # safe head moves while the batcher is down.
            return self._derive_next_empty_batch(True, parent), True
        v = check_singular_batch(self.cfg, self.l1_blocks, parent, batch, origin)
        if v.validity is BatchValidity.ACCEPT:
            if v.note:
                self.ex.decide(STAGE, DecisionKind.SEQUENCER_DRIFT_ALLOWANCE, v.note, {}, origin.id())
            self.ex.decide(STAGE, DecisionKind.BATCH_ACCEPTED,
                           f"batch for timestamp {batch.timestamp} accepted",
                           {"timestamp": batch.timestamp, "epoch": batch.epoch_num}, origin.id())  # fmt: skip
            # [New in Holocene] concluding: every accepted batch, also a block in the middle of
            # a span batch, is (local) safe at once, because Holocene never invalidates
            # backwards (holocene/derivation.md "Span Batches"; op-node batch_stage.go returns
            # ``true``). Pre-Holocene only the end of a span concludes (batch_queue.py).
            return batch, True
        if v.validity is BatchValidity.PAST:
            self._record(v)
            raise NotEnoughData("past batch skipped")
        if v.validity is BatchValidity.DROP:
            self._record(v)
            self.flush_channel()
            raise NotEnoughData("invalid batch: channel flushed")
        if v.validity is BatchValidity.UNDECIDED:
            raise NotEnoughData(f"undecided batch: {v.note}")
        raise CriticalError(f"impossible batch validity {v.validity} with Holocene")

    def _next_singular_batch_candidate(self, parent: L2BlockRef, origin: L1BlockRef) -> SingularBatch:
        b, _ = self._next_from_span_batch(parent)
        if b is not None:
            return b
        batch = self.prev.next_batch()  # EndOfSource passes up
        if isinstance(batch, SingularBatch):
            return batch
        v = check_span_batch_holocene(self.cfg, self.l1_blocks, parent, batch, origin, self.l2)
        if v.validity is BatchValidity.PAST:
            self._record(v)
            raise NotEnoughData("past span batch skipped")
        if v.validity is BatchValidity.DROP:
            self._record(v)
            self.flush_channel()
            raise NotEnoughData("invalid span batch: channel flushed")
        if v.validity is BatchValidity.UNDECIDED:
            # op-node: the span was consumed and is skipped, not retried
            raise NotEnoughData(f"undecided span batch: {v.note}")
        if v.validity is BatchValidity.FUTURE:
            raise CriticalError("impossible future span batch with Holocene")
        # holocene/derivation.md "Span Batches" note: a singular batch with an outdated or
        # unknown L1 origin invalidates the span batch (it must not stall derivation).
        for i, el in enumerate(batch.batches):
            if el.timestamp > parent.timestamp and el.epoch_num < parent.l1_origin.number:
                self.ex.drop(STAGE, DropReason.L1_ORIGIN_BEFORE_SAFE_HEAD,
                             f"span block {i} epoch {el.epoch_num} < safe head epoch "
                             f"{parent.l1_origin.number}", {"block": i, "epoch": el.epoch_num},
                             origin.id())  # fmt: skip
                self.flush_channel()
                raise NotEnoughData("invalid span batch: channel flushed")
        try:
            self.next_span = batch.get_singular_batches(self.l1_blocks, parent)
        except MissingL1OriginError as e:
            self.ex.drop(STAGE, DropReason.MISSING_L1_ORIGIN, str(e), {}, origin.id())
            self.flush_channel()
            raise NotEnoughData("invalid span batch: channel flushed") from None
        self.ex.decide(STAGE, DecisionKind.SPAN_BATCH_ACCEPTED,
                       f"span batch of {batch.block_count()} blocks on parent {to_hex(parent.hash)[:10]}",
                       {"blocks": batch.block_count(), "new_blocks": len(self.next_span)}, origin.id())  # fmt: skip
        if not self.next_span:
            raise NotEnoughData("span batch has no blocks after the safe head")
        return self._pop_next_batch(parent)

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.prev.reset(base, sys_cfg)
        self._base_reset(base)
