"""A synthetic load for the dashboard page: an in-process server whose state holds N L2 and M
L1 blocks shaped like the collector's rows, a Chromium page on it, then one new block pushed
every ``push_interval`` seconds. Measures the page's JS heap (DevTools ``Performance.getMetrics``)
and the latency from the server's push to the page's rendered frame (``window.pyopDash.stats``).
Used by tests/dashboard/test_dashboard_load.py and bench/dashboard_bench.py."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from typing import Any

from aiohttp import web

from pyop.dashboard.server import make_app
from pyop.dashboard.state import DashboardState
from pyop.devnet.process import free_port
from tests.dashboard.browser import shot, with_page

CONFIG = {"l1BlockTime": 4, "l2BlockTime": 2, "seqWindowSize": 10, "maxSequencerDrift": 1800,
          "channelTimeout": 50, "l2GenesisTime": 1_700_000_000, "l2GenesisNumber": 0}  # fmt: skip


def l2_row(n: int) -> dict[str, Any]:
    o = n // 2
    return {"n": n, "h": f"0x{n:064x}", "p": f"0x{n - 1:064x}", "t": 1_700_000_000 + 2 * n,
            "o": o, "oh": f"0x{o:064x}", "sq": n % 2, "tx": n % 5,
            "dep": [[o, f"0x{n:064x}"]] if n % 97 == 0 else [], "b": o + 3, "pr": o + 5 if n % 10 == 0 else None}  # fmt: skip


def l1_row(n: int) -> dict[str, Any]:
    cid = f"0x{n:032x}"
    return {"n": n, "h": f"0x{n:064x}", "p": f"0x{n - 1:064x}", "t": 1_700_000_000 + 4 * n,
            "bt": [{"h": f"0x{n:064x}", "kind": "calldata", "frames": [[cid, 0, True, 900]],
                    "ch": [cid], "l2": [2 * n - 6, 2 * n - 5], "err": ""}],
            "dep": [], "pr": [], "sh": 2 * n - 6, "txs": 3}  # fmt: skip


def heads(n: int) -> dict[str, Any]:
    return {"l1": {"head": {"number": n // 2, "hash": "0x", "timestamp": time.time()},
                   "finalized": {"number": n // 2 - 8, "hash": "0x"}},
            "l2": {"unsafe": {"number": n, "hash": "0x", "timestamp": int(time.time()), "origin": n // 2},
                   "safe": {"number": n - 6, "hash": "0x", "timestamp": 0, "origin": n // 2 - 3},
                   "finalized": {"number": n - 30, "hash": "0x", "timestamp": 0, "origin": n // 2 - 15}},
            "window": {"seqWindowSize": 10, "safeEpoch": n // 2 - 3, "closesAt": n // 2 + 7,
                       "blocksLeft": 7}, "nodeOk": True}  # fmt: skip


class Server:
    """The dashboard app on a free port, served from a thread with its own loop."""

    def __init__(self, state: DashboardState) -> None:
        self.state = state
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app, _h = make_app(self.state)
        self.runner = web.AppRunner(app, shutdown_timeout=1.0)
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> Server:
        self.thread.start()
        self.ready.wait(10)
        return self

    def call(self, fn: Any) -> None:
        fut = asyncio.run_coroutine_threadsafe(_acall(fn), self.loop)
        fut.result(10)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        asyncio.run_coroutine_threadsafe(_cancel_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


async def _acall(fn: Any) -> None:
    fn()


async def _cancel_all() -> None:
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def run_load(*, l2_blocks: int = 10_000, l1_blocks: int = 5_000, pushes: int = 40,
             push_interval: float = 0.1, shot_name: str = "") -> dict[str, Any]:  # fmt: skip
    state = DashboardState(CONFIG)
    for n in range(l1_blocks):
        state.upsert_l1(l1_row(n))
    for n in range(l2_blocks):
        state.upsert_l2(l2_row(n))
    state.set_heads(heads(l2_blocks - 1))
    state.flush()
    with Server(state) as srv:
        fig = with_page(lambda page: _measure(page, srv, state, l2_blocks, pushes, push_interval,
                                              shot_name))  # fmt: skip
    return fig


async def _measure(page: Any, srv: Server, state: DashboardState, l2_blocks: int, pushes: int,
                   push_interval: float, shot_name: str) -> dict[str, Any]:  # fmt: skip
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Performance.enable")
    t0 = time.monotonic()
    await page.goto(srv.url)
    await page.wait_for_function(
        f"document.querySelector('[data-head=unsafe]').textContent === '{l2_blocks - 1}'"
        " && document.querySelectorAll('#l2list .row').length > 5", timeout=60_000)
    first_render = (time.monotonic() - t0) * 1000
    await page.evaluate("window.pyopDash.stats.latencies.length = 0")
    for i in range(pushes):
        n = l2_blocks + i

        def push(n: int = n) -> None:
            state.upsert_l2(l2_row(n))
            state.set_heads(heads(n))
            state.flush()

        await asyncio.to_thread(srv.call, push)
        await asyncio.sleep(push_interval)
    last = l2_blocks + pushes - 1
    await page.wait_for_function(f"document.querySelector('[data-head=unsafe]').textContent === '{last}'",
                                 timeout=30_000)  # fmt: skip
    await page.wait_for_timeout(300)
    # scroll deep into the list and back: only visible rows are in the DOM
    t1 = time.monotonic()
    await page.evaluate("document.getElementById('l2list').scrollTop = 200000")
    await page.wait_for_timeout(100)
    await page.evaluate("document.getElementById('l2list').scrollTop = 0")
    await page.wait_for_timeout(100)
    scroll_ms = (time.monotonic() - t1) * 1000 - 200
    lat = sorted(await page.evaluate("window.pyopDash.stats.latencies.slice()"))
    metrics = {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
    rows = await page.evaluate("document.querySelectorAll('#l2list .row').length")
    count = await page.evaluate("window.pyopDash.S.l2.size")
    unsafe = int(await page.locator('[data-head="unsafe"]').text_content() or 0)
    if shot_name:
        await shot(page, shot_name, full=False)
    return {
        "l2Count": count,
        "renderedRows": rows,
        "heapMB": round(metrics.get("JSHeapUsedSize", 0) / 2**20, 1),
        "domNodes": int(metrics.get("Nodes", 0)),
        "firstRenderMs": round(first_render),
        "latencyP50ms": round(statistics.median(lat), 1) if lat else None,
        "latencyP95ms": round(lat[int(len(lat) * 0.95) - 1], 1) if lat else None,
        "updates": len(lat),
        "scrollMs": round(scroll_ms, 1),
        "headUnsafe": unsafe,
    }
