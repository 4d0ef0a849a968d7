"""A small beacon-API shim in front of anvil, so the Go op-node can fetch blobs from it.

op-node (v1.19.6 ``op-service/sources/l1_beacon_client.go``) asks ``/eth/v1/beacon/genesis`` and
``/eth/v1/config/spec`` once, then fetches the blobs of an L1 block with timestamp ``t`` from
``/eth/v1/beacon/blobs/{slot}?versioned_hashes=...`` where ``slot = (t - genesis_time) //
SECONDS_PER_SLOT``. anvil 1.7.1 serves ``genesis`` and ``blobs`` (reading a decimal id as an EL
block *number*) but not ``config/spec``, and its interval miner stamps blocks with the wall
clock: when a tick is late (a busy machine), every later block is a few seconds off the
``genesis + n * block_time`` grid, so "slot" and block number drift apart and op-node gets
blobs of the wrong block (``#returned blobs(0) != #requested blobs(1)``).

The shim answers ``/eth/v1/config/spec`` with ``SECONDS_PER_SLOT`` = the L1 block time, maps a
numeric slot to the anvil block(s) whose timestamp falls in that slot (by the same formula) and
forwards the blob request to ``/eth/v1/beacon/blobs/{block number}`` (concatenating if two
blocks share a slot; 404 for an empty slot, like a beacon node), and forwards everything else
unchanged. anvil 1.7.1 honours only one value of a repeated ``versioned_hashes`` parameter
(two blob transactions in one block gave op-node ``#returned blobs(1) != #requested
blobs(2)``), so the shim asks once per versioned hash. Run: ``python -m pyop.devnet.beacon_shim --l1 URL --port N --block-time 2``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from pyop.devnet.process import (
    ManagedProcess,
    PidRegistry,
    free_port,
    start_http_service,
    wait_for_stop_signal,
)

log = logging.getLogger("pyop.devnet.beacon_shim")


class _Upstream:
    def __init__(self, l1_url: str, block_time: int) -> None:
        self.url = l1_url.rstrip("/")
        self.block_time = block_time
        self.session: aiohttp.ClientSession | None = None
        self._genesis_time: int | None = None
        self._ids = 0

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            raise RuntimeError("beacon shim upstream used before start()")
        return self.session

    async def rpc(self, method: str, *params: Any) -> Any:
        self._ids += 1
        body = {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": list(params)}
        async with self._session().post(self.url, json=body) as resp:
            out = await resp.json(content_type=None)
        if "error" in out:
            raise web.HTTPBadGateway(text=json.dumps(out["error"]))
        return out["result"]

    async def get(self, path_qs: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
        async with self._session().get(self.url + path_qs, headers=headers) as resp:
            return resp.status, await resp.read(), resp.content_type

    async def genesis_time(self) -> int:
        if self._genesis_time is None:
            status, body, _ = await self.get("/eth/v1/beacon/genesis", {"Accept": "application/json"})
            if status != 200:
                raise web.HTTPBadGateway(text=f"upstream genesis: {status}")
            self._genesis_time = int(json.loads(body)["data"]["genesis_time"])
        return self._genesis_time

    async def blocks_in_slot(self, slot: int) -> list[int]:
        """EL block numbers whose timestamp is in ``slot``; anvil's timestamps only run ahead
        of the grid, so block ``n`` is in slot ``>= n`` and the search goes down from ``slot``."""
        g = await self.genesis_time()
        head = int(await self.rpc("eth_blockNumber"), 16)
        found: list[int] = []
        n = min(slot, head)
        while n >= 0:
            blk = await self.rpc("eth_getBlockByNumber", hex(n), False)
            s = (int(blk["timestamp"], 16) - g) // self.block_time
            if s == slot:
                found.append(n)
            elif s < slot:
                break
            n -= 1
        return sorted(found)


def create_app(l1_url: str, block_time: int) -> web.Application:
    up = _Upstream(l1_url, block_time)

    async def on_startup(_app: web.Application) -> None:
        await up.start()

    async def on_cleanup(_app: web.Application) -> None:
        await up.close()

    async def spec(_req: web.Request) -> web.Response:
        return web.json_response({"data": {"SECONDS_PER_SLOT": str(block_time)}})

    async def blobs(req: web.Request) -> web.Response:
        block_id = req.match_info["block_id"]
        headers = {"Accept": req.headers.get("Accept", "application/json")}
        qs = ("?" + req.query_string) if req.query_string else ""
        if not block_id.isdigit():
            status, body, ctype = await up.get(req.path_qs, headers)
            return web.Response(status=status, body=body, content_type=ctype)
        numbers = await up.blocks_in_slot(int(block_id))
        if not numbers:
            return web.json_response({"code": 404, "message": f"no block in slot {block_id}"},
                                     status=404)  # fmt: skip
        # anvil 1.7.1 applies only one ``versioned_hashes`` value of a repeated query
        # parameter, so ask once per hash.
        hashes = req.query.getall("versioned_hashes", [])
        queries = [f"?versioned_hashes={h}" for h in hashes] if len(hashes) > 1 else [qs]
        data: list[Any] = []
        meta: dict[str, Any] = {}
        for n in numbers:
            for q in queries:
                status, body, ctype = await up.get(f"/eth/v1/beacon/blobs/{n}{q}",
                                                   {"Accept": "application/json"})  # fmt: skip
                if status != 200:
                    return web.Response(status=status, body=body, content_type=ctype)
                obj = json.loads(body)
                meta = {k: v for k, v in obj.items() if k != "data"}
                data.extend(b for b in obj.get("data") or [] if b not in data)
        log.info("slot %s -> blocks %s: %d blobs", block_id, numbers, len(data))
        return web.json_response({**meta, "data": data})

    async def forward(req: web.Request) -> web.Response:
        headers = {"Accept": req.headers.get("Accept", "application/json")}
        status, body, ctype = await up.get(req.path_qs, headers)
        return web.Response(status=status, body=body, content_type=ctype)

    app = web.Application()
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/eth/v1/config/spec", spec)
    app.router.add_get("/eth/v1/beacon/blobs/{block_id}", blobs)
    app.router.add_get("/{tail:.*}", forward)
    return app


async def serve(l1_url: str, host: str, port: int, block_time: int) -> None:
    runner = web.AppRunner(create_app(l1_url, block_time), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("beacon shim on http://%s:%d -> %s (SECONDS_PER_SLOT %d)", host, port, l1_url,
             block_time)  # fmt: skip
    try:
        await wait_for_stop_signal()
    finally:
        await runner.cleanup()


def start_beacon_shim_process(
    log_dir: Path,
    l1_url: str,
    block_time: int,
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    registry: PidRegistry | None = None,
    name: str = "beacon-shim",
    ready_timeout: float = 20.0,
) -> tuple[ManagedProcess, str]:
    """Run the shim as ``python -m pyop.devnet.beacon_shim`` (log ``log_dir/<name>.log``);
    returns ``(process, url)`` once ``/eth/v1/config/spec`` answers."""
    port = port or free_port(host)
    argv = [
        sys.executable, "-m", "pyop.devnet.beacon_shim", "--l1", l1_url,
        "--addr", host, "--port", str(port), "--block-time", str(block_time),
    ]  # fmt: skip
    url = f"http://{host}:{port}"
    proc = start_http_service(
        name,
        argv,
        log_path=Path(log_dir) / f"{name}.log",
        ready_url=url + "/eth/v1/config/spec",
        ready_timeout=ready_timeout,
        registry=registry,
    )
    return proc, url


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pyop.devnet.beacon_shim",
                                description="beacon API shim in front of anvil")  # fmt: skip
    p.add_argument("--l1", required=True, help="anvil URL (JSON-RPC and beacon API)")
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5052)
    p.add_argument("--block-time", type=int, default=2, help="L1 block time = SECONDS_PER_SLOT")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if args.block_time <= 0:
        p.error("--block-time must be positive")
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    asyncio.run(serve(args.l1, args.addr, args.port, args.block_time))
    return 0


if __name__ == "__main__":
    sys.exit(main())
