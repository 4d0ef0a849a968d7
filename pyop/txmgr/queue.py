"""Sending several transactions at once, at most ``max_pending`` in flight
(op-service/txmgr/queue.go ``Queue``).

:meth:`TxQueue.send` waits for a free slot, crafts the tx (so nonces follow the order of the
calls), then confirms it in a background task whose :class:`TxReceipt` (with the caller's id)
goes to :attr:`TxQueue.receipts`. As in Go, the first failure cancels every other send of the
same group (their txs would sit behind a nonce gap, and Holocene wants frames in order); the
next send starts a new group.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Generic, TypeVar

from pyop.opservice.logs import kv
from pyop.txmgr.backend import Receipt
from pyop.txmgr.errors import SendCancelledError
from pyop.txmgr.manager import TxCandidate, TxManager

IdT = TypeVar("IdT")

__all__ = ["TxQueue", "TxReceipt"]

log = logging.getLogger("pyop.txmgr.queue")


@dataclass(frozen=True, slots=True)
class TxReceipt(Generic[IdT]):
    """The outcome of one queued send: the receipt, or the error."""

    id: IdT
    receipt: Receipt | None
    error: BaseException | None


class TxQueue(Generic[IdT]):
    """See the module docstring. ``max_pending`` 0: no limit."""

    def __init__(self, mgr: TxManager, max_pending: int) -> None:
        self.mgr = mgr
        self.max_pending = max_pending
        self.receipts: asyncio.Queue[TxReceipt[IdT]] = asyncio.Queue()
        self._sem = asyncio.Semaphore(max_pending) if max_pending > 0 else None
        self._group: set[asyncio.Task[None]] = set()
        self._craft_lock = asyncio.Lock()

    def pending(self) -> int:
        return sum(1 for t in self._group if not t.done())

    def full(self) -> bool:
        return self._sem is not None and self._sem.locked()

    async def send(self, tx_id: IdT, candidate: TxCandidate) -> None:
        """Queue ``candidate``: blocks while ``max_pending`` sends are in flight."""
        if self._sem is not None:
            await self._sem.acquire()
        await self._start(tx_id, candidate)

    async def try_send(self, tx_id: IdT, candidate: TxCandidate) -> bool:
        """Like :meth:`send`, but returns ``False`` at once when no slot is free."""
        if self._sem is not None:
            if self._sem.locked():
                return False
            await self._sem.acquire()
        await self._start(tx_id, candidate)
        return True

    async def _start(self, tx_id: IdT, candidate: TxCandidate) -> None:
        async with self._craft_lock:
            try:
                tx = await self.mgr.prepare(candidate)
            except Exception as e:
                self.mgr.reset_nonce()
                self._release()
                await self.receipts.put(TxReceipt(tx_id, None, e))
                self._fail_group(e)
                return
        task = asyncio.create_task(self._run(tx_id, tx))
        self._group.add(task)

        def done(t: asyncio.Task[None]) -> None:
            # a task cancelled before it ever ran never entered _run's try block
            if t.cancelled():
                self._release()
                self._group.discard(t)
                self.receipts.put_nowait(TxReceipt(tx_id, None, SendCancelledError(
                    "send cancelled (an earlier tx of the group failed, or shutdown)")))

        task.add_done_callback(done)

    async def _run(self, tx_id: IdT, tx: object) -> None:
        receipt: Receipt | None = None
        err: BaseException | None = None
        try:
            receipt = await self.mgr.send_prepared(tx)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            err = SendCancelledError("send cancelled (an earlier tx of the group failed, or shutdown)")
        except Exception as e:
            err = e
        self._release()
        self._group.discard(asyncio.current_task())
        self.receipts.put_nowait(TxReceipt(tx_id, receipt, err))
        if err is not None and not isinstance(err, SendCancelledError):
            self._fail_group(err)

    def _release(self) -> None:
        if self._sem is not None:
            self._sem.release()

    def _fail_group(self, err: BaseException) -> None:
        others = [t for t in self._group if not t.done()]
        if others:
            log.warning("a send failed, cancelling the other sends of its group",
                        extra=kv(err=str(err), cancelled=len(others)))  # fmt: skip
        for t in others:
            t.cancel()
        self._group.clear()

    async def wait(self) -> None:
        """Wait until every send in flight has finished."""
        while self._group:
            await asyncio.gather(*list(self._group), return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every send in flight (shutdown: their receipts report cancellation)."""
        for t in list(self._group):
            t.cancel()
        await self.wait()
