"""An asyncio JSON-RPC 2.0 client over HTTP (aiohttp), plus a plain HTTP GET/POST helper and a
private event-loop thread that lets synchronous code (the derivation pipeline) call it.

What the client does (op-service ``client.BaseRPCClient`` / ``sources.batching`` in spirit):

- :meth:`AsyncRPCClient.call` sends one request; :meth:`AsyncRPCClient.batch` sends many as
  JSON-RPC batches of at most ``max_batch`` items, with at most ``max_concurrency`` HTTP
  requests in flight, and returns results in request order.
- Retries with exponential backoff (``backoff * 2**attempt``, capped at ``max_backoff``,
  ``Retry-After`` honoured) on transport errors (connection refused/reset, timeouts), HTTP 429
  and HTTP 5xx; after ``retries`` attempts it raises :class:`RPCTransportError`.
- Batch limits: when a server rejects a batch as too large (HTTP 413, or a JSON-RPC error whose
  message says "batch ... exceeded" / "too large" / "limit exceeded", for the whole batch or for
  the items it refused) the items are sent again in batches half as large (down to 1; the
  smaller size sticks for later batches).
- ``rate_limit`` (requests per second, 0: none; op-node ``--l1.rpc-rate-limit``): a token
  bucket of ``max_batch`` tokens refilled at that rate; a batch of N items takes N tokens at
  once (op-service ``RateLimitingClient``: ``rate.NewLimiter(limit, batchSize)``, ``WaitN``).
- Every response is checked: it must be JSON, a batch answer must be a list of objects with the
  request ids, each with exactly a ``result`` or an ``error``; otherwise
  :class:`RPCResponseError`. A JSON-RPC ``error`` object becomes :class:`JSONRPCError` (with
  ``code``, ``message``, ``data``).

:class:`LoopThread` runs one event loop on a daemon thread; ``LoopThread.run(coro)`` blocks
the calling thread until the coroutine is done. The sync sources in :mod:`pyop.sources`
(``L1RPCSource``, ``L2RPCSource``, ``BeaconBlobSource``) are thin facades over the async clients
that call through one shared ``LoopThread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
from collections.abc import Awaitable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import aiohttp

from pyop.primitives import PyopError
from pyop.ratelimit import TokenBucket

T = TypeVar("T")

__all__ = [
    "AsyncHTTPClient",
    "AsyncRPCClient",
    "HTTPStatusError",
    "JSONRPCError",
    "LoopThread",
    "RPCError",
    "RPCResponseError",
    "RPCTransportError",
    "RetryPolicy",
]


class RPCError(PyopError):
    """Base of every error of the RPC / HTTP clients."""


class RPCTransportError(RPCError):
    """The server could not be reached or kept failing (after all retries)."""


class RPCResponseError(RPCError):
    """The server answered something that is not a valid JSON-RPC response."""


class HTTPStatusError(RPCError):
    """An HTTP status the caller must handle (e.g. 404), for plain HTTP requests."""

    def __init__(self, status: int, url: str, body: str = "") -> None:
        super().__init__(f"HTTP {status} from {url}" + (f": {body[:200]}" if body else ""))
        self.status = status
        self.url = url
        self.body = body


class JSONRPCError(RPCError):
    """A JSON-RPC ``error`` object returned by the server."""

    def __init__(self, code: int, message: str, data: object = None, method: str = "") -> None:
        where = f"{method}: " if method else ""
        super().__init__(f"{where}JSON-RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data
        self.method = method

    @property
    def is_method_not_found(self) -> bool:
        m = self.message.lower()
        return self.code == -32601 or ("method" in m and ("not found" in m or "not exist" in m))

    @property
    def is_batch_limit(self) -> bool:
        return _is_limit_message(self.message)


_LIMIT_RE = re.compile(
    r"batch.*(exceed|too large|too many|limit)|limit exceeded|too large|too many requests in batch"
    r"|response too large|exceeds? .*limit",
    re.IGNORECASE,
)


def _is_limit_message(msg: str) -> bool:
    return bool(_LIMIT_RE.search(msg))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry transient failures."""

    retries: int = 5
    backoff: float = 0.25
    max_backoff: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        d = min(self.max_backoff, self.backoff * (2**attempt))
        if retry_after is not None:
            d = max(d, min(float(retry_after), self.max_backoff))
        return float(d)


class _Retryable(Exception):
    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.retry_after = retry_after


class _BatchTooLarge(Exception):
    pass


def _retry_after(headers: Mapping[str, str]) -> float | None:
    v = headers.get("Retry-After")
    if v is None:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        return None


class SessionHolder:
    """One ``aiohttp.ClientSession`` per client, created lazily inside the running loop with the
    client's ``timeout`` (seconds, whole request) and ``headers``; :meth:`close` (or
    ``async with``) when done. Shared by :class:`AsyncHTTPClient`, :class:`AsyncRPCClient` and
    the Engine API client."""

    timeout: float
    headers: Mapping[str, str] | None = None
    _session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout), headers=self.headers
            )
        return self._session

    async def close(self) -> None:
        # detach before awaiting: a request racing the close opens a new session, which then
        # stays here for the next close() instead of being dropped open ("Unclosed client session")
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class AsyncHTTPClient(SessionHolder):
    """Plain HTTP GET/POST with the same retry policy (beacon API, alt-DA server).

    The ``aiohttp.ClientSession`` is created lazily inside the running loop; call
    :meth:`close` (or use ``async with``) when done.
    """

    def __init__(
        self,
        base_url: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str = "application/octet-stream",
        ok_statuses: Sequence[int] = (200,),
        params: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """``(status, body)``; retries transport errors, 429 and 5xx. Other statuses not in
        ``ok_statuses`` raise :class:`HTTPStatusError` at once."""
        url = self.base_url + path
        attempt = 0
        while True:
            try:
                headers = {"Content-Type": content_type} if body is not None else None
                async with self._sess().request(
                    method, url, data=body, headers=headers, params=params
                ) as resp:
                    data = await resp.read()
                    if resp.status in ok_statuses:
                        return resp.status, data
                    if resp.status == 429 or resp.status >= 500:
                        raise _Retryable(f"HTTP {resp.status}", _retry_after(resp.headers))
                    raise HTTPStatusError(resp.status, url, data.decode("utf-8", "replace"))
            except (TimeoutError, aiohttp.ClientError, _Retryable) as e:
                if attempt >= self.retry.retries:
                    raise RPCTransportError(f"{method} {url}: {_describe(e)}") from None
                ra = e.retry_after if isinstance(e, _Retryable) else None
                await asyncio.sleep(self.retry.delay(attempt, ra))
                attempt += 1

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET ``path`` and parse JSON (:class:`RPCResponseError` if it is not JSON)."""
        _, data = await self.request("GET", path, params=params)
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise RPCResponseError(f"GET {self.base_url + path}: not JSON: {e}") from None


def _describe(e: BaseException) -> str:
    if isinstance(e, asyncio.TimeoutError):
        return "timeout"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


class AsyncRPCClient(SessionHolder):
    """A JSON-RPC 2.0 client over HTTP POST (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        max_batch: int = 100,
        max_concurrency: int = 8,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        rate_limit: float = 0.0,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self.limiter = TokenBucket(rate_limit, max_batch) if rate_limit > 0 else None
        self.url = url
        self.max_batch = max_batch
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self._ids = itertools.count(1)
        self._sem: asyncio.Semaphore | None = None
        self._max_concurrency = max_concurrency
        self._session: aiohttp.ClientSession | None = None
        self.requests_sent = 0  # HTTP requests, for tests and progress output

    def _semaphore(self) -> asyncio.Semaphore:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self._max_concurrency)
        return self._sem

    # ------------------------------------------------------------------ transport

    async def _post(self, payload: object) -> Any:
        """POST ``payload``; retry transient failures; return the parsed JSON body."""
        body = json.dumps(payload).encode()
        attempt = 0
        while True:
            if self.limiter is not None:  # every attempt counts, retries too
                await asyncio.sleep(self.limiter.reserve(len(payload) if isinstance(payload, list) else 1))
            try:
                async with self._semaphore():
                    self.requests_sent += 1
                    async with self._sess().post(self.url, data=body) as resp:
                        data = await resp.read()
                        status = resp.status
                        if status == 413:
                            raise _BatchTooLarge("HTTP 413")
                        if status == 429 or status >= 500:
                            # some servers put a JSON-RPC error in a 5xx body: keep it if the
                            # error says the batch was too large
                            _raise_if_limit_body(data)
                            raise _Retryable(f"HTTP {status}", _retry_after(resp.headers))
                        if status != 200:
                            _raise_if_limit_body(data)
                            raise RPCTransportError(
                                f"{self.url}: HTTP {status}: "
                                f"{data[:200].decode('utf-8', 'replace')}"
                            )
            except (TimeoutError, aiohttp.ClientError, _Retryable) as e:
                if attempt >= self.retry.retries:
                    raise RPCTransportError(
                        f"{self.url}: {_describe(e)} (after {attempt + 1} attempts)"
                    ) from None
                ra = e.retry_after if isinstance(e, _Retryable) else None
                await asyncio.sleep(self.retry.delay(attempt, ra))
                attempt += 1
                continue
            try:
                parsed = json.loads(data)
            except (ValueError, UnicodeDecodeError) as e:
                raise RPCResponseError(f"{self.url}: response is not JSON: {e}") from None
            self._observe_exchange(payload, body, data, parsed)
            return parsed

    def _observe_exchange(self, payload: object, body: bytes, data: bytes, parsed: object) -> None:
        """Called with each request ``payload`` (its encoding ``body``) and the JSON answer
        (raw ``data``, ``parsed``) of a completed HTTP exchange; for subclasses that meter
        calls (the node's RPC size metrics)."""

    # ------------------------------------------------------------------ single calls

    async def call(self, method: str, params: Sequence[object] = ()) -> Any:
        """One request; returns ``result`` (may be ``None``) or raises :class:`JSONRPCError`."""
        req_id = next(self._ids)
        resp = await self._post(
            {"jsonrpc": "2.0", "id": req_id, "method": method, "params": list(params)}
        )
        if not isinstance(resp, dict):
            raise RPCResponseError(f"{method}: response is not a JSON object")
        return _result_of(resp, method, req_id)

    # ------------------------------------------------------------------ batches

    async def batch(
        self, calls: Sequence[tuple[str, Sequence[object]]], *, return_errors: bool = False
    ) -> list[Any]:
        """Send ``calls`` (``(method, params)`` pairs) in batches; results in request order.

        A :class:`JSONRPCError` of any item is raised (the first one) unless
        ``return_errors``, in which case the error object takes that item's place.
        """
        if not calls:
            return []
        results: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))
        while pending:
            size = self.max_batch
            chunks = [pending[i : i + size] for i in range(0, len(pending), size)]
            outs = await asyncio.gather(*(self._send_chunk(calls, c) for c in chunks))
            retry: list[int] = []
            for chunk, out in zip(chunks, outs, strict=True):
                if out is None:  # the whole chunk was refused as too large
                    retry.extend(chunk)
                    continue
                for idx, value in zip(chunk, out, strict=True):
                    if isinstance(value, JSONRPCError) and value.is_batch_limit and len(chunk) > 1:
                        retry.append(idx)
                    else:
                        results[idx] = value
            if retry:
                # only items of chunks larger than one are retried, so this ends at size 1
                self.max_batch = max(1, min(self.max_batch, max(map(len, chunks))) // 2)
            pending = sorted(retry)
        if not return_errors:
            for r in results:
                if isinstance(r, JSONRPCError):
                    raise r
        return results

    async def _send_chunk(
        self, calls: Sequence[tuple[str, Sequence[object]]], chunk: Sequence[int]
    ) -> list[Any] | None:
        ids = {next(self._ids): i for i in chunk}
        payload = [
            {"jsonrpc": "2.0", "id": rid, "method": calls[i][0], "params": list(calls[i][1])}
            for rid, i in ids.items()
        ]
        try:
            resp = await self._post(payload)
        except _BatchTooLarge:
            if len(chunk) == 1:
                raise RPCResponseError(f"{calls[chunk[0]][0]}: request too large") from None
            return None
        if isinstance(resp, dict):
            # a single error object for the whole batch
            err = resp.get("error")
            if isinstance(err, dict):
                e = _error_of(err, "batch")
                if e.is_batch_limit and len(chunk) > 1:
                    return None
                raise e
            raise RPCResponseError("batch response is an object, not a list")
        if not isinstance(resp, list):
            raise RPCResponseError("batch response is not a list")
        by_id: dict[int, Any] = {}
        limit_errors: list[JSONRPCError] = []
        for item in resp:
            if not isinstance(item, dict):
                raise RPCResponseError("batch response item is not an object")
            rid = item.get("id")
            if rid is None and isinstance(item.get("error"), dict):
                # geth answers an oversized batch with id-less error items
                e = _error_of(item["error"], "batch")
                if e.is_batch_limit:
                    limit_errors.append(e)
                    continue
                raise e
            if not isinstance(rid, int) or rid not in ids:
                raise RPCResponseError(f"batch response has an unknown id {rid!r}")
            if rid in by_id:
                raise RPCResponseError(f"batch response repeats id {rid}")
            method = calls[ids[rid]][0]
            try:
                by_id[rid] = _result_of(item, method, rid)
            except JSONRPCError as e:
                by_id[rid] = e
        if limit_errors:
            return [by_id.get(rid, limit_errors[0]) for rid in ids]
        missing = [rid for rid in ids if rid not in by_id]
        if missing:
            raise RPCResponseError(f"batch response lacks {len(missing)} of {len(ids)} answers")
        return [by_id[rid] for rid in ids]


def _raise_if_limit_body(data: bytes) -> None:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return
    if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
        msg = obj["error"].get("message")
        if isinstance(msg, str) and _is_limit_message(msg):
            raise _BatchTooLarge(msg)


def _error_of(err: Mapping[str, Any], method: str) -> JSONRPCError:
    code = err.get("code")
    msg = err.get("message")
    if not isinstance(code, int) or isinstance(code, bool):
        raise RPCResponseError(f"{method}: error object without an integer code")
    return JSONRPCError(code, msg if isinstance(msg, str) else str(msg), err.get("data"), method)


def _result_of(resp: Mapping[str, Any], method: str, req_id: int) -> Any:
    if resp.get("id") != req_id:
        raise RPCResponseError(f"{method}: response id {resp.get('id')!r} != request id {req_id}")
    if "error" in resp and resp["error"] is not None:
        err = resp["error"]
        if not isinstance(err, dict):
            raise RPCResponseError(f"{method}: error is not an object")
        raise _error_of(err, method)
    if "result" not in resp:
        raise RPCResponseError(f"{method}: response has neither result nor error")
    return resp["result"]


class LoopThread:
    """An asyncio event loop on a private daemon thread, for calling async clients from
    synchronous code. ``run(coro)`` blocks until the coroutine finishes and returns its value
    (or raises its exception). Do not call ``run`` from the loop thread itself."""

    def __init__(self, name: str = "pyop-io") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T] | Awaitable[T], timeout: float | None = None) -> T:
        if threading.current_thread() is self._thread:
            raise RuntimeError("LoopThread.run called from its own loop thread")

        async def wrap() -> T:
            return await coro

        fut = asyncio.run_coroutine_threadsafe(wrap(), self.loop)
        return fut.result(timeout)

    def close(self, *closers: Coroutine[Any, Any, object]) -> None:
        """Run ``closers`` (e.g. ``client.close()``), then stop the loop and join the thread."""
        for c in closers:
            with contextlib.suppress(Exception):  # best effort on shutdown
                self.run(c, timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self.loop.is_running():
            self.loop.close()

    def __enter__(self) -> LoopThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
