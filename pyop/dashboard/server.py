"""The dashboard's HTTP server (aiohttp), bound to 127.0.0.1.

Routes:

- ``GET /``: the page (plain HTML/JS/CSS from the package's ``static/`` directory, no build).
- ``GET /events``: server-sent events: first ``snapshot`` (everything in
  :class:`pyop.dashboard.state.DashboardState`), then ``heads``, ``l1``, ``l2``, ``truncate``,
  ``reorg``, ``narration``, ``procs``, ``scenarios`` as they happen. The page never polls.
- ``GET /api/snapshot``, ``GET /api/l2?from=A&to=B``, ``GET /api/l1?from=A&to=B``: the same
  data for scripts.
- ``POST /api/scenario/NAME`` with JSON parameters: start a scenario
  (:mod:`pyop.dashboard.scenarios`).
- ``GET /api/explore?block=N``: the derivation explorer for L2 block ``N`` of the live devnet
  (captured on demand); ``POST /api/fixture`` (a ``pyop derive --fixture`` file as the body,
  JSON or gzip) then ``GET /api/explore?fixture=1&block=N`` for a fixture.
- ``GET /src/pyop/...py``: the pyop source a narration line links to (read-only, only files of
  the installed ``pyop`` package).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from aiohttp import web

import pyop
from pyop.dashboard.explorer import Exploration, ExplorerError, capture_for_block, explore_fixture
from pyop.dashboard.scenarios import ScenarioError, ScenarioRunner
from pyop.dashboard.state import DashboardState, Subscriber
from pyop.primitives import PyopError

log = logging.getLogger("pyop.dashboard.server")

STATIC = Path(__file__).parent / "static"
PYOP_ROOT = Path(pyop.__file__).resolve().parent
HEARTBEAT = 15.0
MAX_FIXTURE_BYTES = 256 * 1024 * 1024
LIVE_CACHE = 8

__all__ = ["make_app"]


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(obj, separators=(",", ":"), default=str), status=status,
                        content_type="application/json")  # fmt: skip


class Handlers:
    def __init__(self, state: DashboardState, runner: ScenarioRunner | None,
                 live: dict[str, Any] | None) -> None:  # fmt: skip
        self.state = state
        self.runner = runner
        self.live = live  # cfg and URLs for live exploration
        self.fixture: Exploration | None = None
        self.live_cache: OrderedDict[tuple[int, str], Exploration] = OrderedDict()
        self.explore_lock = asyncio.Lock()
        self.connections = 0

    async def index(self, _req: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def events(self, req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip
        await resp.prepare(req)
        sub: Subscriber = self.state.subscribe()
        self.connections += 1
        try:
            snap = json.dumps(self.state.snapshot(), separators=(",", ":"), default=str)
            await resp.write(f"retry: 2000\nevent: snapshot\ndata: {snap}\n\n".encode())
            while not sub.stale:
                try:
                    item = await asyncio.wait_for(sub.queue.get(), HEARTBEAT)
                except TimeoutError:
                    await resp.write(b": ping\n\n")
                    continue
                chunks = [item]
                while not sub.queue.empty() and len(chunks) < 200:
                    chunks.append(sub.queue.get_nowait())
                out = "".join(
                    f"id: {seq}\nevent: {kind}\ndata: "
                    f"{json.dumps(data, separators=(',', ':'), default=str)}\n\n"
                    for seq, kind, data in chunks
                )
                await resp.write(out.encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.connections -= 1
            self.state.unsubscribe(sub)
        return resp

    async def snapshot(self, _req: web.Request) -> web.Response:
        return _json(self.state.snapshot())

    def _range(self, req: web.Request, chain: str) -> web.Response:
        try:
            a, b = int(req.query["from"]), int(req.query["to"])
        except (KeyError, ValueError):
            return _json({"error": "give integer from= and to="}, 400)
        if b - a > 5000:
            return _json({"error": "at most 5000 rows at once"}, 400)
        return _json({"rows": self.state.rows(chain, a, b)})

    async def l2(self, req: web.Request) -> web.Response:
        return self._range(req, "l2")

    async def l1(self, req: web.Request) -> web.Response:
        return self._range(req, "l1")

    async def scenario(self, req: web.Request) -> web.Response:
        if self.runner is None:
            return _json({"error": "no devnet attached (explorer-only dashboard)"}, 400)
        try:
            params = await req.json() if req.can_read_body else {}
        except ValueError:
            return _json({"error": "the body must be a JSON object"}, 400)
        if not isinstance(params, dict):
            return _json({"error": "the body must be a JSON object"}, 400)
        try:
            await self.runner.start(req.match_info["name"], params)
        except ScenarioError as e:
            return _json({"error": str(e)}, 400)
        return _json({"ok": True})

    async def upload_fixture(self, req: web.Request) -> web.Response:
        body = await req.read()
        if len(body) > MAX_FIXTURE_BYTES:
            return _json({"error": "fixture too large"}, 413)
        try:
            self.fixture = await asyncio.to_thread(self._load_fixture, body, "uploaded fixture")
        except (PyopError, ValueError, OSError) as e:
            return _json({"error": f"not a derivation fixture: {e}"}, 400)
        return _json(self.fixture.overview())

    @staticmethod
    def _load_fixture(body: bytes, source: str) -> Exploration:
        from pyop.tools.fixture import DerivationFixture

        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        fx = DerivationFixture.from_json(json.loads(body))
        return explore_fixture(fx, source=source)

    def load_fixture_file(self, path: Path) -> None:
        self.fixture = self._load_fixture(path.read_bytes(), str(path))

    async def explore(self, req: web.Request) -> web.Response:
        try:
            n = int(req.query["block"])
        except (KeyError, ValueError):
            return _json({"error": "give block=N"}, 400)
        t0 = time.monotonic()
        try:
            if req.query.get("fixture"):
                if self.fixture is None:
                    return _json({"error": "no fixture loaded"}, 400)
                trace = self.fixture.trace(n)
            else:
                trace = await self._explore_live(n)
        except (ExplorerError, PyopError) as e:
            return _json({"error": str(e)}, 400)
        trace["seconds"] = round(time.monotonic() - t0, 2)
        return _json(trace)

    async def fixture_overview(self, _req: web.Request) -> web.Response:
        if self.fixture is None:
            return _json({"error": "no fixture loaded"}, 404)
        return _json(self.fixture.overview())

    async def _explore_live(self, n: int) -> dict[str, Any]:
        if self.live is None:
            raise ExplorerError("no devnet attached: load a fixture to explore")
        row = self.state.l2.get(n)
        key = (n, str(row["h"]) if row else "")
        async with self.explore_lock:
            ex = self.live_cache.get(key)
            if ex is None:
                fx = await capture_for_block(self.live["cfg"], self.live["l1"], self.live["l2"],
                                             self.live["beacon"], n)  # fmt: skip
                ex = await asyncio.to_thread(explore_fixture, fx, source=f"live devnet, block {n}")
                self.live_cache[key] = ex
                while len(self.live_cache) > LIVE_CACHE:
                    self.live_cache.popitem(last=False)
        return ex.trace(n)

    async def source(self, req: web.Request) -> web.StreamResponse:
        rel = req.match_info["path"]
        p = (PYOP_ROOT.parent / rel).resolve()
        if p.suffix != ".py" or not p.is_relative_to(PYOP_ROOT) or not p.is_file():
            return web.Response(status=404, text="not a pyop source file")
        return web.Response(text=p.read_text(), content_type="text/plain", charset="utf-8")

    async def health(self, _req: web.Request) -> web.Response:
        return _json({"ok": True, "connections": self.connections, "l2Rows": len(self.state.l2)})


def make_app(state: DashboardState, *, runner: ScenarioRunner | None = None,
             live: dict[str, Any] | None = None) -> tuple[web.Application, Handlers]:  # fmt: skip
    """The aiohttp application (see the module docstring)."""
    h = Handlers(state, runner, live)
    app = web.Application(client_max_size=MAX_FIXTURE_BYTES)
    app.router.add_get("/", h.index)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.router.add_get("/events", h.events)
    app.router.add_get("/api/snapshot", h.snapshot)
    app.router.add_get("/api/l2", h.l2)
    app.router.add_get("/api/l1", h.l1)
    app.router.add_post("/api/scenario/{name}", h.scenario)
    app.router.add_post("/api/fixture", h.upload_fixture)
    app.router.add_get("/api/fixture", h.fixture_overview)
    app.router.add_get("/api/explore", h.explore)
    app.router.add_get("/src/{path:.+}", h.source)
    app.router.add_get("/healthz", h.health)
    return app, h
