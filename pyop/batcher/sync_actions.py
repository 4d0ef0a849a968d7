"""What to do after each sync status (op-batcher/batcher/sync_actions.go
``computeSyncActions``).

The batcher's state is the queue of unsafe blocks it loaded (oldest first) and its channels.
Each poll it compares that state with the rollup node's ``optimism_syncStatus`` and returns:

- blocks to prune: those at or below the (local) safe head, now derived from L1;
- channels to prune: those whose newest block is at or below the safe head;
- blocks to load: from the block after the newest in state (or after the safe head) up to the
  unsafe head;
- or **clear the state** and start over from the safe head, when the state no longer fits the
  chain: the safe head is below the oldest block in state or above the newest, the block at the
  safe head's height is not the safe head (an L2 reorg), or a fully submitted channel that did
  not time out was not derived although the node's L1 view passed its last inclusion block
  (e.g. Holocene dropped it for being out of order).

It returns "out of sync" (do nothing now) when the status has an empty head or the node's
``current_l1`` went backwards (the node is resetting).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pyop.batcher.blocks import L2Block
from pyop.batcher.rollup_client import SyncStatus
from pyop.opservice.logs import kv
from pyop.primitives import BlockID, L1BlockRef, L2BlockRef

ZERO32 = b"\x00" * 32
ZERO_L1 = L1BlockRef(ZERO32, 0, ZERO32, 0)
ZERO_L2 = L2BlockRef(ZERO32, 0, ZERO32, 0, BlockID(ZERO32, 0), 0)
"""A ref with every field zero: absent from the status (Go ``isZero``)."""
log = logging.getLogger("pyop.batcher.sync")

__all__ = ["BlockRange", "SyncActions", "compute_sync_actions"]


class ChannelStatus(Protocol):
    def is_fully_submitted(self) -> bool: ...
    def is_timed_out(self) -> bool: ...
    def max_inclusion(self) -> int: ...
    @property
    def latest_l2(self) -> BlockID: ...


@dataclass(frozen=True, slots=True)
class BlockRange:
    """An inclusive range of L2 block numbers."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SyncActions:
    """Go ``syncActions``; ``clear_state`` is the L1 origin of the safe head to restart from."""

    clear_state: BlockID | None = None
    blocks_to_prune: int = 0
    channels_to_prune: int = 0
    blocks_to_load: BlockRange | None = None


def compute_sync_actions(status: SyncStatus, prev_current_l1: L1BlockRef,
                         blocks: Sequence[L2Block], channels: Sequence[ChannelStatus],
                         ) -> tuple[SyncActions, bool]:  # fmt: skip
    """``(actions, out_of_sync)`` (module docstring)."""
    safe = status.local_safe_l2
    if (safe == ZERO_L2 or status.unsafe_l2 == ZERO_L2 or status.head_l1 == ZERO_L1
            or status.current_l1 == ZERO_L1):  # fmt: skip
        log.warning("empty BlockRef in sync status")
        return SyncActions(), True
    if status.current_l1.number < prev_current_l1.number:
        log.warning("sequencer currentL1 reversed", extra=kv(prev=prev_current_l1.number,
                                                             current=status.current_l1.number))  # fmt: skip
        return SyncActions(), True
    all_unsafe = (BlockRange(safe.number + 1, status.unsafe_l2.number)
                  if status.unsafe_l2.number > safe.number else None)  # fmt: skip
    if not blocks:
        return SyncActions(blocks_to_load=all_unsafe), False
    afresh = SyncActions(clear_state=safe.l1_origin, blocks_to_load=all_unsafe)
    oldest, newest = blocks[0].number, blocks[-1].number
    next_safe = safe.number + 1
    if next_safe < oldest:
        log.warning("next safe block is below oldest block in state",
                    extra=kv(next_safe=next_safe, oldest=oldest))  # fmt: skip
        return afresh, False
    to_dequeue = next_safe - oldest
    if to_dequeue > len(blocks):
        log.warning("safe head above newest block in state, clearing channel manager state",
                    extra=kv(safe=safe.number, newest=newest))  # fmt: skip
        return afresh, False
    if to_dequeue > 0 and blocks[to_dequeue - 1].hash != safe.hash:
        log.warning("safe chain reorg, clearing channel manager state",
                    extra=kv(safe=safe.number, existing=blocks[to_dequeue - 1].hash.hex()))  # fmt: skip
        return afresh, False
    for ch in channels:
        if (ch.is_fully_submitted() and not ch.is_timed_out()
                and status.current_l1.number > ch.max_inclusion()
                and safe.number < ch.latest_l2.number):  # fmt: skip
            log.warning("sequencer did not make expected progress",
                        extra=kv(existing_block=ch.latest_l2.number, safe=safe.number))  # fmt: skip
            return afresh, False
    channels_to_prune = 0
    for ch in channels:
        if ch.latest_l2.number > safe.number:
            break
        channels_to_prune += 1
    above = BlockRange(newest + 1, status.unsafe_l2.number) if status.unsafe_l2.number > newest else None
    return SyncActions(blocks_to_prune=to_dequeue, channels_to_prune=channels_to_prune,
                       blocks_to_load=above), False  # fmt: skip
