"""The rollup node's HTTP servers (aiohttp): JSON-RPC 2.0 on ``--rpc.addr:--rpc.port``
(default 127.0.0.1:9545, op-node's) and Prometheus metrics on ``/metrics``.

JSON-RPC 2.0 (https://www.jsonrpc.org/specification) as go-ethereum's ``rpc`` package serves
it for op-node: ``POST /`` with one request object or a batch (array); a batch answers an array
in request order; a request without ``id`` is a notification (no answer); errors use the codes
of :mod:`pyop.node.api` (``-32700`` parse error, ``-32600`` invalid request, ``-32601`` method
not found, ``-32602`` invalid params, ``-32000`` method error). ``GET /healthz`` answers
``{"version": ...}`` and the ``health_status`` method the version string (op-service ``rpc``
health handler and ``healthzAPI``); CORS allows any origin (:func:`cors_any_origin`). Like
op-node v1.19.6's RPC server (``op-node/node/server.go``: no ``WithWebsocketEnabled``), the port
speaks HTTP only, no WebSocket.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from pyop.node.api import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    PARSE_ERROR,
    VERSION,
    RollupAPI,
    RPCMethodError,
)
from pyop.node.logs import kv
from pyop.node.metrics import CONTENT_TYPE, NodeMetrics
from pyop.sources.jsonraw import member_sizes

log = logging.getLogger("pyop.node.rpc")
MAX_BODY = 5 * 1024 * 1024
MAX_BATCH = 1000


def _error(req_id: object, code: int, message: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": req_id, "error": {"code": code, "message": message}}


#: ``(rpc, method, params bytes, result bytes or None)``: op-service's RPC size metrics
SizeRecorder = Callable[[str, str, int, "int | None"], None]


async def handle_one(api: RollupAPI, req: object, raw_sizes: Mapping[str, int] | None = None,
                     on_sizes: SizeRecorder | None = None) -> dict[str, object] | None:  # fmt: skip
    """One JSON-RPC request object -> response object (``None`` for a notification).
    ``raw_sizes``: the byte length of each member's raw value in the request (for
    ``on_sizes``, called per answered request: op-service ``rpcRecorder.RecordIncoming``
    counts ``len(MsgParams())`` and, for a successful call, ``len(MsgResult())``: the bytes of
    ``result`` as this server encodes it)."""
    res = await _handle_one(api, req)
    if on_sizes is not None and res is not None and isinstance(req, dict) and isinstance(req.get("method"), str):
        result_size = len(json.dumps(res["result"]).encode()) if "result" in res else None
        on_sizes("main", req["method"], (raw_sizes or {}).get("params", 0), result_size)
    return res


async def _handle_one(api: RollupAPI, req: object) -> dict[str, object] | None:
    if not isinstance(req, dict):
        return _error(None, INVALID_REQUEST, "invalid request")
    req_id = req.get("id")
    is_notification = "id" not in req
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
    try:
        result = await api.dispatch(method, params)
    except RPCMethodError as e:
        return None if is_notification else _error(req_id, e.code, e.message)
    except Exception as e:  # a bug: answer, log, keep serving
        log.exception("rpc method failed", extra=kv(method=method))
        return None if is_notification else _error(req_id, INTERNAL_ERROR, f"{type(e).__name__}: {e}")
    if is_notification:
        return None
    return {"jsonrpc": "2.0", "id": req_id, "result": result}


async def handle_body(api: RollupAPI, body: bytes, on_sizes: SizeRecorder | None = None) -> Any:
    """A whole HTTP body -> the JSON to answer (``None``: nothing to answer)."""
    try:
        data = json.loads(body)
        sizes = member_sizes(body) if on_sizes is not None else []
    except (ValueError, UnicodeDecodeError):
        return _error(None, PARSE_ERROR, "parse error")
    if isinstance(data, list):
        if not data:
            return _error(None, INVALID_REQUEST, "empty batch")
        if len(data) > MAX_BATCH:
            return _error(None, INVALID_REQUEST, f"batch too large (max {MAX_BATCH})")
        answers = [await handle_one(api, x, sizes[i] if i < len(sizes) else None, on_sizes) for i, x in enumerate(data)]
        out = [r for r in answers if r is not None]
        return out or None
    return await handle_one(api, data, sizes[0] if sizes else None, on_sizes)


#: go-ethereum ``newCorsHandler`` as op-node configures it (``WithCORSHosts(["*"])``)
CORS_METHODS = ("POST", "GET", "OPTIONS")
CORS_MAX_AGE = "600"
_PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


@web.middleware
async def cors_any_origin(request: web.Request, handler: Any) -> web.StreamResponse:
    """CORS on the JSON-RPC path for any origin, as op-node's RPC server (op-node
    ``newRPCServer``: ``oprpc.WithCORSHosts([]string{"*"})`` -> go-ethereum ``newCorsHandler``:
    rs/cors v1.11 with methods POST and GET, any header, max age 600 s; ``/healthz`` is served
    before it). A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered
    204 here (``handlePreflight``): the allow headers only for an origin and an allowed method,
    echoing the method and the requested headers; any other request gets ``Vary: Origin`` and,
    from an origin, ``Access-Control-Allow-Origin: *`` (``handleActualRequest``)."""
    if request.path != "/":
        return await handler(request)  # type: ignore[no-any-return]
    origin = request.headers.get("Origin", "")
    want = request.headers.get("Access-Control-Request-Method", "")
    if request.method == "OPTIONS" and want:
        h = {"Vary": _PREFLIGHT_VARY}
        if origin and want in CORS_METHODS:
            h.update({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": want,
                      "Access-Control-Max-Age": CORS_MAX_AGE})  # fmt: skip
            asked = request.headers.get("Access-Control-Request-Headers", "")
            if asked:
                h["Access-Control-Allow-Headers"] = asked
        return web.Response(status=204, headers=h)
    resp: web.StreamResponse = await handler(request)
    resp.headers["Vary"] = "Origin"
    if origin and request.method in CORS_METHODS:
        resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def rpc_app(api: RollupAPI, on_sizes: SizeRecorder | None = None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[cors_any_origin])

    async def post(request: web.Request) -> web.Response:
        body = await request.read()
        res = await handle_body(api, body, on_sizes)
        if res is None:
            return web.Response(status=200, text="", content_type="application/json")
        return web.json_response(res)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"version": VERSION})

    app.router.add_post("/", post)
    app.router.add_get("/healthz", health)
    return app


def metrics_app(metrics: NodeMetrics) -> web.Application:
    app = web.Application()

    async def get(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render().encode(), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/metrics", get)
    return app


class HTTPServer:
    """A started aiohttp app on ``host:port`` (port 0: any free port; :attr:`port` after
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
