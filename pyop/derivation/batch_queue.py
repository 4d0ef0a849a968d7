"""Batch Queue (pre-Holocene): buffer batches, pick the next valid one, generate empty batches.

Spec: specs/protocol/derivation.md "Batch Queue" (batch validity, the ordering and epoch
rules, empty batches when the sequencing window expires), delta/span-batches.md "Batch Queue"
(a span batch is checked as a whole, then streamed out as singular batches).
Go: op-node/rollup/derive/batch_queue.go (``BatchQueue`` and the shared ``baseBatchStage``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from pyop.codec.batch import SingularBatch
from pyop.codec.span_batch import MissingL1OriginError
from pyop.config import RollupConfig
from pyop.derivation.batches import BatchValidity, SafeBlockFetcher, Verdict, check_batch
from pyop.derivation.drops import DecisionKind, Explainer
from pyop.derivation.errors import CriticalError, EndOfSource, NotEnoughData, ResetError
from pyop.derivation.types import Batch
from pyop.primitives import L1BlockRef, L2BlockRef, SystemConfig

STAGE = "batch_queue"


class BatchProvider(Protocol):
    """What the batch stages pull from (the channel reader)."""

    @property
    def origin(self) -> L1BlockRef: ...

    def next_batch(self) -> Batch: ...

    def flush_channel(self) -> None: ...

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None: ...


@dataclass(frozen=True, slots=True)
class BatchWithInclusion:
    """A batch and the L1 block it was read from (op-node ``BatchWithL1InclusionBlock``)."""

    batch: Batch
    inclusion: L1BlockRef


class BaseBatchStage:
    """State shared by the batch queue and the Holocene batch stage (op-node
    ``baseBatchStage``): the stage origin, the window of L1 blocks from the current epoch on,
    and the singular batches left of the current span batch."""

    stage_name = STAGE

    def __init__(
        self, cfg: RollupConfig, prev: BatchProvider, l2: SafeBlockFetcher, explainer: Explainer
    ) -> None:
        self.cfg = cfg
        self.prev = prev
        self.l2 = l2
        self.ex = explainer
        self.stage_origin: L1BlockRef | None = None
        self.l1_blocks: list[L1BlockRef] = []
        self.next_span: list[SingularBatch] = []

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def _origin_behind(self, parent: L2BlockRef) -> bool:
        return self.prev.origin.number < parent.l1_origin.number

    def _update_origins(self, parent: L2BlockRef) -> None:
        """Track the origin of the stage below; drop L1 blocks older than the parent's epoch."""
        behind = self._origin_behind(parent)
        prev_origin = self.prev.origin
        if self.stage_origin != prev_origin:
            self.stage_origin = prev_origin
            if not behind:
                self.l1_blocks.append(prev_origin)
            else:
                self.l1_blocks.clear()
        if self.l1_blocks and parent.l1_origin.number > self.l1_blocks[0].number:
            for i, b in enumerate(self.l1_blocks):
                if parent.l1_origin.number == b.number:
                    del self.l1_blocks[:i]
                    self.ex.decide(
                        self.stage_name, DecisionKind.EPOCH_ADVANCED,
                        f"epoch advanced to L1 block {b.number} (safe head's origin)",
                        {"epoch": b.number}, prev_origin.id(),
                    )  # fmt: skip
                    break

    def _pop_next_batch(self, parent: L2BlockRef) -> SingularBatch:
        if not self.next_span:
            raise CriticalError("popping from an empty span batch")
        b = self.next_span.pop(0)
        return replace(b, parent_hash=parent.hash)

    def _next_from_span_batch(self, parent: L2BlockRef) -> tuple[SingularBatch | None, bool]:
        if self.next_span:
            if self.next_span[0].timestamp == parent.timestamp + self.cfg.block_time:
                b = self._pop_next_batch(parent)
                return b, not self.next_span
            # The parent is not the block before the next span block (e.g. after a reorg).
            self.next_span.clear()
        return None, False

    def _span_to_singulars(self, batch: Batch, parent: L2BlockRef) -> list[SingularBatch]:
        if isinstance(batch, SingularBatch):
            return [batch]
        return batch.get_singular_batches(self.l1_blocks, parent)

    def _derive_next_empty_batch(self, out_of_data: bool, parent: L2BlockRef) -> SingularBatch:
        """derivation.md "Batch Queue": once the sequencing window of the current epoch has
        expired (``epoch + SEQ_WINDOW_SIZE < origin``, or ``==`` with the origin's data
        exhausted), generate empty batches: while ``next_timestamp < next_epoch.time``, or for
        the first block of the epoch; otherwise advance the epoch. Raises
        :class:`EndOfSource` when no batch can be generated."""
        epoch = self.l1_blocks[0]
        origin = self.stage_origin if self.stage_origin is not None else self.prev.origin
        expiry = epoch.number + self.cfg.seq_window_size
        force = (expiry == origin.number and out_of_data) or expiry < origin.number
        first_of_epoch = epoch.number == parent.l1_origin.number + 1
        next_ts = parent.timestamp + self.cfg.block_time
        if not force:
            raise EndOfSource("sequencing window not expired")
        if len(self.l1_blocks) < 2:
            raise EndOfSource("need the next L1 block to generate empty batches")
        next_epoch = self.l1_blocks[1]
        if next_ts < next_epoch.timestamp or first_of_epoch:
            self.ex.decide(
                self.stage_name, DecisionKind.EMPTY_BATCH_GENERATED,
                f"sequencing window of epoch {epoch.number} expired at L1 block {origin.number}: "
                f"empty batch at {next_ts}",
                {"epoch": epoch.number, "seq_window_size": self.cfg.seq_window_size,
                 "origin": origin.number, "timestamp": next_ts,
                 "next_epoch_time": next_epoch.timestamp, "first_of_epoch": int(first_of_epoch)},
                origin.id(),
            )  # fmt: skip
            return SingularBatch(
                parent_hash=parent.hash,
                epoch_num=epoch.number,
                epoch_hash=epoch.hash,
                timestamp=next_ts,
                transactions=(),
            )
        self.ex.decide(
            self.stage_name, DecisionKind.EPOCH_ADVANCED,
            f"all empty batches of epoch {epoch.number} generated: advance to {next_epoch.number}",
            {"epoch": epoch.number, "next_timestamp": next_ts, "next_epoch_time": next_epoch.timestamp},
            origin.id(),
        )  # fmt: skip
        del self.l1_blocks[0]
        raise EndOfSource("epoch advanced")

    def _record(self, v: Verdict) -> None:
        if v.drop is not None:
            self.ex.record_drop(v.drop)

    def _base_reset(self, base: L1BlockRef) -> None:
        self.stage_origin = base
        self.l1_blocks = [base]
        self.next_span = []


class BatchQueue(BaseBatchStage):
    """op-node ``BatchQueue``: buffers batches of the L1 blocks in the window and releases them
    in L2 order; span batches are validated as a whole."""

    def __init__(
        self, cfg: RollupConfig, prev: BatchProvider, l2: SafeBlockFetcher, explainer: Explainer
    ) -> None:
        super().__init__(cfg, prev, l2, explainer)
        self.batches: list[BatchWithInclusion] = []

    def flush_channel(self) -> None:
        """Pre-Holocene there is no fast channel invalidation; only the span is cleared."""
        self.next_span.clear()

    def next_batch(self, parent: L2BlockRef) -> tuple[SingularBatch, bool]:
        """The next singular batch on top of ``parent`` and whether it ends its span batch."""
        b, last = self._next_from_span_batch(parent)
        if b is not None:
            return b, last
        self._update_origins(parent)
        behind = self._origin_behind(parent)
        out_of_data = False
        try:
            batch = self.prev.next_batch()
        except EndOfSource:
            out_of_data = True
        else:
            if not behind:
                self.add_batch(batch, parent)
        if behind:
            if out_of_data:
                raise EndOfSource("origin behind the safe head's L1 origin")
            raise NotEnoughData("origin behind: draining older data")
        try:
            nxt = self._derive_next_batch(out_of_data, parent)
        except EndOfSource:
            if out_of_data:
                raise
            raise NotEnoughData("no batch yet") from None
        if isinstance(nxt, SingularBatch):
            return nxt, True
        try:
            self.next_span = nxt.get_singular_batches(self.l1_blocks, parent)
        except MissingL1OriginError as e:
            raise CriticalError(f"accepted span batch: {e}") from None
        b = self._pop_next_batch(parent)
        return b, not self.next_span

    def add_batch(self, batch: Batch, parent: L2BlockRef) -> None:
        if not self.l1_blocks:
            raise CriticalError("cannot add a batch: no L1 origin prepared")
        origin = self.stage_origin if self.stage_origin is not None else self.prev.origin
        v = check_batch(self.cfg, self.l1_blocks, parent, batch, origin, self.l2)
        if v.validity is BatchValidity.DROP:
            self._record(v)
            return
        self.batches.append(BatchWithInclusion(batch, origin))

    def _derive_next_batch(self, out_of_data: bool, parent: L2BlockRef) -> Batch:
        if not self.l1_blocks:
            raise CriticalError("cannot derive the next batch: no L1 origin prepared")
        epoch = self.l1_blocks[0]
        if parent.l1_origin != epoch.id() and parent.l1_origin.number != epoch.number - 1:
            raise ResetError(
                f"buffered L1 epoch {epoch.number} does not match safe head origin "
                f"{parent.l1_origin.number}"
            )
        remaining: list[BatchWithInclusion] = []
        found: BatchWithInclusion | None = None
        for i, bw in enumerate(self.batches):
            v = check_batch(self.cfg, self.l1_blocks, parent, bw.batch, bw.inclusion, self.l2)
            if v.validity is BatchValidity.FUTURE:
                remaining.append(bw)
            elif v.validity is BatchValidity.DROP:
                self._record(v)
            elif v.validity is BatchValidity.ACCEPT:
                found = bw
                remaining.extend(self.batches[i + 1 :])
                if v.note:
                    self.ex.decide(STAGE, DecisionKind.SEQUENCER_DRIFT_ALLOWANCE, v.note, {},
                                   bw.inclusion.id())  # fmt: skip
                break
            elif v.validity is BatchValidity.UNDECIDED:
                remaining.extend(self.batches[i:])
                self.batches = remaining
                raise EndOfSource(f"undecided batch: {v.note}")
            else:
                raise CriticalError(f"unexpected batch validity {v.validity} before Holocene")
        self.batches = remaining
        if found is not None:
            self.ex.decide(
                STAGE, DecisionKind.BATCH_ACCEPTED,
                f"batch for timestamp {_first_ts(found.batch)} accepted",
                {"timestamp": _first_ts(found.batch), "inclusion_block": found.inclusion.number},
                found.inclusion.id(),
            )  # fmt: skip
            return found.batch
        return self._derive_next_empty_batch(out_of_data, parent)

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.prev.reset(base, sys_cfg)
        self._base_reset(base)
        self.batches = []


def _first_ts(b: Batch) -> int:
    return b.timestamp if isinstance(b, SingularBatch) else b.first_timestamp()
