"""The JSON-RPC client against a local aiohttp server: batching, retries with backoff,
batch-limit fallback, typed errors."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pyop.sources.rpc import (
    AsyncRPCClient,
    JSONRPCError,
    LoopThread,
    RetryPolicy,
    RPCResponseError,
    RPCTransportError,
)
from tests.sources.sources_fake_server import FakeServer, RPCFail

FAST = RetryPolicy(retries=3, backoff=0.01, max_backoff=0.05)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    s.rpc["echo"] = lambda m, p: p[0]
    s.rpc["fail"] = lambda m, p: (_ for _ in ()).throw(RPCFail(-32000, "header not found"))
    yield s
    s.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with(url: str, f: Any, **kw: Any) -> Any:
    c = AsyncRPCClient(url, retry=FAST, **kw)
    try:
        return await f(c)
    finally:
        await c.close()


def test_call_and_jsonrpc_error(server: FakeServer) -> None:
    assert run(_with(server.url, lambda c: c.call("echo", [7]))) == 7
    with pytest.raises(JSONRPCError) as ei:
        run(_with(server.url, lambda c: c.call("fail", [])))
    assert ei.value.code == -32000 and "header not found" in ei.value.message
    with pytest.raises(JSONRPCError) as ei2:
        run(_with(server.url, lambda c: c.call("nope", [])))
    assert ei2.value.is_method_not_found


def test_batch_splits_and_keeps_order(server: FakeServer) -> None:
    calls = [("echo", [i]) for i in range(250)]
    out = run(_with(server.url, lambda c: c.batch(calls), max_batch=100))
    assert out == list(range(250))
    assert sorted(len(p) for p in server.posts) == [50, 100, 100]


def test_batch_item_errors(server: FakeServer) -> None:
    calls = [("echo", [1]), ("fail", []), ("echo", [3])]
    out = run(_with(server.url, lambda c: c.batch(calls, return_errors=True)))
    assert out[0] == 1 and out[2] == 3 and isinstance(out[1], JSONRPCError)
    with pytest.raises(JSONRPCError):
        run(_with(server.url, lambda c: c.batch(calls)))


def test_429_is_retried_with_backoff(server: FakeServer) -> None:
    server.status_script = [429, 429, 503]
    t0 = time.monotonic()
    assert run(_with(server.url, lambda c: c.call("echo", ["ok"]))) == "ok"
    # three failures, then success: four requests; backoff 0.01 + 0.02 + 0.04 at least
    assert len(server.posts) == 4
    assert time.monotonic() - t0 >= 0.07


def test_429_forever_gives_transport_error(server: FakeServer) -> None:
    server.status_script = [429] * 10
    with pytest.raises(RPCTransportError, match="429"):
        run(_with(server.url, lambda c: c.call("echo", [1])))
    assert len(server.posts) == FAST.retries + 1


@pytest.mark.parametrize("style", ["object", "items"])
def test_batch_limit_fallback(server: FakeServer, style: str) -> None:
    server.max_batch = 10
    server.batch_limit_style = style
    calls = [("echo", [i]) for i in range(45)]

    async def go(c: AsyncRPCClient) -> tuple[list[Any], int]:
        return await c.batch(calls), c.max_batch

    out, size = run(_with(server.url, go, max_batch=40))
    assert out == list(range(45))
    assert size <= 10
    # later batches use the smaller size straight away
    served = [len(p) for p in server.posts if isinstance(p, list) and len(p) <= 10]
    assert sum(served) == 45


def test_connection_refused_is_transport_error() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(RPCTransportError):
        run(_with(f"http://127.0.0.1:{port}", lambda c: c.call("echo", [1])))


@pytest.mark.parametrize(
    "reply",
    [
        b"not json",
        b'{"jsonrpc": "2.0", "id": 999, "result": 1}',  # wrong id
        b'{"jsonrpc": "2.0", "id": 1}',  # neither result nor error
        b'{"jsonrpc": "2.0", "id": 1, "error": "boom"}',  # error not an object
        b'{"jsonrpc": "2.0", "id": 1, "error": {"message": "no code"}}',
        b"[1, 2]",  # a list for a single call
    ],
)
def test_malformed_single_responses(server: FakeServer, reply: bytes) -> None:
    server.raw_reply = lambda body: reply
    with pytest.raises(RPCResponseError):
        run(_with(server.url, lambda c: c.call("echo", [1])))


def _batch_reply(body: Any, mutate: str) -> bytes:
    items = [{"jsonrpc": "2.0", "id": r["id"], "result": r["params"][0]} for r in body]
    if mutate == "missing":
        items = items[:-1]
    elif mutate == "dup":
        items[1]["id"] = items[0]["id"]
    elif mutate == "unknown":
        items[0]["id"] = 10**9
    elif mutate == "object":
        return json.dumps({"jsonrpc": "2.0", "result": 1}).encode()
    elif mutate == "scalar-item":
        items[0] = 5  # type: ignore[call-overload]
    return json.dumps(items).encode()


@pytest.mark.parametrize("mutate", ["missing", "dup", "unknown", "object", "scalar-item"])
def test_malformed_batch_responses(server: FakeServer, mutate: str) -> None:
    server.raw_reply = lambda body: _batch_reply(body, mutate)
    with pytest.raises(RPCResponseError):
        run(_with(server.url, lambda c: c.batch([("echo", [i]) for i in range(3)])))


def test_batch_answers_out_of_order_are_matched_by_id(server: FakeServer) -> None:
    def reply(body: Any) -> bytes:
        items = [{"jsonrpc": "2.0", "id": r["id"], "result": r["params"][0]} for r in body]
        return json.dumps(list(reversed(items))).encode()

    server.raw_reply = reply
    assert run(_with(server.url, lambda c: c.batch([("echo", [i]) for i in range(5)]))) == list(range(5))


def test_loop_thread_runs_coroutines_from_sync_code(server: FakeServer) -> None:
    c = AsyncRPCClient(server.url, retry=FAST)
    with LoopThread() as lt:
        assert lt.run(c.call("echo", ["x"])) == "x"
        assert lt.run(c.batch([("echo", [1]), ("echo", [2])])) == [1, 2]
        lt.run(c.close())


def test_token_bucket_batches_take_n_capped_at_burst() -> None:
    """op-service ``RateLimitingClient``: ``WaitN(len(batch))`` on a limiter whose burst is the
    batch size; a batch takes as many tokens as items (never more than the burst). The single
    token case is ``tests/p2p/test_p2p_req_resp.py::test_token_bucket_is_x_time_rate``."""
    from pyop.ratelimit import TokenBucket

    now = [0.0]
    b = TokenBucket(10.0, 5, lambda: now[0])
    assert b.reserve(5) == 0.0  # the burst
    assert b.reserve(1) == pytest.approx(0.1)
    assert b.reserve(50) == pytest.approx(0.6)  # capped at 5 tokens: 0.1 + 0.5
    now[0] += 0.6
    assert b.reserve(1) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        TokenBucket(0, 5)


def test_rate_limit_spaces_requests(server: FakeServer) -> None:
    """``rate_limit`` (op-node --l1.rpc-rate-limit): 20 requests at 50/s with a burst of 5
    (the batch size) take at least (20 - 5) / 50 = 0.3 s; a batch of 5 counts as 5."""

    async def calls(c: AsyncRPCClient) -> list[Any]:
        return [await c.call("echo", [i]) for i in range(20)]

    t0 = time.monotonic()
    assert run(_with(server.url, calls, rate_limit=50.0, max_batch=5)) == list(range(20))
    assert time.monotonic() - t0 >= 0.29
    t0 = time.monotonic()
    out = run(_with(server.url, lambda c: c.batch([("echo", [i]) for i in range(20)]), rate_limit=50.0, max_batch=5))
    assert out == list(range(20)) and time.monotonic() - t0 >= 0.29
    t0 = time.monotonic()
    assert run(_with(server.url, calls, max_batch=5)) == list(range(20))  # no limit: fast
    assert time.monotonic() - t0 < 0.29


def test_close_keeps_a_session_opened_by_a_racing_request() -> None:
    """CI saw the batcher log aiohttp's "Unclosed client session" at shutdown: a request made while
    ``close()`` awaited the old session's close opened a new session, and ``close()`` then dropped
    it (``self._session = None``) still open. The new session must stay for the next close()."""

    class SlowSession:
        def __init__(self) -> None:
            self.closed = False
            self.release = asyncio.Event()

        async def close(self) -> None:
            self.closed = True  # aiohttp: the connector reports closed as soon as closing starts
            await self.release.wait()

    async def go() -> None:
        c = AsyncRPCClient("http://127.0.0.1:9")
        slow = SlowSession()
        c._session = slow  # type: ignore[assignment]
        closing = asyncio.create_task(c.close())
        await asyncio.sleep(0)  # close() now waits inside the old session's close
        fresh = c._sess()  # a request racing the close
        slow.release.set()
        await closing
        assert c._session is fresh and not fresh.closed
        await c.close()
        assert fresh.closed and c._session is None

    run(go())
