"""The sequencer: every block time, pick the L1 origin, build the payload attributes with the tx
pool on, and have the engine build and seal the block.

Spec: specs/protocol/derivation.md "Sequencing" / "Batch Queue" (the max sequencer drift: a
block whose timestamp is more than ``max_sequencer_drift`` past its L1 origin's must have no
user transactions; ``MAX_SEQUENCER_DRIFT`` is a constant 1800 s from Fjord,
fjord/derivation.md), exec-engine.md ("Extended PayloadAttributesV1": ``noTxPool``), and the
upgrade activation rules (ecotone/isthmus/jovian derivation: activation blocks carry only the
upgrade deposits; jovian/derivation.md "Activation Block Rules"). Go: op-node
``rollup/sequencing/origin_selector.go`` (``FindL1Origin``) and ``sequencer.go``
(``startBuildingBlock``, ``onForkchoiceUpdate``, error handling, ``Start``/``Stop``).

Origin selection (:func:`select_l1_origin`, op-node ``FindL1Origin``), for the block after
``l2_head`` at ``t = l2_head.timestamp + block_time``, with ``current`` = ``l2_head``'s L1 origin
and ``next`` = the L1 block after it, when it exists and is ``--sequencer.l1-confs`` deep:

1. ``next`` known and ``t >= next.timestamp``: adopt ``next``.
2. else, if ``t - current.timestamp <= max_sequencer_drift``: keep ``current``.
3. else (past the drift): ``next`` unknown -> cannot build yet (:class:`OriginNotReady`, retry;
   op-node's "failed to find next L1 origin"); ``next`` later than ``t`` -> keep ``current``
   (the block then has no tx-pool transactions, see below).

``noTxPool`` (:func:`no_tx_pool_reason`): true when ``t > origin.timestamp + drift`` (op-node
``startBuildingBlock``), and on the activation blocks of Ecotone, Fjord, Isthmus, Jovian, Karst
and Interop (newer op-node; Jovian's activation block must not carry user txs).

Timing (op-node ``onForkchoiceUpdate``): the block at ``t`` is started at wall time
``t - block_time`` and sealed at ``t - seal_margin``; when the chain is behind the wall clock,
blocks are started and sealed at once.

Operator controls (op-node v1.19.6 ``sequencer.go``, ``origin_selector.go``):

- recover mode (``--sequencer.recover``, ``admin_setRecoverMode``): every block is built without
  tx-pool transactions, and the next L1 origin is always looked up, so the sequencer's blocks
  match what derivation makes of the sequencing window once the batcher was down past it (empty
  batches) and the unsafe chain stops being reorged;
- ``--sequencer.max-safe-lag N``: no new block while the unsafe head is ``N`` or more blocks
  ahead of the safe head (``evalMaxSafeLag``); sequencing resumes once safe catches up. This
  bounds how deep an unsafe reorg can be when batches go missing.

Errors (op-node's handling): the L1 origin of the unsafe head not found is a temporary L1 error
(retry in 1 s: a load-balanced L1 RPC may briefly miss a block; a real reorg reaches the node
through derivation's reset), the next origin not building on the current one is a reset;
attributes the engine refuses (``-38003``, ``INVALID``) are critical, since a sequencer's
attributes carry only deposits (op-node ``onBuildInvalid``); a build that cannot be sealed
(``getPayload`` failed) or a rejected payload starts over after a block time
(``handleInvalid``); ``SYNCING`` backs off 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from pyop.config import RollupConfig
from pyop.config.forks import Fork
from pyop.derivation.attributes import AttributesBuilder
from pyop.engine.controller import EngineController, SealedBlock
from pyop.engine.errors import BuildInvalid, EngineSyncingError, PayloadRejected, SealExpiredError
from pyop.errors import CriticalError, ResetError, TemporaryError
from pyop.primitives import L1BlockRef, L1Header, L2BlockRef, PayloadAttributes, PyopError, to_hex
from pyop.sources.interfaces import BlockLabel, NotFound

NO_TX_POOL_FORKS = (Fork.ECOTONE, Fork.FJORD, Fork.ISTHMUS, Fork.JOVIAN, Fork.KARST, Fork.LAGOON)
DEFAULT_SEAL_MARGIN = 0.05  # op-node's default sealing duration, 50 ms


class SequencerError(PyopError):
    """Admin-API errors (op-node ``sequencing`` package)."""


class SequencerAlreadyRunning(SequencerError):
    def __init__(self) -> None:
        super().__init__("sequencer already running")


class SequencerNotRunning(SequencerError):
    def __init__(self) -> None:
        super().__init__("sequencer not running")


class SequencerStateListener(Protocol):
    """op-node ``SequencerStateListener`` (``--rpc.admin-state`` persistence); raises
    :class:`~pyop.primitives.PyopError` when the state cannot be recorded."""

    def sequencer_started(self) -> None: ...

    def sequencer_stopped(self) -> None: ...


class SequencerNotEnabled(SequencerError):
    def __init__(self) -> None:
        super().__init__("sequencer is not enabled")


class OriginNotReady(TemporaryError):
    """Past the max sequencer drift and the next L1 origin is not available yet."""


class OriginLookupError(TemporaryError):
    """The L1 origin of the unsafe head could not be read from L1 (op-node
    ``CurrentAndNextOrigin`` error -> ``L1TemporaryErrorEvent``)."""


@dataclass(frozen=True, slots=True)
class OriginChoice:
    """The L1 origin for the next block and why (``rule``: ``next``, ``current``,
    ``current_past_drift``)."""

    origin: L1BlockRef
    rule: str
    next_l2_time: int
    drift: int
    max_drift: int


def select_l1_origin(
    cfg: RollupConfig, l2_head: L2BlockRef, current: L1BlockRef, next_origin: L1BlockRef | None
) -> OriginChoice:
    """op-node ``L1OriginSelector.FindL1Origin`` (see the module docstring). ``next_origin``
    must be the child of ``current`` (or ``None`` when not yet known / not deep enough)."""
    t = l2_head.timestamp + cfg.block_time
    msd = cfg.max_sequencer_drift_at(current.timestamp)
    drift = t - current.timestamp
    if next_origin is not None and t >= next_origin.timestamp:
        return OriginChoice(next_origin, "next", t, t - next_origin.timestamp,
                            cfg.max_sequencer_drift_at(next_origin.timestamp))  # fmt: skip
    if drift <= msd:
        return OriginChoice(current, "current", t, drift, msd)
    if next_origin is None:
        raise OriginNotReady(
            f"cannot build the L2 block at {t} past L1 origin {current.number} (time "
            f"{current.timestamp}) by more than the max sequencer drift {msd}, and the next L1 "
            f"origin is not available yet"
        )
    return OriginChoice(current, "current_past_drift", t, drift, msd)


def no_tx_pool_reason(cfg: RollupConfig, timestamp: int, origin: L1BlockRef) -> str | None:
    """Why the block at ``timestamp`` with L1 origin ``origin`` must not take tx-pool
    transactions, or ``None`` (op-node ``startBuildingBlock``)."""
    msd = cfg.max_sequencer_drift_at(origin.timestamp)
    if timestamp > origin.timestamp + msd:
        return f"past the max sequencer drift ({timestamp} > {origin.timestamp} + {msd})"
    for fork in NO_TX_POOL_FORKS:
        if cfg.is_activation_block(fork, timestamp):
            return f"{fork.value} activation block"
    return None


class L1OriginReader(Protocol):
    """Async L1 reads for origin selection (:class:`pyop.sources.l1.AsyncL1Client`)."""

    async def header_by_number(self, n: int | BlockLabel) -> L1Header: ...

    async def header_by_hash(self, block_hash: bytes) -> L1Header: ...


ResetRequest = Callable[[str], Awaitable[None]]
SealedListener = Callable[[SealedBlock, L1BlockRef], Awaitable[None] | None]


class Sequencer:
    """Builds a block every block time on the engine's unsafe head (see the module docstring).

    ``engine_lock`` serializes engine access with the derivation loop; ``request_reset`` asks
    the driver for an engine + pipeline reset (op-node ``ResetEvent``); ``l1_head`` gives the
    L1 head for the ``l1_confs`` confirmation depth.
    """

    def __init__(
        self,
        cfg: RollupConfig,
        engine: EngineController,
        l1: L1OriginReader,
        attributes: AttributesBuilder,
        *,
        l1_confs: int = 4,
        l1_head: Callable[[], L1BlockRef | None] = lambda: None,
        engine_lock: asyncio.Lock | None = None,
        request_reset: ResetRequest | None = None,
        active: bool = True,
        recover_mode: bool = False,
        max_safe_lag: int = 0,
        seal_margin: float = DEFAULT_SEAL_MARGIN,
        clock: Callable[[], float] = time.time,
        log: logging.Logger | None = None,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.l1 = l1
        self.attributes = attributes
        self.l1_confs = l1_confs
        self.l1_head = l1_head
        self.lock = engine_lock or asyncio.Lock()
        self.request_reset = request_reset
        self.active = active
        self.seal_margin = seal_margin
        self.clock = clock
        self.log = log or logging.getLogger("pyop.engine.sequencer")
        self.recover_mode = recover_mode
        self.max_safe_lag = max_safe_lag
        #: told of every start and stop before it happens (``--rpc.admin-state``)
        self.state_listener: SequencerStateListener | None = None
        self.stalled_by_max_safe_lag = False
        self.sealed = 0
        self.errors: dict[str, int] = {}
        self._on_error: list[Callable[[str], None]] = []
        self._cycle = asyncio.Lock()
        self._wake = asyncio.Event()
        self._on_sealed: list[SealedListener] = []
        self._current: L1BlockRef | None = None
        self._next: L1BlockRef | None = None

    def on_sealed(self, cb: SealedListener) -> None:
        self._on_sealed.append(cb)

    def on_error(self, cb: Callable[[str], None]) -> None:
        """``cb(kind)`` for every sequencing error (metrics)."""
        self._on_error.append(cb)

    def set_recover_mode(self, mode: bool) -> None:
        """``admin_setRecoverMode`` (op-node ``SetRecoverMode``)."""
        if mode != self.recover_mode:
            self.log.warning("sequencer recover mode %s", "on" if mode else "off")
        self.recover_mode = mode

    def heads_changed(self) -> None:
        """The engine's heads moved: re-check the max safe lag (op-node runs ``evalMaxSafeLag``
        on every forkchoice update)."""
        if self.stalled_by_max_safe_lag:
            self._wake.set()

    def lag_exceeded(self) -> bool:
        """op-node ``evalMaxSafeLag``: ``safe + max_safe_lag <= unsafe`` stalls sequencing (WARN
        once); catching up resumes it (INFO once)."""
        lag = self.max_safe_lag
        safe, unsafe = self.engine.safe, self.engine.unsafe
        if lag > 0 and safe.number + lag <= unsafe.number:
            if not self.stalled_by_max_safe_lag:
                self.log.warning("sequencer has fallen behind safe head by more than lag, stalling: "
                                 "unsafe %d, safe %d, max_lag %d", unsafe.number, safe.number, lag)  # fmt: skip
                self.stalled_by_max_safe_lag = True
            return True
        if self.stalled_by_max_safe_lag:
            self.log.info("safe head caught up, resuming sequencing: unsafe %d, safe %d, max_lag %d",
                          unsafe.number, safe.number, lag)  # fmt: skip
            self.stalled_by_max_safe_lag = False
        return False

    # ------------------------------------------------------------------ admin

    def _notify(self, started: bool) -> None:
        """Tell the state listener before the state changes (op-node ``forceStart`` / ``Stop``:
        a listener error fails the call)."""
        if self.state_listener is None:
            return
        try:
            (self.state_listener.sequencer_started if started else self.state_listener.sequencer_stopped)()
        except PyopError as e:
            what = "start" if started else "stop"
            raise SequencerError(f"failed to notify sequencer-state listener of {what}: {e}") from None

    def init_state(self) -> None:
        """op-node ``Sequencer.Init``: report the initial state to the listener."""
        self._notify(self.active)

    async def start(self, head_hash: bytes) -> None:
        """``admin_startSequencer``: start on ``head_hash``, which must be the unsafe head."""
        if self.active:
            raise SequencerAlreadyRunning()
        head = self.engine.unsafe
        if head_hash != head.hash:
            raise SequencerError(f"block hash does not match: head {to_hex(head.hash)}, "
                                 f"received {to_hex(head_hash)}")  # fmt: skip
        self._notify(True)
        self.active = True
        self._wake.set()
        self.log.info("sequencer has been started on %d %s", head.number, to_hex(head.hash))

    async def stop(self) -> bytes:
        """``admin_stopSequencer``: stop after the block in flight; returns the unsafe head hash
        to restart from."""
        if not self.active:
            raise SequencerNotRunning()
        self._notify(False)
        self.active = False
        self._wake.set()
        async with self._cycle:  # wait for a cycle in flight (it abandons unsealed work)
            pass
        self.log.info("sequencer has been stopped at %d", self.engine.unsafe.number)
        return self.engine.unsafe.hash

    # ------------------------------------------------------------------ origin + attributes

    async def _ref_by_hash(self, h: bytes) -> L1BlockRef:
        if self._current is not None and self._current.hash == h:
            return self._current
        try:
            ref = (await self.l1.header_by_hash(h)).ref()
        except (NotFound, PyopError) as e:
            raise OriginLookupError(f"error finding next L1 origin: L1 origin {to_hex(h)} of the "
                                    f"unsafe head not found on L1: {e}") from None
        self._current = ref
        return ref

    async def find_l1_origin(self, l2_head: L2BlockRef) -> OriginChoice:
        """Current + next origin from L1 (with the confirmation depth), then
        :func:`select_l1_origin`. A next L1 block that does not build on the current origin
        means the origin was reorged out: :class:`ResetError`."""
        current = await self._ref_by_hash(l2_head.l1_origin.hash)
        n = current.number + 1
        head = self.l1_head()
        nxt: L1BlockRef | None = None
        if self._next is not None and self._next.number == n and self._next.parent_hash == current.hash:
            nxt = self._next  # op-node L1OriginSelector keeps the next origin once fetched
        elif head is None or n + self.l1_confs <= head.number:
            try:
                nxt = (await self.l1.header_by_number(n)).ref()
            except NotFound:
                nxt = None
            self._next = nxt
        if nxt is not None and nxt.parent_hash != current.hash:
            raise ResetError(
                f"L1 reorg: L1 block {n} ({to_hex(nxt.hash)}) does not build on the L1 origin "
                f"{current.number} ({to_hex(current.hash)}) of the unsafe head {l2_head.number}"
            )
        return select_l1_origin(self.cfg, l2_head, current, nxt)

    async def prepare(self, parent: L2BlockRef) -> tuple[PayloadAttributes, OriginChoice]:
        """The attributes of the block after ``parent`` (tx pool on unless
        :func:`no_tx_pool_reason`)."""
        choice = await self.find_l1_origin(parent)
        attrs = await asyncio.to_thread(
            self.attributes.prepare_payload_attributes, parent, choice.origin.id()
        )
        why = no_tx_pool_reason(self.cfg, attrs.timestamp, choice.origin)
        if self.recover_mode:
            why = "recover mode"
            self.log.warning("Sequencing temporarily without user transactions, in recover mode")
        attrs = replace(attrs, no_tx_pool=why is not None)
        if why is not None:
            self.log.info("block %d without tx-pool transactions: %s", parent.number + 1, why)
        return attrs, choice

    # ------------------------------------------------------------------ building

    async def _sleep_until(self, wall: float) -> bool:
        """Sleep until wall-clock ``wall``; False if woken early by start/stop."""
        delay = wall - self.clock()
        if delay <= 0:
            return True
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except TimeoutError:
            return True
        return False

    async def build_block(self) -> SealedBlock | None:
        """One cycle: wait for the start time of the next block, start building, wait for the
        seal time, seal. ``None`` if abandoned (stopped, or the head moved meanwhile)."""
        async with self._cycle:
            parent = self.engine.unsafe
            t = parent.timestamp + self.cfg.block_time
            if not await self._sleep_until(t - self.cfg.block_time) or not self.active:
                return None
            if self.engine.unsafe != parent:
                return None
            if self.lag_exceeded():
                return None
            attrs, choice = await self.prepare(parent)
            async with self.lock:
                if self.engine.unsafe != parent:
                    return None
                try:
                    job = await self.engine.start_building(parent, attrs)
                except BuildInvalid as e:
                    # op-node onBuildInvalid: the sequencer's attributes carry only deposits
                    raise CriticalError(f"failed to process block with only deposit transactions: {e}") from None
            await self._sleep_until(t - self.seal_margin)
            if not self.active:
                self.log.info("sequencer stopped: abandoning block %d", parent.number + 1)
                return None
            async with self.lock:
                if self.engine.unsafe != parent:
                    self.log.warning("unsafe head moved from %d while building; abandoning block %d",
                                     parent.number, parent.number + 1)  # fmt: skip
                    return None
                sealed = await self.engine.seal(job)
            self.sealed += 1
            self.log.info(
                "sequenced block %d %s: %d txs, L1 origin %d (%s), noTxPool=%s",
                sealed.ref.number, to_hex(sealed.ref.hash), len(sealed.payload.transactions),
                choice.origin.number, choice.rule, attrs.no_tx_pool,
            )  # fmt: skip
            for cb in self._on_sealed:
                r = cb(sealed, choice.origin)
                if r is not None:
                    await r
            return sealed

    def _count(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        for cb in self._on_error:
            cb(kind)

    async def run(self) -> None:
        """Sequence until cancelled. Temporary errors back off 1 s (30 s while the engine
        syncs), a rejected payload waits a block time, reset errors ask the driver for a reset,
        critical errors propagate (the node stops)."""
        while True:
            if not self.active:
                self._wake.clear()
                await self._wake.wait()
                continue
            if self.lag_exceeded():
                await self._pause(float(self.cfg.block_time))
                continue
            try:
                await self.build_block()
            except asyncio.CancelledError:
                raise
            except CriticalError:
                self._count("critical")
                raise
            except EngineSyncingError as e:
                self._count("temporary")
                self.log.warning("engine is syncing, backing off the sequencer: %s", e)
                await self._pause(30.0)
            except ResetError as e:
                self._count("reset")
                self.log.warning("sequencer needs a reset: %s", e)
                self._current = self._next = None
                if self.request_reset is not None:
                    await self.request_reset(f"sequencer: {e}")
                await self._pause(float(self.cfg.block_time))
            except (PayloadRejected, SealExpiredError) as e:
                # op-node handleInvalid: drop the build, start a new one after a block time
                self._count("invalid")
                self.log.error("sealed payload rejected, retrying after a block time: %s", e)
                await self._pause(float(self.cfg.block_time))
            except TemporaryError as e:
                self._count("temporary")
                self.log.warning("sequencer temporary error, retrying in 1s: %s", e)
                await self._pause(1.0)
            except PyopError as e:
                self._count("other")
                self.log.error("sequencer error, retrying in 1s: %s: %s", type(e).__name__, e)
                await self._pause(1.0)

    async def _pause(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)


__all__ = [
    "NO_TX_POOL_FORKS",
    "OriginChoice",
    "OriginLookupError",
    "OriginNotReady",
    "Sequencer",
    "SequencerAlreadyRunning",
    "SequencerError",
    "SequencerNotEnabled",
    "SequencerNotRunning",
    "no_tx_pool_reason",
    "select_l1_origin",
]

