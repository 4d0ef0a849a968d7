"""compute_sync_actions against op-batcher's own table (optimism v1.19.6
op-batcher/batcher/sync_actions_test.go ``TestBatchSubmitter_computeSyncActions``: the same
inputs and expected actions)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pyop.batcher.blocks import L2Block
from pyop.batcher.rollup_client import SyncStatus
from pyop.batcher.sync_actions import BlockRange, SyncActions, compute_sync_actions
from pyop.primitives import BlockID, L1BlockRef, L2BlockRef

Z = b"\x00" * 32


def blk(n: int) -> L2Block:
    return L2Block(n, bytes([n]) * 32, bytes([n - 1]) * 32, 0, BlockID(Z, 0), 0, ())


B101, B102, B103, B104 = blk(101), blk(102), blk(103), blk(104)


@dataclass
class Ch:
    latest_l2: BlockID
    inclusion: int
    fully_submitted: bool
    timed_out: bool

    def is_fully_submitted(self) -> bool:
        return self.fully_submitted

    def is_timed_out(self) -> bool:
        return self.timed_out

    def max_inclusion(self) -> int:
        return self.inclusion


CH103 = Ch(B103.id, 1, True, False)
CH104 = Ch(B104.id, 1, False, False)


def l1(n: int = 0) -> L1BlockRef:
    return L1BlockRef(Z, n, Z, 0)


def l2(n: int = 0, h: bytes = Z, origin: int = 0) -> L2BlockRef:
    return L2BlockRef(h, n, Z, 0, BlockID(Z, origin), 0)


def st(head: int = 0, current: int = 0, local_safe: L2BlockRef | None = None, unsafe: int = 0,
       safe: L2BlockRef | None = None) -> SyncStatus:  # fmt: skip
    return SyncStatus(l1(head), l1(current), safe or l2(), local_safe or l2(), l2(unsafe), l2())


CASES = [
    ("empty sync status", st(), l1(), [], [], SyncActions(), True),
    ("empty currentL1", st(2, 0, l2(100), 101), l1(), [], [], SyncActions(), True),
    ("current l1 reversed", st(2, 1, l2(100), 101), l1(2), [], [], SyncActions(), True),
    ("gap between safe chain and state", st(6, 1, l2(100, origin=1), 109), l1(1), [B102, B103],
     [CH103], SyncActions(clear_state=BlockID(Z, 1), blocks_to_load=BlockRange(101, 109)), False),
    ("unexpectedly good progress", st(6, 2, l2(104, origin=1), 109), l1(1), [B101, B102, B103],
     [CH103], SyncActions(clear_state=BlockID(Z, 1), blocks_to_load=BlockRange(105, 109)), False),
    ("safe chain reorg", st(5, 2, l2(103, B101.hash, 1), 109), l1(1), [B101, B102, B103], [CH103],
     SyncActions(clear_state=BlockID(Z, 1), blocks_to_load=BlockRange(104, 109)), False),
    ("failed to make expected progress", st(3, 2, l2(101, B101.hash, 1), 109), l1(1),
     [B101, B102, B103], [CH103],
     SyncActions(clear_state=BlockID(Z, 1), blocks_to_load=BlockRange(102, 109)), False),
    ("failed to make expected progress (unsafe=safe)", st(3, 2, l2(101, B101.hash, 1), 101), l1(1),
     [B102, B103], [CH103], SyncActions(clear_state=BlockID(Z, 1)), False),
    ("no progress", st(4, 1, l2(100), 109), l1(1), [B101, B102, B103], [CH103],
     SyncActions(blocks_to_load=BlockRange(104, 109)), False),
    ("no blocks", st(5, 2, l2(103, B103.hash), 109), l1(1), [], [],
     SyncActions(blocks_to_load=BlockRange(104, 109)), False),
    ("happy path", st(5, 2, l2(103, B103.hash), 109), l1(1), [B101, B102, B103], [CH103],
     SyncActions(blocks_to_prune=3, channels_to_prune=1, blocks_to_load=BlockRange(104, 109)), False),
    ("happy path + multiple channels", st(5, 2, l2(103, B103.hash), 109), l1(1),
     [B101, B102, B103, B104], [CH103, CH104],
     SyncActions(blocks_to_prune=3, channels_to_prune=1, blocks_to_load=BlockRange(105, 109)), False),
    ("no progress + unsafe=safe", st(5, 2, l2(100), 100), l1(1), [], [], SyncActions(), False),
    ("no progress + unsafe=safe + blocks in state", st(5, 2, l2(101, B101.hash), 101), l1(1), [B101],
     [], SyncActions(blocks_to_prune=1), False),
    ("localSafeL2 > safeL2, no blocks in state",
     st(5, 2, l2(104, B104.hash), 109, safe=l2(103, B103.hash)), l1(1), [], [],
     SyncActions(blocks_to_load=BlockRange(105, 109)), False),
    ("LocalSafeL2=0,SafeL2>0", st(5, 2, None, 109, safe=l2(104, B104.hash)), l1(1), [], [],
     SyncActions(), True),
]  # fmt: skip


@pytest.mark.parametrize("name,status,prev,blocks,channels,want,out_of_sync", CASES, ids=[c[0] for c in CASES])
def test_compute_sync_actions_matches_go(name: str, status: SyncStatus, prev: L1BlockRef,
                                         blocks: list[L2Block], channels: list[Ch],
                                         want: SyncActions, out_of_sync: bool) -> None:  # fmt: skip
    got, oos = compute_sync_actions(status, prev, blocks, channels)
    assert (got, oos) == (want, out_of_sync)
