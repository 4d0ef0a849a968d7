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

Errors: :mod:`pyop.engine.errors` (its table says what each Engine API error code means at
each call, as op-node v1.19.6 decides); derived attributes the engine refuses raise
:class:`pyop.derivation.driver.InvalidPayload` (drop the batch / Holocene deposit-only).
A plain forkchoice update answered ``SYNCING`` (the engine lost the blocks our heads name, e.g.
op-geth restarted) raises :class:`pyop.engine.errors.EngineSyncingResetError`: the caller resets
(finds the heads again), as op-node v1.19.6 does, instead of re-sending the same state forever.

Backup unsafe head (op-node ``backupUnsafeHead``, before Holocene): when a derived block replaces
an unsafe block, the old unsafe head is kept; if a later derived block of the same batch is then
refused by the engine, the pending-safe head goes back to the safe head and a forkchoice update
restores the old unsafe chain (:meth:`EngineController.try_backup_unsafe_reorg`), so a bad batch
does not cost the sequencer's unsafe chain. From Holocene the engine instead gets a deposit-only
replacement block.

Unsafe payloads from outside (``admin_postUnsafePayload``) wait in a
:class:`pyop.engine.payloads_queue.PayloadsQueue` and are inserted when they apply on the unsafe
head (:meth:`EngineController.process_unsafe_payloads`); derivation later consolidates them.
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
    BuildInvalid,
    EngineCriticalError,
    EngineError,
    EngineResetError,
    EngineRPCError,
    EngineSyncingError,
    EngineSyncingResetError,
    EngineTemporaryError,
    InvalidForkchoiceStateError,
    InvalidPayloadAttributesError,
    PayloadRejected,
    SealExpiredError,
    is_engine_error_code,
)
from pyop.engine.l2_reader import EngineL2Reader, L2Reader
from pyop.engine.payloads_queue import PayloadsQueue, UnsafePayload
from pyop.engine.start import (
    OFFSET_EL_SAFE_DEFAULT,
    FindHeadsResult,
    L1HeaderReader,
    find_l2_heads,
)
from pyop.engine.versions import (
    forkchoice_updated_version,
    get_payload_version,
    new_payload_version,
)
from pyop.errors import CriticalError
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
        offset_el_safe: float = OFFSET_EL_SAFE_DEFAULT,
        unsafe_payloads: PayloadsQueue | None = None,
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
        self.offset_el_safe = offset_el_safe
        #: op-node ``backupUnsafeHead``: the unsafe head a derived block replaced (pre-Holocene)
        self.backup_unsafe: L2BlockRef | None = None
        self._need_backup_reorg = False
        self.unsafe_payloads = unsafe_payloads if unsafe_payloads is not None else PayloadsQueue()
        self._safe_listeners: list[SafeHeadListener] = []
        self._mismatch_listeners: list[Callable[[ConsolidationMismatch], None]] = []
        self._head_listeners: list[Callable[[EngineController], None]] = []
        self._seal_listeners: list[Callable[[float, float, int, int], None]] = []

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

    def on_heads(self, listener: Callable[[EngineController], None]) -> None:
        """Register ``listener(controller)``, called after every forkchoice update the engine
        accepted (metrics: op-node records each head as it moves)."""
        self._head_listeners.append(listener)

    def on_sealed(self, listener: Callable[[float, float, int, int], None]) -> None:
        """Register ``listener(seal_seconds, build_seconds, txs, last_deposit_index)`` for every
        sealed block (op-node ``sealBuild`` metrics: ``RecordSequencerSealingTime``,
        ``RecordSequencerBuildingDiffTime``, ``CountSequencedTxsInBlock``)."""
        self._seal_listeners.append(listener)

    def _heads_changed(self) -> None:
        if self.unsafe == self.safe == self.pending_safe:
            self.backup_unsafe = None  # op-node: the backup is never used after consolidation
            self._need_backup_reorg = False
        for cb in self._head_listeners:
            cb(self)

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
        """op-node's ``Sync progress`` line: the reason and every head as key/values
        (``l2_unsafe=0xhash:number``, as op-node prints an ``L2BlockRef``), which op-node log
        alerts parse."""
        self.log.info("Sync progress", extra=log_fields(
            reason=reason, l2_finalized=ref_str(self.finalized), l2_safe=ref_str(self.safe),
            l2_pending_safe=ref_str(self.pending_safe), l2_unsafe=ref_str(self.unsafe),
            l2_backup_unsafe=ref_str(self.backup_unsafe), l2_time=self.unsafe.timestamp))  # fmt: skip

    # ------------------------------------------------------------------ forkchoice

    async def _fcu(
        self, state: ForkchoiceState, attrs: PayloadAttributes | None = None
    ) -> ForkchoiceUpdatedResult:
        v = forkchoice_updated_version(self.cfg, attrs)
        return await self.client.forkchoice_updated(state, attrs, v)

    async def forkchoice_sync(self, reason: str = "forkchoice sync") -> None:
        """Send the current ``(unsafe, safe, finalized)`` to the engine (op-node v1.19.6
        ``tryUpdateEngineInternal``): ``-38002`` -> :class:`EngineResetError`; another error ->
        temporary; any status but ``VALID`` (``SYNCING`` after an engine restart lost blocks,
        ``INVALID``, ``ACCEPTED``) -> :class:`EngineSyncingResetError` (find the heads
        again), logged at WARN."""
        if self.unsafe.number < self.finalized.number:
            raise EngineCriticalError(
                f"invalid forkchoice state: unsafe head {self.unsafe.number} is behind finalized "
                f"head {self.finalized.number}"
            )
        try:
            res = await self._fcu(self.forkchoice())
        except InvalidForkchoiceStateError as e:
            raise EngineResetError(f"forkchoice update was inconsistent with engine, need reset to resolve: {e}",
                                   method=e.method, code=e.code) from None  # fmt: skip
        st = res.payload_status
        if st.status is not PayloadStatusKind.VALID:
            self.log.warning("forkchoice update returned %s, need reset to re-sync with engine (%s): "
                             "unsafe %d, safe %d, finalized %d", st.status.value, reason,
                             self.unsafe.number, self.safe.number, self.finalized.number)  # fmt: skip
            raise EngineSyncingResetError(
                f"forkchoice update returned unexpected status {st.describe()} ({reason}), need reset "
                f"to re-sync with engine"
            )
        self._log_heads(reason)
        self._heads_changed()

    # ------------------------------------------------------------------ start / reset

    async def start(self) -> FindHeadsResult:
        """Find the heads to resume from (:func:`pyop.engine.start.find_l2_heads`) and send
        them to the engine."""
        heads = await find_l2_heads(self.cfg, self.l2, self.l1, log=self.log, offset_el_safe=self.offset_el_safe)
        self.backup_unsafe = None
        self._need_backup_reorg = False
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
        self.backup_unsafe = None
        self._need_backup_reorg = False
        await self.forkchoice_sync("reset")

    # ------------------------------------------------------------------ unsafe payloads

    async def insert_unsafe_payload(
        self, payload: ExecutionPayload, parent_beacon_root: Hash32 | None = None
    ) -> L2BlockRef:
        """Insert a block from outside (p2p, op-conductor) and make it the head (op-node v1.19.6
        ``insertUnsafePayload``, CL sync): newPayload (``VALID`` or ``SYNCING`` go on, so the
        forkchoice update can follow), then forkchoiceUpdated(head = it). ``INVALID``:
        :class:`PayloadRejected`; ``-38002`` on the forkchoice update: reset; anything else not
        ``VALID``: :class:`EngineTemporaryError`."""
        try:
            ref = l2_block_ref_from_payload(self.cfg, payload)
        except PyopError as e:
            raise PayloadRejected(f"unsafe payload {payload.block_number}: {e}",
                                  PayloadStatus(PayloadStatusKind.INVALID, None, str(e))) from None  # fmt: skip
        await self._new_payload(payload, parent_beacon_root, allow_syncing=True)
        state = ForkchoiceState(payload.block_hash, self.safe.hash, self.finalized.hash)
        try:
            res = await self._fcu(state)
        except InvalidForkchoiceStateError as e:
            raise EngineResetError(f"pre-unsafe-block forkchoice update was inconsistent with engine, "
                                   f"need reset to resolve: {e}", method=e.method, code=e.code) from None  # fmt: skip
        st = res.payload_status
        if st.status is not PayloadStatusKind.VALID:
            raise EngineTemporaryError(f"cannot prepare unsafe chain for new payload {ref.number}: "
                                       f"forkchoice update {st.describe()}")  # fmt: skip
        self._adopt_unsafe(ref)
        self._log_heads("new chain head block")
        self._heads_changed()
        return ref

    def add_unsafe_payload(self, payload: ExecutionPayload, parent_beacon_root: Hash32 | None = None) -> None:
        """Queue a payload received ahead of derivation (op-node ``AddUnsafePayload``); the
        queue's refusals (duplicate, cap) are logged at WARN, as op-node does."""
        try:
            self.unsafe_payloads.push(UnsafePayload(payload, parent_beacon_root))
        except PyopError as e:
            self.log.warning("Could not add unsafe payload", extra=log_fields(
                id=f"{to_hex(payload.block_hash)}:{payload.block_number}", timestamp=payload.timestamp, err=str(e)))  # fmt: skip

    async def process_unsafe_payloads(self) -> int:
        """op-node ``onForkchoiceUpdate`` for the queue: drop what no longer applies, then insert
        queued payloads while the front builds on the unsafe head. A payload the engine finds
        ``INVALID`` is dropped; a temporary error keeps it for the next try. Returns how many
        were inserted."""
        inserted = 0
        while True:
            for p, why in self.unsafe_payloads.drop_inapplicable(self.unsafe, self.safe):
                if not why.startswith("processed"):
                    self.log.info(f"skipping unsafe payload, since it is {why}", extra=log_fields(
                        safe=ref_str(self.safe), unsafe=ref_str(self.unsafe),
                        unsafe_payload=f"{to_hex(p.payload.block_hash)}:{p.payload.block_number}"))  # fmt: skip
            nxt = self.unsafe_payloads.next_applicable(self.unsafe)
            if nxt is None:
                return inserted
            try:
                ref = await self.insert_unsafe_payload(nxt.payload, nxt.parent_beacon_block_root)
            except PayloadRejected as e:
                self.unsafe_payloads.drop_if_front(nxt.payload.block_hash)
                self.log.warning("Dropping invalid unsafe payload", extra=log_fields(
                    hash=to_hex(nxt.payload.block_hash), number=nxt.payload.block_number,
                    timestamp=nxt.payload.timestamp, err=str(e)))  # fmt: skip
                continue
            self.log.info("successfully processed payload", extra=log_fields(
                ref=ref_str(ref), txs=len(nxt.payload.transactions)))  # fmt: skip
            inserted += 1

    async def fill_unsafe_gap(self) -> bool:
        """op-node ``checkForGapInUnsafeQueue``: when the queue's front is more than one block
        above the unsafe head, insert it anyway so the engine can sync the blocks in between
        (op-geth answers ``SYNCING`` and fetches them from its peers). Returns whether an
        insert was tried."""
        p = self.unsafe_payloads.peek()
        if p is None or p.payload.block_number <= self.unsafe.number + 1:
            return False
        self.log.info("requesting engine missing unsafe L2 block range", extra=log_fields(
            start=ref_str(self.unsafe), end=p.payload.block_number,
            size=p.payload.block_number - self.unsafe.number))  # fmt: skip
        await self.insert_unsafe_payload(p.payload, p.parent_beacon_block_root)
        return True

    async def _new_payload(
        self, payload: ExecutionPayload, parent_beacon_root: Hash32 | None, *, allow_syncing: bool = False
    ) -> PayloadStatus:
        v = new_payload_version(self.cfg, payload.timestamp)
        st = await self.client.new_payload(payload, v, parent_beacon_root)
        if st.status in (PayloadStatusKind.INVALID, PayloadStatusKind.INVALID_BLOCK_HASH):
            raise PayloadRejected(
                f"engine_newPayloadV{v} for block {payload.block_number} "
                f"({to_hex(payload.block_hash)}): {st.describe()}",
                st, method=f"engine_newPayloadV{v}",
            )  # fmt: skip
        if st.status is PayloadStatusKind.SYNCING and allow_syncing:
            return st
        if st.status is PayloadStatusKind.SYNCING:
            raise EngineSyncingError(f"engine_newPayloadV{v}: engine is syncing")
        if st.status is not PayloadStatusKind.VALID:
            raise EngineTemporaryError(f"engine_newPayloadV{v} for block {payload.block_number}: {st.describe()}")
        return st

    def _adopt_unsafe(self, ref: L2BlockRef) -> None:
        """op-node ``tryUpdateUnsafe``: a new unsafe head that does not extend the current one
        keeps the current one as the backup unsafe head."""
        if self.unsafe.number >= ref.number:
            self.backup_unsafe = self.unsafe
            self._need_backup_reorg = False
        self._set_unsafe(ref)

    async def _fcu_head(
        self, ref: L2BlockRef, reason: str, *, safe: L2BlockRef | None = None, pending_safe: bool = False
    ) -> None:
        """forkchoiceUpdated(head = ``ref``, safe = ``safe`` or the current safe), then adopt it
        (and make ``ref`` the pending-safe head if ``pending_safe``). After a newPayload the
        engine must answer ``VALID``; anything else means its chain is not ours: reset (op-node
        ``finalizePayload`` -> ``tryUpdateEngineInternal``)."""
        safe_ref = safe or self.safe
        state = ForkchoiceState(ref.hash, safe_ref.hash, self.finalized.hash)
        try:
            res = await self._fcu(state)
        except InvalidForkchoiceStateError as e:
            raise EngineResetError(f"forkchoice update to {ref.number} was inconsistent with engine: {e}",
                                   method=e.method, code=e.code) from None  # fmt: skip
        st = res.payload_status
        if st.status is not PayloadStatusKind.VALID:
            self.log.warning("forkchoice update to new block %d returned %s, need reset to re-sync with engine",
                             ref.number, st.status.value)  # fmt: skip
            raise EngineSyncingResetError(f"forkchoiceUpdated to {ref.number}: {st.describe()}, need reset")
        self._adopt_unsafe(ref)
        if pending_safe:
            self.pending_safe = ref
        if safe is not None:
            self._set_safe(safe)
        self._log_heads(reason)
        self._heads_changed()

    async def try_backup_unsafe_reorg(self) -> bool:
        """op-node ``tryBackupUnsafeReorg``: after a derived block was refused (before Holocene),
        restore the unsafe head that derivation had replaced, with one forkchoice update.
        ``-38002``: the backup is dropped and the caller resets; another error: kept for the
        next try (temporary); a non-``VALID`` answer: dropped (temporary). Returns whether a
        forkchoice update was sent."""
        if not self._need_backup_reorg:
            return False
        self._need_backup_reorg = False
        backup = self.backup_unsafe
        if backup is None:
            self.log.warning("Attempting to unsafe reorg using backupUnsafe even though it is empty")
            return False
        self.log.warning("trying to restore unsafe head", extra=log_fields(
            backupUnsafe=ref_str(backup), unsafe=ref_str(self.unsafe)))  # fmt: skip
        state = ForkchoiceState(backup.hash, self.safe.hash, self.finalized.hash)
        try:
            res = await self._fcu(state)
        except InvalidForkchoiceStateError as e:
            self.backup_unsafe = None
            raise EngineResetError(f"forkchoice update was inconsistent with engine, need reset to resolve: {e}",
                                   method=e.method, code=e.code) from None  # fmt: skip
        except EngineTemporaryError:
            self._need_backup_reorg = True
            raise
        self.backup_unsafe = None
        if res.payload_status.status is not PayloadStatusKind.VALID:
            raise EngineTemporaryError(f"cannot restore unsafe chain using backupUnsafe: "
                                       f"{res.payload_status.describe()}")  # fmt: skip
        self.log.info("successfully reorged unsafe head using backupUnsafe", extra=log_fields(unsafe=ref_str(backup)))
        self._set_unsafe(backup)
        self._log_heads("new chain head block")
        self._heads_changed()
        return True

    # ------------------------------------------------------------------ building

    async def start_building(self, parent: L2BlockRef, attrs: PayloadAttributes) -> BuildJob:
        """forkchoiceUpdated(head = ``parent``, attributes) (op-node v1.19.6 ``startPayload``).

        Errors: ``-38002`` or another Engine API code (``-38001``, ``-38004``, ``-38005``) ->
        :class:`EngineResetError` (a pre-state problem); ``-38003`` or an ``INVALID`` status ->
        :class:`BuildInvalid`; ``SYNCING`` -> :class:`EngineSyncingError`; a generic JSON-RPC
        code (``-32601``, ``-32602``, ...), transport or any other status ->
        :class:`EngineTemporaryError`."""
        if parent.number < self.finalized.number:
            raise EngineCriticalError(
                f"invalid block-building pre-state: parent {parent.number} is behind finalized "
                f"{self.finalized.number}"
            )
        state = ForkchoiceState(parent.hash, self.safe.hash, self.finalized.hash)
        started = time.monotonic()
        try:
            res = await self._fcu(state, attrs)
        except InvalidPayloadAttributesError as e:
            raise BuildInvalid(f"payload attributes are not valid, cannot build block: {e}",
                               method=e.method, code=e.code) from None  # fmt: skip
        except InvalidForkchoiceStateError as e:
            raise EngineResetError(f"pre-block-creation forkchoice update was inconsistent with engine, "
                                   f"need reset to resolve: {e}", method=e.method, code=e.code) from None  # fmt: skip
        except EngineRPCError as e:
            if e.code is not None and is_engine_error_code(e.code):
                raise EngineResetError(f"unexpected engine error code in forkchoice-updated response: {e}",
                                       method=e.method, code=e.code) from None  # fmt: skip
            raise
        st = res.payload_status
        if st.status in (PayloadStatusKind.INVALID, PayloadStatusKind.INVALID_BLOCK_HASH):
            raise BuildInvalid(f"forkchoiceUpdated with attributes on {parent.number}: {st.describe()}")
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
        sealing_start = time.monotonic()
        try:
            env = await self.client.get_payload(job.payload_id, get_payload_version(self.cfg, ts))
        except EngineError as e:
            # op-node sealBuild: any getPayload failure is ErrSealExpired (build again)
            if isinstance(e, EngineRPCError) and e.code == -38001:
                self.log.warning("Cannot seal block, payload ID is unknown", extra=log_fields(
                    payloadID=to_hex(job.payload_id), payload_time=ts))  # fmt: skip
            raise SealExpiredError(f"payload seal job expired: failed to seal execution payload "
                                   f"(ID: {to_hex(job.payload_id)}): {e}", method=e.method, code=e.code) from None  # fmt: skip
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
        now = time.monotonic()
        last_deposit = 0
        for i, tx in enumerate(payload.transactions):  # op-node lastDeposit
            if tx[:1] != bytes([DEPOSIT_TX_TYPE]):
                break
            last_deposit = i
        for cb in self._seal_listeners:
            cb(now - sealing_start, now - job.started, len(payload.transactions), last_deposit)
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
        if isinstance(self.l2, EngineL2Reader):
            self.l2.remember(payload)  # the next block's attributes read it (sequencer)
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
        except BuildInvalid as e:
            self._on_build_invalid(attrs, str(e))
            raise InvalidPayload(str(e)) from None
        try:
            sealed = await self.seal(job, safe=concluding, derived=True)
        except PayloadRejected as e:
            if not self.cfg.is_holocene(attrs.derived_from.timestamp):
                self._restore_pending_safe()
            raise InvalidPayload(str(e)) from None
        if concluding:
            await self._emit_safe(sealed.ref, attrs.derived_from)
        return sealed.ref

    def _on_build_invalid(self, attrs: AttributesWithParent, err: str) -> None:
        """op-node ``onBuildInvalid``: attributes with only deposits cannot be invalid (the node
        cannot make progress: critical); before Holocene the pending-safe head goes back to the
        safe head and the backup unsafe head is restored (Holocene: the caller builds a
        deposit-only replacement)."""
        if attrs.attributes.transactions and all(tx[:1] == bytes([DEPOSIT_TX_TYPE]) for tx in attrs.attributes.transactions):
            raise CriticalError(f"failed to process block with only deposit transactions: {err}")
        if not self.cfg.is_holocene(attrs.derived_from.timestamp):
            self._restore_pending_safe()

    def _restore_pending_safe(self) -> None:
        self.pending_safe = self.safe
        if self.backup_unsafe is not None:
            self._need_backup_reorg = True

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


def log_fields(**fields: object) -> dict[str, object]:
    """``extra=`` for a log call with key/values (the attribute :mod:`pyop.node.logs` prints;
    the engine floor cannot import the node's logging module)."""
    return {"pyop_kv": fields}


def ref_str(ref: L2BlockRef | None) -> str:
    """op-node's ``L2BlockRef`` in logs: ``0x<hash>:<number>`` (the zero ref for ``None``)."""
    if ref is None:
        return "0x" + "00" * 32 + ":0"
    return f"{to_hex(ref.hash)}:{ref.number}"


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
