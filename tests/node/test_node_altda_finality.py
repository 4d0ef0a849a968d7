"""Alt-DA finality (op-node v1.19.6 ``rollup/finality/altda.go`` ``AltDAFinalizer`` +
``op-alt-da/damgr.go`` ``Finalize`` / ``updateFinalizedHead`` / ``updateFinalizedFromL1``):
the L1 finalized block reaches the finalizer only through the DA manager, so an L2 block is
finalized once the L1 block it was derived from is at or below the DA finalized head: the
inclusion block of the last commitment whose challenge window ended at or below L1 finality
(or, with nothing tracked, L1 finality minus the challenge window).

The expected numbers below follow those Go rules step by step (windows 16, commitments in L1
blocks 5 and 10); the same driver without alt-DA finalizes much further (the raw L1 rule).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pyop.derivation.altda_manager import DAManager
from pyop.node.altda_finality import AltDAFinality
from pyop.node.driver import Driver
from pyop.node.l1_watcher import L1Watcher
from pyop.primitives import L1BlockRef
from pyop.protocol.altda import Commitment
from pyop.sources.memory import MemoryAltDASource
from tests.derivation.harness import make_config
from tests.node.test_node_finality import Canonical, FakeEngine, l1, l2

CW = 16  # harness alt-DA challenge and resolve windows


class L1ByNumber:
    """The pipeline's (sync) L1 source as the DA manager reads it."""

    def l1_block_ref_by_number(self, n: int) -> L1BlockRef:
        return l1(n)

    def receipts_by_hash(self, h: bytes) -> list[object]:
        return []

    def transactions_by_hash(self, h: bytes) -> list[bytes]:
        return []


def setup(altda: bool) -> tuple[Driver, FakeEngine, L1Watcher, DAManager]:
    cfg = make_config(alt_da=True)
    assert cfg.alt_da is not None and cfg.alt_da.da_challenge_window == CW
    store = MemoryAltDASource()
    mgr = DAManager(cfg.alt_da, store)
    canonical = Canonical()
    eng = FakeEngine()
    w = L1Watcher(canonical)
    d = Driver(cfg, eng, None, w, canonical, altda_finality=AltDAFinality(mgr) if altda else None)  # type: ignore[arg-type]
    return d, eng, w, mgr


def derive(mgr: DAManager, origin: int, *, commitment_in: int | None = None) -> None:
    """What the pipeline does at L1 block ``origin``: advance the DA manager, read the
    commitment of that block (if any)."""
    src = L1ByNumber()
    mgr.advance_l1_origin(src, l1(origin).id())  # type: ignore[arg-type]
    if commitment_in is not None:
        data = b"\x00batch of L1 block %d" % commitment_in
        c = Commitment.keccak256(data)
        assert isinstance(mgr.storage, MemoryAltDASource)
        mgr.storage.put(c.encode(), data)
        assert mgr.get_input(src, c, l1(commitment_in)) == data  # type: ignore[arg-type]


def test_l2_finality_waits_for_the_challenge_window() -> None:
    async def go() -> None:
        d, eng, w, mgr = setup(altda=True)
        mgr.reset(l1(1))
        # commitments in L1 blocks 5 and 10; L2 safe heads derived from L1 5, 10, 12
        for n in range(2, 13):
            derive(mgr, n, commitment_in=n if n in (5, 10) else None)
        for l2n, l1n in ((3, 5), (8, 10), (9, 12)):
            await d._on_safe_head(l2(l2n), l1(l1n))
        # L1 finalized 12: the raw rule would finalize L2 9; no commitment is past its
        # window (5 + 16 = 21 > 12), so the DA finalized head is still zero: nothing.
        w.finalized = l1(12)
        await d.try_finalize()
        assert eng.finalize_calls == []
        # derivation moves on to L1 30: both commitments expire (21, 26 <= 30)
        for n in range(13, 31):
            derive(mgr, n)
        # L1 finalized 22 prunes the commitment of block 5 (21 <= 22), not 10 (26 > 22):
        # DA finalized head = L1 5 -> L2 3
        w.finalized = l1(22)
        await d.try_finalize()
        assert eng.finalize_calls == [3]
        assert d.altda_finality is not None and d.altda_finality.finalized_l1 == l1(5)
        # L1 finalized 26 prunes block 10 -> L2 8 (L2 9, derived from L1 12, must wait)
        w.finalized = l1(26)
        await d.try_finalize()
        assert eng.finalize_calls == [3, 8]
        # nothing tracked any more: the next origin step sets the head to L1 26 - 16 = 10
        # (updateFinalizedFromL1), and later L1 finality moves it: L1 30 -> head 14 -> L2 9
        derive(mgr, 31)
        assert mgr.finalized_head == l1(10)
        w.finalized = l1(30)
        await d.try_finalize()
        assert eng.finalize_calls == [3, 8]  # the head from L1 26 is 10; 30 is seen at the next step
        derive(mgr, 32)
        await d.try_finalize()
        assert mgr.finalized_head == l1(14)
        assert eng.finalize_calls == [3, 8, 9]

    asyncio.run(go())


def test_without_altda_the_same_records_finalize_on_raw_l1() -> None:
    async def go() -> None:
        d, eng, w, _ = setup(altda=False)
        for l2n, l1n in ((3, 5), (8, 10), (9, 12)):
            await d._on_safe_head(l2(l2n), l1(l1n))
        w.finalized = l1(12)
        await d.try_finalize()
        assert eng.finalize_calls == [9]

    asyncio.run(go())


def test_older_da_head_is_ignored() -> None:
    """op-node ``Finalizer.OnL1Finalized``: a signal older than the current one is ignored."""
    cfg = make_config(alt_da=True)
    assert cfg.alt_da is not None
    mgr = DAManager(cfg.alt_da, MemoryAltDASource())
    fin = AltDAFinality(mgr)
    assert fin.on_l1_finalized(l1(40)) is None  # nothing tracked, no head yet
    mgr.finalized_head = l1(20)
    assert fin.on_l1_finalized(l1(41)) == l1(20)
    mgr.finalized_head = l1(18)
    assert fin.on_l1_finalized(l1(42)) == l1(20)


def test_finality_lookback_covers_the_windows(tmp_path: Path) -> None:
    """op-node ``calcFinalityLookback``: challenge + resolve window + 1 records when larger
    than the default."""
    import dataclasses

    cfg = make_config(alt_da=True)
    assert cfg.alt_da is not None
    cfg = dataclasses.replace(cfg, alt_da=dataclasses.replace(cfg.alt_da, da_challenge_window=3000,
                                                              da_resolve_window=3000))  # fmt: skip
    d = Driver(cfg, FakeEngine(), None, L1Watcher(Canonical()), Canonical())  # type: ignore[arg-type]
    assert d.finality.maxlen == 6001
