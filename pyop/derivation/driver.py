"""The public face of the derivation pipeline: :class:`DerivationPipeline` and
:func:`derive_range`.

    pipeline = DerivationPipeline(cfg, l1, l2, blobs=blobs)
    pipeline.reset(safe_head)
    res = pipeline.step(safe_head)          # StepResult: ATTRIBUTES / ADVANCED_ORIGIN / NOT_ENOUGH_DATA
    for attrs in derive_range(pipeline, safe_head, executor, until_l2_number=n): ...

``step`` mirrors op-node ``DerivationPipeline.Step``: pull attributes from the top stage; when
the stages are out of data for the current L1 block, advance the L1 traversal by one block.
It raises :class:`EndOfSource` when L1 has no next block yet (wait and retry),
:class:`TemporaryError` (retry), :class:`ResetError` (call ``reset`` with the engine's safe
head) and :class:`CriticalError` (stop).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from pyop.config import RollupConfig
from pyop.derivation.altda_manager import DAManager
from pyop.derivation.attributes import L1BlobSchedule
from pyop.derivation.drops import Decision, DecisionKind, Drop, DropReason, Explainer, Observer
from pyop.derivation.errors import (
    CriticalError,
    DerivationError,
    EndOfSource,
    NotEnoughData,
    ResetError,
)
from pyop.derivation.interfaces import AltDASource, BlobSource, L1Source, L2Source
from pyop.derivation.pipeline import Stages, build_stages
from pyop.derivation.reset import ResetTarget, find_reset_target
from pyop.derivation.types import AttributesWithParent, StepKind, StepResult
from pyop.primitives import L1BlockRef, L2BlockRef

STAGE = "pipeline"


class InvalidPayload(DerivationError):
    """Raised by a :class:`SafeHeadExecutor` when the engine rejects the payload (``INVALID``)."""


class SafeHeadExecutor(Protocol):
    """Executes derived attributes on top of ``attrs.parent`` (an engine, a fixture, a test
    harness) and returns the new safe head, or raises :class:`InvalidPayload`."""

    def execute(self, attrs: AttributesWithParent) -> L2BlockRef: ...


class DerivationPipeline:
    """The derivation pipeline (specs/protocol/derivation.md), pull-based and I/O-free apart
    from the given sources."""

    def __init__(
        self,
        cfg: RollupConfig,
        l1: L1Source,
        l2: L2Source,
        *,
        blobs: BlobSource | None = None,
        altda: AltDASource | None = None,
        observer: Observer | None = None,
        blob_schedule: L1BlobSchedule | None = None,
    ) -> None:
        self.cfg = cfg
        self.l1 = l1
        self.l2 = l2
        self.explainer = Explainer(observer)
        self.stages: Stages = build_stages(
            cfg, l1, l2, self.explainer, blobs=blobs, altda=altda, blob_schedule=blob_schedule
        )
        self._reset_target: ResetTarget | None = None

    # ------------------------------------------------------------------ state

    @property
    def origin(self) -> L1BlockRef:
        """The current L1 block of the pipeline (the traversal's origin)."""
        return self.stages.traversal.origin

    @property
    def altda(self) -> DAManager | None:
        """The DA manager of an alt-DA chain (its finality signal drives the node's finalizer)."""
        return self.stages.retrieval.sources.altda_manager

    @property
    def drops(self) -> list[Drop]:
        """Every drop recorded so far."""
        return self.explainer.drops

    @property
    def decisions(self) -> list[Decision]:
        """Every rule decision recorded so far."""
        return self.explainer.decisions

    @property
    def is_reset(self) -> bool:
        return self._reset_target is not None

    @property
    def reset_target(self) -> ResetTarget | None:
        return self._reset_target

    # ------------------------------------------------------------------ control

    def reset(self, l2_safe_head: L2BlockRef) -> None:
        """Full reset from the L2 safe head (derivation.md "Resetting the Pipeline"; op-node
        ``initialReset`` + each stage's ``Reset``): find the L1 origin one channel timeout back
        and the SystemConfig of that L2 block, then reset every stage (the Holocene stages are
        chosen by that origin's time)."""
        target = find_reset_target(self.cfg, self.l1, self.l2, l2_safe_head)
        self.stages.frame_queue.clear()
        self.stages.attributes.reset(target.l1_origin, target.system_config)
        self._reset_target = target
        self.explainer.decide(
            STAGE, DecisionKind.RESET,
            f"reset from safe head {l2_safe_head.number}: L1 origin {target.l1_origin.number} "
            f"(from L2 block {target.l2_block.number})",
            {"safe_head": l2_safe_head.number, "safe_head_l1_origin": l2_safe_head.l1_origin.number,
             "l1_origin": target.l1_origin.number, "l2_block": target.l2_block.number},
            target.l1_origin.id(),
        )  # fmt: skip

    def step(self, l2_safe_head: L2BlockRef) -> StepResult:
        """One unit of work (op-node ``DerivationPipeline.Step``). Resets first if the
        pipeline was never reset."""
        if self._reset_target is None:
            self.reset(l2_safe_head)
        try:
            attrs = self.stages.attributes.next_attributes(l2_safe_head)
        except EndOfSource:
            old = self.stages.traversal.origin
            new = self.stages.traversal.advance_l1_block()  # EndOfSource when L1 has no more
            # holocene/derivation.md: the Holocene stages replace the old ones when the L1
            # origin crosses the activation time. Deliberate difference (audit D13): op-node
            # v1.19.6 ``transformStages`` asks ``IsActivationBlock(old, new)``, which names only
            # the *first* fork (Regolith..Lagoon order) activating in that step, and transforms
            # for that fork alone; if another fork activates in the same L1 step (e.g.
            # granite_time == holocene_time, both after genesis), op-node keeps the channel bank
            # and batch queue until its next reset (and its batch queue fails critically on the
            # first Holocene ``past`` batch). We follow the spec and swap whenever Holocene
            # activates; only configs with two forks at the same non-genesis time differ.
            if not self.cfg.is_holocene(old.timestamp) and self.cfg.is_holocene(new.timestamp):
                self.stages.activate_holocene(True)
            self.explainer.decide(
                STAGE, DecisionKind.L1_ORIGIN_ADVANCED, f"L1 origin advanced to {new.number}",
                {"origin": new.number, "timestamp": new.timestamp}, new.id(),
            )  # fmt: skip
            return StepResult(StepKind.ADVANCED_ORIGIN, new)
        except NotEnoughData:
            return StepResult(StepKind.NOT_ENOUGH_DATA, self.stages.traversal.origin)
        return StepResult(StepKind.ATTRIBUTES, self.stages.traversal.origin, attrs)

    def deposits_only_attributes(self, attrs: AttributesWithParent, why: str = "") -> AttributesWithParent:
        """Holocene steady block derivation (holocene/derivation.md "Engine Queue"): the engine
        rejected ``attrs``; replace them by the deposit-only attributes and drop the rest of the
        span batch and channel they came from."""
        self.stages.batches.flush_channel()
        dep = attrs.deposit_only()
        self.explainer.decide(
            STAGE, DecisionKind.DEPOSIT_ONLY_REPLACEMENT,
            f"payload at {attrs.attributes.timestamp} invalid{': ' + why if why else ''}; "
            f"replaced by {len(dep.attributes.transactions)} deposits",
            {"timestamp": attrs.attributes.timestamp,
             "txs": len(attrs.attributes.transactions), "deposits": len(dep.attributes.transactions)},
            attrs.derived_from.id(),
        )  # fmt: skip
        return dep

    def invalid_payload(self, attrs: AttributesWithParent, why: str = "") -> AttributesWithParent | None:
        """What to do with attributes the engine rejected: from Holocene (by the L1 block they
        were derived from, as op-node) the deposit-only replacement; before, ``None``: the batch
        is dropped and derivation continues with the same safe head."""
        if self.cfg.is_holocene(attrs.derived_from.timestamp):
            return self.deposits_only_attributes(attrs, why)
        self.explainer.drop(
            STAGE, DropReason.INVALID_PAYLOAD,
            f"payload at {attrs.attributes.timestamp} on {attrs.parent.number} rejected: {why}",
            {"timestamp": attrs.attributes.timestamp, "parent": attrs.parent.number},
            attrs.derived_from.id(),
        )  # fmt: skip
        return None


def derive_range(
    pipeline: DerivationPipeline,
    start_safe_head: L2BlockRef,
    executor: SafeHeadExecutor,
    *,
    until_l2_number: int | None = None,
    until_l1_number: int | None = None,
    max_resets: int = 8,
    reset: bool = True,
) -> Iterator[AttributesWithParent]:
    """Derive and execute blocks from ``start_safe_head`` on, yielding the attributes of every
    block that was executed (after deposit-only replacement, if any).

    Stops when the safe head reaches ``until_l2_number``, when the pipeline moves past L1 block
    ``until_l1_number``, or when L1 has no more blocks (:class:`EndOfSource`). A
    :class:`ResetError` resets the pipeline from the current safe head (at most ``max_resets``
    times); other errors propagate.
    """
    safe = start_safe_head
    if reset:
        pipeline.reset(safe)
    resets = 0
    while until_l2_number is None or safe.number < until_l2_number:
        try:
            res = pipeline.step(safe)
        except EndOfSource:
            return
        except ResetError:
            resets += 1
            if resets > max_resets:
                raise
            pipeline.reset(safe)
            continue
        if res.kind is StepKind.ADVANCED_ORIGIN:
            if until_l1_number is not None and res.origin.number > until_l1_number:
                return
            continue
        if res.kind is not StepKind.ATTRIBUTES or res.attributes is None:
            continue
        attrs = res.attributes
        try:
            safe = executor.execute(attrs)
        except InvalidPayload as e:
            dep = pipeline.invalid_payload(attrs, str(e))
            if dep is None:
                continue
            try:
                safe = executor.execute(dep)
            except InvalidPayload as e2:
                raise CriticalError(f"deposit-only payload at {attrs.attributes.timestamp} invalid: {e2}") from None
            attrs = dep
        yield attrs
