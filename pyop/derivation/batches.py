"""Batch validity rules as pure functions (op-node ``CheckBatch`` / ``checkSingularBatch`` /
``checkSpanBatchPrefix`` / ``checkSpanBatchOverlap`` / ``checkSpanBatchHolocene`` /
``checkSpanBatch``; kona ``SingleBatch::check_batch`` /
``SpanBatch::check_batch``).

Spec: specs/protocol/derivation.md "Batch Queue" (the singular batch rules, in order),
delta/span-batches.md "Span Batch Validation" (prefix and per-block checks, overlap with the
safe chain), holocene/derivation.md "Batch Queue" (rules switch by the L1 *inclusion* block
time: future -> drop, past -> ``PAST``; a span batch gets the prefix and overlap checks as a
whole, specs PR #928), isthmus/derivation.md (SetCode txs only from Isthmus),
jovian/derivation.md "Activation Block Rules" (no user txs in the activation block).

Inputs: ``l1_blocks`` is the batch queue's window of L1 blocks, ``l1_blocks[0]`` the current
epoch; ``l2_safe_head`` the block the batch must build on; ``inclusion`` the L1 block the batch
was read from. Each function returns a :class:`Verdict`: the :class:`BatchValidity` and, for
``DROP`` (and ``PAST``), a :class:`~pyop.derivation.drops.Drop` that names the rule and the
numbers it compared.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pyop.codec.batch import SingularBatch
from pyop.codec.errors import CodecError
from pyop.codec.span_batch import SpanBatch
from pyop.codec.tx import DEPOSIT_TX_TYPE, POST_EXEC_TX_TYPE, SET_CODE_TX_TYPE
from pyop.config import RollupConfig
from pyop.derivation.drops import Drop, DropReason, Number
from pyop.derivation.errors import TemporaryError
from pyop.derivation.interfaces import NotFound
from pyop.derivation.types import Batch
from pyop.primitives import ExecutionPayload, L1BlockRef, L2BlockRef, to_hex
from pyop.protocol.l1_info import L1InfoError, decode_l1_info_tx, l1_info_format_at

STAGE = "batch_queue"


class BatchValidity(enum.Enum):
    """op-node ``BatchValidity``."""

    #: The batch is invalid and is discarded.
    DROP = "drop"
    #: The batch is valid and should be processed.
    ACCEPT = "accept"
    #: Not enough L1 data (or an L2 fetch failed): keep it and check again later.
    UNDECIDED = "undecided"
    #: Pre-Holocene: the batch is for a later L2 block; keep it for later.
    FUTURE = "future"
    #: [New in Holocene] the batch is for an L2 block at or before the safe head.
    PAST = "past"


@dataclass(frozen=True)
class Verdict:
    """A batch check result: the validity, the drop record (for ``DROP``/``PAST``) and a note
    (why ``UNDECIDED``/``FUTURE``, or a drift allowance that was applied)."""

    validity: BatchValidity
    drop: Drop | None = None
    note: str = ""
    numbers: dict[str, Number] = field(default_factory=dict)


class SafeBlockFetcher(Protocol):
    """The L2 reads the span-batch overlap check needs (op-node ``SafeBlockFetcher``)."""

    def l2_block_ref_by_number(self, number: int) -> L2BlockRef: ...

    def payload_by_number(self, number: int) -> ExecutionPayload: ...


def _drop(
    reason: DropReason, detail: str, inclusion: L1BlockRef, **numbers: Number
) -> Verdict:
    return Verdict(
        BatchValidity.DROP,
        Drop(reason, detail, dict(numbers), "", inclusion.id(), STAGE),
    )


def _undecided(note: str, **numbers: Number) -> Verdict:
    return Verdict(BatchValidity.UNDECIDED, None, note, dict(numbers))


ACCEPT = Verdict(BatchValidity.ACCEPT)


def check_batch_txs(
    cfg: RollupConfig, txs: Sequence[bytes], timestamp: int, inclusion: L1BlockRef
) -> Verdict | None:
    """The transaction rules (derivation.md "Batch Queue"; isthmus/derivation.md): no empty
    transaction, no deposit (type ``0x7E``), no SetCode (type 4) before Isthmus (by the batch
    timestamp). ``None`` if all pass."""
    for i, tx in enumerate(txs):
        if len(tx) == 0:
            return _drop(DropReason.EMPTY_BATCH_TXS, f"transaction {i} is empty", inclusion,
                         tx_index=i, timestamp=timestamp)  # fmt: skip
        if tx[0] == DEPOSIT_TX_TYPE:
            return _drop(DropReason.DEPOSIT_TX_IN_BATCH, f"transaction {i} is a deposit (0x7e)",
                         inclusion, tx_index=i, timestamp=timestamp)  # fmt: skip
        if tx[0] == SET_CODE_TX_TYPE and not cfg.is_isthmus(timestamp):  # [New in Isthmus]
            return _drop(DropReason.SET_CODE_TX_BEFORE_ISTHMUS,
                         f"transaction {i} is a SetCode tx, Isthmus not active at {timestamp}",
                         inclusion, tx_index=i, timestamp=timestamp,
                         isthmus_time=str(cfg.isthmus_time))  # fmt: skip
        # [New in Lagoon] PostExec txs only with Sequencer-Defined Metering (op-node IsSDM).
        if tx[0] == POST_EXEC_TX_TYPE and not cfg.is_sdm(timestamp):
            return _drop(DropReason.POST_EXEC_TX_BEFORE_SDM,
                         f"transaction {i} is a PostExec (0x7d) tx, SDM (Lagoon) not active at "
                         f"{timestamp}", inclusion, tx_index=i, timestamp=timestamp,
                         lagoon_time=str(cfg.lagoon_time))  # fmt: skip
    return None


def check_singular_batch(
    cfg: RollupConfig,
    l1_blocks: Sequence[L1BlockRef],
    l2_safe_head: L2BlockRef,
    batch: SingularBatch,
    inclusion: L1BlockRef,
) -> Verdict:
    """derivation.md "Batch Queue" rules for a singular batch, in op-node's order."""
    if not l1_blocks:
        return _undecided("missing L1 block input")
    epoch = l1_blocks[0]
    holocene = cfg.is_holocene(inclusion.timestamp)
    next_ts = l2_safe_head.timestamp + cfg.block_time
    if batch.timestamp > next_ts:
        if holocene:  # [New in Holocene] no gaps: drop future batches
            return _drop(DropReason.FUTURE_TIMESTAMP,
                         f"timestamp {batch.timestamp} > next L2 timestamp {next_ts}", inclusion,
                         timestamp=batch.timestamp, next_timestamp=next_ts)  # fmt: skip
        return Verdict(BatchValidity.FUTURE, None, "batch for a later L2 block",
                       {"timestamp": batch.timestamp, "next_timestamp": next_ts})  # fmt: skip
    if batch.timestamp < next_ts:
        if holocene:  # [New in Holocene]
            return Verdict(BatchValidity.PAST, Drop(
                DropReason.PAST_BATCH, f"timestamp {batch.timestamp} < next L2 timestamp {next_ts}",
                {"timestamp": batch.timestamp, "next_timestamp": next_ts}, "", inclusion.id(), STAGE))  # fmt: skip
        return _drop(DropReason.PAST_TIMESTAMP,
                     f"timestamp {batch.timestamp} < next L2 timestamp {next_ts}", inclusion,
                     timestamp=batch.timestamp, next_timestamp=next_ts)  # fmt: skip
    if batch.parent_hash != l2_safe_head.hash:
        return _drop(DropReason.WRONG_PARENT,
                     f"parent {to_hex(batch.parent_hash)} != safe head {to_hex(l2_safe_head.hash)}",
                     inclusion, safe_head=l2_safe_head.number)  # fmt: skip
    if batch.epoch_num + cfg.seq_window_size < inclusion.number:
        return _drop(DropReason.INCLUDED_TOO_LATE,
                     f"epoch {batch.epoch_num} + seq window {cfg.seq_window_size} < inclusion block "
                     f"{inclusion.number}", inclusion, epoch=batch.epoch_num,
                     seq_window_size=cfg.seq_window_size, inclusion_block=inclusion.number)  # fmt: skip
    batch_origin = epoch
    if batch.epoch_num < epoch.number:
        return _drop(DropReason.EPOCH_TOO_OLD, f"epoch {batch.epoch_num} < current epoch {epoch.number}",
                     inclusion, epoch=batch.epoch_num, current_epoch=epoch.number)  # fmt: skip
    if batch.epoch_num == epoch.number + 1:
        if len(l1_blocks) < 2:
            return _undecided("batch wants to advance the epoch; next L1 block not known yet",
                              epoch=batch.epoch_num)  # fmt: skip
        batch_origin = l1_blocks[1]
    elif batch.epoch_num != epoch.number:
        return _drop(DropReason.EPOCH_TOO_FAR_IN_FUTURE,
                     f"epoch {batch.epoch_num} > current epoch {epoch.number} + 1", inclusion,
                     epoch=batch.epoch_num, current_epoch=epoch.number)  # fmt: skip
    if batch.epoch_hash != batch_origin.hash:
        return _drop(DropReason.EPOCH_HASH_MISMATCH,
                     f"epoch hash {to_hex(batch.epoch_hash)} != L1 block {batch_origin.number} hash "
                     f"{to_hex(batch_origin.hash)}", inclusion, epoch=batch.epoch_num)  # fmt: skip
    if batch.timestamp < batch_origin.timestamp:
        return _drop(DropReason.TIMESTAMP_BEFORE_L1_ORIGIN,
                     f"timestamp {batch.timestamp} < L1 origin timestamp {batch_origin.timestamp}",
                     inclusion, timestamp=batch.timestamp, l1_origin_time=batch_origin.timestamp)  # fmt: skip
    note = ""
    max_drift = cfg.max_sequencer_drift_at(batch_origin.timestamp)
    max_ts = batch_origin.timestamp + max_drift
    if batch.timestamp > max_ts:
        if batch.transactions:
            return _drop(DropReason.SEQUENCER_DRIFT_EXCEEDED,
                         f"timestamp {batch.timestamp} > L1 origin time {batch_origin.timestamp} + "
                         f"max drift {max_drift} with {len(batch.transactions)} txs", inclusion,
                         timestamp=batch.timestamp, max_timestamp=max_ts, max_drift=max_drift)  # fmt: skip
        if epoch.number == batch_origin.number:
            if len(l1_blocks) < 2:
                return _undecided("empty batch past the drift: need the next L1 block to decide",
                                  timestamp=batch.timestamp, max_timestamp=max_ts)  # fmt: skip
            nxt = l1_blocks[1]
            if batch.timestamp >= nxt.timestamp:
                return _drop(DropReason.SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN,
                             f"empty batch at {batch.timestamp} past the drift while the next L1 "
                             f"origin (time {nxt.timestamp}) could have been adopted", inclusion,
                             timestamp=batch.timestamp, max_timestamp=max_ts,
                             next_origin_time=nxt.timestamp)  # fmt: skip
            note = "drift allowance: empty batch before a late L1 block keeps L2 time >= L1 time"
    # [New in Jovian] the activation block carries no user transactions.
    if cfg.is_jovian_activation_block(batch.timestamp) and batch.transactions:
        return _drop(DropReason.JOVIAN_ACTIVATION_BLOCK_USER_TXS,
                     f"activation block at {batch.timestamp} has {len(batch.transactions)} user txs",
                     inclusion, timestamp=batch.timestamp, txs=len(batch.transactions))  # fmt: skip
    # [New in Karst] [New in Lagoon] likewise (op-node checkSingularBatch; no spec text yet).
    if (cfg.is_karst_activation_block(batch.timestamp) or cfg.is_interop_activation_block(batch.timestamp)) and batch.transactions:
        return _drop(DropReason.UPGRADE_ACTIVATION_BLOCK_USER_TXS,
                     f"Karst/Lagoon activation block at {batch.timestamp} has "
                     f"{len(batch.transactions)} user txs", inclusion, timestamp=batch.timestamp,
                     txs=len(batch.transactions))  # fmt: skip
    bad = check_batch_txs(cfg, batch.transactions, batch.timestamp, inclusion)
    if bad is not None:
        return bad
    return Verdict(BatchValidity.ACCEPT, None, note)


def check_span_batch_prefix(
    cfg: RollupConfig,
    l1_blocks: Sequence[L1BlockRef],
    l2_safe_head: L2BlockRef,
    batch: SpanBatch,
    inclusion: L1BlockRef,
    l2: SafeBlockFetcher,
) -> tuple[Verdict, L2BlockRef | None]:
    """delta/span-batches.md "Span Batch Validation", the prefix checks (op-node
    ``checkSpanBatchPrefix``); with Holocene these are all a span batch gets before its
    singular batches are checked one by one. Returns the verdict and the parent block."""
    if not l1_blocks:
        return _undecided("missing L1 block input"), None
    if not batch.batches:
        return _undecided("empty span batch"), None
    epoch = l1_blocks[0]
    next_ts = l2_safe_head.timestamp + cfg.block_time
    start_epoch = batch.start_epoch_num()
    batch_origin = epoch
    if start_epoch == batch_origin.number + 1:
        if len(l1_blocks) < 2:
            return _undecided("span batch wants to advance the epoch; next L1 block unknown"), None
        batch_origin = l1_blocks[1]
    if not cfg.is_delta(batch_origin.timestamp):
        return _drop(DropReason.SPAN_BATCH_BEFORE_DELTA,
                     f"span batch L1 origin {batch_origin.number} (time {batch_origin.timestamp}) "
                     "before Delta", inclusion, l1_origin_time=batch_origin.timestamp,
                     delta_time=str(cfg.delta_time)), None  # fmt: skip
    first_ts, last_ts = batch.first_timestamp(), batch.last_timestamp()
    holocene = cfg.is_holocene(inclusion.timestamp)
    if first_ts > next_ts:
        if holocene:
            return _drop(DropReason.FUTURE_TIMESTAMP,
                         f"span start {first_ts} > next L2 timestamp {next_ts}", inclusion,
                         timestamp=first_ts, next_timestamp=next_ts), None  # fmt: skip
        return Verdict(BatchValidity.FUTURE, None, "span batch for later L2 blocks",
                       {"timestamp": first_ts, "next_timestamp": next_ts}), None  # fmt: skip
    if last_ts < next_ts:
        if holocene:
            return Verdict(BatchValidity.PAST, Drop(
                DropReason.PAST_BATCH, f"span end {last_ts} < next L2 timestamp {next_ts}",
                {"end_timestamp": last_ts, "next_timestamp": next_ts}, "", inclusion.id(), STAGE)), None  # fmt: skip
        return _drop(DropReason.SPAN_BATCH_NO_NEW_BLOCKS,
                     f"span end {last_ts} < next L2 timestamp {next_ts}", inclusion,
                     end_timestamp=last_ts, next_timestamp=next_ts), None  # fmt: skip
    parent = l2_safe_head
    if first_ts < next_ts:
        if first_ts > l2_safe_head.timestamp:
            return _drop(DropReason.TIMESTAMP_NOT_ALIGNED,
                         f"span start {first_ts} between safe head time {l2_safe_head.timestamp} "
                         f"and next {next_ts}", inclusion, timestamp=first_ts,
                         safe_head_time=l2_safe_head.timestamp), None  # fmt: skip
        if (l2_safe_head.timestamp - first_ts) % cfg.block_time != 0:
            return _drop(DropReason.SPAN_NOT_OVERLAPPED_EXACTLY,
                         f"(safe head time {l2_safe_head.timestamp} - span start {first_ts}) % "
                         f"block time {cfg.block_time} != 0", inclusion, timestamp=first_ts,
                         safe_head_time=l2_safe_head.timestamp, block_time=cfg.block_time), None  # fmt: skip
        parent_num = l2_safe_head.number - (l2_safe_head.timestamp - first_ts) // cfg.block_time - 1
        try:
            parent = l2.l2_block_ref_by_number(parent_num)
        except (NotFound, TemporaryError) as e:
            # op-node: any L2 fetch error is BatchUndecided; the pre-Holocene batch queue keeps
            # the batch and retries it (a transport error must not lose it: audit D12)
            return _undecided(f"cannot fetch L2 block {parent_num}: {e}", parent=parent_num), None
    if not batch.check_parent_hash(parent.hash):
        return _drop(DropReason.WRONG_PARENT,
                     f"parent check 0x{batch.parent_check.hex()} != L2 block {parent.number} hash "
                     f"{to_hex(parent.hash)}", inclusion, parent=parent.number), parent  # fmt: skip
    if start_epoch + cfg.seq_window_size < inclusion.number:
        return _drop(DropReason.INCLUDED_TOO_LATE,
                     f"start epoch {start_epoch} + seq window {cfg.seq_window_size} < inclusion "
                     f"block {inclusion.number}", inclusion, epoch=start_epoch,
                     seq_window_size=cfg.seq_window_size, inclusion_block=inclusion.number), parent  # fmt: skip
    if start_epoch > parent.l1_origin.number + 1:
        return _drop(DropReason.EPOCH_TOO_FAR_IN_FUTURE,
                     f"start epoch {start_epoch} > parent epoch {parent.l1_origin.number} + 1",
                     inclusion, epoch=start_epoch, parent_epoch=parent.l1_origin.number), parent  # fmt: skip
    end_epoch = batch.final_epoch_num()
    for b in l1_blocks:
        if b.number == end_epoch:
            if not batch.check_origin_hash(b.hash):
                return _drop(DropReason.EPOCH_HASH_MISMATCH,
                             f"L1 origin check 0x{batch.l1_origin_check.hex()} != L1 block "
                             f"{b.number} hash {to_hex(b.hash)}", inclusion, epoch=end_epoch), parent  # fmt: skip
            break
    else:
        return _undecided("need more L1 blocks to check the span batch's L1 origin",
                          end_epoch=end_epoch), parent  # fmt: skip
    if start_epoch < parent.l1_origin.number:
        return _drop(DropReason.EPOCH_TOO_OLD,
                     f"start epoch {start_epoch} < parent epoch {parent.l1_origin.number}",
                     inclusion, epoch=start_epoch, parent_epoch=parent.l1_origin.number), parent  # fmt: skip
    return ACCEPT, parent


def payload_l1_origin_number(cfg: RollupConfig, payload: ExecutionPayload) -> int:
    """The L1 origin number of an L2 block, from its L1-info deposit (op-node
    ``PayloadToBlockRef``: the calldata format is the one the block's timestamp requires,
    ``L1BlockInfoFromBytes``); genesis: the rollup's genesis L1 block. Raises ``CodecError``."""
    if payload.block_number == cfg.genesis.l2.number:
        return cfg.genesis.l1.number
    if not payload.transactions:
        raise L1InfoError("L2 block has no transactions (no L1-info deposit)")
    _, info = decode_l1_info_tx(payload.transactions[0], l1_info_format_at(cfg, payload.timestamp))
    return info.number


def check_span_batch_overlap(
    cfg: RollupConfig,
    batch: SpanBatch,
    parent: L2BlockRef,
    l2_safe_head: L2BlockRef,
    inclusion: L1BlockRef,
    l2: SafeBlockFetcher,
) -> Verdict:
    """delta/span-batches.md "Span Batch Validation", the overlap rule (op-node
    ``checkSpanBatchOverlap``): every span block at heights ``parent + 1 .. safe head`` must
    carry exactly the non-deposit transactions of the canonical safe block at that height, and
    the same L1 origin number. A mismatch drops the batch; a block that cannot be fetched leaves
    it ``UNDECIDED``. ``parent`` is the parent the prefix checks found (the safe head itself
    when the span does not overlap, then nothing is compared)."""
    for i in range(l2_safe_head.number - parent.number):
        num = parent.number + i + 1
        try:
            payload = l2.payload_by_number(num)
        except (NotFound, TemporaryError) as e:
            # op-node: any fetch error is BatchUndecided (D12: a transport error too)
            return _undecided(f"cannot fetch L2 payload {num}: {e}", number=num)
        safe_txs = payload.transactions
        batch_txs = batch.batches[i].transactions
        deposits = sum(1 for t in safe_txs if t[:1] == bytes([DEPOSIT_TX_TYPE]))
        if len(safe_txs) - deposits != len(batch_txs):
            return _drop(DropReason.OVERLAP_TX_COUNT_MISMATCH,
                         f"L2 block {num} has {len(safe_txs) - deposits} non-deposit txs, "
                         f"span block {i} has {len(batch_txs)}", inclusion, number=num,
                         safe_txs=len(safe_txs) - deposits, batch_txs=len(batch_txs))  # fmt: skip
        for j, tx in enumerate(batch_txs):
            if safe_txs[j + deposits] != tx:
                return _drop(DropReason.OVERLAP_TX_MISMATCH,
                             f"L2 block {num} tx {j + deposits} differs from span block {i} tx {j}",
                             inclusion, number=num, tx_index=j)  # fmt: skip
        try:
            origin_num = payload_l1_origin_number(cfg, payload)
        except CodecError as e:
            return _drop(DropReason.OVERLAP_PAYLOAD_INVALID, f"L2 block {num}: {e}", inclusion,
                         number=num)  # fmt: skip
        if origin_num != batch.batches[i].epoch_num:
            return _drop(DropReason.OVERLAP_L1_ORIGIN_MISMATCH,
                         f"L2 block {num} L1 origin {origin_num} != span block {i} epoch "
                         f"{batch.batches[i].epoch_num}", inclusion, number=num,
                         l1_origin=origin_num, epoch=batch.batches[i].epoch_num)  # fmt: skip
    return ACCEPT


def check_span_batch_holocene(
    cfg: RollupConfig,
    l1_blocks: Sequence[L1BlockRef],
    l2_safe_head: L2BlockRef,
    batch: SpanBatch,
    inclusion: L1BlockRef,
    l2: SafeBlockFetcher,
) -> Verdict:
    """[New in Holocene] the checks a span batch gets as a whole (op-node
    ``checkSpanBatchHolocene``): the prefix checks, then the overlap with the safe chain
    (:func:`check_span_batch_overlap`). The per-block rules are left to each singular batch
    (holocene/derivation.md "Span Batches": forwards-invalidation).

    The overlap check was added to Holocene retroactively (specs PR #928 "holocene: require
    span batch overlap checks", optimism PR #22215, both clients, Aug 2026): since interop a
    safe block can be a deposits-only replacement, and a span whose overlapped part disagrees
    with the safe chain describes another history, so its new blocks must not be applied.
    Before that change the overlapped blocks were skipped without a comparison. The specs
    mirror we cite (Apr 2026) predates PR #928; op-node v1.19.6, our reference, has the check.
    """
    prefix, parent = check_span_batch_prefix(cfg, l1_blocks, l2_safe_head, batch, inclusion, l2)
    if prefix.validity is not BatchValidity.ACCEPT or parent is None:
        return prefix
    return check_span_batch_overlap(cfg, batch, parent, l2_safe_head, inclusion, l2)


def check_span_batch(
    cfg: RollupConfig,
    l1_blocks: Sequence[L1BlockRef],
    l2_safe_head: L2BlockRef,
    batch: SpanBatch,
    inclusion: L1BlockRef,
    l2: SafeBlockFetcher,
) -> Verdict:
    """The full pre-Holocene span-batch check (op-node ``checkSpanBatch``): prefix, then every
    block after the safe head (L1 origin, drift and transaction rules), then the blocks that
    overlap the safe chain must match it (delta/span-batches.md "Span Batch Validation")."""
    prefix, parent = check_span_batch_prefix(cfg, l1_blocks, l2_safe_head, batch, inclusion, l2)
    if prefix.validity is not BatchValidity.ACCEPT or parent is None:
        return prefix
    start_epoch = batch.start_epoch_num()
    origin_idx = 0
    origin_advanced = start_epoch == parent.l1_origin.number + 1
    notes: list[str] = []
    for i, el in enumerate(batch.batches):
        if el.timestamp <= l2_safe_head.timestamp:
            continue
        if el.epoch_num < l2_safe_head.l1_origin.number:
            return _drop(DropReason.L1_ORIGIN_BEFORE_SAFE_HEAD,
                         f"block {i} epoch {el.epoch_num} < safe head epoch {l2_safe_head.l1_origin.number}",
                         inclusion, block=i, epoch=el.epoch_num,
                         safe_head_epoch=l2_safe_head.l1_origin.number)  # fmt: skip
        l1_origin: L1BlockRef | None = None
        for j in range(origin_idx, len(l1_blocks)):
            if l1_blocks[j].number == el.epoch_num:
                l1_origin = l1_blocks[j]
                origin_idx = j
                break
        if l1_origin is None:
            return _drop(DropReason.MISSING_L1_ORIGIN, f"block {i} epoch {el.epoch_num} not known",
                         inclusion, block=i, epoch=el.epoch_num)  # fmt: skip
        if i > 0:
            origin_advanced = el.epoch_num > batch.batches[i - 1].epoch_num
        if el.timestamp < l1_origin.timestamp:
            return _drop(DropReason.TIMESTAMP_BEFORE_L1_ORIGIN,
                         f"block {i} timestamp {el.timestamp} < L1 origin time {l1_origin.timestamp}",
                         inclusion, block=i, timestamp=el.timestamp,
                         l1_origin_time=l1_origin.timestamp)  # fmt: skip
        max_drift = cfg.max_sequencer_drift_at(l1_origin.timestamp)
        max_ts = l1_origin.timestamp + max_drift
        if el.timestamp > max_ts:
            if el.transactions:
                return _drop(DropReason.SEQUENCER_DRIFT_EXCEEDED,
                             f"block {i} timestamp {el.timestamp} > L1 origin time "
                             f"{l1_origin.timestamp} + max drift {max_drift} with txs", inclusion,
                             block=i, timestamp=el.timestamp, max_timestamp=max_ts)  # fmt: skip
            if not origin_advanced:
                if origin_idx + 1 >= len(l1_blocks):
                    return _undecided("empty span block past the drift: need the next L1 block",
                                      block=i)  # fmt: skip
                nxt = l1_blocks[origin_idx + 1]
                if el.timestamp >= nxt.timestamp:
                    return _drop(DropReason.SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN,
                                 f"block {i} at {el.timestamp} past the drift, next L1 origin time "
                                 f"{nxt.timestamp} could have been adopted", inclusion, block=i,
                                 timestamp=el.timestamp, next_origin_time=nxt.timestamp)  # fmt: skip
                notes.append(f"drift allowance for block {i}")
        bad = check_batch_txs(cfg, el.transactions, el.timestamp, inclusion)
        if bad is not None:
            return bad
    # Overlapped blocks must match the safe chain.
    next_ts = l2_safe_head.timestamp + cfg.block_time
    if batch.first_timestamp() < next_ts:
        overlap = check_span_batch_overlap(cfg, batch, parent, l2_safe_head, inclusion, l2)
        if overlap.validity is not BatchValidity.ACCEPT:
            return overlap
    return Verdict(BatchValidity.ACCEPT, None, "; ".join(notes))


def check_batch(
    cfg: RollupConfig,
    l1_blocks: Sequence[L1BlockRef],
    l2_safe_head: L2BlockRef,
    batch: Batch,
    inclusion: L1BlockRef,
    l2: SafeBlockFetcher,
) -> Verdict:
    """op-node ``CheckBatch``: dispatch on the batch type."""
    if isinstance(batch, SingularBatch):
        return check_singular_batch(cfg, l1_blocks, l2_safe_head, batch, inclusion)
    return check_span_batch(cfg, l1_blocks, l2_safe_head, batch, inclusion, l2)
