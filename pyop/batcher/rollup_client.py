"""The rollup node and L2 execution endpoints the batcher reads (Go ``dial.L2EndpointProvider``:
a ``RollupClient`` and an L2 ``PayloadSource``).

- ``optimism_syncStatus`` (op-node ``eth.SyncStatus``: ``head_l1``, ``current_l1``, ``safe_l2``,
  ``local_safe_l2``, ``unsafe_l2``, ...; numbers as JSON integers) every poll;
- ``optimism_rollupConfig`` once at start (the rollup.json object);
- ``admin_sequencerActive`` with several endpoints: as op-batcher, several ``--rollup-rpc``
  *and* several ``--l2-eth-rpc`` (in pairs, same order) follow the active sequencer (op-service
  ``dial.ActiveL2EndpointProvider``, :mod:`pyop.sources.active_rollup`): L2 blocks are read from
  the EL paired with the active rollup node. Otherwise the first of each is used
  (``NewStaticL2EndpointProvider``).
- L2 blocks by number with full transactions (``eth_getBlockByNumber``), as execution payloads.

Works with any node serving op-node's RPC: the Go op-node, ``pyop node``, kona.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyop.batcher.blocks import L2Block, block_from_payload
from pyop.batcher.errors import BatcherError
from pyop.config import RollupConfig
from pyop.primitives import BlockID, L1BlockRef, L2BlockRef, from_hex, hex_to_int
from pyop.sources.active_rollup import ActiveRollupRPC
from pyop.sources.l2 import AsyncL2Client
from pyop.sources.rpc import AsyncRPCClient, RetryPolicy

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

    def __init__(self, rollup_urls: str | Sequence[str], l2_urls: str | Sequence[str], *,
                 timeout: float = 10.0, check_duration: float = 5.0) -> None:  # fmt: skip
        rollups = [rollup_urls] if isinstance(rollup_urls, str) else list(rollup_urls)
        l2s = [l2_urls] if isinstance(l2_urls, str) else list(l2_urls)
        if not rollups or not l2s:
            raise BatcherError("a rollup RPC and an L2 RPC are required")
        self.active: ActiveRollupRPC | None = None
        if len(rollups) > 1 and len(l2s) > 1:
            if len(rollups) != len(l2s):
                raise BatcherError(f"number of eth urls ({len(l2s)}) and rollup urls "
                                   f"({len(rollups)}) mismatch")  # fmt: skip
            self.active = ActiveRollupRPC(rollups, check_duration=check_duration, timeout=timeout)
            self._static_rollup: AsyncRPCClient | None = None
            self._rollup: AsyncRPCClient | ActiveRollupRPC = self.active
        else:
            self._static_rollup = AsyncRPCClient(rollups[0], timeout=timeout)
            self._rollup = self._static_rollup
            l2s = l2s[:1]
        self.l2_rpcs = [AsyncRPCClient(u, timeout=timeout) for u in l2s]
        self._l2s: list[AsyncL2Client] = []

    @property
    def rollup(self) -> AsyncRPCClient | ActiveRollupRPC:
        """Where ``optimism_*`` calls go (the active-sequencer provider checks before each)."""
        return self._rollup

    @property
    def index(self) -> int:
        """The endpoint pair in use (0 unless following the active sequencer)."""
        return 0 if self.active is None else self.active.index

    @property
    def l2_rpc(self) -> AsyncRPCClient:
        return self.l2_rpcs[self.index]

    def set_retry(self, retry: RetryPolicy) -> None:
        """The retry policy of every endpoint."""
        if self.active is not None:
            self.active.set_retry(retry)
        if self._static_rollup is not None:
            self._static_rollup.retry = retry
        for c in self.l2_rpcs:
            c.retry = retry

    async def connect(self) -> None:
        """With several endpoints: find the active sequencer now (op-batcher fails to start
        without one)."""
        if self.active is not None:
            await self.active.connect()

    def bind(self, cfg: RollupConfig) -> None:
        """Start reading L2 blocks (needs the rollup config)."""
        self._l2s = [AsyncL2Client(c, cfg, verify=False) for c in self.l2_rpcs]

    async def close(self) -> None:
        await self.rollup.close()
        for c in self.l2_rpcs:
            await c.close()

    async def sync_status(self) -> SyncStatus:
        return sync_status_from_json(await self.rollup.call("optimism_syncStatus"))

    async def rollup_config(self) -> RollupConfig:
        return RollupConfig.from_json(await self.rollup.call("optimism_rollupConfig"))

    async def _ensure_active(self) -> None:
        # Go ActiveL2EndpointProvider.EthClient: the same active check before an L2 call
        if self.active is not None:
            await self.active.ensure_active()

    async def l2_chain_id(self) -> int:
        await self._ensure_active()
        return hex_to_int(await self.l2_rpc.call("eth_chainId"))

    async def _client(self) -> AsyncL2Client:
        if not self._l2s:
            raise BatcherError("RollupClient.bind(cfg) must be called before reading blocks")
        await self._ensure_active()
        return self._l2s[self.index]

    async def block(self, number: int) -> L2Block:
        return block_from_payload(await (await self._client()).payload_by_number(number))

    async def blocks(self, lo: int, hi: int) -> list[L2Block]:
        """Blocks ``lo..hi`` in batched requests."""
        payloads = await (await self._client()).payloads_by_numbers(list(range(lo, hi + 1)))
        return [block_from_payload(p) for p in payloads]
