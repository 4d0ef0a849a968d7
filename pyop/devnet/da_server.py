"""A small alt-DA server for the devnet, compatible with op-node's and op-batcher's DA client.

Spec: specs/experimental/alt-da.md, "DA Server" and "Input Commitment Submission"; wire
behaviour checked against the Go client and reference server (optimism ``op-alt-da/daclient.go``
and ``daserver.go``, v1.9.4 era):

- ``POST /put/0x<encoded commitment>`` with the preimage as body -> ``200``, empty body. The
  client sends this when it precomputes a keccak commitment (``--altda.da-service=false``):
  the commitment is ``0x00 ++ keccak256(preimage)``. This server checks that hash.
- ``POST /put`` with the preimage -> ``200`` and the encoded commitment as the *raw bytes* of
  the body (the Go server writes raw bytes and the Go client decodes raw bytes; the spec's
  "hex_encoded_commitment" wording does not match them). This is the ``--altda.da-service=true``
  path. The commitment is a generic one, ``0x01 ++ da_layer_byte ++ keccak256(preimage)``
  (deterministic, unlike the Go test server's random payload), or a keccak one if configured.
- ``GET /get/0x<encoded commitment>`` -> ``200`` with the preimage, ``404`` if unknown.

``PUT`` is accepted wherever ``POST`` is. Bad hex gives ``400``. Data are kept in memory and in
``DIR/<commitment hex>.bin`` (written atomically), so nothing is lost on restart.

Run: ``python -m pyop.devnet.da_server --addr 127.0.0.1 --port 8082 --dir DIR``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from eth_hash.auto import keccak

from pyop.devnet.process import (
    ManagedProcess,
    PidRegistry,
    free_port,
    start_http_service,
    wait_for_stop_signal,
)

log = logging.getLogger("pyop.devnet.da_server")

KECCAK_COMMITMENT_TYPE = 0
GENERIC_COMMITMENT_TYPE = 1
TX_DATA_VERSION_1 = 1
"""alt-da.md: the batcher-tx ``version_byte`` that marks calldata as a commitment."""
DEFAULT_DA_LAYER_BYTE = 0x7E
"""The ``da_layer_byte`` of generic commitments from this server: arbitrary, inside the spec's
``[0, 127)`` range reserved for DA layers (the Go test server uses ``0xff``)."""
MAX_INPUT_SIZE = 64 * 1024 * 1024


def keccak_commitment(data: bytes) -> bytes:
    """Encoded keccak commitment: ``0x00 ++ keccak256(data)`` (op-alt-da ``Encode()``)."""
    return bytes([KECCAK_COMMITMENT_TYPE]) + keccak(data)


def generic_commitment(data: bytes, da_layer_byte: int = DEFAULT_DA_LAYER_BYTE) -> bytes:
    """Encoded generic (da-service) commitment: ``0x01 ++ da_layer_byte ++ keccak256(data)``."""
    return bytes([GENERIC_COMMITMENT_TYPE, da_layer_byte]) + keccak(data)


def commitment_tx_data(encoded_commitment: bytes) -> bytes:
    """Batcher-transaction calldata for a commitment: ``0x01 ++ encoded_commitment``."""
    return bytes([TX_DATA_VERSION_1]) + encoded_commitment


class DAStore:
    """Preimages by encoded commitment, in memory and (if ``directory``) on disk."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = None if directory is None else Path(directory)
        self._mem: dict[bytes, bytes] = {}
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)

    def get(self, key: bytes) -> bytes | None:
        value = self._mem.get(key)
        if value is None and self.directory is not None:
            try:
                value = (self.directory / f"{key.hex()}.bin").read_bytes()
            except FileNotFoundError:
                return None
            self._mem[key] = value
        return value

    def put(self, key: bytes, value: bytes) -> None:
        if self.directory is not None:
            path = self.directory / f"{key.hex()}.bin"
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(value)
            tmp.replace(path)
        self._mem[key] = value

    def __len__(self) -> int:
        if self.directory is None:
            return len(self._mem)
        return sum(1 for _ in self.directory.glob("*.bin"))


def _parse_commitment(text: str) -> bytes | None:
    """``0x``-prefixed, even-length hex (go-ethereum ``hexutil.Decode``), else ``None``."""
    if not text.startswith(("0x", "0X")) or len(text) % 2 or len(text) <= 2:
        return None
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        return None


def create_app(
    store: DAStore,
    *,
    commitment_type: str = "generic",
    da_layer_byte: int = DEFAULT_DA_LAYER_BYTE,
    max_input_size: int = MAX_INPUT_SIZE,
) -> web.Application:
    """The aiohttp application (routes in the module docstring).

    ``commitment_type`` (``"generic"`` or ``"keccak"``) picks what ``POST /put`` returns.
    """
    if commitment_type not in ("generic", "keccak"):
        raise ValueError(f"unknown commitment type {commitment_type!r}")

    async def handle_put(request: web.Request) -> web.Response:
        body = await request.read()
        key_text = request.match_info.get("commitment", "")
        if not body:
            return web.Response(status=400, text="empty input")
        if not key_text:
            if commitment_type == "generic":
                comm = generic_commitment(body, da_layer_byte)
            else:
                comm = keccak_commitment(body)
            store.put(comm, body)
            log.info("stored %d bytes under generated commitment 0x%s", len(body), comm.hex())
            return web.Response(body=comm, content_type="application/octet-stream")
        key = _parse_commitment(key_text)
        if key is None:
            return web.Response(status=400, text="invalid commitment hex")
        if key[0] == KECCAK_COMMITMENT_TYPE and key != keccak_commitment(body):
            return web.Response(status=400, text="keccak commitment does not match the input")
        store.put(key, body)
        log.info("stored %d bytes under commitment 0x%s", len(body), key.hex())
        return web.Response(status=200)

    async def handle_get(request: web.Request) -> web.Response:
        key = _parse_commitment(request.match_info["commitment"])
        if key is None:
            return web.Response(status=400, text="invalid commitment hex")
        value = store.get(key)
        if value is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=value, content_type="application/octet-stream")

    async def handle_health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "stored": len(store)})

    app = web.Application(client_max_size=max_input_size)
    for method in ("POST", "PUT"):
        app.router.add_route(method, "/put", handle_put)
        app.router.add_route(method, "/put/", handle_put)
        app.router.add_route(method, "/put/{commitment}", handle_put)
    app.router.add_get("/get/{commitment}", handle_get)
    app.router.add_get("/health", handle_health)
    return app


@dataclass
class DAServerHandle:
    """A DA server running in this event loop; ``await handle.close()`` stops it."""

    runner: web.AppRunner
    host: str
    port: int
    store: DAStore

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_da_server(
    host: str = "127.0.0.1",
    port: int = 0,
    directory: Path | None = None,
    *,
    commitment_type: str = "generic",
    da_layer_byte: int = DEFAULT_DA_LAYER_BYTE,
) -> DAServerHandle:
    """Start the server in the running event loop (``port=0``: the OS picks one)."""
    store = DAStore(directory)
    app = create_app(store, commitment_type=commitment_type, da_layer_byte=da_layer_byte)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound = int(sock.getsockname()[1])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return DAServerHandle(runner=runner, host=host, port=bound, store=store)


async def serve_da_server(
    host: str,
    port: int,
    directory: Path | None,
    *,
    commitment_type: str = "generic",
    da_layer_byte: int = DEFAULT_DA_LAYER_BYTE,
) -> None:
    """Run the server until cancelled (or SIGINT/SIGTERM when run as a program)."""
    handle = await start_da_server(
        host, port, directory, commitment_type=commitment_type, da_layer_byte=da_layer_byte
    )
    log.info("alt-DA server listening on %s (dir %s)", handle.url, directory)
    try:
        await wait_for_stop_signal()
    finally:
        await handle.close()


def start_da_server_process(
    directory: Path,
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    commitment_type: str = "generic",
    registry: PidRegistry | None = None,
    name: str = "da-server",
    ready_timeout: float = 20.0,
) -> tuple[ManagedProcess, str]:
    """Run the server as a separate process (``python -m pyop.devnet.da_server``) storing in
    ``directory/da``, log in ``directory/<name>.log``; returns ``(process, url)`` once
    ``/health`` answers."""
    directory = Path(directory)
    if port is None:
        port = free_port(host)
    argv = [
        sys.executable, "-m", "pyop.devnet.da_server",
        "--addr", host, "--port", str(port), "--dir", str(directory / "da"),
        "--commitment-type", commitment_type,
    ]  # fmt: skip
    url = f"http://{host}:{port}"
    proc = start_http_service(
        name,
        argv,
        log_path=directory / f"{name}.log",
        ready_url=url + "/health",
        ready_timeout=ready_timeout,
        registry=registry,
    )
    return proc, url


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m pyop.devnet.da_server", description="pyop devnet alt-DA server"
    )
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8082)
    p.add_argument("--dir", type=Path, default=None, help="storage directory (default: memory)")
    p.add_argument("--commitment-type", choices=("generic", "keccak"), default="generic")
    p.add_argument("--da-layer-byte", type=lambda s: int(s, 0), default=DEFAULT_DA_LAYER_BYTE)
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not 0 <= args.da_layer_byte <= 0xFF:
        p.error("--da-layer-byte must be a byte")
    asyncio.run(
        serve_da_server(
            args.addr,
            args.port,
            args.dir,
            commitment_type=args.commitment_type,
            da_layer_byte=args.da_layer_byte,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
