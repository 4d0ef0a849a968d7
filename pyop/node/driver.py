"""The driver: runs derivation, sequencing, finality and resets against the engine controller
(op-node ``rollup/driver`` ``Driver`` + ``SyncDeriver``, ``rollup/finality`` ``Finalizer``,
``rollup/engine`` reset handling).

A service in the py-evm/trinity style: :meth:`Driver.run` starts the engine (find the heads, as
op-node does on start-up), then runs the L1 watcher, the derivation loop and (with
``--sequencer.enabled``) the sequencer under one ``asyncio.TaskGroup``; every loop ends on
cancellation. Engine access is serialized by one ``asyncio.Lock``.

Derivation loop (specs/protocol/derivation.md "Engine Queue", "Resetting the Pipeline"): the
synchronous pipeline steps in a worker thread on the pending-safe head; attributes go to
``EngineController.process_derived`` (consolidate with the unsafe block, or build). An engine
``INVALID`` for derived attributes goes to ``pipeline.invalid_payload`` (Holocene: deposit-only
replacement; before: the batch is dropped). ``EndOfSource``: idle until the L1 head moves;
``TemporaryError``: back off; ``ResetError`` (e.g. an L1 reorg at the pipeline's origin): reset
the engine heads (``EngineController.start``: op-node ``FindL2Heads`` walks the unsafe and safe
heads back while their L1 origins are no longer canonical) and then the pipeline from the new
safe head; ``CriticalError``: stop the node.

Finality (op-node ``Finalizer``; derivation.md "Finalization"): for every safe-head update the
driver records ``(L1 block derived from, L2 safe head)``; when L1 finalizes block ``F`` the
newest L2 block recorded with an L1 block ``<= F`` becomes finalized, after checking that the
L1 block is still canonical (else reset). On an alt-DA chain ``F`` is what the DA manager makes
of the L1 finalized block (op-node ``AltDAFinalizer``, :mod:`pyop.node.altda_finality`).

Safe head database (op-node ``SyncDeriver``): every safe head is recorded with the L1 block it
was derived from; a write that fails resets derivation (``onSafeDerivedBlock``: the safe head
rolls back and the entry is written again) instead of stopping the node; a reset that reaches
the L2 genesis records the genesis as safe at L1 block 0 (``onEngineConfirmedReset``: genesis is
safe by definition, and a dispute game may start from an L1 head before the rollup's L1 genesis).

Unsafe payloads (``admin_postUnsafePayload``) are inserted by a third loop whenever they apply on
the unsafe head (:meth:`pyop.engine.controller.EngineController.process_unsafe_payloads`), with
op-node's gap check every two L2 block times.

A critical error (an engine answer or chain state the node cannot recover from) ends
:meth:`Driver.run`; :mod:`pyop.node.service` logs it as one ``Critical error`` line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from pyop.config import RollupConfig
from pyop.derivation.driver import DerivationPipeline, InvalidPayload
from pyop.derivation.drops import Decision, DecisionKind, Drop
from pyop.derivation.types import AttributesWithParent, StepKind
from pyop.engine.controller import EngineController
from pyop.engine.errors import EngineSyncingError
from pyop.engine.sequencer import Sequencer, SequencerNotEnabled
from pyop.engine.start import FindHeadsRefused
from pyop.errors import CriticalError, EndOfSource, ResetError, TemporaryError
from pyop.node.altda_finality import AltDAFinality
from pyop.node.l1_watcher import L1HeaderReader, L1Watcher
from pyop.node.logs import kv
from pyop.node.metrics import NodeMetrics
from pyop.node.safedb import DisabledSafeDB, SafeDB, SafeDBError
from pyop.primitives import (
    ZERO_HASH,
    BlockID,
    ExecutionPayload,
    L1BlockRef,
    L2BlockRef,
    PyopError,
    to_hex,
)
from pyop.sources.interfaces import NotFound

log = logging.getLogger("pyop.node.driver")

ZERO_L1 = L1BlockRef(ZERO_HASH, 0, ZERO_HASH, 0)
ZERO_L2 = L2BlockRef(ZERO_HASH, 0, ZERO_HASH, 0, BlockID(ZERO_HASH, 0), 0)
FINALITY_KEEP = 1024

_INFO_DECISIONS = {
    DecisionKind.RESET, DecisionKind.REORG, DecisionKind.STAGE_SWAP,
    DecisionKind.DEPOSIT_ONLY_REPLACEMENT, DecisionKind.EMPTY_BATCH_GENERATED,
    DecisionKind.SYSTEM_CONFIG_UPDATED, DecisionKind.SEQUENCER_DRIFT_ALLOWANCE,
}  # fmt: skip


class DriverObserver:
    """The pipeline's observer: one structured log line per drop (stage, reason, spec section,
    numbers) and per notable decision; drop counts in the metrics. Called from the worker
    thread."""

    def __init__(self, metrics: NodeMetrics | None = None) -> None:
        self.metrics = metrics
        self.drops = 0

    def on_drop(self, drop: Drop) -> None:
        self.drops += 1
        if self.metrics is not None:
            self.metrics.drops.inc(drop.reason.name)
            if drop.reason.name == "CHANNEL_TIMED_OUT":
                self.metrics.channel_timeout.record()
        log.warning("derivation dropped data", extra=kv(
            stage=drop.stage or "derivation", reason=drop.reason.name, spec=drop.spec,
            l1_block="" if drop.l1_origin is None else drop.l1_origin.number,
            detail=drop.explain()))  # fmt: skip

    def on_decision(self, decision: Decision) -> None:
        m = self.metrics
        if m is not None:  # op-node RecordDerivedBatches / RecordHeadChannelOpened / RecordFrame / ...
            if decision.kind is DecisionKind.BATCH_ACCEPTED:
                m.derived_batches.record("singular")
            elif decision.kind is DecisionKind.SPAN_BATCH_ACCEPTED:
                m.derived_batches.record("span")
            elif decision.kind is DecisionKind.CHANNEL_READ:
                m.head_channel.record()
                for _ in range(int(decision.numbers.get("frames", 0))):
                    m.frame_added.record()
            elif decision.kind is DecisionKind.CHANNEL_OPENED:  # op-node RecordChannelInputBytes
                m.record_channel_input_bytes(int(decision.numbers.get("compressed_bytes", 0)))
        level = logging.INFO if decision.kind in _INFO_DECISIONS else logging.DEBUG
        if decision.kind is DecisionKind.REORG:
            level = logging.WARNING
        log.log(level, f"derivation {decision.kind.value[0]}", extra=kv(
            stage=decision.stage or "derivation", reason=decision.detail,
            spec=decision.kind.spec, **{k: v for k, v in decision.numbers.items()}))  # fmt: skip


class Driver:
    """See the module docstring."""

    def __init__(
        self,
        cfg: RollupConfig,
        engine: EngineController,
        pipeline: DerivationPipeline,
        watcher: L1Watcher,
        l1: L1HeaderReader,
        *,
        safedb: SafeDB | DisabledSafeDB | None = None,
        metrics: NodeMetrics | None = None,
        engine_lock: asyncio.Lock | None = None,
        idle_wait: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        altda_finality: AltDAFinality | None = None,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.pipeline = pipeline
        self.watcher = watcher
        self.l1 = l1
        self.safedb: SafeDB | DisabledSafeDB = safedb or DisabledSafeDB()
        self.metrics = metrics
        self.lock = engine_lock or asyncio.Lock()
        self.idle_wait = idle_wait
        self.clock = clock
        self.sequencer: Sequencer | None = None
        self.current_l1: L1BlockRef | None = None
        self.altda_finality = altda_finality
        keep = FINALITY_KEEP
        if cfg.alt_da is not None:  # op-node calcFinalityLookback: challenge + resolve window + 1
            keep = max(keep, cfg.alt_da.da_challenge_window + cfg.alt_da.da_resolve_window + 1)
        self.finality: deque[tuple[L1BlockRef, L2BlockRef]] = deque(maxlen=keep)
        self.resets = 0
        self.started = asyncio.Event()
        self._reset_reason: str | None = None
        self._reset_stage = ""
        self._reset_done = asyncio.Event()
        self._wake = asyncio.Event()
        self._pipeline_needs_reset = True
        self._finality_epoch = 0  # bumped when a reset starts: finality records from before are stale
        self._unsafe_wake = asyncio.Event()
        self.idle = False
        engine.on_safe_head(self._on_safe_head)
        engine.on_heads(lambda _e: self._on_heads())
        watcher.on_finalized(self._on_l1_finalized)

    # ------------------------------------------------------------------ service

    async def run(self) -> None:
        """Start the engine, then run the loops until cancelled (or a critical error)."""
        await self._start_engine()
        self.started.set()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.watcher.run(), name="l1-watcher")
            tg.create_task(self._derivation_loop(), name="derivation")
            tg.create_task(self._unsafe_payloads_loop(), name="unsafe-payloads")
            if self.sequencer is not None:
                tg.create_task(self.sequencer.run(), name="sequencer")

    async def _start_engine(self) -> None:
        """Find the heads and send them to the engine; retried with a back-off on every error
        but a critical one (op-node retries a failed ``FindL2Heads`` through another reset: the
        wrong chain, a reorged finalized block or a too deep reorg are logged at ERROR, the node
        keeps trying)."""
        delay = 0.5
        while True:
            try:
                async with self.lock:
                    heads = await self.engine.start()
                log.info("engine heads found", extra=kv(
                    stage="engine", unsafe=heads.unsafe.number, safe=heads.safe.number,
                    finalized=heads.finalized.number))  # fmt: skip
                self._record_l2()
                return
            except CriticalError:
                raise
            except (TemporaryError, ResetError, PyopError) as e:
                lvl = logging.ERROR if isinstance(e, FindHeadsRefused) else logging.WARNING
                log.log(lvl, "engine start-up failed, retrying", extra=kv(
                    stage="engine", reason=f"{type(e).__name__}: {e}", retry_in=delay))  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    # ------------------------------------------------------------------ resets

    def schedule_reset(self, stage: str, reason: str) -> None:
        """Ask the derivation loop to reset the engine heads and the pipeline."""
        if self._reset_reason is None:
            self._reset_reason = reason
            self._reset_stage = stage
            self._reset_done.clear()
        self._wake.set()

    async def request_reset(self, reason: str, *, stage: str = "sequencer", timeout: float = 60.0) -> None:
        """Schedule a reset and wait until it has happened (``admin_resetDerivationPipeline``,
        the sequencer)."""
        self.schedule_reset(stage, reason)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reset_done.wait(), timeout)

    async def _do_reset(self) -> None:
        reason, stage = self._reset_reason or "start", self._reset_stage or "driver"
        self._finality_epoch += 1
        self.finality.clear()
        async with self.lock:
            heads = await self.engine.start()
        await asyncio.to_thread(self.pipeline.reset, self.engine.pending_safe)
        self.current_l1 = self.pipeline.origin
        await self._safedb_reset()
        self.finality.clear()
        self.resets += 1
        if self.metrics is not None:
            self.metrics.record_pipeline_reset(stage)
        log.warning("reset engine and derivation pipeline", extra=kv(
            stage=stage, reason=reason, unsafe=heads.unsafe.number, safe=heads.safe.number,
            finalized=heads.finalized.number, l1_origin=self.current_l1.number))  # fmt: skip
        self._reset_reason = None
        self._pipeline_needs_reset = False
        self._record_l2()
        self._reset_done.set()

    async def _safedb_reset(self) -> None:
        """op-node ``onEngineConfirmedReset``: tell the safe db where the safe head is now; at
        the L2 genesis, record it as safe from L1 block 0. A failure leaves the reset
        unconfirmed: :class:`ResetError` (it is retried)."""
        safe = self.engine.safe
        try:
            await asyncio.to_thread(self.safedb.safe_head_reset, safe)
            if self.safedb.enabled and self.engine.local_safe.hash == self.cfg.genesis.l2.hash:
                l1_genesis = (await self.l1.header_by_number(0)).ref()
                await asyncio.to_thread(self.safedb.safe_head_updated, self.engine.local_safe, l1_genesis.id())
        except (SafeDBError, NotFound) as e:
            raise ResetError(f"safe head db reset failed: {e}") from None

    # ------------------------------------------------------------------ derivation

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _recheck_engine(self) -> None:
        """Derivation keeps failing: send the engine our forkchoice again. op-node sends one on
        every head change, so an engine that restarted without our blocks answers ``SYNCING`` and
        the node resets; pyop's derivation loop, stuck on a missing L2 block, asks explicitly."""
        async with self.lock:
            await self.engine.forkchoice_sync("derivation stalled: re-check the engine")

    async def _derivation_loop(self) -> None:
        pending: AttributesWithParent | None = None
        backoff = 0.25
        failures = 0
        while True:
            try:
                if self._reset_reason is not None:
                    pending = None
                    await self._do_reset()
                    continue
                if self.engine.backup_unsafe is not None:
                    async with self.lock:
                        await self.engine.try_backup_unsafe_reorg()
                if self._pipeline_needs_reset:
                    await asyncio.to_thread(self.pipeline.reset, self.engine.pending_safe)
                    self.current_l1 = self.pipeline.origin
                    self._pipeline_needs_reset = False
                    log.info("derivation pipeline started", extra=kv(
                        stage="pipeline", safe=self.engine.pending_safe.number,
                        l1_origin=self.current_l1.number))  # fmt: skip
                if pending is None:
                    pending = await self._step()
                    if pending is None:
                        continue
                pending = await self._process(pending)
                backoff = 0.25
                failures = 0
            except asyncio.CancelledError:
                raise
            except CriticalError:
                raise  # the service logs it once ("Critical error") and stops the node
            except ResetError as e:
                pending = None
                retry = self._reset_reason is not None  # the reset itself failed: back off
                self.schedule_reset("derivation", f"{type(e).__name__}: {e}")
                if retry:
                    log.warning("reset failed, retrying", extra=kv(
                        stage="driver", reason=f"{type(e).__name__}: {e}", retry_in=backoff))  # fmt: skip
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
            except (TemporaryError, NotFound, PyopError) as e:
                if self.metrics is not None:
                    self.metrics.derivation_errors.record()
                lvl = logging.INFO if isinstance(e, EngineSyncingError) else logging.WARNING
                log.log(lvl, "Derivation process temporary error", extra=kv(
                    stage="derivation", reason=f"{type(e).__name__}: {e}", retry_in=backoff))  # fmt: skip
                await self._sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                failures += 1
                if failures >= 3 and self.engine.started:
                    try:
                        await self._recheck_engine()
                    except ResetError as re_:
                        self.schedule_reset("derivation", f"{type(re_).__name__}: {re_}")
                    except PyopError:
                        pass  # still unreachable: keep backing off

    async def _step(self) -> AttributesWithParent | None:
        try:
            res = await asyncio.to_thread(self.pipeline.step, self.engine.pending_safe)
        except EndOfSource:
            self._set_idle(True)
            self._record_l1()
            await self.try_finalize()
            await self.watcher.wait_changed(self.idle_wait)
            return None
        self._set_idle(False)
        self.current_l1 = res.origin
        if res.kind is StepKind.ADVANCED_ORIGIN:
            self._record_l1()
            await self.try_finalize()
            return None
        if res.kind is StepKind.ATTRIBUTES:
            return res.attributes
        return None

    async def _process(self, attrs: AttributesWithParent) -> AttributesWithParent | None:
        """Apply derived attributes; returns attributes still to apply (a deposit-only
        replacement) or ``None``. Temporary errors propagate with the attributes kept by the
        caller (the loop retries the same attributes)."""
        if attrs.parent.hash != self.engine.pending_safe.hash:
            log.info("dropping derived attributes built on a stale pending safe head", extra=kv(
                stage="derivation", parent=attrs.parent.number,
                pending_safe=self.engine.pending_safe.number))  # fmt: skip
            return None
        try:
            async with self.lock:
                await self.engine.process_derived(attrs)
        except InvalidPayload as e:
            if attrs.deposits_only:
                raise CriticalError(f"deposit-only payload at {attrs.attributes.timestamp} invalid: {e}") from None
            log.warning("engine rejected derived payload", extra=kv(
                stage="engine", reason=str(e), timestamp=attrs.attributes.timestamp,
                parent=attrs.parent.number))  # fmt: skip
            return await asyncio.to_thread(self.pipeline.invalid_payload, attrs, str(e))
        self._record_l2()
        return None

    # ------------------------------------------------------------------ unsafe payloads

    def add_unsafe_payload(self, payload: ExecutionPayload, parent_beacon_root: bytes | None) -> None:
        """``admin_postUnsafePayload`` (op-node ``OnUnsafeL2Payload``, CL sync): queue it and wake
        the unsafe-payload loop."""
        self.engine.add_unsafe_payload(payload, parent_beacon_root)
        if self.metrics is not None:
            self.metrics.unsafe_payloads.record()
        self._record_unsafe_queue()
        self._unsafe_wake.set()

    async def _unsafe_payloads_loop(self) -> None:
        """Insert queued unsafe payloads when they apply (after every head change and every new
        payload); every two L2 block times, op-node's gap check."""
        gap_every = 2.0 * self.cfg.block_time
        last_gap = self.clock()
        while True:
            self._unsafe_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._unsafe_wake.wait(), gap_every)
            if not len(self.engine.unsafe_payloads) or not self.engine.started:
                continue
            try:
                async with self.lock:
                    await self.engine.process_unsafe_payloads()
                    if self.clock() - last_gap >= gap_every:
                        last_gap = self.clock()
                        await self.engine.fill_unsafe_gap()
            except asyncio.CancelledError:
                raise
            except CriticalError:
                raise
            except ResetError as e:
                self.schedule_reset("unsafe_payloads", f"{type(e).__name__}: {e}")
            except PyopError as e:
                log.info("failed to insert payload", extra=kv(stage="unsafe_payloads", err=f"{type(e).__name__}: {e}"))
            self._record_unsafe_queue()

    def _on_heads(self) -> None:
        self._record_l2()
        self._unsafe_wake.set()
        if self.sequencer is not None:
            self.sequencer.heads_changed()

    def _record_unsafe_queue(self) -> None:
        if self.metrics is not None:
            q = self.engine.unsafe_payloads
            self.metrics.record_unsafe_payloads(len(q), q.mem_size)

    def _set_idle(self, idle: bool) -> None:
        if idle != self.idle:
            self.idle = idle
            if self.metrics is not None:
                self.metrics.derivation_idle.set(1 if idle else 0)

    # ------------------------------------------------------------------ safe head + finality

    async def _on_safe_head(self, safe: L2BlockRef, derived_from: L1BlockRef) -> None:
        if self.finality and self.finality[-1][0].number >= derived_from.number:
            self.finality[-1] = (derived_from, safe)
        else:
            self.finality.append((derived_from, safe))
        try:
            await asyncio.to_thread(self.safedb.safe_head_updated, safe, derived_from.id())
        except SafeDBError as e:
            # op-node onSafeDerivedBlock: reset, so the safe head rolls back and the entry is
            # written again (the engine already has the block as safe)
            log.error("safe head db write failed, resetting", extra=kv(stage="safedb", err=str(e),
                                                                      safe=safe.number, l1=derived_from.number))  # fmt: skip
            raise ResetError(f"safe head notifications failed: {e}") from None

    async def _on_l1_finalized(self, ref: L1BlockRef) -> None:
        await self.try_finalize()

    async def try_finalize(self) -> None:
        """Finalize the newest safe head derived from finalized L1 data (op-node
        ``Finalizer.tryFinalize``). On an alt-DA chain "finalized L1" is the DA manager's
        answer to the L1 finalized block (:mod:`pyop.node.altda_finality`)."""
        fin_l1 = self.watcher.finalized
        if self.altda_finality is not None and fin_l1 is not None:
            fin_l1 = self.altda_finality.on_l1_finalized(fin_l1)
        if fin_l1 is None or not self.finality:
            return
        cand: tuple[L1BlockRef, L2BlockRef] | None = None
        for l1, l2 in self.finality:
            if l1.number <= fin_l1.number:
                cand = (l1, l2)
        if cand is None or cand[1].number <= self.engine.finalized.number:
            return
        l1, l2 = cand
        epoch = self._finality_epoch
        try:
            canonical = await self.l1.header_by_number(l1.number)
        except (NotFound, PyopError) as e:
            log.debug("finality check postponed", extra=kv(stage="finalizer", reason=str(e)))
            return
        if canonical.hash != l1.hash:
            self.schedule_reset("finalizer", f"L1 block {l1.number} derived from ({to_hex(l1.hash)}) is not "
                                f"the finalized canonical block ({to_hex(canonical.hash)})")  # fmt: skip
            return
        try:
            async with self.lock:
                if epoch != self._finality_epoch:  # a reset started meanwhile: the record is stale
                    return
                done = await self.engine.finalize(l2)
        except ResetError as e:  # e.g. SYNCING: the engine lost our blocks (op-node: a reset)
            self.schedule_reset("finalizer", f"{type(e).__name__}: {e}")
            return
        except (TemporaryError, PyopError) as e:
            log.warning("finalizing failed, will retry", extra=kv(stage="finalizer", reason=f"{type(e).__name__}: {e}"))
            return
        if done is False:  # the engine refused (above its safe head after a reset, ...)
            return
        while self.finality and self.finality[0][0].number < l1.number:
            self.finality.popleft()
        log.info("finalized L2 block", extra=kv(stage="finalizer", l2=l2.number, l2_hash=to_hex(l2.hash),
                                                derived_from=l1.number, l1_finalized=fin_l1.number))  # fmt: skip
        self._record_l2()

    # ------------------------------------------------------------------ status

    def _record_l1(self) -> None:
        if self.metrics is None:
            return
        if self.current_l1 is not None:
            self.metrics.record_l1_ref("l1_derived", self.current_l1)
            if self.watcher.head is not None:
                self.metrics.derivation_lag.set(max(0, self.watcher.head.number - self.current_l1.number))

    def _record_l2(self) -> None:
        if self.metrics is None:
            return
        e = self.engine
        for kind, ref in (("l2_unsafe", e.unsafe), ("l2_safe", e.safe), ("l2_finalized", e.finalized),
                          ("l2_pending_safe", e.pending_safe), ("l2_local_safe", e.local_safe),
                          ("l2_backup_unsafe", e.backup_unsafe or ZERO_L2)):  # fmt: skip
            self.metrics.record_l2_ref(kind, ref)

    def sync_status(self) -> dict[str, object]:
        """op-node ``eth.SyncStatus`` JSON (op-service/eth/sync_status.go field order; zero refs
        for what is not known yet)."""
        w = self.watcher
        e = self.engine
        fin_l1 = (w.finalized or ZERO_L1).to_json()
        self._record_l2()
        self._record_l1()
        return {
            "current_l1": (self.current_l1 or ZERO_L1).to_json(),
            "current_l1_finalized": fin_l1,
            "head_l1": (w.head or ZERO_L1).to_json(),
            "safe_l1": (w.safe or ZERO_L1).to_json(),
            "finalized_l1": fin_l1,
            "unsafe_l2": e.unsafe.to_json(),
            "safe_l2": e.safe.to_json(),
            "finalized_l2": e.finalized.to_json(),
            "pending_safe_l2": e.pending_safe.to_json(),
            "cross_unsafe_l2": e.cross_unsafe.to_json(),
            "local_safe_l2": e.local_safe.to_json(),
        }

    # ------------------------------------------------------------------ admin

    async def start_sequencer(self, head_hash: bytes) -> None:
        if self.sequencer is None:
            raise SequencerNotEnabled()
        await self.sequencer.start(head_hash)
        if self.metrics is not None:
            self.metrics.sequencer_active.set(1)

    async def stop_sequencer(self) -> bytes:
        if self.sequencer is None:
            raise SequencerNotEnabled()
        h = await self.sequencer.stop()
        if self.metrics is not None:
            self.metrics.sequencer_active.set(0)
        return h

    def sequencer_active(self) -> bool:
        return self.sequencer is not None and self.sequencer.active

    def set_recover_mode(self, mode: bool) -> None:
        """``admin_setRecoverMode``; without a sequencer a no-op (op-node ``DisabledSequencer``)."""
        if self.sequencer is not None:
            self.sequencer.set_recover_mode(mode)
