"""Pipeline reset: where the pipeline restarts from, given the L2 safe head.

Spec: specs/protocol/derivation.md "Resetting the Pipeline" / "Finding the sync starting point"
and "Resetting derivation stages"; holocene/derivation.md "Sync Start". Go: op-node
``DerivationPipeline.initialReset`` (pipeline.go).

Rule (op-node): starting from the safe head, walk back L2 blocks while the block is after L2
genesis, its L1 origin is after L1 genesis, and its L1 origin is less than one channel timeout
(the timeout in force at that origin's timestamp) behind the safe head's L1 origin. The L1
origin of the block where the walk stops is the pipeline's new L1 origin, and the SystemConfig
is rebuilt from that L2 block (``L2Source.system_config_by_l2_hash``). Channels opened up to a
channel timeout before the safe head's origin can then still be completed. Finding the safe
head itself (op-node ``FindL2Heads``) is the engine's job, not the pipeline's.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyop.config import RollupConfig
from pyop.derivation.errors import ResetError, TemporaryError
from pyop.derivation.interfaces import L1Source, L2Source, NotFound
from pyop.primitives import L1BlockRef, L2BlockRef, SystemConfig


@dataclass(frozen=True, slots=True)
class ResetTarget:
    """Where to restart: the L1 origin, the SystemConfig, and the L2 block they came from."""

    l1_origin: L1BlockRef
    system_config: SystemConfig
    l2_block: L2BlockRef
    safe_head: L2BlockRef


def find_reset_target(cfg: RollupConfig, l1: L1Source, l2: L2Source, safe_head: L2BlockRef) -> ResetTarget:
    """op-node ``initialReset``: see the module docstring. Raises :class:`TemporaryError` when L1
    data is missing and :class:`ResetError` when the L2 chain cannot be walked."""
    l1_origin_num = safe_head.l1_origin.number
    block = safe_head
    try:
        origin = l1.l1_block_ref_by_hash(block.l1_origin.hash)
    except NotFound as e:
        raise TemporaryError(f"L1 origin {block.l1_origin.number} of the safe head: {e}") from None
    while (
        block.number > cfg.genesis.l2.number
        and block.l1_origin.number > cfg.genesis.l1.number
        and block.l1_origin.number + cfg.channel_timeout_at(origin.timestamp) > l1_origin_num
    ):
        try:
            block = l2.l2_block_ref_by_hash(block.parent_hash)
        except NotFound as e:
            raise ResetError(f"failed to fetch L2 parent of block {block.number}: {e}") from None
        try:
            origin = l1.l1_block_ref_by_hash(block.l1_origin.hash)
        except NotFound as e:
            raise TemporaryError(f"L1 origin {block.l1_origin.number} of L2 block {block.number}: {e}") from None
    try:
        sys_cfg = l2.system_config_by_l2_hash(block.hash)
    except NotFound as e:
        raise TemporaryError(f"system config of L2 block {block.number}: {e}") from None
    return ResetTarget(origin, sys_cfg, block, safe_head)
