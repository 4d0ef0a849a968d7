"""The L1 watcher: polls the L1 ``latest`` / ``safe`` / ``finalized`` blocks, detects L1
reorgs, and applies confirmation depths.

op-node equivalents: ``op-node/node/node.go`` (``pollL1Head`` / ``OnNewL1Head``, ``OnNewL1Safe``,
``OnNewL1Finalized`` driven by ``--l1.http-poll-interval`` / ``--l1.epoch-poll-interval``),
``op-node/rollup/driver/confdepth.go`` (``confDepth``: an L1 block by number is "not found"
until ``number + depth <= head``; block 0 and a not-yet-known head pass through), and the
L1-state tracker (``driver/l1_state.go``). pyop polls all three labels together, at most once a
second (or ``--l1.http-poll-interval``, or half the L1 block time).

A reorg is an L1 head that does not extend the previous one: same or lower number with another
hash, or a higher one whose chain no longer contains the previous head. The watcher logs it
(stage ``l1_watcher``, the old and new heads, the depth back to the common ancestor it finds
among the heads it remembers) and counts it; the pipeline itself notices the reorg at its
origin (``L1Traversal``: parent hash mismatch -> reset).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from pyop.node.logs import kv
from pyop.node.metrics import NodeMetrics
from pyop.primitives import L1BlockRef, L1Header, PyopError, to_hex
from pyop.protocol.l1_types import Receipt
from pyop.sources.interfaces import BlockLabel, L1Source, NotFound

log = logging.getLogger("pyop.node.l1_watcher")

RefListener = Callable[[L1BlockRef], Awaitable[None] | None]
REMEMBER = 128


class L1HeaderReader(Protocol):
    """Async L1 header reads (:class:`pyop.sources.l1.AsyncL1Client`)."""

    async def header_by_number(self, n: int | BlockLabel) -> L1Header: ...

    async def header_by_hash(self, block_hash: bytes) -> L1Header: ...


def confirmed_number(head: L1BlockRef | None, depth: int) -> int | None:
    """The highest L1 number usable with confirmation ``depth`` (``None``: no head yet, no
    limit, as op-node's ``confDepth`` before the first head)."""
    if head is None:
        return None
    return head.number - depth


def conf_depth_allows(number: int, head: L1BlockRef | None, depth: int) -> bool:
    """op-node ``confDepth.L1BlockRefByNumber``: ``number == 0 or number + depth <= head``."""
    if head is None or depth == 0:
        return True
    return number == 0 or number + depth <= head.number


class ConfDepthL1Source:
    """An ``L1Source`` that hides L1 blocks less than ``depth`` confirmations deep from
    by-number lookups (the pipeline's ``--verifier.l1-confs``). ``head`` is read at each call."""

    def __init__(self, inner: L1Source, head: Callable[[], L1BlockRef | None], depth: int) -> None:
        self.inner = inner
        self.head = head
        self.depth = depth

    def l1_block_ref_by_label(self, label: BlockLabel) -> L1BlockRef:
        return self.inner.l1_block_ref_by_label(label)

    def l1_block_ref_by_number(self, number: int) -> L1BlockRef:
        if not conf_depth_allows(number, self.head(), self.depth):
            raise NotFound(f"L1 block {number} not yet {self.depth} blocks deep")
        return self.inner.l1_block_ref_by_number(number)

    def l1_block_ref_by_hash(self, block_hash: bytes) -> L1BlockRef:
        return self.inner.l1_block_ref_by_hash(block_hash)

    def header_by_hash(self, block_hash: bytes) -> L1Header:
        return self.inner.header_by_hash(block_hash)

    def transactions_by_hash(self, block_hash: bytes) -> Sequence[bytes]:
        return self.inner.transactions_by_hash(block_hash)

    def receipts_by_hash(self, block_hash: bytes) -> Sequence[Receipt]:
        return self.inner.receipts_by_hash(block_hash)


class L1Watcher:
    """Polls L1 (see the module docstring). ``changed`` is set whenever the head moves."""

    def __init__(
        self,
        l1: L1HeaderReader,
        *,
        poll_interval: float = 1.0,
        epoch_poll_interval: float | None = None,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.l1 = l1
        self.poll_interval = poll_interval
        #: how often safe / finalized are polled (``None``: with every head poll)
        self.epoch_poll_interval = epoch_poll_interval
        self.metrics = metrics
        self._last_epoch_poll: float | None = None
        self.head: L1BlockRef | None = None
        self.safe: L1BlockRef | None = None
        self.finalized: L1BlockRef | None = None
        self.reorgs = 0
        self.changed = asyncio.Event()
        self._recent: OrderedDict[int, bytes] = OrderedDict()
        self._on_head: list[RefListener] = []
        self._on_finalized: list[RefListener] = []
        self.errors = 0

    def on_head(self, cb: RefListener) -> None:
        self._on_head.append(cb)

    def on_finalized(self, cb: RefListener) -> None:
        self._on_finalized.append(cb)

    async def _emit(self, cbs: list[RefListener], ref: L1BlockRef) -> None:
        for cb in cbs:
            r = cb(ref)
            if r is not None:
                await r

    def _remember(self, ref: L1BlockRef) -> None:
        for n in [n for n in self._recent if n >= ref.number]:
            del self._recent[n]
        self._recent[ref.number] = ref.hash
        while len(self._recent) > REMEMBER:
            self._recent.popitem(last=False)

    async def _reorg_depth(self, old: L1BlockRef) -> int | None:
        """Walk back the remembered heads until the canonical chain agrees with one."""
        for n in sorted(self._recent, reverse=True):
            if n > old.number:
                continue
            try:
                h = await self.l1.header_by_number(n)
            except (NotFound, PyopError):
                continue
            if h.hash == self._recent[n]:
                return old.number - n
        return None

    async def _is_reorg(self, old: L1BlockRef, new: L1BlockRef) -> bool:
        if new.hash == old.hash:
            return False
        if new.number == old.number + 1:
            return new.parent_hash != old.hash
        if new.number <= old.number:
            return True
        try:
            at_old = await self.l1.header_by_number(old.number)
        except (NotFound, PyopError):
            return False
        return at_old.hash != old.hash

    async def poll_once(self, *, epoch: bool = True) -> None:
        """One poll of ``latest``, and with ``epoch`` of ``safe`` and ``finalized``."""
        head = (await self.l1.header_by_number("latest")).ref()
        safe = fin = None
        if epoch:
            safe = await self._label("safe")
            fin = await self._label("finalized")
        old = self.head
        if old is not None and await self._is_reorg(old, head):
            depth = await self._reorg_depth(old)
            self.reorgs += 1
            if self.metrics is not None:
                self.metrics.record_l1_reorg(depth)
            log.warning("L1 reorg detected", extra=kv(
                stage="l1_watcher", reason="new L1 head does not extend the previous head",
                old_head=old.number, old_hash=to_hex(old.hash), new_head=head.number,
                new_hash=to_hex(head.hash), depth="unknown" if depth is None else depth))  # fmt: skip
        if old is None or head.hash != old.hash:
            self.head = head
            self._remember(head)
            self._record("l1_head", head)
            log.debug("new L1 head", extra=kv(number=head.number, hash=to_hex(head.hash)))
            self.changed.set()
            await self._emit(self._on_head, head)
        if epoch:
            await self._apply_epoch(safe, fin)

    async def _label(self, label: BlockLabel) -> L1BlockRef | None:
        try:
            return (await self.l1.header_by_number(label)).ref()
        except NotFound:
            return None

    def _record(self, kind: str, ref: L1BlockRef) -> None:
        if self.metrics is not None:
            self.metrics.record_l1_ref(kind, ref)

    async def poll_epoch(self) -> None:
        """One poll of ``safe`` and ``finalized``."""
        safe = await self._label("safe")
        fin = await self._label("finalized")
        await self._apply_epoch(safe, fin)

    async def _apply_epoch(self, safe: L1BlockRef | None, fin: L1BlockRef | None) -> None:
        if safe is not None and safe != self.safe:
            self.safe = safe
            self._record("l1_safe", safe)
        if fin is not None and self.finalized is not None and fin.number < self.finalized.number:
            # op-node finalizer: a finalized L1 block never goes back ("Is the L1 provider corrupted?")
            log.warning("ignoring L1 finalized block behind the previous one: is the L1 provider corrupted?",
                        extra=kv(stage="l1_watcher", new=fin.number, current=self.finalized.number))  # fmt: skip
            fin = None
        if fin is not None and fin != self.finalized:
            self.finalized = fin
            self._record("l1_finalized", fin)
            log.info("new L1 finalized block", extra=kv(number=fin.number, hash=to_hex(fin.hash)))
            await self._emit(self._on_finalized, fin)

    async def _loop(self, what: str, poll: Callable[[], Awaitable[None]], interval: float) -> None:
        delay = interval
        while True:
            try:
                await poll()
                delay = interval
            except asyncio.CancelledError:
                raise
            except Exception as e:  # transport errors, bad data: keep polling
                self.errors += 1
                log.warning("failed to poll L1", extra=kv(stage="l1_watcher", what=what,
                                                          err=f"{type(e).__name__}: {e}"))  # fmt: skip
                delay = min(10.0, max(delay * 2, interval))
            await asyncio.sleep(delay)

    async def run(self) -> None:
        """Poll until cancelled (the head every ``poll_interval``, safe and finalized every
        ``epoch_poll_interval``, or with each head poll when that is ``None``); errors are
        logged and retried with backoff (max 10 s)."""
        if self.epoch_poll_interval is None:
            await self._loop("head", self.poll_once, self.poll_interval)
            return
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._loop("head", lambda: self.poll_once(epoch=False), self.poll_interval))
            tg.create_task(self._loop("safe/finalized", self.poll_epoch, self.epoch_poll_interval))

    async def wait_changed(self, timeout: float) -> bool:
        """Wait until the head changes (or ``timeout``); clears the flag."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)
        was = self.changed.is_set()
        self.changed.clear()
        return was
