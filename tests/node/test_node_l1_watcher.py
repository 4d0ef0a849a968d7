"""L1 watcher: head/safe/finalized polling, reorg detection, and op-node's ``confDepth`` rule
(``num == 0 or num + depth <= head``) for the pipeline's L1 source."""

from __future__ import annotations

import asyncio

import pytest
from eth_hash.auto import keccak

from pyop.node.l1_watcher import ConfDepthL1Source, L1Watcher, conf_depth_allows
from pyop.node.metrics import NodeMetrics
from pyop.primitives import ZERO_HASH, L1BlockRef, L1Header
from pyop.sources.interfaces import NotFound
from pyop.sources.memory import MemoryL1Source


def hdr(n: int, fork: bytes = b"") -> L1Header:
    parent = keccak(b"%d" % (n - 1) + (fork if n - 1 >= 5 else b""))
    return L1Header(keccak(b"%d" % n + (fork if n >= 5 else b"")), n, parent, 100 + 2 * n, 1, ZERO_HASH)


class FakeL1:
    def __init__(self) -> None:
        self.head = 3
        self.fork = b""

    async def header_by_number(self, n: int | str) -> L1Header:
        if n == "latest":
            n = self.head
        elif n == "safe":
            n = max(0, self.head - 2)
        elif n == "finalized":
            n = max(0, self.head - 4)
        assert isinstance(n, int)
        if n > self.head:
            raise NotFound(str(n))
        return hdr(n, self.fork)

    async def header_by_hash(self, block_hash: bytes) -> L1Header:
        raise NotFound("unused")


def test_poll_extension_and_reorg() -> None:
    async def go() -> None:
        src = FakeL1()
        m = NodeMetrics()
        w = L1Watcher(src, metrics=m)
        seen: list[int] = []
        w.on_finalized(lambda r: seen.append(r.number))
        await w.poll_once()
        assert w.head is not None and w.head.number == 3 and w.safe and w.safe.number == 1
        for n in range(4, 8):
            src.head = n
            await w.poll_once()
        assert w.reorgs == 0 and seen == [0, 1, 2, 3]
        assert w.changed.is_set()
        src.fork = b"B"  # blocks 5.. replaced, same height
        await w.poll_once()
        assert w.reorgs == 1 and m.l1_reorgs.get() == 1
        src.head = 9  # extends the new chain: no reorg
        await w.poll_once()
        assert w.reorgs == 1

    asyncio.run(go())


def test_reorg_to_lower_height_detected() -> None:
    async def go() -> None:
        src = FakeL1()
        w = L1Watcher(src)
        src.head = 8
        await w.poll_once()
        src.head, src.fork = 6, b"C"
        await w.poll_once()
        assert w.reorgs == 1 and w.head is not None and w.head.number == 6

    asyncio.run(go())


@pytest.mark.parametrize(("num", "head", "depth", "ok"), [
    (10, 12, 2, True), (11, 12, 2, False), (0, 1, 5, True), (10, None, 4, True), (12, 12, 0, True),
])  # fmt: skip
def test_conf_depth_rule(num: int, head: int | None, depth: int, ok: bool) -> None:
    ref = None if head is None else L1BlockRef(ZERO_HASH, head, ZERO_HASH, 0)
    assert conf_depth_allows(num, ref, depth) is ok


def test_conf_depth_source_hides_shallow_blocks() -> None:
    mem = MemoryL1Source()
    for n in range(6):
        h = hdr(n)
        mem.add_block(h)
    head = mem.l1_block_ref_by_number(5)
    src = ConfDepthL1Source(mem, lambda: head, 2)
    assert src.l1_block_ref_by_number(3).number == 3
    with pytest.raises(NotFound):
        src.l1_block_ref_by_number(4)
    assert src.l1_block_ref_by_hash(hdr(5).hash).number == 5  # by hash is not limited


def test_finalized_l1_never_goes_back(caplog: pytest.LogCaptureFixture) -> None:
    """op-node finalizer (audit D9): an L1 finalized block below the previous one is ignored with
    a warning ("Is the L1 provider corrupted?"), not adopted and not signalled."""

    async def go() -> None:
        src = FakeL1()
        w = L1Watcher(src)
        seen: list[int] = []
        w.on_finalized(lambda r: seen.append(r.number))
        src.head = 9
        await w.poll_epoch()
        assert w.finalized is not None and w.finalized.number == 5
        src.head = 7  # a provider behind the previous answer: finalized 3
        with caplog.at_level("WARNING", logger="pyop.node.l1_watcher"):
            await w.poll_epoch()
        assert w.finalized.number == 5 and seen == [5]
        assert any("corrupted" in r.getMessage() for r in caplog.records)

    asyncio.run(go())
