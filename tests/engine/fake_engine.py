"""A scriptable fake Engine API JSON-RPC server (aiohttp on 127.0.0.1) for unit tests.

``handlers[method](params) -> result`` or raise :class:`RpcFail` for a JSON-RPC error; every
request is recorded with its ``Authorization`` header. ``raw_responses[method]`` returns
``(status, body bytes)`` as is (HTTP errors, non-JSON bodies); ``delay`` sleeps first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


class RpcFail(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Request:
    method: str
    params: list[Any]
    authorization: str | None


@dataclass
class FakeEngine:
    handlers: dict[str, Callable[[list[Any]], Any]] = field(default_factory=dict)
    raw_responses: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        method, params = body["method"], body.get("params", [])
        self.requests.append(Request(method, params, request.headers.get("Authorization")))
        if self.delay:
            await asyncio.sleep(self.delay)
        if method in self.raw_responses:
            status, raw = self.raw_responses[method]
            return web.Response(status=status, body=raw)
        out: dict[str, Any] = {"jsonrpc": "2.0", "id": body["id"]}
        fn = self.handlers.get(method)
        if fn is None:
            out["error"] = {"code": -32601, "message": f"the method {method} does not exist"}
        else:
            try:
                out["result"] = fn(params)
            except RpcFail as e:
                out["error"] = {"code": e.code, "message": e.message}
        return web.json_response(out)

    async def __aenter__(self) -> FakeEngine:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def calls(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]


def valid(payload_id: str | None = None) -> dict[str, Any]:
    """A forkchoiceUpdated result with status VALID."""
    return {
        "payloadStatus": {"status": "VALID", "latestValidHash": None, "validationError": None},
        "payloadId": payload_id,
    }


def status(s: str, err: str | None = None) -> dict[str, Any]:
    return {"status": s, "latestValidHash": None, "validationError": err}


def dumps(obj: object) -> bytes:
    return json.dumps(obj).encode()
