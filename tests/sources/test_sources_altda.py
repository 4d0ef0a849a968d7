"""The alt-DA HTTP client against a fake DA server (op-alt-da ``daclient.go`` routes)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from eth_hash.auto import keccak

from pyop.derivation.errors import TemporaryError
from pyop.derivation.interfaces import NotFound
from pyop.primitives import L1BlockRef
from pyop.sources.altda import AltDAClient, AltDAHTTPSource, keccak256_commitment
from pyop.sources.rpc import AsyncHTTPClient
from tests.sources.sources_fake_server import FakeServer

REF = L1BlockRef(b"\x01" * 32, 5, b"\x00" * 32, 60)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    store: dict[str, bytes] = {}

    def put(path: str, data: bytes) -> tuple[int, bytes]:
        comm = b"\x01" + keccak(b"generic" + data)[:20]  # a "generic" DA-layer commitment
        store["/get/0x" + comm.hex()] = data
        return 200, comm

    def put_keccak(path: str, data: bytes) -> tuple[int, bytes]:
        store["/get/" + path.split("/put/")[1]] = data
        return 200, b""

    s.routes["POST /put"] = lambda path, data: put_keccak(path, data) if "/0x" in path else put(path, data)

    def get(path: str) -> tuple[int, bytes]:
        return (200, store[path]) if path in store else (404, b"")

    s.store = store  # type: ignore[attr-defined]
    s._get_store = get  # type: ignore[attr-defined]
    yield s
    s.close()


def _route_gets(s: FakeServer) -> None:
    for k in list(s.store):  # type: ignore[attr-defined]
        s.routes[k] = s._get_store  # type: ignore[attr-defined]


def test_keccak_commitment_round_trip(server: FakeServer) -> None:
    data = b"batcher frames" * 10

    async def put() -> bytes:
        c = AltDAClient(AsyncHTTPClient(server.url))
        try:
            return await c.set_input(data, precompute_keccak=True)
        finally:
            await c.close()

    comm = asyncio.run(put())
    assert comm == b"\x00" + keccak(data) == keccak256_commitment(data)
    _route_gets(server)
    src = AltDAHTTPSource.connect(server.url)
    try:
        assert src.get_input(comm, REF) == data
        assert server.gets[-1] == "/get/0x" + comm.hex()
        with pytest.raises(NotFound):
            src.get_input(b"\x00" + keccak(b"other"), REF)
    finally:
        src.close()


def test_generic_commitment_and_tampered_keccak_input(server: FakeServer) -> None:
    async def put() -> bytes:
        c = AltDAClient(AsyncHTTPClient(server.url))
        try:
            return await c.set_input(b"generic data")
        finally:
            await c.close()

    comm = asyncio.run(put())
    assert comm[0] == 1
    # a keccak commitment whose stored input was swapped
    bad = keccak256_commitment(b"honest")
    server.store["/get/0x" + bad.hex()] = b"dishonest"  # type: ignore[attr-defined]
    _route_gets(server)
    src = AltDAHTTPSource.connect(server.url)
    try:
        assert src.get_input(comm, REF) == b"generic data"
        with pytest.raises(TemporaryError, match="does not match"):
            src.get_input(bad, REF)
    finally:
        src.close()
