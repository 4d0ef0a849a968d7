"""The active rollup provider (op-service ``dial.ActiveL2RollupProvider``) against two real HTTP
JSON-RPC servers: which endpoint serves a call, when ``admin_sequencerActive`` is asked again,
and the error when no sequencer is active (Go: "failed to find an active sequencer")."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from pyop.sources.active_rollup import ActiveRollupRPC, NoActiveSequencerError, split_rollup_urls
from pyop.sources.rpc import RetryPolicy
from tests.sources.sources_fake_server import FakeServer


class Node:
    def __init__(self, name: str, active: bool) -> None:
        self.name, self.active, self.checks, self.closed = name, active, 0, False
        self.server = FakeServer()
        self.server.rpc["admin_sequencerActive"] = self._active
        self.server.rpc["optimism_syncStatus"] = lambda _m, _p: {"node": self.name}

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.server.close()

    def _active(self, _m: str, _p: list[Any]) -> bool:
        self.checks += 1
        return self.active


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def nodes() -> Iterator[tuple[Node, Node]]:
    a, b = Node("a", True), Node("b", False)
    yield a, b
    for n in (a, b):
        n.close()


def test_split_rollup_urls() -> None:
    assert split_rollup_urls("http://a, http://b") == ["http://a", "http://b"]
    with pytest.raises(ValueError, match="empty URL"):
        split_rollup_urls("http://a,,http://b")


def test_follows_the_active_sequencer_every_check_duration(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    clock = Clock()

    async def go() -> None:
        rpc = ActiveRollupRPC([a.server.url, b.server.url], check_duration=10.0, clock=clock)
        try:
            await rpc.connect()
            assert rpc.url == a.server.url and (a.checks, b.checks) == (1, 0)
            assert (await rpc.call("optimism_syncStatus"))["node"] == "a"
            # a leader change is noticed only after check_duration (Go activeTimeout)
            a.active, b.active = False, True
            clock.t += 5
            assert (await rpc.call("optimism_syncStatus"))["node"] == "a"
            assert a.checks == 1
            clock.t += 6
            assert (await rpc.call("optimism_syncStatus"))["node"] == "b"
            assert (a.checks, b.checks) == (2, 1)
            # the search starts at the current endpoint and wraps around
            a.active, b.active = True, False
            clock.t += 11
            assert (await rpc.call("optimism_syncStatus"))["node"] == "a"
            assert (a.checks, b.checks) == (3, 2)
        finally:
            await rpc.close()

    asyncio.run(go())


def test_no_active_sequencer_is_an_error_until_one_is(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    a.active = False
    clock = Clock()

    async def go() -> None:
        rpc = ActiveRollupRPC([a.server.url, b.server.url], check_duration=10.0, clock=clock)
        try:
            with pytest.raises(NoActiveSequencerError, match="failed to find an active sequencer") as e:
                await rpc.connect()
            assert a.server.url in str(e.value) and b.server.url in str(e.value)
            # not cached: the next call asks again at once
            b.active = True
            assert (await rpc.call("optimism_syncStatus"))["node"] == "b"
        finally:
            await rpc.close()

    asyncio.run(go())


def test_unreachable_endpoint_is_skipped(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    b.active = True
    dead = a.server.url
    a.close()

    async def go() -> None:
        rpc = ActiveRollupRPC([dead, b.server.url], check_duration=10.0,
                              retry=RetryPolicy(retries=1, backoff=0.01))  # fmt: skip
        try:
            await rpc.connect()
            assert rpc.url == b.server.url
            assert (await rpc.call("optimism_syncStatus"))["node"] == "b"
        finally:
            await rpc.close()

    asyncio.run(go())


def test_batcher_reads_l2_from_the_el_paired_with_the_active_rollup_node(nodes: tuple[Node, Node]) -> None:
    """pyop batcher's endpoints (op-service ``ActiveL2EndpointProvider``): ``optimism_*`` goes
    to the active rollup node and L2 calls to the EL at the same position in the list."""
    from pyop.batcher.rollup_client import RollupClient

    a, b = nodes
    els = [FakeServer(), FakeServer()]
    for i, el in enumerate(els):
        el.rpc["eth_chainId"] = lambda _m, _p, i=i: hex(900 + i)

    async def go() -> None:
        client = RollupClient([a.server.url, b.server.url], [el.url for el in els], check_duration=0.0)
        try:
            await client.connect()
            assert await client.l2_chain_id() == 900
            assert (await client.rollup.call("optimism_syncStatus"))["node"] == "a"
            a.active, b.active = False, True
            assert await client.l2_chain_id() == 901 and client.index == 1
            assert (await client.rollup.call("optimism_syncStatus"))["node"] == "b"
        finally:
            await client.close()

    try:
        asyncio.run(go())
    finally:
        for el in els:
            el.close()
