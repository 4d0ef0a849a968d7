"""The engine controller: the L2 heads and every change to them (op-node ``engine.EngineController``
+ ``EngDeriver`` build/seal/process events + ``AttributesHandler``, op-node/rollup/engine/ and
op-node/rollup/attributes/; kona crates/node/engine tasks insert/build/seal/consolidate/finalize).

Spec: specs/protocol/derivation.md "Engine Queue": "Forkchoice synchronization",
"L1-consolidation: payload attributes matching", "L1-sync: payload attributes processing",
"Processing unsafe payload attributes"; exec-engine.md "Engine API".

Heads (op-node names): ``unsafe`` (the engine's head), ``cross_unsafe`` (= unsafe without
interop), ``pending_safe`` (derived, pre-Holocene maybe in the middle of a span batch),
``local_safe`` and ``safe`` (derived from a *concluding* batch, see
:attr:`~pyop.derivation.types.AttributesWithParent.concluding`; equal without interop),
``finalized``. The engine's
forkchoice is ``(unsafe, safe, finalized)``.

Block building is forkchoiceUpdated(parent, attributes) -> payload id -> getPayload ->
newPayload -> forkchoiceUpdated(new head). :meth:`EngineController.start_building` and
:meth:`EngineController.seal` are the two halves the sequencer calls a block time apart;
:meth:`EngineController.build_payload` does both at once (derivation).

Errors: :mod:`pyop.engine.errors`; derived attributes the engine refuses raise
:class:`pyop.derivation.driver.InvalidPayload` (drop the batch / Holocene deposit-only).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from pyop.config import RollupConfig
from pyop.derivation.driver import InvalidPayload
from pyop.derivation.types import AttributesWithParent
from pyop.engine.client import (
    EngineClient,
    ExecutionPayloadEnvelope,
    ForkchoiceState,
    ForkchoiceUpdatedResult,
    PayloadStatus,
    PayloadStatusKind,
)
from pyop.engine.consolidate import ConsolidationMismatch, attributes_match_block
from pyop.engine.errors import (
    EngineCriticalError,
    EngineError,
    EngineResetError,
    EngineSyncingError,
    EngineTemporaryError,
    InvalidPayloadAttributesError,
    PayloadRejected,
)
from pyop.engine.l2_reader import EngineL2Reader, L2Reader
from pyop.engine.start import FindHeadsResult, L1HeaderReader, find_l2_heads
from pyop.engine.versions import (
    forkchoice_updated_version,
    get_payload_version,
    new_payload_version,
)
from pyop.primitives import (
    ExecutionPayload,
    Hash32,
    L1BlockRef,
    L2BlockRef,
    PayloadAttributes,
    PyopError,
    to_hex,
)
from pyop.sources.interfaces import NotFound
from pyop.sources.l2 import l2_block_ref_from_payload

DEPOSIT_TX_TYPE = 0x7E

SafeHeadListener = Callable[[L2BlockRef, L1BlockRef], Awaitable[None] | None]
"""Called with ``(new safe head, L1 block it was derived from)`` each time the safe head moves
by derivation (the node records safe-head-at-L1 on disk)."""


class InvalidPayloadContents(PyopError):
    """A payload that breaks OP block rules before it reaches the engine (op-node
    ``sanityCheckPayload``: first tx must be a deposit, deposits first)."""


def sanity_check_payload(p: ExecutionPayload) -> None:
    """op-node ``sanityCheckPayload``: at least one tx, the first a deposit (the L1-info
    deposit), all deposits before all other txs."""
    if not p.transactions:
        raise InvalidPayloadContents(f"payload {p.block_number} has no transactions")
    if p.transactions[0][:1] != bytes([DEPOSIT_TX_TYPE]):
        raise InvalidPayloadContents(f"payload {p.block_number}: first transaction is not a deposit")
    seen_other = False
    for i, tx in enumerate(p.transactions):
        if not tx:
            raise InvalidPayloadContents(f"payload {p.block_number}: transaction {i} is empty")
        if tx[0] == DEPOSIT_TX_TYPE:
            if seen_other:
                raise InvalidPayloadContents(f"payload {p.block_number}: deposit {i} after a non-deposit")
        else:
            seen_other = True


@dataclass(frozen=True, slots=True)
class BuildJob:
    """A block being built by the engine (op-node ``eth.PayloadInfo`` + the build context)."""

    payload_id: bytes
    parent: L2BlockRef
    attributes: PayloadAttributes
    started: float


@dataclass(frozen=True, slots=True)
class SealedBlock:
    """A block built, inserted and made the head: its payload, ref and envelope."""

    payload: ExecutionPayload
    ref: L2BlockRef
    envelope: ExecutionPayloadEnvelope


class EngineController:
    """See the module docstring. Create, then ``await start()``."""

    def __init__(
        self,
        cfg: RollupConfig,
        client: EngineClient,
        *,
        l2: L2Reader | None = None,
        l1: L1HeaderReader | None = None,
        log: logging.Logger | None = None,
        max_mismatches: int = 100,
    ) -> None:
        self.cfg = cfg
        self.client = client
        self.l2: L2Reader = l2 if l2 is not None else EngineL2Reader(client, cfg)
        self.l1 = l1
        self.log = log or logging.getLogger("pyop.engine")
        g = self._genesis_ref()
        self.unsafe: L2BlockRef = g
        self.cross_unsafe: L2BlockRef = g
        self.pending_safe: L2BlockRef = g
        self.local_safe: L2BlockRef = g
        self.safe: L2BlockRef = g
        self.finalized: L2BlockRef = g
        self.started = False
        self.mismatches: deque[ConsolidationMismatch] = deque(maxlen=max_mismatches)
        self.consolidated = 0  # blocks promoted to safe without re-execution
        self.reorgs = 0  # unsafe blocks replaced by derived ones
        self._safe_listeners: list[SafeHeadListener] = []
        self._mismatch_listeners: list[Callable[[ConsolidationMismatch], None]] = []

    def _genesis_ref(self) -> L2BlockRef:
        g = self.cfg.genesis
        return L2BlockRef(g.l2.hash, g.l2.number, b"\x00" * 32, g.l2_time, g.l1, 0)

    # ------------------------------------------------------------------ listeners

    def on_safe_head(self, listener: SafeHeadListener) -> None:
        """Register ``listener(safe_head, derived_from)`` (sync or async)."""
        self._safe_listeners.append(listener)

    def on_mismatch(self, listener: Callable[[ConsolidationMismatch], None]) -> None:
        """Register ``listener(mismatch)`` for consolidation mismatches (metrics)."""
        self._mismatch_listeners.append(listener)

    async def _emit_safe(self, ref: L2BlockRef, derived_from: L1BlockRef) -> None:
        for cb in self._safe_listeners:
            r = cb(ref, derived_from)
            if inspect.isawaitable(r):
                await r

    # ------------------------------------------------------------------ state

    def forkchoice(self) -> ForkchoiceState:
        return ForkchoiceState(self.unsafe.hash, self.safe.hash, self.finalized.hash)

    def heads_json(self) -> dict[str, object]:
        """The heads under op-node's ``optimism_syncStatus`` names."""
        return {
            "unsafe_l2": self.unsafe.to_json(),
            "cross_unsafe_l2": self.cross_unsafe.to_json(),
            "pending_safe_l2": self.pending_safe.to_json(),
            "local_safe_l2": self.local_safe.to_json(),
            "safe_l2": self.safe.to_json(),
            "finalized_l2": self.finalized.to_json(),
        }

    def _set_unsafe(self, ref: L2BlockRef) -> None:
        self.unsafe = ref
        self.cross_unsafe = ref  # no interop: cross-unsafe follows unsafe

    def _set_safe(self, ref: L2BlockRef) -> None:
        self.local_safe = ref
        self.safe = ref  # no interop: cross-safe follows local-safe

    def _log_heads(self, reason: str) -> None:
        self.log.info(
            "sync progress: %s: unsafe %d %s, safe %d, pending_safe %d, finalized %d",
            reason, self.unsafe.number, to_hex(self.unsafe.hash)[:12], self.safe.number,
            self.pending_safe.number, self.finalized.number,
        )  # fmt: skip

    # ------------------------------------------------------------------ forkchoice

    async def _fcu(
        self, state: ForkchoiceState, attrs: PayloadAttributes | None = None
    ) -> ForkchoiceUpdatedResult:
        v = forkchoice_updated_version(self.cfg, attrs)
        return await self.client.forkchoice_updated(state, attrs, v)

    async def forkchoice_sync(self, reason: str = "forkchoice sync") -> None:
        """Send the current ``(unsafe, safe, finalized)`` to the engine (op-node
        ``TryUpdateEngine``). ``SYNCING``: :class:`EngineSyncingError`; ``INVALID``:
        :class:`EngineResetError`."""
        if self.unsafe.number < self.finalized.number:
            raise EngineCriticalError(
                f"invalid forkchoice state: unsafe head {self.unsafe.number} is behind finalized "
                f"head {self.finalized.number}"
            )
        res = await self._fcu(self.forkchoice())
        st = res.payload_status
        if st.status is PayloadStatusKind.SYNCING:
            raise EngineSyncingError(f"forkchoiceUpdated: engine is syncing ({reason})")
        if st.status is not PayloadStatusKind.VALID:
            raise EngineResetError(f"forkchoiceUpdated ({reason}): {st.describe()}")
        self._log_heads(reason)

    # ------------------------------------------------------------------ start / reset

    async def start(self) -> FindHeadsResult:
        """Find the heads to resume from (:func:`pyop.engine.start.find_l2_heads`) and send
        them to the engine."""
        heads = await find_l2_heads(self.cfg, self.l2, self.l1, log=self.log)
        await self.reset_to(heads.safe, heads.unsafe, heads.finalized)
        self.started = True
        return heads

    async def reset_to(
        self, safe: L2BlockRef, unsafe: L2BlockRef | None = None, finalized: L2BlockRef | None = None
    ) -> None:
        """Force the heads (op-node ``ForceEngineResetEvent``): pending-safe, local-safe and safe
        to ``safe``, unsafe to ``unsafe`` (default ``safe``), finalized to ``finalized`` (default:
        kept, lowered to ``safe`` if above it); then a forkchoice update."""
        unsafe = unsafe or safe
        fin = finalized or self.finalized
        if fin.number > safe.number:
            fin = safe
        if unsafe.number < safe.number:
            raise EngineCriticalError(f"reset: unsafe {unsafe.number} behind safe {safe.number}")
        self._set_unsafe(unsafe)
        self.pending_safe = safe
        self._set_safe(safe)
        self.finalized = fin
        await self.forkchoice_sync("reset")

    # ------------------------------------------------------------------ unsafe payloads

    async def insert_unsafe_payload(
        self, payload: ExecutionPayload, parent_beacon_root: Hash32 | None = None
    ) -> L2BlockRef:
        """Insert a block from p2p / the sequencer and make it the head (op-node
        ``InsertUnsafePayload``): newPayload, then forkchoiceUpdated(head = it). ``INVALID``:
        :class:`PayloadRejected`; other non-``VALID`` statuses: :class:`EngineTemporaryError`."""
        try:
            ref = l2_block_ref_from_payload(self.cfg, payload)
        except PyopError as e:
            raise PayloadRejected(f"unsafe payload {payload.block_number}: {e}",
                                  PayloadStatus(PayloadStatusKind.INVALID, None, str(e))) from None  # fmt: skip
        await self._new_payload(payload, parent_beacon_root)
        await self._fcu_head(ref, "new unsafe block")
        return ref

    async def _new_payload(
        self, payload: ExecutionPayload, parent_beacon_root: Hash32 | None
    ) -> PayloadStatus:
        v = new_payload_version(self.cfg, payload.timestamp)
        st = await self.client.new_payload(payload, v, parent_beacon_root)
        if st.status in (PayloadStatusKind.INVALID, PayloadStatusKind.INVALID_BLOCK_HASH):
            raise PayloadRejected(
                f"engine_newPayloadV{v} for block {payload.block_number} "
                f"({to_hex(payload.block_hash)}): {st.describe()}",
                st, method=f"engine_newPayloadV{v}",
            )  # fmt: skip
        if st.status is PayloadStatusKind.SYNCING:
            raise EngineSyncingError(f"engine_newPayloadV{v}: engine is syncing")
        if st.status is not PayloadStatusKind.VALID:
            raise EngineTemporaryError(f"engine_newPayloadV{v} for block {payload.block_number}: {st.describe()}")
        return st

    async def _fcu_head(
        self, ref: L2BlockRef, reason: str, *, safe: L2BlockRef | None = None, pending_safe: bool = False
    ) -> None:
        """forkchoiceUpdated(head = ``ref``, safe = ``safe`` or the current safe), then adopt it
        (and make ``ref`` the pending-safe head if ``pending_safe``)."""
        safe_ref = safe or self.safe
        state = ForkchoiceState(ref.hash, safe_ref.hash, self.finalized.hash)
        res = await self._fcu(state)
        st = res.payload_status
        if st.status is PayloadStatusKind.SYNCING:
            raise EngineSyncingError(f"forkchoiceUpdated to {ref.number}: engine is syncing")
        if st.status is not PayloadStatusKind.VALID:
            raise EngineTemporaryError(f"forkchoiceUpdated to {ref.number}: {st.describe()}")
        self._set_unsafe(ref)
        if pending_safe:
            self.pending_safe = ref
        if safe is not None:
            self._set_safe(safe)
        self._log_heads(reason)

    # ------------------------------------------------------------------ building

    async def start_building(self, parent: L2BlockRef, attrs: PayloadAttributes) -> BuildJob:
        """forkchoiceUpdated(head = ``parent``, attributes) (op-node ``startPayload``).

        Errors: ``-38002`` / other ``-38xxx`` -> :class:`EngineResetError` (pre-state problem);
        ``-38003`` -> :class:`InvalidPayloadAttributesError`; ``INVALID`` status ->
        :class:`PayloadRejected`; ``SYNCING`` / transport -> :class:`EngineTemporaryError`."""
        if parent.number < self.finalized.number:
            raise EngineCriticalError(
                f"invalid block-building pre-state: parent {parent.number} is behind finalized "
                f"{self.finalized.number}"
            )
        state = ForkchoiceState(parent.hash, self.safe.hash, self.finalized.hash)
        started = time.monotonic()
        res = await self._fcu(state, attrs)
        st = res.payload_status
        if st.status in (PayloadStatusKind.INVALID, PayloadStatusKind.INVALID_BLOCK_HASH):
            raise PayloadRejected(f"forkchoiceUpdated with attributes on {parent.number}: {st.describe()}", st)
        if st.status is PayloadStatusKind.SYNCING:
            raise EngineSyncingError(f"forkchoiceUpdated with attributes on {parent.number}: engine is syncing")
        if st.status is not PayloadStatusKind.VALID:
            raise EngineTemporaryError(f"forkchoiceUpdated with attributes on {parent.number}: {st.describe()}")
        if res.payload_id is None:
            raise EngineTemporaryError(f"forkchoiceUpdated with attributes on {parent.number}: no payload id")
        return BuildJob(res.payload_id, parent, attrs, started)

    async def seal(self, job: BuildJob, *, safe: bool = False, derived: bool = False) -> SealedBlock:
        """getPayload -> sanity check -> newPayload -> forkchoiceUpdated(head = new block; and
        safe = new block if ``safe``) (op-node ``onBuildSeal`` + ``onPayloadProcess`` +
        ``TryUpdateEngine``). ``derived``: the block was derived from L1 and becomes the
        pending-safe head."""
        ts = job.attributes.timestamp
        env = await self.client.get_payload(job.payload_id, get_payload_version(self.cfg, ts))
        payload = env.execution_payload
        root = env.parent_beacon_block_root or job.attributes.parent_beacon_block_root
        try:
            sanity_check_payload(payload)
            ref = l2_block_ref_from_payload(self.cfg, payload)
        except PyopError as e:
            raise PayloadRejected(
                f"sealed payload {payload.block_number} fails the sanity check: {e}",
                PayloadStatus(PayloadStatusKind.INVALID, None, str(e)),
            ) from None
        if payload.parent_hash != job.parent.hash or payload.timestamp != ts:
            raise EngineResetError(
                f"engine built block {payload.block_number} on {to_hex(payload.parent_hash)} at "
                f"{payload.timestamp}, asked for {to_hex(job.parent.hash)} at {ts}"
            )
        await self._new_payload(payload, root)
        reason = "derived block from L1" if derived else "new block built"
        await self._fcu_head(ref, reason, safe=ref if safe else None, pending_safe=derived)
        if payload.parent_beacon_block_root is None and root is not None:
            payload = _with_root(payload, root)
        self.log.debug(
            "built block %d (%d txs) in %.1f ms", ref.number, len(payload.transactions),
            1000 * (time.monotonic() - job.started),
        )  # fmt: skip
        return SealedBlock(payload, ref, env)

    async def build_payload(
        self, parent: L2BlockRef, attrs: PayloadAttributes, *, safe: bool = False
    ) -> ExecutionPayload:
        """Build, insert and adopt the block ``attrs`` describe on ``parent`` (sequencer:
        ``safe=False``; derivation: see :meth:`process_derived`)."""
        job = await self.start_building(parent, attrs)
        return (await self.seal(job, safe=safe)).payload

    # ------------------------------------------------------------------ derivation

    async def process_derived(self, attrs: AttributesWithParent) -> L2BlockRef:
        """Apply attributes derived from L1 (derivation.md "L1-consolidation" / "L1-sync";
        op-node ``AttributesHandler.onPendingSafeUpdate``).

        If the unsafe chain already has the next block, compare it with the attributes
        (:func:`attributes_match_block`): on a match it is promoted (no re-execution); on a
        mismatch the reason is logged and recorded (:attr:`mismatches`) and the derived block
        is built instead, reorging the unsafe chain. Otherwise the block is built. The new
        block becomes the pending-safe head, and the (local-)safe head when ``attrs.concluding``
        (listeners are told; op-node ``tryUpdatePendingSafe`` + ``tryUpdateLocalSafe``: a
        concluding block that advances the local-safe head becomes local safe, and without
        interop safe at once). From Holocene every derived block is concluding, also the
        forced empty blocks of an expired sequencing window, so the safe head, the safe-head
        DB and finality move with them. Returns the new block's ref (the new pending-safe head).

        Raises :class:`InvalidPayload` when the engine rejects derived attributes
        (``INVALID`` payload or ``-38003``), :class:`EngineResetError` when the attributes do
        not build on the pending-safe head or the expected unsafe block is missing.
        """
        parent = attrs.parent
        if parent.number != self.pending_safe.number or parent.hash != self.pending_safe.hash:
            raise EngineResetError(
                f"derived attributes build on L2 block {parent.number} ({to_hex(parent.hash)}), "
                f"the pending safe head is {self.pending_safe.number} ({to_hex(self.pending_safe.hash)})"
            )
        if self.unsafe.number < self.pending_safe.number:
            raise EngineResetError(
                f"pending safe head {self.pending_safe.number} is ahead of unsafe head {self.unsafe.number}"
            )
        if self.unsafe.number > parent.number:
            ref = await self._consolidate(attrs)
            if ref is not None:
                return ref
        return await self._build_derived(attrs)

    async def _consolidate(self, attrs: AttributesWithParent) -> L2BlockRef | None:
        n = attrs.parent.number + 1
        try:
            block = await self.l2.payload_by_number(n)
        except NotFound:
            raise EngineResetError(
                f"expected the engine to have unsafe block {n} to consolidate with, it has none"
            ) from None
        mm = attributes_match_block(self.cfg, attrs.attributes, attrs.parent.hash, block)
        if mm is not None:
            self.mismatches.append(mm)
            self.reorgs += 1
            self.log.warning("%s; building the derived block instead", mm.describe())
            for cb in self._mismatch_listeners:
                cb(mm)
            return None
        ref = l2_block_ref_from_payload(self.cfg, block)
        self.pending_safe = ref
        if attrs.concluding and ref.number > self.local_safe.number:
            self._set_safe(ref)
            await self.forkchoice_sync("consolidated block with L1")
            await self._emit_safe(ref, attrs.derived_from)
        self.consolidated += 1
        return ref

    async def _build_derived(self, attrs: AttributesWithParent) -> L2BlockRef:
        # the new block (parent + 1) advances the local-safe head (op-node L2BlockRefAdvances)
        concluding = attrs.concluding and attrs.parent.number >= self.local_safe.number
        try:
            job = await self.start_building(attrs.parent, attrs.attributes)
            sealed = await self.seal(job, safe=concluding, derived=True)
        except (PayloadRejected, InvalidPayloadAttributesError) as e:
            raise InvalidPayload(str(e)) from None
        if concluding:
            await self._emit_safe(sealed.ref, attrs.derived_from)
        return sealed.ref

    # ------------------------------------------------------------------ finality

    async def finalize(self, l2: L2BlockRef) -> bool:
        """Mark ``l2`` finalized (derived from a finalized L1 block) and tell the engine. A block
        above the safe head or below the current finalized head is ignored (logged). Returns
        whether ``l2`` is the finalized head now."""
        if l2.number > self.safe.number:
            self.log.warning("not finalizing L2 block %d: above the safe head %d", l2.number, self.safe.number)
            return False
        if l2.number < self.finalized.number:
            self.log.warning("not finalizing L2 block %d: below the finalized head %d", l2.number,
                             self.finalized.number)  # fmt: skip
            return False
        if l2 == self.finalized:
            return True
        self.finalized = l2
        await self.forkchoice_sync("finalized block")
        return True

    async def close(self) -> None:
        await self.client.close()


def _with_root(p: ExecutionPayload, root: Hash32) -> ExecutionPayload:
    return replace(p, parent_beacon_block_root=root)


__all__ = [
    "BuildJob",
    "EngineController",
    "EngineError",
    "InvalidPayloadContents",
    "SafeHeadListener",
    "SealedBlock",
    "sanity_check_payload",
]
