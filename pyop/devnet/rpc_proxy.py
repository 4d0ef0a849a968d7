"""A counting JSON-RPC proxy: put it in front of the devnet's L1 (anvil) and point one rollup
node's ``--l1`` at it to measure how many L1 calls that node makes (the issue's "L1 calls per
hour on the idle devnet": pyop node against the Go op-node, measured the same way).

Each HTTP POST is forwarded unchanged to the upstream URL and its answer returned unchanged.
Counted: HTTP requests, JSON-RPC calls (each element of a batch is one call) and calls per
method. ``GET /counts`` answers the counters as JSON (``{"http": n, "calls": n, "methods":
{...}, "since": unix}``); ``POST /reset`` zeroes them.

Run it as a process (``python -m pyop.devnet.rpc_proxy --upstream URL --port N``, what
:func:`start_rpc_proxy_process` does) so the node under test and the proxy do not share a CPU-bound
event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from pyop.devnet.process import (
    ManagedProcess,
    PidRegistry,
    start_http_service,
    wait_for_stop_signal,
)


@dataclass
class RpcCounts:
    """What one proxy has forwarded."""

    http: int = 0
    calls: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    since: float = field(default_factory=time.time)

    def add(self, body: object) -> None:
        self.http += 1
        items = body if isinstance(body, list) else [body]
        for item in items:
            self.calls += 1
            m = item.get("method") if isinstance(item, dict) else None
            self.methods[str(m)] += 1

    def to_json(self) -> dict[str, Any]:
        return {"http": self.http, "calls": self.calls, "methods": dict(self.methods),
                "since": self.since, "now": time.time()}  # fmt: skip


def proxy_app(upstream: str) -> web.Application:
    counts = RpcCounts()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    holder: dict[str, ClientSession] = {}

    async def on_startup(_app: web.Application) -> None:
        holder["s"] = ClientSession(timeout=ClientTimeout(total=60))

    async def on_cleanup(_app: web.Application) -> None:
        await holder["s"].close()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            counts.add(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            counts.add(None)
        async with holder["s"].post(upstream + request.path_qs, data=body,
                                    headers={"Content-Type": "application/json"}) as resp:  # fmt: skip
            data = await resp.read()
            return web.Response(status=resp.status, body=data, content_type="application/json")

    async def get_counts(_request: web.Request) -> web.Response:
        return web.json_response(counts.to_json())

    async def reset(_request: web.Request) -> web.Response:
        nonlocal counts
        counts.http = counts.calls = 0
        counts.methods.clear()
        counts.since = time.time()
        return web.json_response(counts.to_json())

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/counts", get_counts)
    app.router.add_post("/reset", reset)
    app.router.add_post("/{tail:.*}", forward)
    return app


def read_counts(url: str) -> dict[str, Any]:
    """``GET <proxy>/counts``."""
    with urllib.request.urlopen(url.rstrip("/") + "/counts", timeout=5) as r:
        return dict(json.loads(r.read()))


def reset_counts(url: str) -> dict[str, Any]:
    req = urllib.request.Request(url.rstrip("/") + "/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return dict(json.loads(r.read()))


def start_rpc_proxy_process(
    logs_dir: Path, upstream: str, port: int, *, name: str = "rpc-proxy", host: str = "127.0.0.1",
    registry: PidRegistry | None = None,
) -> tuple[ManagedProcess, str]:  # fmt: skip
    """Start the proxy as a process (registered in ``registry``); returns it and its URL."""
    url = f"http://{host}:{port}"
    argv = [sys.executable, "-m", "pyop.devnet.rpc_proxy", "--upstream", upstream, "--host", host,
            "--port", str(port)]  # fmt: skip
    proc = start_http_service(name, argv, log_path=logs_dir / f"{name}.log", ready_url=url + "/counts",
                              ready_timeout=20, registry=registry)  # fmt: skip
    return proc, url


async def _serve(upstream: str, host: str, port: int) -> None:
    runner = web.AppRunner(proxy_app(upstream), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    try:
        await wait_for_stop_signal()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="counting JSON-RPC proxy")
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args(argv)
    asyncio.run(_serve(a.upstream.rstrip("/"), a.host, a.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
