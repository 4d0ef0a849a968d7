"""The page stays responsive with 10,000 L2 blocks behind it (a synthetic load: the server's
state is filled directly, no devnet): it loads them from the snapshot, renders only the visible
rows, and shows each pushed block within a bounded time. The figures are printed; the bench
(bench/dashboard_bench.py) reports them in full."""

from __future__ import annotations

from tests.dashboard.browser import require_browser
from tests.dashboard.load_harness import run_load


def test_ten_thousand_l2_blocks_stay_responsive() -> None:
    require_browser()
    fig = run_load(l2_blocks=10_000, l1_blocks=5_000, pushes=40, push_interval=0.1, shot_name="load-10000")
    print(f"\n[dashboard load] {fig}")
    assert fig["l2Count"] == 10_000 + 40
    assert fig["renderedRows"] < 120, "the L2 list must render only the visible rows"
    assert fig["heapMB"] < 150, fig
    assert fig["latencyP95ms"] < 1000, fig
    assert fig["firstRenderMs"] < 15_000, fig
    assert fig["headUnsafe"] == 10_000 + 40 - 1
