"""``pyop dashboard``: serve the teaching dashboard for a running devnet (and/or a fixture).

    pyop dashboard --devnet DIR [--port N] [--fixture FIXTURE.json] [--interval S]
    pyop dashboard --fixture FIXTURE.json [--port N]      # the derivation explorer only

Prints ``dashboard http://127.0.0.1:PORT/`` once it serves; runs until SIGINT / SIGTERM.
``pyop devnet up DIR --dashboard`` starts this as the devnet process ``dashboard`` (so
``pyop devnet down`` stops it too).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from pyop.config.rollup import RollupConfig
from pyop.dashboard.collector import Collector, devnet_config
from pyop.dashboard.scenarios import ScenarioRunner
from pyop.dashboard.server import make_app
from pyop.dashboard.state import DashboardState
from pyop.devnet.process import default_or_os_port, port_free, wait_for_stop_signal
from pyop.devnet.stack import load_devnet
from pyop.primitives import PyopError

HOST = "127.0.0.1"
DEFAULT_PORT = 7300

__all__ = ["DEFAULT_PORT", "main", "pick_port", "serve"]


class DashboardError(PyopError):
    """The dashboard cannot start (bad devnet directory, port taken, bad fixture)."""


def pick_port(port: int | None) -> int:
    """``port`` if given (it must be free); else :data:`DEFAULT_PORT` if free, else any."""
    if port is not None:
        if port != 0 and not port_free(HOST, port):
            raise DashboardError(f"port {port} on {HOST} is in use")
        return port
    return default_or_os_port(HOST, DEFAULT_PORT)


async def serve(devnet: Path | None, *, port: int, fixture: Path | None = None,
                interval: float = 0.5) -> None:  # fmt: skip
    """Serve until SIGINT/SIGTERM (see the module docstring)."""
    collector = runner = None
    live: dict[str, Any] | None = None
    if devnet is not None:
        info = load_devnet(devnet)
        cfg = RollupConfig.from_json(json.loads(info.rollup_path.read_text()))
        state = DashboardState(devnet_config(info, cfg))
        collector = Collector(info, state, interval=interval)
        runner = ScenarioRunner(info, state)
        collector.listeners.append(runner.tick)
        live = {"cfg": cfg, "l1": info.l1_url, "l2": info.l2_rpc_url, "beacon": info.l1_beacon_url}
    else:
        state = DashboardState({"explorerOnly": True})
    app, handlers = make_app(state, runner=runner, live=live)
    if fixture is not None:
        await asyncio.to_thread(handlers.load_fixture_file, fixture)
    web_runner = web.AppRunner(app, shutdown_timeout=2.0)
    await web_runner.setup()
    site = web.TCPSite(web_runner, HOST, port)
    try:
        await site.start()
    except OSError as e:
        await web_runner.cleanup()
        if e.errno == errno.EADDRINUSE:
            raise DashboardError(f"port {port} on {HOST} is in use") from None
        raise
    print(f"dashboard http://{HOST}:{port}/", flush=True)
    task = asyncio.create_task(collector.run()) if collector is not None else None
    try:
        await wait_for_stop_signal()
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if runner is not None:
            await runner.close()
        if collector is not None:
            await collector.close()
        await web_runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="pyop dashboard",
        description="The teaching dashboard: live L1/L2 chains, heads, scenarios, and the "
        "derivation explorer, on 127.0.0.1.",
    )
    p.add_argument("--devnet", metavar="DIR", help="a running devnet (`pyop devnet up DIR`)")
    p.add_argument("--port", type=int, default=None,
                   help=f"port (default {DEFAULT_PORT}, or a free one if that is taken)")  # fmt: skip
    p.add_argument("--fixture", metavar="FIXTURE.json", help="a derivation fixture to explore")
    p.add_argument("--interval", type=float, default=0.5, metavar="S",
                   help="seconds between reads of the devnet (server side)")  # fmt: skip
    args = p.parse_args(argv)
    if not args.devnet and not args.fixture:
        p.error("give --devnet DIR (and/or --fixture FILE)")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        port = pick_port(args.port)
        asyncio.run(serve(Path(args.devnet) if args.devnet else None, port=port,
                          fixture=Path(args.fixture) if args.fixture else None,
                          interval=args.interval))  # fmt: skip
    except PyopError as e:
        print(f"pyop dashboard: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
