"""The devnet alt-DA server: the op-alt-da DAClient request shapes (POST /put, POST
/put/0x<commitment>, GET /get/0x<commitment>), persistence across restarts, and the
``python -m pyop.devnet.da_server`` process."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.devnet.da_server import (
    DAStore,
    commitment_tx_data,
    generic_commitment,
    keccak_commitment,
    start_da_server,
    start_da_server_process,
)
from pyop.devnet.process import PidRegistry, pid_alive


def test_commitment_encodings() -> None:
    # alt-da.md "Input Commitment Submission": type byte 0 = keccak256(payload); type byte 1 =
    # da-service commitment (da_layer_byte ++ payload); calldata = version byte 1 ++ commitment.
    data = b"frames"
    assert keccak_commitment(data) == b"\x00" + keccak(data)
    assert generic_commitment(data, 0x0C) == b"\x01\x0c" + keccak(data)
    assert commitment_tx_data(keccak_commitment(data))[:2] == b"\x01\x00"


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.binary(max_size=2048))
def test_store_round_trip(key: bytes, value: bytes) -> None:
    mem = DAStore(None)
    mem.put(key, value)
    assert mem.get(key) == value
    assert mem.get(key + b"\x00") is None


async def _exercise(url: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    async with aiohttp.ClientSession() as s:
        # da-service mode: POST /put, the commitment comes back as raw bytes.
        data = b"\x00channel frames " * 100
        async with s.post(f"{url}/put", data=data,
                          headers={"Content-Type": "application/octet-stream"}) as r:  # fmt: skip
            assert r.status == 200
            comm = await r.read()
        assert comm == b"\x01\x7e" + keccak(data)
        async with s.get(f"{url}/get/0x{comm.hex()}") as r:
            assert r.status == 200
            assert await r.read() == data
        out["generic"] = comm

        # Precomputed keccak commitment: POST /put/0x00<keccak>.
        data2 = b"second input"
        kc = b"\x00" + keccak(data2)
        async with s.post(f"{url}/put/0x{kc.hex()}", data=data2) as r:
            assert r.status == 200
            assert await r.read() == b""
        async with s.get(f"{url}/get/0x{kc.hex()}") as r:
            assert r.status == 200 and await r.read() == data2
        out["keccak"] = kc

        # PUT is accepted like POST; a generic commitment is stored as given.
        gc = b"\x01\x0c" + b"celestia-ish"
        async with s.put(f"{url}/put/0x{gc.hex()}", data=b"third") as r:
            assert r.status == 200
        async with s.get(f"{url}/get/0x{gc.hex()}") as r:
            assert await r.read() == b"third"

        # Errors: unknown -> 404; bad hex / missing 0x -> 400; keccak mismatch -> 400;
        # empty input -> 400.
        async with s.get(f"{url}/get/0x00{'11' * 32}") as r:
            assert r.status == 404
        for bad in ("0xzz", "abcd", "0x123"):
            async with s.get(f"{url}/get/{bad}") as r:
                assert r.status == 400, bad
        async with s.post(f"{url}/put/0x00{'11' * 32}", data=b"not that") as r:
            assert r.status == 400
        async with s.post(f"{url}/put", data=b"") as r:
            assert r.status == 400
    return out


def test_in_process_server_and_restart_persistence(tmp_path: Path) -> None:
    async def run() -> None:
        h = await start_da_server("127.0.0.1", 0, tmp_path / "da")
        try:
            comms = await _exercise(h.url)
        finally:
            await h.close()
        # A new server on the same directory still serves everything.
        h2 = await start_da_server("127.0.0.1", 0, tmp_path / "da")
        try:
            async with aiohttp.ClientSession() as s:
                async with s.get(f"{h2.url}/get/0x{comms['keccak'].hex()}") as r:
                    assert r.status == 200 and await r.read() == b"second input"
                async with s.get(f"{h2.url}/get/0x{comms['generic'].hex()}") as r:
                    assert r.status == 200
        finally:
            await h2.close()

    asyncio.run(run())
    assert len(list((tmp_path / "da").glob("*.bin"))) == 3


def test_keccak_mode_put_returns_keccak_commitment() -> None:
    async def run() -> None:
        h = await start_da_server("127.0.0.1", 0, None, commitment_type="keccak")
        try:
            async with aiohttp.ClientSession() as s, s.post(f"{h.url}/put", data=b"x") as r:
                assert await r.read() == b"\x00" + keccak(b"x")
        finally:
            await h.close()

    asyncio.run(run())


def _http(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()


def test_server_process_restart_keeps_data(tmp_path: Path) -> None:
    reg = PidRegistry(tmp_path)
    proc, url = start_da_server_process(tmp_path, registry=reg)
    try:
        status, comm = _http("POST", f"{url}/put", b"persist me")
        assert status == 200 and comm == b"\x01\x7e" + keccak(b"persist me")
    finally:
        assert reg.stop_all(sigint_timeout=5) == {"da-server": "sigint"}
    assert not pid_alive(proc.pid)
    _proc2, url2 = start_da_server_process(tmp_path, registry=reg)
    try:
        assert _http("GET", f"{url2}/get/0x{comm.hex()}") == (200, b"persist me")
    finally:
        assert reg.stop_all(sigint_timeout=5) == {"da-server": "sigint"}
