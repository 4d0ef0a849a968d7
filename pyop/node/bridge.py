"""Synchronous source facades for the derivation pipeline, which runs in a worker thread
(``asyncio.to_thread``) while the node's async clients live on the node's event loop.

Each call is sent to the node loop with ``asyncio.run_coroutine_threadsafe`` and waited for in
the worker. Errors are mapped as :func:`pyop.sources.l1.run_as_source` does: ``NotFound`` and
the pipeline's own error classes pass through, anything else a source can raise becomes a
``TemporaryError`` (op-node wraps fetch errors as ``ErrTemporary``). On shutdown
:meth:`LoopBridge.close` cancels the calls in flight so worker threads never hang.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from pyop.config import RollupConfig
from pyop.engine.l2_reader import L2Reader
from pyop.errors import DerivationError, TemporaryError
from pyop.primitives import ExecutionPayload, Hash32, L1BlockRef, L1Header, L2BlockRef, SystemConfig
from pyop.protocol.l1_types import Receipt
from pyop.sources.interfaces import BlockLabel
from pyop.sources.l1 import AsyncL1Client
from pyop.sources.l2 import system_config_from_payload

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0


class LoopBridge:
    """Runs coroutines on ``loop`` from other threads (see the module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.loop = loop
        self.timeout = timeout
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()
        self.closed = False

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.closed:
            coro.close()
            raise TemporaryError("node is shutting down")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            coro.close()
            raise RuntimeError("LoopBridge.run called on the node loop (use await)")
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        with self._lock:
            self._pending.add(fut)
        try:
            return fut.result(self.timeout)
        except concurrent.futures.CancelledError:
            raise TemporaryError("call cancelled (node shutting down)") from None
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise TemporaryError(f"source call timed out after {self.timeout}s") from None
        except DerivationError:
            raise
        except Exception as e:  # transport / data errors of the async clients
            raise TemporaryError(f"{type(e).__name__}: {e}") from e
        finally:
            with self._lock:
                self._pending.discard(fut)

    def close(self) -> None:
        self.closed = True
        with self._lock:
            pending = list(self._pending)
        for f in pending:
            f.cancel()


class BridgedL1Source:
    """The pipeline's ``L1Source`` over an :class:`AsyncL1Client` on the node loop."""

    def __init__(self, client: AsyncL1Client, bridge: LoopBridge) -> None:
        self.client = client
        self.bridge = bridge

    def l1_block_ref_by_label(self, label: BlockLabel) -> L1BlockRef:
        return self.bridge.run(self.client.header_by_number(label)).ref()

    def l1_block_ref_by_number(self, number: int) -> L1BlockRef:
        return self.bridge.run(self.client.header_by_number(number)).ref()

    def l1_block_ref_by_hash(self, block_hash: Hash32) -> L1BlockRef:
        return self.bridge.run(self.client.header_by_hash(block_hash)).ref()

    def header_by_hash(self, block_hash: Hash32) -> L1Header:
        return self.bridge.run(self.client.header_by_hash(block_hash))

    def transactions_by_hash(self, block_hash: Hash32) -> Sequence[bytes]:
        return self.bridge.run(self.client.txs_by_hash(block_hash))

    def receipts_by_hash(self, block_hash: Hash32) -> Sequence[Receipt]:
        return self.bridge.run(self.client.receipts_by_hash(block_hash))


class BridgedL2Source:
    """The pipeline's ``L2Source`` over the engine's async :class:`L2Reader` (op-geth's
    ``eth_*`` on the authenticated engine endpoint, as op-node reads L2)."""

    def __init__(self, reader: L2Reader, cfg: RollupConfig, bridge: LoopBridge) -> None:
        self.reader = reader
        self.cfg = cfg
        self.bridge = bridge

    def l2_block_ref_by_number(self, number: int) -> L2BlockRef:
        return self.bridge.run(self.reader.ref_by_number(number))

    def l2_block_ref_by_hash(self, block_hash: Hash32) -> L2BlockRef:
        return self.bridge.run(self.reader.ref_by_hash(block_hash))

    def payload_by_number(self, number: int) -> ExecutionPayload:
        return self.bridge.run(self.reader.payload_by_number(number))

    def system_config_by_l2_hash(self, block_hash: Hash32) -> SystemConfig:
        p = self.bridge.run(self.reader.payload_by_hash(block_hash))
        try:
            return system_config_from_payload(self.cfg, p)
        except DerivationError:
            raise
        except Exception as e:
            raise TemporaryError(f"system config of L2 block {p.block_number}: {e}") from e
