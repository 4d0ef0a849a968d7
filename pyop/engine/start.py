"""Finding the L2 heads to resume from (op-node ``sync.FindL2Heads``, op-node/rollup/sync/start.go;
specs/protocol/derivation.md "Resetting the Pipeline" / "Finding the sync starting point").

The engine's forkchoice labels give the current heads (``finalized`` defaults to the L2 genesis,
``safe`` to ``finalized``; ``latest`` is the unsafe head). Then, walking back from the unsafe
head over the L2 parent links:

- every step checks the chain is consistent: an L2 block's L1 origin is its parent's or the next
  L1 block (then with sequence number 0), else sequence numbers increase by one;
- with an L1 source: the unsafe head moves back to the highest L2 block whose L1 origin is
  canonical on L1 (an L1 reorg under the unsafe chain), and the safe head moves back to a block at
  or below the engine's safe head with sequence number 0 whose L1 origin is more than a sync
  lookback (the sequencing window, or the alt-DA windows if larger) behind the highest canonical
  origin -- so derivation restarts from a point L1 still confirms;
- the walk stops at the finalized head (never reorged: its hash must match), which then bounds
  the safe head.

Without an L1 source (an engine-only restart) the safe head is the engine's, checked by the walk.

Recovery cases as op-node v1.19.6 (``L2HeadsForELSyncWithOffset``): an engine with unsafe behind
safe/finalized (rewound without a forkchoice update), or a chain whose finality is still at
genesis long after genesis (no forkchoice state was ever persisted, e.g. op-geth restored from a
snapshot), resumes with unsafe at the engine's tip and safe = finalized =
``tip - ceil(offset_el_safe / block_time)`` (clamped at genesis; ``--syncmode.offset-el-safe``,
default 12 h), so the last 12 h are derived again rather than trusted. (Up to op-node v1.13
all three heads went to the tip: blocks never derived were declared finalized.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from pyop.config import RollupConfig
from pyop.engine.l2_reader import L2Reader
from pyop.errors import ResetError
from pyop.primitives import L1BlockRef, L1Header, L2BlockRef, to_hex
from pyop.sources.interfaces import NotFound

MAX_REORG_SEQ_WINDOWS = 5
"""op-node ``MaxReorgSeqWindows``: a walk back deeper than this many sync lookbacks is refused."""
RECOVER_MIN_SEQ_WINDOWS = 14
"""op-node ``RecoverMinSeqWindows``: finality still at genesis this far in means no forkchoice
state was persisted; resume from the unsafe head."""


OFFSET_EL_SAFE_DEFAULT = 12 * 3600.0
"""op-node v1.19.6 ``--syncmode.offset-el-safe`` default (12 h), in seconds."""


def duration_to_blocks(offset: float, block_time: int) -> int:
    """op-node ``sync.DurationToBlocks``: ``ceil(offset / block_time)`` over whole seconds; 0 for
    a zero or negative offset or block time."""
    if offset <= 0 or block_time <= 0:
        return 0
    sec = int(offset)
    return (sec + block_time - 1) // block_time


def offset_block_num(offset: float, block_time: int, head: int, genesis: int) -> int:
    """op-node ``sync.OffsetBlockNum``: the block ``offset`` behind ``head``, never below
    ``genesis``."""
    n = duration_to_blocks(offset, block_time)
    if n == 0 or head <= genesis:
        return head
    return head - min(n, head - genesis)


class FindHeadsError(ResetError):
    """The L2 chain is inconsistent (bad parent links); try again later / after a reset."""


class FindHeadsRefused(ResetError):
    """The walk found a chain it must not resume from. op-node v1.19.6 does not halt on these:
    ``onResetEngineRequest`` answers a ``FindL2Heads`` error with another ``ResetEvent``, so the
    node keeps trying (logging each failure) until the engine or L1 changes; the caller retries
    with a back-off."""


class WrongChainError(FindHeadsRefused):
    """The engine's genesis is not the rollup config's (op-node ``WrongChainErr``)."""


class ReorgFinalizedError(FindHeadsRefused):
    """Walking back met a different block at the finalized height (``ReorgFinalizedErr``)."""


class TooDeepReorgError(FindHeadsRefused):
    """The walk back went deeper than ``MAX_REORG_SEQ_WINDOWS`` lookbacks (``TooDeepReorgErr``)."""


class L1HeaderReader(Protocol):
    """Async L1 header reads (:class:`pyop.sources.l1.AsyncL1Client` satisfies it)."""

    async def header_by_number(self, n: int) -> L1Header: ...

    async def header_by_hash(self, block_hash: bytes) -> L1Header: ...


@dataclass(frozen=True, slots=True)
class FindHeadsResult:
    """The heads to start from (op-node ``FindHeadsResult``)."""

    unsafe: L2BlockRef
    safe: L2BlockRef
    finalized: L2BlockRef


def sync_lookback(cfg: RollupConfig) -> int:
    """op-node ``Config.SyncLookback``: the sequencing window, or the alt-DA challenge + resolve
    windows if that is longer."""
    if cfg.alt_da is not None:
        win = cfg.alt_da.da_challenge_window + cfg.alt_da.da_resolve_window
        if win > cfg.seq_window_size:
            return win
    return cfg.seq_window_size


async def current_heads(cfg: RollupConfig, l2: L2Reader) -> FindHeadsResult:
    """The engine's forkchoice labels (op-node ``currentHeads``)."""
    try:
        finalized = await l2.ref_by_number("finalized")
    except NotFound:
        finalized = await l2.ref_by_hash(cfg.genesis.l2.hash)
    try:
        safe = await l2.ref_by_number("safe")
    except NotFound:
        safe = finalized
    unsafe = await l2.ref_by_number("latest")
    return FindHeadsResult(unsafe, safe, finalized)


def _check_link(n: L2BlockRef, parent: L2BlockRef, l1_block: L1BlockRef | None) -> None:
    if parent.l1_origin != n.l1_origin:
        if parent.l1_origin.number + 1 != n.l1_origin.number:
            raise FindHeadsError(
                f"L2 parent {parent.number} of {n.number} has L1 origin {parent.l1_origin.number}, "
                f"not the one before {n.l1_origin.number}"
            )
        if n.sequence_number != 0:
            raise FindHeadsError(
                f"L2 block {n.number} starts L1 origin {n.l1_origin.number} with sequence number "
                f"{n.sequence_number}, not 0"
            )
        if l1_block is not None and l1_block.hash == n.l1_origin.hash and l1_block.parent_hash != parent.l1_origin.hash:
            raise FindHeadsError(
                f"L2 block {parent.number} has L1 origin {to_hex(parent.l1_origin.hash)}, but L1 says "
                f"the parent of {n.l1_origin.number} is {to_hex(l1_block.parent_hash)}"
            )
    elif parent.sequence_number + 1 != n.sequence_number:
        raise FindHeadsError(
            f"sequence number {parent.sequence_number} -> {n.sequence_number} between L2 blocks "
            f"{parent.number} and {n.number}"
        )


async def heads_with_offset(cfg: RollupConfig, l2: L2Reader, tip: L2BlockRef, offset_el_safe: float) -> FindHeadsResult:
    """op-node ``L2HeadsForELSyncWithOffset``: unsafe at ``tip``, safe and finalized
    ``offset_el_safe`` seconds of blocks behind it (clamped at genesis)."""
    target = offset_block_num(offset_el_safe, cfg.block_time, tip.number, cfg.genesis.l2.number)
    derived = tip if target >= tip.number else await l2.ref_by_number(target)
    return FindHeadsResult(tip, derived, derived)


async def find_l2_heads(
    cfg: RollupConfig,
    l2: L2Reader,
    l1: L1HeaderReader | None = None,
    *,
    log: logging.Logger | None = None,
    offset_el_safe: float = OFFSET_EL_SAFE_DEFAULT,
) -> FindHeadsResult:
    """The unsafe, safe and finalized heads to resume from (see the module docstring)."""
    lg = log or logging.getLogger("pyop.engine.start")
    cur = await current_heads(cfg, l2)
    lg.info(
        "loaded current L2 heads: unsafe %d, safe %d, finalized %d",
        cur.unsafe.number, cur.safe.number, cur.finalized.number,
    )  # fmt: skip
    genesis = cfg.genesis
    lookback = sync_lookback(cfg)
    if (
        cur.finalized.hash == genesis.l2.hash
        and cur.safe.hash == genesis.l2.hash
        and cur.unsafe.number > genesis.l2.number
        and cur.unsafe.l1_origin.number > genesis.l1.number + RECOVER_MIN_SEQ_WINDOWS * cfg.seq_window_size
    ):
        res = await heads_with_offset(cfg, l2, cur.unsafe, offset_el_safe)
        lg.warning("recovering from a sync state without finality: unsafe head %d, safe and finalized "
                   "%d (--syncmode.offset-el-safe %ds behind)", cur.unsafe.number, res.safe.number,
                   int(offset_el_safe))  # fmt: skip
        return res
    if cur.unsafe.number < cur.finalized.number or cur.unsafe.number < cur.safe.number:
        res = await heads_with_offset(cfg, l2, cur.unsafe, offset_el_safe)
        lg.error(
            "unsafe head %d is behind safe %d / finalized %d: the engine was rewound without a "
            "forkchoice update; resuming with safe and finalized at %d (--syncmode.offset-el-safe)",
            cur.unsafe.number, cur.safe.number, cur.finalized.number, res.safe.number,
        )  # fmt: skip
        return res

    prev_unsafe = cur.unsafe
    unsafe: L2BlockRef | None = cur.unsafe
    safe = cur.safe
    n = cur.unsafe
    l1_block: L1BlockRef | None = None
    highest_canonical: L2BlockRef | None = None  # highest L2 block with a canonical L1 origin
    ahead = False  # n's L1 origin is not on our L1 source yet
    ready = False
    while True:
        if l1 is not None:
            if l1_block is not None and n.l1_origin.hash == l1_block.parent_hash:
                l1_block = (await l1.header_by_hash(n.l1_origin.hash)).ref()
                ahead = False
            elif l1_block is None or n.l1_origin.hash != l1_block.hash:
                try:
                    l1_block = (await l1.header_by_number(n.l1_origin.number)).ref()
                    ahead = False
                except NotFound:
                    l1_block, ahead = None, True

        if n.number == genesis.l2.number:
            if n.hash != genesis.l2.hash:
                raise WrongChainError(
                    f"L2 genesis is {to_hex(genesis.l2.hash)}, the engine has {to_hex(n.hash)}"
                )
            if l1 is not None and not ahead and (l1_block is None or l1_block.hash != genesis.l1.hash):
                got = "none" if l1_block is None else to_hex(l1_block.hash)
                raise WrongChainError(f"L1 genesis is {to_hex(genesis.l1.hash)}, L1 has {got}")
        if n.number == cur.finalized.number and n.hash != cur.finalized.hash:
            raise ReorgFinalizedError(
                f"finalized L2 block {n.number} is {to_hex(cur.finalized.hash)}, the chain has {to_hex(n.hash)}"
            )

        if unsafe is None:
            unsafe = n
            if n.l1_origin.number + MAX_REORG_SEQ_WINDOWS * lookback < prev_unsafe.l1_origin.number:
                raise TooDeepReorgError(
                    f"walked back to L2 block {n.number}, too deep below the previous unsafe head "
                    f"{prev_unsafe.number}"
                )

        if l1 is not None:
            if ahead:
                highest_canonical = None
            elif l1_block is not None and l1_block.hash == n.l1_origin.hash:
                if highest_canonical is None:
                    highest_canonical = n
            else:  # n's L1 origin was reorged out: the unsafe head is further back
                unsafe = None
                highest_canonical = None
            if (
                n.number <= safe.number
                and highest_canonical is not None
                and n.l1_origin.number + lookback < highest_canonical.l1_origin.number
                and n.sequence_number == 0
            ):
                ready = True
        elif n.number <= cur.safe.number:
            # no L1 to check against: the engine's safe head stands once the walk reaches it
            return FindHeadsResult(unsafe or n, cur.safe, cur.finalized)

        if n.number == cur.finalized.number:
            lg.info("walk back hit the finalized head %d", n.number)
            return FindHeadsResult(unsafe or n, n, cur.finalized)

        parent = await l2.ref_by_hash(n.parent_hash)
        _check_link(n, parent, l1_block)
        n = parent
        if ready:
            return FindHeadsResult(unsafe or n, n, cur.finalized)
