"""L2 block reads the engine controller needs (op-node ``L2BlockRefByLabel`` /
``L2BlockRefByHash`` / ``PayloadByNumber`` of ``sources.L2Client``), over the engine's own
authenticated endpoint (op-geth serves ``eth_*`` there too).

:class:`L2Reader` is the interface (async); :class:`pyop.sources.l2.AsyncL2Client` (over the
plain HTTP RPC) satisfies it as well, so a node may pass either. Block refs come from the
block's L1-info deposit (:func:`pyop.sources.l2.l2_block_ref_from_payload`, op-node
``PayloadToBlockRef``). A missing block raises :class:`~pyop.sources.interfaces.NotFound`.
"""

from __future__ import annotations

from typing import Any, Protocol

from pyop.config import RollupConfig
from pyop.engine.client import EngineClient
from pyop.engine.errors import SERVER_ERROR, EngineError, EngineResponseError
from pyop.primitives import ExecutionPayload, Hash32, L2BlockRef, PyopError, from_hex, to_hex
from pyop.sources.blockjson import block_tx_list, payload_from_block_json, raw_tx_from_json
from pyop.sources.interfaces import NotFound
from pyop.sources.l2 import l2_block_ref_from_payload
from pyop.sources.lru import CacheMetricsSink, LRUCache


class L2Reader(Protocol):
    """Async L2 reads. ``n`` is a number or a label (``"latest"``, ``"safe"``, ``"finalized"``)."""

    async def payload_by_number(self, n: int | str) -> ExecutionPayload: ...

    async def payload_by_hash(self, block_hash: Hash32) -> ExecutionPayload: ...

    async def ref_by_number(self, n: int | str) -> L2BlockRef: ...

    async def ref_by_hash(self, block_hash: Hash32) -> L2BlockRef: ...


class EngineL2Reader:
    """:class:`L2Reader` over an :class:`EngineClient` (payloads cached by hash)."""

    def __init__(
        self, client: EngineClient, cfg: RollupConfig, *, cache_size: int = 256,
        cache_metrics: CacheMetricsSink | None = None,
    ) -> None:  # fmt: skip
        self.client = client
        self.cfg = cfg
        # op-node's L2 source cache type "payloads" (l2_source_cache_* metrics)
        self._cache: LRUCache[Hash32, ExecutionPayload] = LRUCache(cache_size, label="payloads",
                                                                   metrics=cache_metrics)  # fmt: skip

    async def _raw_txs(self, block: dict[str, Any]) -> list[bytes]:
        out = []
        for t in block_tx_list(block):
            try:
                out.append(raw_tx_from_json(t))
            except PyopError:
                # a type we cannot re-encode: ask the engine for the bytes
                h = t.get("hash") if isinstance(t, dict) else t
                raw = await self.client.call("eth_getRawTransactionByHash", [h])
                if not isinstance(raw, str):
                    raise EngineResponseError(f"eth_getRawTransactionByHash({h}): no transaction") from None
                out.append(from_hex(raw, what="raw tx"))
        return out

    async def _payload(self, block: dict[str, Any] | None, what: str) -> ExecutionPayload:
        if block is None:
            raise NotFound(f"L2 block {what} not found")
        try:
            p = payload_from_block_json(block, await self._raw_txs(block))
        except PyopError as e:
            if isinstance(e, EngineResponseError):
                raise
            raise EngineResponseError(f"L2 block {what}: {e}") from None
        self.remember(p)
        return p

    def remember(self, p: ExecutionPayload) -> None:
        """Cache a payload known by other means (the block this node just sealed: the
        sequencer's next attributes read its SystemConfig, so no ``eth_getBlockByHash`` round
        trip is needed for it)."""
        self._cache.put(p.block_hash, p)

    async def payload_by_number(self, n: int | str) -> ExecutionPayload:
        try:
            block = await self.client.block_by_number(n)
        except EngineError as e:
            # geth answers a label it has no block for ("finalized block not found", "safe
            # block not found") with a -32000 error, not null
            if isinstance(n, str) and e.code == SERVER_ERROR and "not found" in str(e):
                raise NotFound(f"L2 {n} block not found") from None
            raise
        return await self._payload(block, str(n))

    async def payload_by_hash(self, block_hash: Hash32) -> ExecutionPayload:
        p = self._cache.get(block_hash)
        if p is not None:
            return p
        p = await self._payload(await self.client.block_by_hash(block_hash), to_hex(block_hash))
        if p.block_hash != block_hash:
            raise EngineResponseError(f"asked for L2 block {to_hex(block_hash)}, got {to_hex(p.block_hash)}")
        return p

    def ref_of(self, p: ExecutionPayload) -> L2BlockRef:
        """The block ref of a payload (op-node ``PayloadToBlockRef``)."""
        try:
            return l2_block_ref_from_payload(self.cfg, p)
        except PyopError as e:
            raise EngineResponseError(f"L2 block {p.block_number}: {e}") from None

    async def ref_by_number(self, n: int | str) -> L2BlockRef:
        return self.ref_of(await self.payload_by_number(n))

    async def ref_by_hash(self, block_hash: Hash32) -> L2BlockRef:
        return self.ref_of(await self.payload_by_hash(block_hash))
