"""The dashboard page under load: 10,000 L2 blocks (and 5,000 L1 blocks with batcher txs) in the
server's state, one new block pushed every 100 ms; beside it, the same page with 100 blocks
(the floor). Figures: the page's JS heap (DevTools ``Performance.getMetrics``), DOM nodes, rows
rendered, time to first render, latency from a server push to the rendered frame (p50/p95), and a
deep scroll. Needs Debian's chromium (``make chromium``) and playwright (dev extra).

    .venv/bin/python -m bench.dashboard_bench [--blocks N] [--pushes N]
"""

from __future__ import annotations

import argparse
import json

from tests.dashboard.load_harness import run_load


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--blocks", type=int, default=10_000)
    p.add_argument("--pushes", type=int, default=100)
    args = p.parse_args()
    floor = run_load(l2_blocks=100, l1_blocks=50, pushes=args.pushes, push_interval=0.1)
    big = run_load(l2_blocks=args.blocks, l1_blocks=args.blocks // 2, pushes=args.pushes,
                   push_interval=0.1, shot_name=f"bench-{args.blocks}")  # fmt: skip
    print(f"floor ({100} L2 blocks):  {json.dumps(floor)}")
    print(f"load  ({args.blocks} L2 blocks): {json.dumps(big)}")
    for k in ("heapMB", "domNodes", "renderedRows", "firstRenderMs", "latencyP50ms", "latencyP95ms"):
        a, b = floor.get(k), big.get(k)
        if a and b:
            print(f"  {k:<14} {b:>10} vs {a:>8}  x{b / a:.2f}")


if __name__ == "__main__":
    main()
