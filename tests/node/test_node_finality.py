"""Finality (op-node ``Finalizer``; specs/protocol/derivation.md "Finalization"): an L2 safe
block becomes finalized once the L1 block it was derived from is finalized, and only if that L1
block is still canonical (else a reset)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from eth_hash.auto import keccak

from pyop.node.driver import Driver
from pyop.node.l1_watcher import L1Watcher
from pyop.node.safedb import SafeDB
from pyop.primitives import ZERO_HASH, BlockID, L1BlockRef, L1Header, L2BlockRef
from pyop.sources.interfaces import NotFound
from tests.derivation.harness import make_config


def l1(n: int, salt: bytes = b"") -> L1BlockRef:
    return L1BlockRef(keccak(b"l1-%d" % n + salt), n, keccak(b"l1-%d" % (n - 1)), 1000 + 12 * n)


def l2(n: int) -> L2BlockRef:
    return L2BlockRef(keccak(b"l2-%d" % n), n, ZERO_HASH, 2000 + 2 * n, BlockID(ZERO_HASH, 0), 0)


class Canonical:
    def __init__(self, salt_from: int | None = None) -> None:
        self.salt_from = salt_from

    async def header_by_number(self, n: int | str) -> L1Header:
        assert isinstance(n, int)
        r = l1(n, b"x" if self.salt_from is not None and n >= self.salt_from else b"")
        return L1Header(r.hash, r.number, r.parent_hash, r.timestamp, 1, ZERO_HASH)

    async def header_by_hash(self, block_hash: bytes) -> L1Header:
        raise NotFound("unused")


class FakeEngine:
    def __init__(self) -> None:
        self.finalized = l2(0)
        self.safe = l2(0)
        self.finalize_calls: list[int] = []

    def on_safe_head(self, cb: object) -> None:
        pass

    def on_heads(self, cb: object) -> None:
        pass

    async def finalize(self, ref: L2BlockRef) -> None:
        self.finalize_calls.append(ref.number)
        self.finalized = ref


def make(tmp: Path, canonical: Canonical) -> tuple[Driver, FakeEngine, L1Watcher, SafeDB]:
    eng = FakeEngine()
    w = L1Watcher(canonical)
    db = SafeDB(tmp)
    d = Driver(make_config(), eng, None, w, canonical, safedb=db)  # type: ignore[arg-type]
    return d, eng, w, db


def test_finalizes_newest_block_derived_from_finalized_l1(tmp_path: Path) -> None:
    async def go() -> None:
        d, eng, w, db = make(tmp_path, Canonical())
        for l2n, l1n in ((3, 5), (6, 6), (8, 6), (11, 8), (14, 9)):
            await d._on_safe_head(l2(l2n), l1(l1n))
        assert [(a.number, b.number) for a, b in d.finality] == [(5, 3), (6, 8), (8, 11), (9, 14)]
        await d.try_finalize()  # no finalized L1 yet
        assert eng.finalize_calls == []
        w.finalized = l1(7)
        await d.try_finalize()  # newest with derived-from <= 7: L2 8 (from L1 6)
        assert eng.finalize_calls == [8]
        assert [a.number for a, _ in d.finality] == [6, 8, 9]
        await d.try_finalize()  # idempotent
        assert eng.finalize_calls == [8]
        w.finalized = l1(9)
        await d.try_finalize()
        assert eng.finalize_calls == [8, 14]
        # the safe db saw every update, keyed by L1 block
        assert db.safe_head_at_l1(7) == (l1(6).id(), l2(8).id())
        db.close()

    asyncio.run(go())


def test_reorged_derived_from_block_schedules_reset(tmp_path: Path) -> None:
    async def go() -> None:
        d, eng, w, db = make(tmp_path, Canonical(salt_from=6))  # L1 6+ was replaced
        await d._on_safe_head(l2(8), l1(6))
        w.finalized = l1(7, b"x")
        await d.try_finalize()
        assert eng.finalize_calls == []
        assert d._reset_reason is not None and "not the finalized canonical block" in d._reset_reason
        db.close()

    asyncio.run(go())
