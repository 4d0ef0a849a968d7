"""Why the pipeline dropped something, and which rule decided what: the pipeline explains itself.

Every rule that discards data (a batcher transaction, a frame, a channel, a batch, a payload)
produces a :class:`Drop` carrying a :class:`DropReason` (whose value names the spec section), the
numbers the rule compared, and the L1 block the data came from. Rule decisions that are not
drops (an epoch advanced, an empty batch was generated because the sequencing window expired,
stages swapped at Holocene, a reset, an L1 reorg) are :class:`Decision` records.

Both go to an optional :class:`Observer`, to the pipeline's ``drops`` / ``decisions`` lists and
to ``logging.getLogger("pyop.derivation.<stage>")`` (drops at WARNING, decisions at INFO).

Spec references are relative to ``specs/protocol/`` of the OP specs.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pyop.primitives import BlockID, to_hex

Number = int | str

_BQ = "derivation.md#batch-queue"
_SPAN = "delta/span-batches.md#span-batch-validation"
_CB = "derivation.md#channel-bank"
_HOLO_FQ = "holocene/derivation.md#frame-queue"
_HOLO_CB = "holocene/derivation.md#channel-bank"
_HOLO_BQ = "holocene/derivation.md#batch-queue"


class DropReason(enum.Enum):
    """Why something was dropped. The value is ``(spec section, short description)``."""

    # --- L1 retrieval (derivation.md "L1 Retrieval", "Batcher Transaction Format") ----------
    WRONG_BATCHER = ("derivation.md#l1-retrieval", "batcher transaction not sent by the batcher")
    INVALID_SIGNATURE = ("derivation.md#l1-retrieval", "batcher transaction signature invalid")
    UNDECODABLE_TX = ("derivation.md#l1-retrieval", "L1 transaction does not decode")
    BATCHER_TX_TYPE_NOT_ALLOWED = ("derivation.md#l1-retrieval",
                                   "transaction type cannot carry batcher data (op-node "
                                   "isValidBatchTx: SetCode and later types)")  # fmt: skip
    BLOB_DECODE_ERROR = ("ecotone/derivation.md#blob-retrieval", "blob does not decode")
    ALTDA_INVALID_COMMITMENT = ("../experimental/alt-da.md#input-commitment-submission",
                                "alt-DA commitment does not decode")  # fmt: skip
    ALTDA_INPUT_TOO_LARGE = ("../experimental/alt-da.md#data-availability-challenge-contract",
                             "alt-DA keccak input larger than MAX_L1_TX_SIZE")  # fmt: skip
    ALTDA_COMMITMENT_TYPE_MISMATCH = ("../experimental/alt-da.md#input-commitment-submission",
                                      "alt-DA commitment not of the chain's da_commitment_type")  # fmt: skip
    ALTDA_CHALLENGE_EXPIRED = ("../experimental/alt-da.md#derivation",
                               "alt-DA commitment challenged and not resolved in time")  # fmt: skip
    # --- system config (system-config.md#system-config-updates) -----------------------------
    SYSTEM_CONFIG_LOG_INVALID = ("system-config.md#system-config-updates",
                                 "malformed ConfigUpdate log skipped")  # fmt: skip
    # --- frames and channels -----------------------------------------------------------------
    FRAME_INVALID = ("derivation.md#frame-format", "batcher transaction data is not valid frames")
    FRAME_OUT_OF_ORDER = (_HOLO_FQ, "frame out of order (Holocene strict ordering)")
    FRAME_REJECTED = (_CB, "frame rejected by the channel (duplicate or past the closing frame)")
    FRAME_WITHOUT_CHANNEL = (_HOLO_CB, "non-first frame without an open channel")
    CHANNEL_TIMED_OUT = (_CB, "channel timed out")
    CHANNEL_BANK_FULL = ("derivation.md#pruning", "channel pruned: channel bank over MAX_CHANNEL_BANK_SIZE")
    CHANNEL_REPLACED = (_HOLO_CB, "open channel replaced by the first frame of a new channel")
    CHANNEL_TOO_LARGE = ("holocene/derivation.md#pruning", "channel larger than MAX_RLP_BYTES_PER_CHANNEL")
    CHANNEL_DECOMPRESS_ERROR = ("derivation.md#channel-format", "channel does not decompress")
    CHANNEL_FLUSHED = ("holocene/derivation.md#fast-channel-invalidation",
                       "rest of the channel dropped after an invalid batch")  # fmt: skip
    # --- batch decoding (derivation.md "Channel Reader (Batch Decoding)") -------------------
    BATCH_DECODE_ERROR = ("derivation.md#channel-reader-batch-decoding", "batch does not decode")
    SPAN_BATCH_BEFORE_DELTA = ("delta/span-batches.md#activation", "span batch before Delta")
    SPAN_BATCH_DERIVE_ERROR = ("delta/span-batches.md#span-batch-format", "span batch cannot be derived")
    # --- batch validity (derivation.md "Batch Queue", span-batches.md, forks) ---------------
    FUTURE_TIMESTAMP = (_HOLO_BQ, "batch timestamp after the next L2 timestamp (no gaps from Holocene)")
    PAST_TIMESTAMP = (_BQ, "batch timestamp before the next L2 timestamp")
    PAST_BATCH = (_HOLO_BQ, "past batch (Holocene 'past' validity)")
    WRONG_PARENT = (_BQ, "batch parent hash is not the safe head")
    INCLUDED_TOO_LATE = (_BQ, "batch included after its sequencing window")
    EPOCH_TOO_OLD = (_BQ, "batch epoch older than the current epoch")
    EPOCH_TOO_FAR_IN_FUTURE = (_BQ, "batch epoch more than one ahead of the current epoch")
    EPOCH_HASH_MISMATCH = (_BQ, "batch epoch hash is not the canonical L1 block hash")
    TIMESTAMP_BEFORE_L1_ORIGIN = (_BQ, "batch timestamp before its L1 origin timestamp")
    SEQUENCER_DRIFT_EXCEEDED = (_BQ, "batch with transactions beyond the max sequencer drift")
    SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN = (_BQ, "empty batch beyond the drift that could "
                                               "have adopted the next L1 origin")  # fmt: skip
    EMPTY_BATCH_TXS = (_BQ, "batch contains an empty transaction")
    DEPOSIT_TX_IN_BATCH = (_BQ, "batch contains a deposit transaction")
    SET_CODE_TX_BEFORE_ISTHMUS = ("isthmus/derivation.md#batch-validation",
                                  "batch contains a SetCode (type 4) tx before Isthmus")  # fmt: skip
    JOVIAN_ACTIVATION_BLOCK_USER_TXS = ("jovian/derivation.md#activation-block-rules",
                                        "Jovian activation block batch has user transactions")  # fmt: skip
    UPGRADE_ACTIVATION_BLOCK_USER_TXS = ("op-node v1.19.6 batches.go checkSingularBatch",
                                         "Karst / Lagoon activation block batch has user transactions")  # fmt: skip
    POST_EXEC_TX_BEFORE_SDM = ("op-node v1.19.6 batches.go checkSequencerTxData",
                               "batch contains a PostExec (0x7D) tx before SDM (Lagoon)")  # fmt: skip
    SPAN_BATCH_NO_NEW_BLOCKS = (_SPAN, "span batch has no new blocks after the safe head")
    TIMESTAMP_NOT_ALIGNED = (_SPAN, "span batch start timestamp between the safe head and the next block")
    SPAN_NOT_OVERLAPPED_EXACTLY = (_SPAN, "span batch does not overlap the safe chain at a block boundary")
    L1_ORIGIN_BEFORE_SAFE_HEAD = ("holocene/derivation.md#span-batches",
                                  "span block L1 origin before the safe head's L1 origin")  # fmt: skip
    MISSING_L1_ORIGIN = (_SPAN, "span block L1 origin not among the known L1 blocks")
    OVERLAP_TX_COUNT_MISMATCH = (_SPAN, "overlapped block has a different transaction count")
    OVERLAP_TX_MISMATCH = (_SPAN, "overlapped block has different transactions")
    OVERLAP_L1_ORIGIN_MISMATCH = (_SPAN, "overlapped block has a different L1 origin")
    OVERLAP_PAYLOAD_INVALID = (_SPAN, "overlapped safe block has no readable L1-info deposit")
    # --- engine ------------------------------------------------------------------------------
    INVALID_PAYLOAD = ("derivation.md#engine-queue", "engine rejected the payload (pre-Holocene: batch dropped)")

    @property
    def spec(self) -> str:
        """The spec section (relative to ``specs/protocol/``)."""
        s: str = self.value[0]
        return s

    @property
    def summary(self) -> str:
        s: str = self.value[1]
        return s


def _fmt_numbers(numbers: Mapping[str, Number]) -> str:
    return ", ".join(f"{k}={v}" for k, v in numbers.items())


@dataclass(frozen=True, eq=True)
class Drop:
    """One dropped item: why, with the numbers the rule compared.

    ``l1_origin`` is the L1 block the dropped data came from (the inclusion block for batches),
    ``stage`` the pipeline stage that dropped it.
    """

    reason: DropReason
    detail: str
    numbers: Mapping[str, Number] = field(default_factory=dict)
    spec: str = ""
    l1_origin: BlockID | None = None
    stage: str = ""

    def __post_init__(self) -> None:
        if not self.spec:
            object.__setattr__(self, "spec", self.reason.spec)

    __hash__ = None  # type: ignore[assignment]

    def explain(self) -> str:
        """A readable one-liner, e.g. ``batch dropped: timestamp 1710338157 > next L2 timestamp
        1710338155 (...) [derivation.md#batch-queue]``."""
        nums = _fmt_numbers(self.numbers)
        where = "" if self.l1_origin is None else f" in L1 block {self.l1_origin.number}"
        return (
            f"{self.stage or 'derivation'}: {self.reason.name}{where}: {self.detail}"
            + (f" ({nums})" if nums else "")
            + f" [{self.spec}]"
        )


class DecisionKind(enum.Enum):
    """Rule decisions worth recording. The value is ``(id, spec section)``."""

    EPOCH_ADVANCED = ("epoch_advanced", "derivation.md#batch-queue")
    #: The sequencing window expired: an empty batch was generated (deposit-only block).
    EMPTY_BATCH_GENERATED = ("empty_batch", "derivation.md#batch-queue")
    #: An empty batch past the max sequencer drift was kept (the next L1 origin is later).
    SEQUENCER_DRIFT_ALLOWANCE = ("drift_allowance", "derivation.md#batch-queue")
    BATCH_ACCEPTED = ("batch_accepted", "derivation.md#batch-queue")
    SPAN_BATCH_ACCEPTED = ("span_accepted", "delta/span-batches.md#span-batch-validation")
    CHANNEL_READ = ("channel_read", "derivation.md#channel-bank")
    #: The channel reader opened a channel (its compression header is valid); ``numbers``:
    #: ``compressed_bytes``, the channel's length (op-node ``RecordChannelInputBytes``).
    CHANNEL_OPENED = ("channel_opened", "derivation.md#channel-reader-batch-decoding")
    STAGE_SWAP = ("stage_swap", "holocene/derivation.md#activation")
    RESET = ("reset", "derivation.md#resetting-the-pipeline")
    REORG = ("reorg", "derivation.md#l1-traversal")
    L1_ORIGIN_ADVANCED = ("origin_advanced", "derivation.md#l1-traversal")
    SYSTEM_CONFIG_UPDATED = ("sysconfig_updated", "system-config.md#system-config-updates")
    DEPOSIT_ONLY_REPLACEMENT = ("deposit_only", "holocene/derivation.md#engine-queue")
    #: A DataAvailabilityChallenge event was applied (alt-DA challenge created or resolved).
    ALTDA_CHALLENGE = ("altda_challenge", "../experimental/alt-da.md#derivation")

    @property
    def spec(self) -> str:
        s: str = self.value[1]
        return s


@dataclass(frozen=True, eq=True)
class Decision:
    """A rule decision (not a drop), with the numbers involved."""

    kind: DecisionKind
    detail: str
    numbers: Mapping[str, Number] = field(default_factory=dict)
    l1_origin: BlockID | None = None
    stage: str = ""

    __hash__ = None  # type: ignore[assignment]

    def explain(self) -> str:
        nums = _fmt_numbers(self.numbers)
        return (
            f"{self.stage or 'derivation'}: {self.kind.name}: {self.detail}"
            + (f" ({nums})" if nums else "")
            + f" [{self.kind.spec}]"
        )


class Observer(Protocol):
    """Receives every drop and decision as it happens."""

    def on_drop(self, drop: Drop) -> None: ...

    def on_decision(self, decision: Decision) -> None: ...


_LOGGERS: dict[str, logging.Logger] = {}


def _stage_logger(stage: str) -> logging.Logger:
    """The logger ``pyop.derivation.<stage>`` (cached: asked for on every drop and decision)."""
    log = _LOGGERS.get(stage)
    if log is None:
        log = _LOGGERS[stage] = logging.getLogger(f"pyop.derivation.{stage or 'pipeline'}")
    return log


class Explainer:
    """Collects drops and decisions, forwards them to the observer and the log.

    Shared by all stages of one pipeline. ``drops``/``decisions`` keep everything so far.
    """

    def __init__(self, observer: Observer | None = None, *, keep: bool = True) -> None:
        self.observer = observer
        self.keep = keep
        self.drops: list[Drop] = []
        self.decisions: list[Decision] = []

    def drop(
        self,
        stage: str,
        reason: DropReason,
        detail: str,
        numbers: Mapping[str, Number] | None = None,
        l1_origin: BlockID | None = None,
    ) -> Drop:
        d = Drop(reason, detail, dict(numbers or {}), "", l1_origin, stage)
        self.record_drop(d)
        return d

    def record_drop(self, d: Drop) -> None:
        if self.keep:
            self.drops.append(d)
        log = _stage_logger(d.stage)
        if log.isEnabledFor(logging.WARNING):
            log.warning("%s", d.explain())
        if self.observer is not None:
            self.observer.on_drop(d)

    def decide(
        self,
        stage: str,
        kind: DecisionKind,
        detail: str,
        numbers: Mapping[str, Number] | None = None,
        l1_origin: BlockID | None = None,
    ) -> Decision:
        d = Decision(kind, detail, dict(numbers or {}), l1_origin, stage)
        if self.keep:
            self.decisions.append(d)
        log = _stage_logger(stage)
        if log.isEnabledFor(logging.INFO):  # a decision per derived block: explain() only if logged
            log.info("%s", d.explain())
        if self.observer is not None:
            self.observer.on_decision(d)
        return d


def short_hash(h: bytes) -> str:
    """``0x1234..abcd`` for logs."""
    x = to_hex(h)
    return x if len(x) <= 14 else f"{x[:8]}..{x[-4:]}"
