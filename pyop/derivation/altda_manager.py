"""The DA manager: resolves alt-DA input commitments, tracks the DataAvailabilityChallenge
contract, and tells finality how far the chain can no longer be invalidated
(specs/experimental/alt-da.md "Derivation", "Safety and Finality"; Go: ``op-alt-da/damgr.go``
``DA``, used by ``op-node/rollup/derive/altda_data_source.go`` and
``op-node/rollup/finality/altda.go``).

One :class:`DAManager` lives as long as the pipeline (it is reset with it). The pipeline's alt-DA
data source calls, for every L1 block it reads:

- :meth:`DAManager.advance_l1_origin`: read the block's ``ChallengeStatusChanged`` events
  (keccak chains only: generic-commitment chains have no challenge contract), expire challenges
  and commitments whose windows ended, and, while nothing is tracked, move the finalized head to
  ``L1 finalized - challenge_window``. A commitment already used by derivation whose challenge
  expired unresolved raises :class:`ReorgRequired` (the data source turns it into a reset);
- :meth:`DAManager.get_input` for each commitment:

  =====================================  =====================================================
  situation                              outcome (op-node error)
  =====================================  =====================================================
  commitment type is not the chain's     skipped (``ErrCommitmentTypeMismatch``)
  challenge expired unresolved           skipped (``ErrExpiredChallenge``)
  DA server has the input                the input
  DA server fails (transport, HTTP 5xx,  :class:`TemporaryError`: the data source keeps the
  timeout, keccak check on read)         commitment and asks again
  404, not challenged, window open       look ahead one L1 block for challenges, then wait
                                         (``ErrPendingChallenge``)
  404, not challenged, window passed     :class:`CriticalError` (``ErrMissingPastWindow``)
  404, challenge active                  look ahead, wait (``ErrPendingChallenge``)
  404, challenge resolved                keccak: the input from the ``resolve`` calldata;
                                         generic: critical (``ErrMissingPastWindow``)
  =====================================  =====================================================

Finality (:meth:`DAManager.finalize`, called with every new L1 finalized block): prune the
commitments whose challenge and resolve windows ended at or below the finalized L1 block and
return the inclusion block of the last one pruned; with nothing tracked, keep the head computed
from ``L1 finalized - challenge_window``. The node finalizes L2 blocks derived from L1 up to that
block, so L2 finality lags L1 finality by (about) the challenge window, as in op-node.

Thread safety: the pipeline calls from its worker thread, :meth:`finalize` comes from the
node's event loop. The state is only touched under a lock that is never held across I/O (the
L1 and DA reads go through the event loop, which must stay free). Difference from op-node: when
the transaction of a ``Resolved`` event cannot be fetched, op-node logs and skips that event
(the resolution is lost on a transient RPC error); pyop raises :class:`TemporaryError` before
changing any state, so the block is read again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from eth_hash.auto import keccak

from pyop.codec.errors import CodecError
from pyop.codec.tx import decode_signed_tx
from pyop.config import AltDAConfig
from pyop.derivation.altda_state import ZERO_L1_REF, DAState, ReorgRequired
from pyop.derivation.drops import DecisionKind, Explainer
from pyop.derivation.errors import CriticalError, DerivationError
from pyop.derivation.interfaces import AltDASource, L1Source, NotFound
from pyop.primitives import ZERO_HASH, BlockID, L1BlockRef
from pyop.protocol.altda import (
    AltDAFormatError,
    ChallengeStatus,
    ChallengeStatusEvent,
    Commitment,
    CommitmentType,
    decode_challenge_status_event,
    decode_resolved_input,
    is_challenge_status_log,
)
from pyop.protocol.l1_types import Log

STAGE = "altda"
log = logging.getLogger("pyop.derivation.altda")

__all__ = [
    "CommitmentTypeMismatch",
    "DAManager",
    "ExpiredChallenge",
    "MissingPastWindow",
    "PendingChallenge",
    "ReorgRequired",
]


class PendingChallenge(DerivationError):
    """Input not found, but it can still be challenged or resolved: wait (``ErrPendingChallenge``)."""


class ExpiredChallenge(DerivationError):
    """The commitment's challenge expired unresolved: skip its input (``ErrExpiredChallenge``)."""


class CommitmentTypeMismatch(DerivationError):
    """The commitment is not of the chain's ``da_commitment_type``: skip it
    (``ErrCommitmentTypeMismatch``)."""


class MissingPastWindow(DerivationError):
    """Input missing and no longer challengeable (``ErrMissingPastWindow``): fatal."""


ZERO_ID = BlockID(ZERO_HASH, 0)


class DAManager:
    """See the module docstring."""

    def __init__(
        self, cfg: AltDAConfig, storage: AltDASource | None, explainer: Explainer | None = None
    ) -> None:
        self.cfg = cfg
        self.commitment_type = CommitmentType.from_string(cfg.da_commitment_type)
        self.storage = storage
        self.ex = explainer or Explainer()
        self.state = DAState(cfg.da_challenge_window, cfg.da_resolve_window)
        self.challenge_origin = ZERO_ID  # highest L1 block whose challenge events were read
        self.commitment_origin = ZERO_ID  # highest L1 block whose commitments were expired
        self.finalized_head: L1BlockRef = ZERO_L1_REF  # as the challenge windows allow
        self.l1_finalized_head: L1BlockRef = ZERO_L1_REF  # the last L1 finality signal
        self.resetting = False  # the next reset comes from an expired challenge
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ reset

    def reset(self, base: L1BlockRef) -> None:
        """Pipeline reset to ``base`` (``DA.Reset``): after an expired challenge keep the
        challenges (re-derivation must skip that input) and only forget commitments; after
        anything else (an L1 reorg) forget everything and read challenges again from ``base``."""
        with self._lock:
            if self.resetting:
                self.resetting = False
                self.commitment_origin = base.id()
                self.state.clear_commitments()
            else:
                self.challenge_origin = base.id()
                self.commitment_origin = base.id()
                self.state.reset()

    # ------------------------------------------------------------------ L1 origin

    def advance_l1_origin(self, l1: L1Source, block: BlockID) -> None:
        """``DA.AdvanceL1Origin``: challenges of ``block``, then expiry of commitments, then
        (nothing tracked) the finalized head from L1 finality. Raises :class:`ReorgRequired`."""
        self.advance_challenge_origin(l1, block)
        self.advance_commitment_origin(block)
        with self._lock:
            idle = self.state.no_commitments()
            fin = self.l1_finalized_head
        if idle:
            self._update_finalized_from_l1(l1, fin)

    def advance_challenge_origin(self, l1: L1Source, block: BlockID) -> None:
        """Read and apply ``block``'s challenge events, expire challenges (``AdvanceChallengeOrigin``;
        a block at or below the challenge origin is a no-op)."""
        with self._lock:
            if block.number <= self.challenge_origin.number:
                return
        events = self._load_challenge_events(l1, block)  # I/O, outside the lock
        with self._lock:
            if block.number <= self.challenge_origin.number:
                return
            for kind, ev, data in events:
                if kind == "resolved":
                    if not self.state.resolve_challenge(ev.commitment, ev.challenged_block_number, data):
                        log.warning("resolved alt-DA challenge was not tracked", extra={
                            "l1_block": block.number, "commitment": ev.commitment.short()})  # fmt: skip
                        continue
                else:
                    self.state.create_challenge(ev.commitment, block, ev.challenged_block_number)
                self.ex.decide(
                    STAGE, DecisionKind.ALTDA_CHALLENGE,
                    f"challenge {kind} for commitment {ev.commitment.short()} of L1 block "
                    f"{ev.challenged_block_number}",
                    {"challenged_block": ev.challenged_block_number, "status": ev.status}, block,
                )  # fmt: skip
            self.state.expire_challenges(block)
            self.challenge_origin = block

    def advance_commitment_origin(self, block: BlockID) -> None:
        """Expire commitments at ``block`` (``AdvanceCommitmentOrigin``); on
        :class:`ReorgRequired` the origin stays and the next reset keeps the challenges."""
        with self._lock:
            if block.number <= self.commitment_origin.number:
                return
            try:
                self.state.expire_commitments(block)
            except ReorgRequired:
                self.resetting = True
                raise
            self.commitment_origin = block

    def look_ahead(self, l1: L1Source) -> None:
        """Read challenges of the L1 block after the challenge origin while derivation waits
        for missing input (``LookAhead``); ``NotFound`` past the L1 head propagates."""
        with self._lock:
            nxt = self.challenge_origin.number + 1
        ref = l1.l1_block_ref_by_number(nxt)
        self.advance_challenge_origin(l1, ref.id())

    def _update_finalized_from_l1(self, l1: L1Source, l1_finalized: L1BlockRef) -> None:
        """``updateFinalizedFromL1``: with nothing tracked, the finalized head is the L1 block
        ``challenge_window`` below the last L1 finality signal."""
        cw = self.cfg.da_challenge_window
        if l1_finalized.number < cw:
            return
        with self._lock:
            cached = self.finalized_head.number == l1_finalized.number - cw and self.finalized_head != ZERO_L1_REF
        if cached:
            return  # the same (finalized, hence final) L1 block as last time
        ref = l1.l1_block_ref_by_number(l1_finalized.number - cw)
        with self._lock:
            self.finalized_head = ref

    def _load_challenge_events(
        self, l1: L1Source, block: BlockID
    ) -> list[tuple[str, ChallengeStatusEvent, bytes | None]]:
        """``loadChallengeEvents`` + ``fetchChallengeLogs``: the well-formed Active and
        Resolved events of the challenge contract in successful receipts of ``block``, with the
        resolved input (keccak chains: from the ``resolve`` calldata, checked against the
        commitment). Malformed events and unusable resolutions are logged and ignored."""
        if self.commitment_type is CommitmentType.GENERIC:
            return []  # no challenge contract for generic commitments
        contract = self.cfg.da_challenge_address
        logs: list[Log] = [
            lg
            for rec in l1.receipts_by_hash(block.hash)
            if rec.successful
            for lg in rec.logs
            if is_challenge_status_log(lg, contract)
        ]
        out: list[tuple[str, ChallengeStatusEvent, bytes | None]] = []
        txs: Sequence[bytes] | None = None
        for lg in logs:
            try:
                ev = decode_challenge_status_event(lg)
            except AltDAFormatError as e:
                log.warning("failed to decode alt-DA challenge event", extra={
                    "l1_block": block.number, "tx_index": lg.tx_index, "err": str(e)})  # fmt: skip
                continue
            status = ev.known_status
            if status is ChallengeStatus.ACTIVE:
                out.append(("active", ev, None))
            elif status is ChallengeStatus.RESOLVED:
                if txs is None:
                    txs = l1.transactions_by_hash(block.hash)
                data = self._resolved_input(txs, lg, ev, block)
                if data is not None:
                    out.append(("resolved", ev, data))
            else:
                log.warning("skipping alt-DA challenge event with unknown status", extra={
                    "l1_block": block.number, "status": ev.status})  # fmt: skip
        return out

    def _resolved_input(
        self, txs: Sequence[bytes], lg: Log, ev: ChallengeStatusEvent, block: BlockID
    ) -> bytes | None:
        i = lg.tx_index
        if len(txs) <= i:
            log.error("alt-DA challenge log points past the block's transactions", extra={
                "l1_block": block.number, "tx_index": i})  # fmt: skip
            return None
        raw = txs[i]
        if keccak(raw) != lg.tx_hash:
            log.error("alt-DA challenge log tx hash mismatch", extra={"l1_block": block.number, "tx_index": i})
            return None
        try:
            data = decode_resolved_input(decode_signed_tx(raw).data)
        except (AltDAFormatError, CodecError) as e:
            log.error("failed to decode resolved alt-DA input", extra={
                "l1_block": block.number, "tx_index": i, "err": str(e)})  # fmt: skip
            return None
        if not ev.commitment.verify(data):
            log.error("resolved alt-DA input does not match its commitment", extra={
                "l1_block": block.number, "tx_index": i})  # fmt: skip
            return None
        return data

    # ------------------------------------------------------------------ inputs

    def get_input(self, l1: L1Source, comm: Commitment, block: L1BlockRef) -> bytes:
        """The input of ``comm`` included in ``block`` (``DA.GetInput``; outcomes in the
        module docstring). Raises :class:`CommitmentTypeMismatch`, :class:`ExpiredChallenge`,
        :class:`PendingChallenge`, :class:`MissingPastWindow`, :class:`CriticalError` (no DA
        server configured) or what the DA source raises (:class:`TemporaryError`)."""
        if comm.type != self.commitment_type:
            raise CommitmentTypeMismatch(
                f"invalid commitment type; expected: {self.commitment_type.value}, got: {comm.type.value}"
            )
        with self._lock:
            status = self.state.challenge_status(comm, block.number)
            if status is ChallengeStatus.EXPIRED:
                raise ExpiredChallenge(f"challenge of commitment {comm.short()} expired")
            self.state.track_commitment(comm, block)
        if self.storage is None:
            raise CriticalError("alt-DA commitment found but no alt-DA source is configured (--altda.enabled)")
        try:
            return self.storage.get_input(comm.encode(), block)
        except NotFound:
            pass
        if status is ChallengeStatus.UNINITIALIZED:
            with self._lock:
                past = self.challenge_origin.number > block.number + self.cfg.da_challenge_window
            if past:
                raise MissingPastWindow(
                    f"input of {comm.short()} (L1 block {block.number}) missing and past the challenge window"
                )
            self.look_ahead(l1)
            raise PendingChallenge(f"input of {comm.short()} not found; it can still be challenged")
        if status is ChallengeStatus.ACTIVE:
            self.look_ahead(l1)
            raise PendingChallenge(f"input of {comm.short()} not found; challenge active")
        # ChallengeStatus.RESOLVED
        if comm.type is CommitmentType.GENERIC:
            raise MissingPastWindow(f"input of generic commitment {comm.short()} missing after resolution")
        with self._lock:
            ch = self.state.get_challenge(comm, block.number)
        return b"" if ch is None or ch.input is None else ch.input

    # ------------------------------------------------------------------ finality

    def finalize(self, l1_finalized: L1BlockRef) -> L1BlockRef:
        """An L1 finality signal (``DA.Finalize`` / ``updateFinalizedHead``): prune what the
        finalized block puts beyond challenge and return the DA finalized head (the L1 block up
        to which derived L2 blocks may be finalized)."""
        with self._lock:
            self.l1_finalized_head = l1_finalized
            if not self.state.no_commitments():
                self.state.prune(l1_finalized.id())
                self.finalized_head = self.state.last_pruned_commitment
            return self.finalized_head

