"""Finality across resets (bugs found by the devnet end-to-end tests, tests/node/test_node_e2e_*):

- a finality record taken before a reset must not be applied after the reset started (an L1
  finalized signal raced the L1-reorg reset on the live devnet: the driver finalized from the
  pre-reset record while the engine's safe head had just been walked back);
- when the engine refuses to finalize (the block is above its safe head), the driver must neither
  drop its records nor log "finalized L2 block".

op-node ``rollup/finality`` ``Finalizer``: ``onReset`` clears the finality data; ``tryFinalize``
only acts on the current records.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyop.node.driver import Driver
from pyop.node.l1_watcher import L1Watcher
from pyop.primitives import L1Header, L2BlockRef
from tests.derivation.harness import make_config
from tests.node.test_node_finality import l1, l2


class SlowCanonical:
    """L1 reads; ``header_by_number`` blocks until :attr:`release` is set (to interleave a
    reset with the finality check)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = asyncio.Event()

    async def header_by_number(self, n: int | str) -> L1Header:
        assert isinstance(n, int)
        self.entered.set()
        await self.release.wait()
        r = l1(n)
        return L1Header(r.hash, r.number, r.parent_hash, r.timestamp, 1, b"\x00" * 32)

    async def header_by_hash(self, block_hash: bytes) -> L1Header:
        raise AssertionError("unused")


@dataclass
class Heads:
    unsafe: L2BlockRef
    safe: L2BlockRef
    finalized: L2BlockRef


class FakeEngine:
    def __init__(self, safe: int = 100) -> None:
        self.finalized = l2(0)
        self.safe = l2(safe)
        self.unsafe = l2(safe)
        self.pending_safe = self.safe
        self.local_safe = self.safe
        self.cross_unsafe = self.unsafe
        self.finalize_calls: list[int] = []

    def on_safe_head(self, cb: object) -> None:
        pass

    def on_heads(self, cb: object) -> None:
        pass

    async def start(self) -> Heads:
        self.safe = self.pending_safe = self.local_safe = l2(2)  # walked back by the reset
        return Heads(self.unsafe, self.safe, self.finalized)

    async def finalize(self, ref: L2BlockRef) -> bool:
        self.finalize_calls.append(ref.number)
        if ref.number > self.safe.number:
            return False
        self.finalized = ref
        return True


class FakePipeline:
    origin = l1(1)

    def reset(self, safe: L2BlockRef) -> None:
        pass


def make(tmp: Path, eng: FakeEngine, canonical: object) -> tuple[Driver, L1Watcher]:
    w = L1Watcher(canonical)  # type: ignore[arg-type]
    d = Driver(make_config(), eng, FakePipeline(), w, canonical)  # type: ignore[arg-type]
    return d, w


def test_reset_during_finality_check_discards_stale_record(tmp_path: Path) -> None:
    async def go() -> None:
        eng = FakeEngine()
        canonical = SlowCanonical()
        d, w = make(tmp_path, eng, canonical)
        await d._on_safe_head(l2(8), l1(6))
        w.finalized = l1(7)
        fin = asyncio.create_task(d.try_finalize())
        await canonical.entered.wait()
        d.schedule_reset("derivation", "L1 reorg")
        await d._do_reset()  # the reset runs while the finality check awaits L1
        canonical.release.set()
        await fin
        assert eng.finalize_calls == []
        assert eng.finalized.number == 0
        assert list(d.finality) == []

    asyncio.run(go())


def test_refused_finalization_keeps_records_and_logs_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Canonical(SlowCanonical):
        def __init__(self) -> None:
            super().__init__()
            self.release.set()

    async def go() -> None:
        eng = FakeEngine(safe=5)  # the engine's safe head is below the record's L2 block
        d, w = make(tmp_path, eng, Canonical())
        await d._on_safe_head(l2(3), l1(4))
        await d._on_safe_head(l2(8), l1(6))
        w.finalized = l1(7)
        with caplog.at_level(logging.INFO, logger="pyop.node.driver"):
            await d.try_finalize()
        assert eng.finalize_calls == [8]
        assert eng.finalized.number == 0
        assert [(a.number, b.number) for a, b in d.finality] == [(4, 3), (6, 8)]
        assert "finalized L2 block" not in caplog.text
        # once the engine's safe head covers it, the same record finalizes
        eng.safe = l2(9)
        with caplog.at_level(logging.INFO, logger="pyop.node.driver"):
            await d.try_finalize()
        assert eng.finalized.number == 8
        assert [a.number for a, _ in d.finality] == [6]
        assert "finalized L2 block" in caplog.text

    asyncio.run(go())


