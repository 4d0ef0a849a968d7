"""A JSON-RPC 2.0 server over HTTP (aiohttp), as op-service ``rpc.Server`` serves a service's
API with go-ethereum's ``rpc`` package.

``POST /`` with one request object or a batch (array); a batch answers an array in request
order; a request without ``id`` is a notification (no answer). Error codes: ``-32700`` parse
error, ``-32600`` invalid request, ``-32601`` method not found, ``-32602`` invalid params,
``-32000`` a method's own error. ``GET /healthz`` answers ``{"version": ...}`` (op-service's
health handler). A method is an ``async`` callable taking the params list.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from pyop.primitives import PyopError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
METHOD_ERROR = -32000
MAX_BODY = 5 * 1024 * 1024
MAX_BATCH = 1000

Method = Callable[[list[Any]], Awaitable[object]]

__all__ = ["HTTPServer", "Method", "RPCMethodError", "handle_body", "rpc_app"]

log = logging.getLogger("pyop.opservice.rpc")


class RPCMethodError(PyopError):
    """An error a method returns to the caller (``code`` defaults to ``-32000``)."""

    def __init__(self, message: str, code: int = METHOD_ERROR) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _error(req_id: object, code: int, message: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": req_id, "error": {"code": code, "message": message}}


async def _one(methods: Mapping[str, Method], req: object) -> dict[str, object] | None:
    if not isinstance(req, dict):
        return _error(None, INVALID_REQUEST, "invalid request")
    req_id = req.get("id")
    notification = "id" not in req
    method = req.get("method")
    params = req.get("params", [])
    if req.get("jsonrpc") != "2.0" or not isinstance(method, str) or (
        req_id is not None and not isinstance(req_id, (str, int, float))
    ):
        return _error(req_id, INVALID_REQUEST, "invalid request")
    if params is None:
        params = []
    if not isinstance(params, list):
        return _error(req_id, INVALID_REQUEST, "non-array args")
    fn = methods.get(method)
    if fn is None:
        return None if notification else _error(
            req_id, METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
    try:
        result = await fn(params)
    except RPCMethodError as e:
        return None if notification else _error(req_id, e.code, e.message)
    except Exception as e:  # a bug: answer, log, keep serving
        log.exception("rpc method failed: %s", method)
        return None if notification else _error(req_id, INTERNAL_ERROR, f"{type(e).__name__}: {e}")
    return None if notification else {"jsonrpc": "2.0", "id": req_id, "result": result}


async def handle_body(methods: Mapping[str, Method], body: bytes) -> Any:
    """A whole HTTP body -> the JSON to answer (``None``: nothing)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(None, PARSE_ERROR, "parse error")
    if isinstance(data, list):
        if not data:
            return _error(None, INVALID_REQUEST, "empty batch")
        if len(data) > MAX_BATCH:
            return _error(None, INVALID_REQUEST, f"batch too large (max {MAX_BATCH})")
        out = [r for r in [await _one(methods, x) for x in data] if r is not None]
        return out or None
    return await _one(methods, data)


def rpc_app(methods: Mapping[str, Method], version: str) -> web.Application:
    """The aiohttp app serving ``methods``."""
    app = web.Application(client_max_size=MAX_BODY)

    async def post(request: web.Request) -> web.Response:
        res = await handle_body(methods, await request.read())
        if res is None:
            return web.Response(status=200, text="", content_type="application/json")
        return web.json_response(res)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"version": version})

    app.router.add_post("/", post)
    app.router.add_get("/healthz", health)
    return app


class HTTPServer:
    """An aiohttp app listening on ``host:port`` (port 0: a free port, :attr:`port` after
    :meth:`start`)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
