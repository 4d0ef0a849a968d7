"""L1 execution-layer reads over JSON-RPC (op-node ``sources.L1Client`` / ``EthClient``).

Two layers:

- :class:`AsyncL1Client`: async methods over an :class:`~pyop.sources.rpc.AsyncRPCClient`
  (used directly by ``pyop capture`` for concurrent fetching). Blocks come from
  ``eth_getBlockByNumber`` / ``eth_getBlockByHash`` (labels ``latest`` / ``safe`` /
  ``finalized``); transactions from ``eth_getBlockByHash(h, true)`` re-encoded to EIP-2718 bytes
  (each checked against its hash, and the list against ``transactionsRoot``), falling back to
  batched ``eth_getRawTransactionByHash`` for types the encoder does not know; receipts from
  ``eth_getBlockReceipts`` (falling back to batched ``eth_getTransactionReceipt`` when the
  method is missing), checked against ``receiptsRoot``. Every header is checked against its
  block hash. Results are cached by block hash (LRU).
- :class:`L1RPCSource`: the synchronous ``L1Source`` Protocol of the derivation pipeline,
  running the async client on a private :class:`~pyop.sources.rpc.LoopThread`. It raises
  :class:`~pyop.sources.interfaces.NotFound` for an unknown block and
  :class:`~pyop.errors.TemporaryError` for any RPC failure or bad data (op-node
  wraps fetch errors as ``ErrTemporary``).
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from pyop.errors import TemporaryError
from pyop.primitives import Hash32, L1BlockRef, L1Header, PyopError, to_hex
from pyop.protocol.l1_types import L1JSONError, Receipt
from pyop.sources.blockjson import (
    JSON,
    BlockJSONError,
    block_tx_list,
    header_from_json,
    raw_tx_from_json,
    verify_block_json,
    verify_receipts_json,
)
from pyop.sources.interfaces import BlockLabel, NotFound
from pyop.sources.lru import CacheMetricsSink, LRUCache
from pyop.sources.rpc import AsyncRPCClient, JSONRPCError, LoopThread, RPCError

T = TypeVar("T")

__all__ = ["AsyncL1Client", "L1Block", "L1RPCSource"]


class L1Block:
    """A fetched L1 block: header, raw txs, and the block JSON (for receipts / capture)."""

    __slots__ = ("header", "json", "txs")

    def __init__(self, header: L1Header, txs: tuple[bytes, ...], json: JSON) -> None:
        self.header = header
        self.txs = txs
        self.json = json


def _block_id_param(n: int | str) -> str:
    return hex(n) if isinstance(n, int) else n


class AsyncL1Client:
    """Async L1 reads (see the module docstring). ``verify=False`` skips root checks."""

    def __init__(
        self, rpc: AsyncRPCClient, *, cache_size: int = 1000, verify: bool = True,
        cache_metrics: CacheMetricsSink | None = None,
    ) -> None:  # fmt: skip
        self.rpc = rpc
        self.verify = verify
        # op-node's cache types: headers; "txs" (a block's transactions by block hash: pyop
        # keeps the whole block); receipts
        m, per_block = cache_metrics, max(16, cache_size // 4)  # blocks are far larger than headers
        self._headers: LRUCache[Hash32, L1Header] = LRUCache(cache_size, label="headers", metrics=m)
        self._blocks: LRUCache[Hash32, L1Block] = LRUCache(per_block, label="txs", metrics=m)
        self._receipts: LRUCache[Hash32, tuple[tuple[Receipt, ...], tuple[JSON, ...]]] = (
            LRUCache(per_block, label="receipts", metrics=m)
        )
        self._block_receipts_supported: bool | None = None

    async def close(self) -> None:
        await self.rpc.close()

    # ------------------------------------------------------------------ headers

    def _header(self, obj: object, what: str) -> L1Header:
        if obj is None:
            raise NotFound(f"L1 block {what} not found")
        if not isinstance(obj, dict):
            raise BlockJSONError(f"L1 block {what}: not an object")
        h = header_from_json(obj, verify=self.verify)
        self._headers.put(h.hash, h)
        return h

    async def header_by_number(self, n: int | BlockLabel) -> L1Header:
        obj = await self.rpc.call("eth_getBlockByNumber", [_block_id_param(n), False])
        return self._header(obj, str(n))

    async def header_by_hash(self, block_hash: Hash32) -> L1Header:
        h = self._headers.get(block_hash)
        if h is not None:
            return h
        obj = await self.rpc.call("eth_getBlockByHash", [to_hex(block_hash), False])
        h = self._header(obj, to_hex(block_hash))
        if h.hash != block_hash:
            raise BlockJSONError(f"asked for block {to_hex(block_hash)}, got {to_hex(h.hash)}")
        return h

    async def headers_by_numbers(self, numbers: Sequence[int]) -> list[L1Header]:
        """Many headers in batched requests (capture)."""
        res = await self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return [self._header(o, str(n)) for n, o in zip(numbers, res, strict=True)]

    # ------------------------------------------------------------------ bodies

    async def block_by_hash(self, block_hash: Hash32) -> L1Block:
        b = self._blocks.get(block_hash)
        if b is not None:
            return b
        obj = await self.rpc.call("eth_getBlockByHash", [to_hex(block_hash), True])
        return await self._block(obj, to_hex(block_hash), block_hash)

    async def block_by_number(self, n: int | BlockLabel) -> L1Block:
        obj = await self.rpc.call("eth_getBlockByNumber", [_block_id_param(n), True])
        return await self._block(obj, str(n), None)

    async def _block(self, obj: object, what: str, want: Hash32 | None) -> L1Block:
        if obj is None:
            raise NotFound(f"L1 block {what} not found")
        if not isinstance(obj, dict):
            raise BlockJSONError(f"L1 block {what}: not an object")
        header = header_from_json(obj, verify=self.verify)
        if want is not None and header.hash != want:
            raise BlockJSONError(f"asked for block {what}, got {to_hex(header.hash)}")
        txs_json = block_tx_list(obj)
        raw: list[bytes] | None
        try:
            raw = [raw_tx_from_json(t) for t in txs_json]
        except BlockJSONError:
            if any(t is None for t in txs_json):
                raise
            # a type the encoder does not know (or a field it mis-reads): ask for the bytes
            raw = await self._raw_txs(txs_json)
        if self.verify:
            verify_block_json(obj, raw)
        b = L1Block(header, tuple(raw), obj)
        self._headers.put(header.hash, header)
        self._blocks.put(header.hash, b)
        return b

    async def _raw_txs(self, txs_json: Sequence[Any]) -> list[bytes]:
        hashes = []
        for i, t in enumerate(txs_json):
            if not isinstance(t, dict) or not isinstance(t.get("hash"), str):
                raise BlockJSONError(f"block tx {i} is nil or has no hash")
            hashes.append(t["hash"])
        res = await self.rpc.batch([("eth_getRawTransactionByHash", [h]) for h in hashes])
        out = []
        for h, r in zip(hashes, res, strict=True):
            if not isinstance(r, str):
                raise BlockJSONError(f"eth_getRawTransactionByHash({h}): no transaction")
            out.append(bytes.fromhex(r[2:] if r.startswith("0x") else r))
        return out

    async def txs_by_hash(self, block_hash: Hash32) -> tuple[bytes, ...]:
        return (await self.block_by_hash(block_hash)).txs

    # ------------------------------------------------------------------ receipts

    async def receipts_json(self, block_hash: Hash32) -> tuple[JSON, ...]:
        return (await self._receipts_both(block_hash))[1]

    async def receipts_by_hash(self, block_hash: Hash32) -> tuple[Receipt, ...]:
        return (await self._receipts_both(block_hash))[0]

    async def _receipts_both(
        self, block_hash: Hash32
    ) -> tuple[tuple[Receipt, ...], tuple[JSON, ...]]:
        cached = self._receipts.get(block_hash)
        if cached is not None:
            return cached
        header = await self.header_by_hash(block_hash)
        raw: object = None
        if self._block_receipts_supported is not False:
            try:
                raw = await self.rpc.call("eth_getBlockReceipts", [to_hex(block_hash)])
                self._block_receipts_supported = True
            except JSONRPCError as e:
                if not e.is_method_not_found and self._block_receipts_supported is None:
                    raise
                self._block_receipts_supported = False
        if raw is None:
            block = await self.block_by_hash(block_hash)
            hashes = [t.get("hash") for t in block.json.get("transactions") or []]
            raw = await self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        if not isinstance(raw, list):
            raise BlockJSONError(f"receipts of {to_hex(block_hash)}: not a list")
        if self.verify:
            verify_receipts_json(raw, header.receipts_root, block_hash)
        try:
            receipts = tuple(Receipt.from_json(r) for r in raw)
        except (L1JSONError, PyopError) as e:
            raise BlockJSONError(f"receipts of {to_hex(block_hash)}: {e}") from None
        # the logs belong to this block, whatever the server filled in (or left out)
        receipts = tuple(
            replace(
                r,
                logs=tuple(
                    replace(lg, block_hash=block_hash, block_number=header.number) for lg in r.logs
                ),
            )
            for r in receipts
        )
        out = (receipts, tuple(raw))
        self._receipts.put(block_hash, out)
        return out


class L1RPCSource:
    """The pipeline's synchronous ``L1Source`` over :class:`AsyncL1Client`.

    ``L1RPCSource.connect(url)`` builds the RPC client, the async client and a private
    :class:`LoopThread`; :meth:`close` shuts them down.
    """

    def __init__(self, client: AsyncL1Client, loop: LoopThread, *, own_loop: bool = False) -> None:
        self.client = client
        self.loop = loop
        self._own_loop = own_loop

    @classmethod
    def connect(cls, url: str, *, loop: LoopThread | None = None, **rpc_kwargs: Any) -> L1RPCSource:
        own = loop is None
        return cls(AsyncL1Client(AsyncRPCClient(url, **rpc_kwargs)), loop or LoopThread(), own_loop=own)

    def close(self) -> None:
        if self._own_loop:
            self.loop.close(self.client.close())
        else:
            self.loop.run(self.client.close())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return run_as_source(self.loop, coro)

    def l1_block_ref_by_label(self, label: BlockLabel) -> L1BlockRef:
        return self._run(self.client.header_by_number(label)).ref()

    def l1_block_ref_by_number(self, number: int) -> L1BlockRef:
        return self._run(self.client.header_by_number(number)).ref()

    def l1_block_ref_by_hash(self, block_hash: Hash32) -> L1BlockRef:
        return self._run(self.client.header_by_hash(block_hash)).ref()

    def header_by_hash(self, block_hash: Hash32) -> L1Header:
        return self._run(self.client.header_by_hash(block_hash))

    def transactions_by_hash(self, block_hash: Hash32) -> Sequence[bytes]:
        return self._run(self.client.txs_by_hash(block_hash))

    def receipts_by_hash(self, block_hash: Hash32) -> Sequence[Receipt]:
        return self._run(self.client.receipts_by_hash(block_hash))


def run_as_source(loop: LoopThread, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on ``loop``; map I/O and data errors to the pipeline's error classes:
    ``NotFound`` passes through, everything else a source can raise becomes ``TemporaryError``."""
    try:
        return loop.run(coro)
    except NotFound:
        raise
    except (TimeoutError, RPCError, BlockJSONError) as e:
        raise TemporaryError(f"{type(e).__name__}: {e}") from e
    except TemporaryError:
        raise
    except PyopError as e:
        raise TemporaryError(f"{type(e).__name__}: {e}") from e
