"""The ``payload_by_number`` req-resp server (pyop/p2p/node.py; op-node v1.19.6 ``p2p/sync.go``
``ReqRespServer``), asked by a second pyop host over libp2p in this process.

Expected bytes are op-node's: the SSZ of the vector blocks as op-service marshals them
(``spec_vectors/p2p/go-v1.19.6-gossip.json``), behind the header ``HandleSyncRequest`` writes
(result byte 0, then version 1 as uint32 LE from Ecotone, else 0) in snappy *framed* format
(``snappy.NewBufferedWriter``, decoded here with cramjam); errors are one result byte
(1 not found, 2 invalid request). The rate limits are Go's constants (20/s burst 40 overall,
4/s burst 15 per peer) with ``x/time/rate.Limiter`` semantics."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import struct
import time
from typing import Any

import cramjam

from pyop.config import RollupConfig
from pyop.config.forks import Fork
from pyop.p2p.node import (
    PEER_SERVER_BLOCKS_BURST,
    PEER_SERVER_BLOCKS_RATE,
    P2PConfig,
    P2PNode,
    payload_by_number_protocol,
)
from pyop.p2p.validation import StaticSigner
from pyop.primitives import ExecutionPayload, from_hex
from pyop.ratelimit import TokenBucket
from pyop.sources.interfaces import NotFound
from tests.p2p.helpers import rollup_config
from tests.p2p.test_p2p_go_vectors import envelope_payload, vectors


def test_go_rate_limits() -> None:
    """op-node sync.go: peerServerBlocksRateLimit 4, burst 15; globalServerBlocksRateLimit 20,
    burst 40."""
    from pyop.p2p import node

    assert (node.PEER_SERVER_BLOCKS_RATE, node.PEER_SERVER_BLOCKS_BURST) == (4.0, 15)
    assert (node.GLOBAL_SERVER_BLOCKS_RATE, node.GLOBAL_SERVER_BLOCKS_BURST) == (20.0, 40)
    assert (node.MAX_THROTTLE_DELAY, node.SERVER_READ_REQUEST_TIMEOUT, node.SERVER_WRITE_CHUNK_TIMEOUT) == (20, 10, 10)


def test_token_bucket_is_x_time_rate() -> None:
    """``rate.Limiter`` reservations: the burst is free, then each token is 1/rate later than
    the previous one; elapsed time refills at ``rate`` up to the burst."""
    now = [100.0]
    b = TokenBucket(PEER_SERVER_BLOCKS_RATE, PEER_SERVER_BLOCKS_BURST, lambda: now[0])
    assert [b.reserve() for _ in range(15)] == [0.0] * 15
    assert [b.reserve() for _ in range(3)] == [0.25, 0.5, 0.75]
    now[0] += 1.0  # four tokens back: the debt of three is paid, one left
    assert b.reserve() == 0.0
    assert b.reserve() == 0.25
    now[0] += 3600.0  # refills to the burst only
    assert [b.reserve() for _ in range(15)] == [0.0] * 15
    assert b.reserve() == 0.25


def _vector(version: int) -> tuple[ExecutionPayload, bytes]:
    e = next(x for x in vectors()["encodings"] if x["version"] == version and "txs" in x["name"])
    return envelope_payload(e["envelope"]), bytes.fromhex(e["ssz"].removeprefix("0x"))


class _Pair:
    """A serving node (its blocks: ``blocks``) and an asking node connected to it."""

    def __init__(self, cfg: RollupConfig, blocks: dict[int, ExecutionPayload]) -> None:
        d = vectors()
        self.now = float(d["now"])
        signer = StaticSigner(from_hex(d["sequencerAddress"]))
        self.asked: list[int] = []

        async def fetch(n: int) -> ExecutionPayload:
            self.asked.append(n)
            if n not in blocks:
                raise NotFound(f"block {n}")
            return blocks[n]

        def p2p(static: tuple[str, ...] = ()) -> P2PConfig:
            return P2PConfig(priv_key=os.urandom(32), listen_ip="127.0.0.1", listen_tcp=0, ping=False,
                             no_discovery=True, static_peers=static)  # fmt: skip

        self.cfg = cfg
        self.server = P2PNode(cfg, p2p(), signer, lambda p, _: None, payload_by_number=fetch, clock=lambda: self.now)
        self.client_cfg = p2p
        self.signer = signer

    async def start(self) -> None:
        await self.server.start()
        self.client = P2PNode(self.cfg, self.client_cfg((self.server.host.listen_addrs[0],)), self.signer,
                              lambda p, _: None, clock=lambda: self.now)  # fmt: skip
        await self.client.start()
        for _ in range(150):
            if str(self.server.host.peer_id) in self.client.host.call(self.client.host.connected_peers):
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the asking node did not connect")

    def stop(self) -> None:
        for n in (self.client, self.server):
            n.host.stop()

    async def request(self, number: int) -> bytes:
        """One ``payload_by_number`` stream: the request, then every byte until EOF."""
        from libp2p.custom_types import TProtocol

        host, target = self.client.host, self.server.host.peer_id
        proto = TProtocol(payload_by_number_protocol(self.cfg.l2_chain_id))

        async def ask() -> bytes:
            stream = await host.host.new_stream(target, [proto])
            await stream.write(struct.pack("<Q", number))
            out = b""
            while True:
                try:
                    chunk = await stream.read(65536)
                except Exception:  # a reset after the last byte ends the response too
                    break
                if not chunk:
                    break
                out += chunk
            await stream.close()
            return out

        return await asyncio.to_thread(host.call_async, ask)


def _run(cfg: RollupConfig, blocks: dict[int, ExecutionPayload], scenario: Any) -> None:
    async def main() -> None:
        pair = _Pair(cfg, blocks)
        await pair.start()
        try:
            await scenario(pair)
        finally:
            pair.stop()

    asyncio.run(main())


def _forks(until: Fork) -> dict[Fork, int]:
    return {f: 0 for f in Fork if f <= until}


def test_serves_ecotone_envelope_and_error_codes() -> None:
    """From Ecotone: ``00 01000000`` and the framed envelope SSZ (V4 vector); a block the node
    does not have: result 1; a number past the wall clock's target block: result 2 without
    asking the engine."""
    payload, ssz = _vector(3)
    cfg = rollup_config(chain_id=vectors()["chainId"], forks=_forks(Fork.ISTHMUS))

    async def scenario(p: _Pair) -> None:
        got = await p.request(payload.block_number)
        assert got[:5] == b"\x00\x01\x00\x00\x00"
        assert bytes(cramjam.snappy.decompress(got[5:])) == ssz
        assert await p.request(payload.block_number + 1) == b"\x01"
        target = int(p.now) // cfg.block_time  # TargetBlockNumber (genesis at 0, time 0)
        assert await p.request(target + 1) == b"\x02"
        assert p.asked == [payload.block_number, payload.block_number + 1]

    _run(cfg, {payload.block_number: payload}, scenario)


def test_serves_pre_ecotone_payload() -> None:
    """Before Ecotone: ``00 00000000`` and the framed payload SSZ (V2 vector: Canyon)."""
    payload, ssz = _vector(1)
    cfg = rollup_config(chain_id=vectors()["chainId"], forks=_forks(Fork.DELTA))

    async def scenario(p: _Pair) -> None:
        got = await p.request(payload.block_number)
        assert got[:5] == b"\x00" * 5
        assert bytes(cramjam.snappy.decompress(got[5:])) == ssz

    _run(cfg, {payload.block_number: payload}, scenario)


def test_peer_is_throttled_past_its_burst() -> None:
    """A peer's 15 requests are served at once; the next ones wait for tokens (0.25 s, 0.5 s, ...
    with the node's clock standing still), so two more take at least 0.75 s."""
    payload, _ = _vector(3)
    cfg = rollup_config(chain_id=vectors()["chainId"], forks=_forks(Fork.ISTHMUS))
    extra = 2

    async def scenario(p: _Pair) -> None:
        for _ in range(PEER_SERVER_BLOCKS_BURST):
            assert (await p.request(payload.block_number))[:1] == b"\x00"
        t0 = time.monotonic()
        for _ in range(extra):
            assert (await p.request(payload.block_number))[:1] == b"\x00"
        assert time.monotonic() - t0 >= 0.25 * sum(range(1, extra + 1)) - 0.02

    _run(cfg, {payload.block_number: payload}, scenario)


def test_invalid_before_genesis_time() -> None:
    """``TargetBlockNumber`` errors before the L2 genesis time: every request is invalid
    (result 2), even for the genesis block (was: served as block 0's target)."""
    payload, _ = _vector(3)
    base = rollup_config(chain_id=vectors()["chainId"], forks=_forks(Fork.ISTHMUS))
    cfg = dataclasses.replace(base, genesis=dataclasses.replace(base.genesis, l2_time=int(vectors()["now"]) + 100))
    zero = dataclasses.replace(payload, block_number=0)

    async def scenario(p: _Pair) -> None:
        assert await p.request(0) == b"\x02"
        assert p.asked == []

    _run(cfg, {0: zero}, scenario)
