"""The rollup node and L2 execution endpoints the batcher reads (Go ``dial.L2EndpointProvider``:
a ``RollupClient`` and an L2 ``PayloadSource``).

- ``optimism_syncStatus`` (op-node ``eth.SyncStatus``: ``head_l1``, ``current_l1``, ``safe_l2``,
  ``local_safe_l2``, ``unsafe_l2``, ...; numbers as JSON integers) every poll;
- ``optimism_rollupConfig`` once at start (the rollup.json object);
- ``admin_sequencerActive`` is not used: pyop batcher talks to one rollup node.
- L2 blocks by number with full transactions (``eth_getBlockByNumber``), as execution payloads.

Works with any node serving op-node's RPC: the Go op-node, ``pyop node``, kona.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyop.batcher.blocks import L2Block, block_from_payload
from pyop.batcher.errors import BatcherError
from pyop.config import RollupConfig
from pyop.primitives import BlockID, L1BlockRef, L2BlockRef, from_hex, hex_to_int
from pyop.sources.l2 import AsyncL2Client
from pyop.sources.rpc import AsyncRPCClient

__all__ = ["RollupClient", "SyncStatus", "sync_status_from_json"]

ZERO32 = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """The parts of op-node's ``SyncStatus`` the batcher uses."""

    head_l1: L1BlockRef
    current_l1: L1BlockRef
    safe_l2: L2BlockRef
    local_safe_l2: L2BlockRef
    unsafe_l2: L2BlockRef
    finalized_l2: L2BlockRef


def _l1(obj: Any) -> L1BlockRef:
    if not obj:
        return L1BlockRef(ZERO32, 0, ZERO32, 0)
    return L1BlockRef(from_hex(obj["hash"], length=32), hex_to_int(obj["number"]),
                      from_hex(obj["parentHash"], length=32), hex_to_int(obj["timestamp"]))  # fmt: skip


def _l2(obj: Any) -> L2BlockRef:
    if not obj:
        return L2BlockRef(ZERO32, 0, ZERO32, 0, BlockID(ZERO32, 0), 0)
    o = obj.get("l1origin") or {}
    origin = BlockID(from_hex(o.get("hash", "0x" + "00" * 32), length=32), hex_to_int(o.get("number", 0)))
    return L2BlockRef(from_hex(obj["hash"], length=32), hex_to_int(obj["number"]),
                      from_hex(obj["parentHash"], length=32), hex_to_int(obj["timestamp"]), origin,
                      hex_to_int(obj.get("sequenceNumber", 0)))  # fmt: skip


def sync_status_from_json(obj: Any) -> SyncStatus:
    """Parse ``optimism_syncStatus``; ``local_safe_l2`` falls back to ``safe_l2`` (nodes from
    before interop do not send it)."""
    safe = _l2(obj.get("safe_l2"))
    local_safe = _l2(obj.get("local_safe_l2")) if obj.get("local_safe_l2") else safe
    return SyncStatus(_l1(obj.get("head_l1")), _l1(obj.get("current_l1")), safe, local_safe,
                      _l2(obj.get("unsafe_l2")), _l2(obj.get("finalized_l2")))  # fmt: skip


class RollupClient:
    """The rollup node (``optimism_*``) and L2 execution (blocks) endpoints."""

    def __init__(self, rollup_url: str, l2_url: str, *, timeout: float = 10.0) -> None:
        self.rollup = AsyncRPCClient(rollup_url, timeout=timeout)
        self.l2_rpc = AsyncRPCClient(l2_url, timeout=timeout)
        self._l2: AsyncL2Client | None = None

    def bind(self, cfg: RollupConfig) -> None:
        """Start reading L2 blocks (needs the rollup config)."""
        self._l2 = AsyncL2Client(self.l2_rpc, cfg, verify=False)

    async def close(self) -> None:
        await self.rollup.close()
        await self.l2_rpc.close()

    async def sync_status(self) -> SyncStatus:
        return sync_status_from_json(await self.rollup.call("optimism_syncStatus"))

    async def rollup_config(self) -> RollupConfig:
        return RollupConfig.from_json(await self.rollup.call("optimism_rollupConfig"))

    async def l2_chain_id(self) -> int:
        return hex_to_int(await self.l2_rpc.call("eth_chainId"))

    def _client(self) -> AsyncL2Client:
        if self._l2 is None:
            raise BatcherError("RollupClient.bind(cfg) must be called before reading blocks")
        return self._l2

    async def block(self, number: int) -> L2Block:
        return block_from_payload(await self._client().payload_by_number(number))

    async def blocks(self, lo: int, hi: int) -> list[L2Block]:
        """Blocks ``lo..hi`` in batched requests."""
        payloads = await self._client().payloads_by_numbers(list(range(lo, hi + 1)))
        return [block_from_payload(p) for p in payloads]
