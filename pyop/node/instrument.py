"""Metered L1 clients: the node's L1 reads recorded as op-node records them
(``op_node_default_rpc_client_*{rpc="l1",method}`` per JSON-RPC call, with the bytes of
its raw params and result, op-service
``rpcRecorder``; ``op_node_default_l1_request_seconds{request}`` per L1 fetch, op-node
``metered.L1Client`` names: ``L1BlockRefByNumber``, ``L1BlockRefByHash``, ``InfoByHash``,
``InfoAndTxsByHash``, ``FetchReceipts``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from pyop.node.metrics import NodeMetrics
from pyop.primitives import Hash32, L1Header
from pyop.protocol.l1_types import Receipt
from pyop.sources.interfaces import BlockLabel
from pyop.sources.jsonraw import member_sizes
from pyop.sources.l1 import AsyncL1Client, L1Block
from pyop.sources.rpc import AsyncRPCClient, JSONRPCError


class MeteredRPCClient(AsyncRPCClient):
    """An :class:`AsyncRPCClient` that records every call (batch items too) under ``rpc``."""

    def __init__(self, url: str, metrics: NodeMetrics, rpc: str = "l1", *, record_sizes: bool = True,
                 **kw: Any) -> None:  # fmt: skip
        super().__init__(url, **kw)
        self.metrics = metrics
        self.rpc_name = rpc
        #: count raw params/result bytes (a second scan of every body, ~1.3x a json.loads):
        #: only when metrics are served, as op-node records them only then (no-op metrics)
        self.record_sizes = record_sizes

    async def call(self, method: str, params: Sequence[object] = ()) -> Any:
        t0 = time.perf_counter()
        try:
            res = await super().call(method, params)
        except JSONRPCError as e:
            self.metrics.record_rpc_client(self.rpc_name, method, time.perf_counter() - t0, e.code)
            raise
        except BaseException:
            self.metrics.record_rpc_client(self.rpc_name, method, time.perf_counter() - t0, ok=False)
            raise
        self.metrics.record_rpc_client(self.rpc_name, method, time.perf_counter() - t0)
        return res

    def _observe_exchange(self, payload: object, body: bytes, data: bytes, parsed: object) -> None:
        """op-service ``rpcRecorder.RecordOutgoing``: per request the bytes of the raw
        ``params`` sent and, for a successful answer, of the raw ``result`` received (matched by
        id in a batch). Only exchanges that got a JSON answer are seen here."""
        if not self.record_sizes:
            return
        reqs = payload if isinstance(payload, list) else [payload]
        resps = parsed if isinstance(parsed, list) else [parsed]
        try:
            req_sizes, resp_sizes = member_sizes(body), member_sizes(data)
        except (ValueError, UnicodeDecodeError):
            return
        results: dict[str, int] = {}
        for item, sizes in zip(resps, resp_sizes, strict=False):
            if isinstance(item, dict) and "result" in item and item.get("error") is None:
                results[json.dumps(item.get("id"))] = sizes.get("result", 0)
        for req, sizes in zip(reqs, req_sizes, strict=False):
            if isinstance(req, dict) and isinstance(req.get("method"), str):
                self.metrics.record_rpc_sizes("client", self.rpc_name, req["method"], sizes.get("params", 0),
                                              results.get(json.dumps(req.get("id"))))  # fmt: skip

    async def batch(self, calls: Sequence[tuple[str, Sequence[object]]], *, return_errors: bool = False) -> list[Any]:
        t0 = time.perf_counter()
        try:
            return await super().batch(calls, return_errors=return_errors)
        finally:
            dt = time.perf_counter() - t0
            for method, _ in calls:
                self.metrics.record_rpc_client(self.rpc_name, method, dt)


class MeteredL1Client(AsyncL1Client):
    """An :class:`AsyncL1Client` that times each fetch under op-node's request names."""

    def __init__(self, rpc: AsyncRPCClient, metrics: NodeMetrics, **kw: Any) -> None:
        super().__init__(rpc, **kw)
        self.metrics = metrics

    def _observe(self, request: str, t0: float) -> None:
        self.metrics.l1_request_seconds.observe(time.perf_counter() - t0, request)

    async def header_by_number(self, n: int | BlockLabel) -> L1Header:
        t0 = time.perf_counter()
        try:
            return await super().header_by_number(n)
        finally:
            self._observe("L1BlockRefByNumber" if isinstance(n, int) else "L1BlockRefByLabel", t0)

    async def header_by_hash(self, block_hash: Hash32) -> L1Header:
        t0 = time.perf_counter()
        try:
            return await super().header_by_hash(block_hash)
        finally:
            self._observe("InfoByHash", t0)

    async def block_by_hash(self, block_hash: Hash32) -> L1Block:
        t0 = time.perf_counter()
        try:
            return await super().block_by_hash(block_hash)
        finally:
            self._observe("InfoAndTxsByHash", t0)

    async def receipts_by_hash(self, block_hash: Hash32) -> tuple[Receipt, ...]:
        t0 = time.perf_counter()
        try:
            return await super().receipts_by_hash(block_hash)
        finally:
            self._observe("FetchReceipts", t0)
