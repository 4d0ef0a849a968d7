"""A small aiohttp server on 127.0.0.1 (own thread and loop) for the source tests: a JSON-RPC
endpoint driven by a Python handler, plus arbitrary GET routes (beacon API, alt-DA)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

RPCHandler = Callable[[str, list[Any]], Any]


class RPCFail(Exception):
    """Raise in a handler to answer with a JSON-RPC error object."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FakeServer:
    """``rpc``: method -> handler; ``routes``: GET path -> (status, body) or callable.

    Knobs: ``status_script`` (a list of HTTP statuses to answer with before serving normally),
    ``max_batch`` (larger batches get a geth-style id-less "batch too large" error),
    ``raw_reply`` (if set, a function of the request body returning raw response bytes).
    """

    def __init__(self) -> None:
        self.rpc: dict[str, RPCHandler] = {}
        self.routes: dict[str, Any] = {}
        self.status_script: list[int] = []
        self.max_batch: int | None = None
        self.batch_limit_style = "object"  # or "items"
        self.raw_reply: Callable[[Any], bytes] | None = None
        self.posts: list[Any] = []
        self.gets: list[str] = []
        self.queries: list[list[tuple[str, str]]] = []
        self.headers: list[dict[str, str]] = []
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    # ------------------------------------------------------------------ lifecycle

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/", self._post)
        app.router.add_route("*", "/{tail:.*}", self._get)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self.loop.run_forever()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        async def stop() -> None:
            await self.runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    # ------------------------------------------------------------------ handlers

    def _one(self, req: dict[str, Any]) -> dict[str, Any]:
        rid = req.get("id")
        h = self.rpc.get(req.get("method", ""))
        if h is None:
            return {"jsonrpc": "2.0", "id": rid,
                    "error": {"code": -32601, "message": f"the method {req.get('method')} does not exist/is not available"}}  # fmt: skip
        try:
            return {"jsonrpc": "2.0", "id": rid, "result": h(req["method"], req.get("params", []))}
        except RPCFail as e:
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": e.code, "message": e.message}}

    async def _post(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.posts.append(body)
        if self.status_script:
            status = self.status_script.pop(0)
            return web.Response(status=status, text="slow down", headers={"Retry-After": "0"})
        if self.raw_reply is not None:
            return web.Response(body=self.raw_reply(body), content_type="application/json")
        if isinstance(body, list):
            if self.max_batch is not None and len(body) > self.max_batch:
                if self.batch_limit_style == "object":
                    out: Any = {"jsonrpc": "2.0", "id": None,
                                "error": {"code": -32600, "message": "batch too large"}}  # fmt: skip
                else:
                    err = {"code": -32005, "message": "batch item count exceeded"}
                    out = [{"jsonrpc": "2.0", "id": r.get("id"), "error": err} for r in body]
                return web.json_response(out)
            return web.json_response([self._one(r) for r in body])
        return web.json_response(self._one(body))

    async def _get(self, request: web.Request) -> web.Response:
        path = request.path
        self.gets.append(path)
        self.queries.append(list(request.query.items()))
        self.headers.append(dict(request.headers))
        if request.method == "POST" and path.startswith("/put"):
            data = await request.read()
            r = self.routes.get("POST " + path.split("/0x")[0])
            if callable(r):
                status, body = r(path, data)
                return web.Response(status=status, body=body)
            return web.Response(status=404)
        r = self.routes.get(path)
        if r is None:
            return web.Response(status=404, text="not found")
        if callable(r):
            r = r(path)
        status, body = r
        if isinstance(body, bytes):
            return web.Response(status=status, body=body)
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")
