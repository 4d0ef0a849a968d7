"""``superroot_atTimestamp`` for the node's single chain (op-node v1.19.6
``op-node/node/superroot_api.go``: "the non-interop counterpart to op-supernode's superroot
activity", so dispute tooling can point its supernode RPC at a rollup node and get one chain).

Super root v1 (``op-service/eth/super_root.go``): ``keccak256(0x01 ‖ timestamp (uint64 BE) ‖
(chain id (uint256 BE) ‖ output root)*)`` with the chains sorted by chain id.

The answer for a timestamp ``t`` (``superrootAPI.atTimestamp``): the L2 block at ``t``
(``TargetBlockNumber``: ``genesis.l2.number + (t - genesis.l2_time) // block_time``); while that
block is beyond the engine's chain or above the local-safe head, only the status skeleton (the
chain's block is omitted); otherwise its output (``OutputV0``), output root, the L1 block at
which it became safe (``safeDB.L1AtSafeHead``; the L2 genesis: L1 block 0, "contracts may
pre-date it") and the super root over the one chain.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_hash.auto import keccak

from pyop.primitives import BlockID, PyopError

__all__ = [
    "SUPER_ROOT_VERSION_V1",
    "L1AtSafeHeadError",
    "l1_at_safe_head",
    "super_root_v1",
    "super_v1_bytes",
    "target_block_number",
]

SUPER_ROOT_VERSION_V1 = 1


class L1AtSafeHeadError(PyopError):
    """op-node ``safedb.ErrL1AtSafeHeadNotFound`` / ``ErrL1AtSafeHeadUnavailable``."""


def super_v1_bytes(timestamp: int, chains: Sequence[tuple[int, bytes]]) -> bytes:
    """``SuperV1.Marshal`` of ``(chain id, output root)`` pairs (sorted by chain id here, as
    ``NewSuperV1``)."""
    out = bytearray([SUPER_ROOT_VERSION_V1]) + timestamp.to_bytes(8, "big")
    for chain_id, root in sorted(chains):
        out += chain_id.to_bytes(32, "big") + root
    return bytes(out)


def super_root_v1(timestamp: int, chains: Sequence[tuple[int, bytes]]) -> bytes:
    """``eth.SuperRoot``: keccak256 of :func:`super_v1_bytes`."""
    return bytes(keccak(super_v1_bytes(timestamp, chains)))


def target_block_number(genesis_number: int, genesis_time: int, block_time: int, timestamp: int) -> int:
    """op-node ``rollup.Config.TargetBlockNumber`` (rounds down)."""
    if timestamp < genesis_time:
        raise PyopError(f"did not reach genesis time ({genesis_time}) yet")
    return genesis_number + (timestamp - genesis_time) // block_time


def l1_at_safe_head(entries: Sequence[tuple[BlockID, BlockID]], target: int) -> tuple[BlockID, BlockID]:
    """op-node ``SafeDB.L1AtSafeHead``: the earliest recorded ``(L1 block, safe head)`` whose
    safe head is at or above L2 block ``target``, walking back from the newest entry (``entries``
    ordered by L1 number) while the previous safe head is still at or above ``target``."""
    if not entries:
        raise L1AtSafeHeadError("l1 at safe head not found")
    cursor = entries[-1]
    if target > cursor[1].number:
        raise L1AtSafeHeadError("l1 at safe head not found")
    for prev in reversed(entries[:-1]):
        if prev[1].number < target:
            return cursor
        cursor = prev
    if cursor[1].number == target:
        return cursor
    raise L1AtSafeHeadError("l1 at safe head history unavailable")
