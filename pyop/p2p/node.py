"""The P2P service of ``pyop node`` on the asyncio side (op-node v1.19.6 ``op-node/p2p/node.go``
``NodeP2P``, ``gossip.go`` ``publisher`` / ``SignAndPublishL2Payload``, ``node/node.go``
``SignAndPublishL2Payload``, ``p2p/sync.go`` ``ReqRespServer``; specs/protocol/rollup-node-p2p.md).

- :meth:`P2PNode.run` starts the libp2p host (:class:`pyop.p2p.host.GossipHost`, its own thread)
  and hands every ACCEPTed block to ``on_block`` (the node queues it in the engine's
  unsafe-payload queue), in arrival order, through a bounded queue (a full queue drops the block
  with a warning; derivation recovers it from L1 later).
- :meth:`P2PNode.publish_block` encodes a sealed block for the topic of its timestamp, signs it
  with the sequencer key (``--p2p.sequencer.key``), snappy-compresses it and publishes it; the
  local validator runs first, as in op-node, so a block our own key cannot sign for (not the
  SystemConfig's unsafe block signer) is refused with the validator's reason. The signature
  comes from the key or from an op-signer service (``--signer.*``, :mod:`pyop.p2p.signer`).
- The ``payload_by_number`` req-resp server (``--p2p.sync.req-resp``, on by default in op-node
  v1.19.6, which only serves it; the client side is gone): a peer sends a uint64 LE block number
  and gets a result byte, a uint32 LE version (1 from Ecotone: an envelope), and the SSZ block in
  snappy *framed* format; rate limited to 20 requests/s (burst 40) overall and 4/s (burst 15)
  per peer; numbers before genesis or after the block the wall clock allows are "invalid"
  (result 2), unknown blocks "not found" (1), other failures 3.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import struct
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import cramjam

from pyop.config import RollupConfig
from pyop.config.forks import Fork
from pyop.p2p.host import Delivery, GossipHost, HostConfig, P2PHostError
from pyop.p2p.metrics import NoopP2PMetrics, P2PMetricer
from pyop.p2p.signer import (
    BlockSigner,
    LocalBlockSigner,
    RemoteBlockSigner,
    RemoteSignerConfig,
    SignerError,
)
from pyop.p2p.signing import payload_hash
from pyop.p2p.ssz import encode_block
from pyop.p2p.topics import all_blocks_topics, block_version_at, blocks_topic, snappy_compress
from pyop.p2p.validation import (
    DEFAULT_TIMESTAMP_THRESHOLD,
    BlockValidator,
    Outcome,
    SignerSource,
    Validation,
)
from pyop.primitives import ExecutionPayload, PyopError, to_hex
from pyop.ratelimit import TokenBucket
from pyop.sources.interfaces import NotFound

log = logging.getLogger("pyop.p2p")

MAX_VALIDATE_QUEUE = 256
SERVER_READ_REQUEST_TIMEOUT = 10.0
SERVER_WRITE_CHUNK_TIMEOUT = 10.0
MAX_THROTTLE_DELAY = 20.0
GLOBAL_SERVER_BLOCKS_RATE, GLOBAL_SERVER_BLOCKS_BURST = 20.0, 40
PEER_SERVER_BLOCKS_RATE, PEER_SERVER_BLOCKS_BURST = 4.0, 15
RESULT_SUCCESS, RESULT_NOT_FOUND, RESULT_INVALID, RESULT_UNKNOWN = 0, 1, 2, 3


def payload_by_number_protocol(chain_id: int) -> str:
    """op-node ``PayloadByNumberProtocolID``."""
    return f"/opstack/req/payload_by_number/{chain_id}/0"


class P2PError(PyopError):
    """A P2P operation that failed (publishing without a key, a refused block)."""


@dataclass(frozen=True, slots=True)
class P2PConfig:
    """op-node's ``p2p.Config`` as ``pyop node`` reads it from the ``--p2p.*`` flags."""

    priv_key: bytes
    listen_ip: str = "0.0.0.0"
    listen_tcp: int = 9222
    static_peers: tuple[str, ...] = ()
    no_discovery: bool = False
    peers_lo: int = 20
    peers_hi: int = 30
    peers_grace: float = 30.0
    scoring: str = "light"
    ban_peers: bool = True
    ban_threshold: float = -100.0
    ban_duration: float = 3600.0
    muxers: tuple[str, ...] = ("yamux", "mplex")
    user_agent: str = "optimism"
    mesh_d: int = 8
    mesh_dlo: int = 6
    mesh_dhi: int = 12
    mesh_dlazy: int = 6
    flood_publish: bool = False
    timestamp_threshold: int = DEFAULT_TIMESTAMP_THRESHOLD
    sync_req_resp: bool = True
    ping: bool = True
    sequencer_key: bytes | None = None
    remote_signer: RemoteSignerConfig | None = None
    timeout_dial: float = 10.0
    timeout_accept: float = 10.0
    timeout_negotiation: float = 10.0

    def host_config(self, cfg: RollupConfig) -> HostConfig:
        return HostConfig(
            chain_id=cfg.l2_chain_id, priv_key=self.priv_key, listen_ip=self.listen_ip,
            listen_tcp=self.listen_tcp, static_peers=self.static_peers, muxers=self.muxers,
            peers_lo=self.peers_lo, peers_hi=self.peers_hi, peers_grace=self.peers_grace,
            user_agent=self.user_agent, mesh_d=self.mesh_d, mesh_dlo=self.mesh_dlo,
            mesh_dhi=self.mesh_dhi, mesh_dlazy=self.mesh_dlazy, flood_publish=self.flood_publish,
            block_time=cfg.block_time, scoring=self.scoring == "light", ban_peers=self.ban_peers,
            ban_threshold=self.ban_threshold, ban_duration=self.ban_duration, ping=self.ping,
            timeout_dial=self.timeout_dial, timeout_accept=self.timeout_accept,
            timeout_negotiation=self.timeout_negotiation,
        )  # fmt: skip


BlockHandler = Callable[[ExecutionPayload, str], None]
PayloadFetcher = Callable[[int], Coroutine[Any, Any, ExecutionPayload]]


class P2PNode:
    """See the module docstring."""

    def __init__(
        self,
        cfg: RollupConfig,
        p2p: P2PConfig,
        signers: SignerSource,
        on_block: BlockHandler,
        *,
        payload_by_number: PayloadFetcher | None = None,
        clock: Callable[[], float] = time.time,
        metrics: P2PMetricer | None = None,
    ) -> None:
        self.cfg = cfg
        self.metrics: P2PMetricer = metrics or NoopP2PMetrics()
        self.p2p = p2p
        self.signers = signers
        self.on_block = on_block
        self.payload_by_number = payload_by_number
        self.clock = clock
        self.validators = {
            topic: BlockValidator(cfg, version, signers, timestamp_threshold=p2p.timestamp_threshold, clock=clock)
            for topic, version in all_blocks_topics(cfg.l2_chain_id).items()
        }
        self.signer: BlockSigner | None = None
        if p2p.sequencer_key is not None and p2p.remote_signer is not None:
            raise P2PError("cannot specify both a private key and a remote signer for sequencer p2p")
        if p2p.sequencer_key is not None:
            self.signer = LocalBlockSigner(p2p.sequencer_key)
        elif p2p.remote_signer is not None:
            self.signer = RemoteBlockSigner(p2p.remote_signer)
        handlers: dict[str, Callable[[Any], Any]] = {}
        if p2p.sync_req_resp and payload_by_number is not None:
            handlers[payload_by_number_protocol(cfg.l2_chain_id)] = self._serve_payload_by_number
        self.host = GossipHost(p2p.host_config(cfg), self.validators, self._deliver_threadsafe,
                               clock=clock, stream_handlers=handlers, metrics=self.metrics)  # fmt: skip
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(MAX_VALIDATE_QUEUE)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.received = 0
        self.dropped = 0
        self._global_rl = TokenBucket(GLOBAL_SERVER_BLOCKS_RATE, GLOBAL_SERVER_BLOCKS_BURST, clock)
        self._peer_rl: dict[str, TokenBucket] = {}
        self.started = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if isinstance(self.signer, RemoteBlockSigner):
            try:
                version = await self.signer.connect()
            except SignerError as e:
                raise P2PError(f"failed to connect to the remote signer: {e}") from None
            log.info("Connected to op-signer server: version=%s", version)
        await asyncio.to_thread(self.host.start)
        self.started.set()

    async def run(self) -> None:
        """Start the host (if not yet) and deliver received blocks until cancelled."""
        if not self.started.is_set():
            await self.start()
        try:
            while True:
                d = await self._queue.get()
                self.received += 1
                log.info("Received signed execution payload from p2p: id=%s:%d peer=%s",
                         to_hex(d.payload.block_hash), d.payload.block_number, d.peer)  # fmt: skip
                try:
                    self.on_block(d.payload, d.peer)
                except PyopError as e:
                    log.warning("failed to queue unsafe payload %d from p2p: %s", d.payload.block_number, e)
        finally:
            await asyncio.to_thread(self.host.stop)
            if self.signer is not None:
                await self.signer.close()

    def _deliver_threadsafe(self, d: Delivery) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def put() -> None:
            try:
                self._queue.put_nowait(d)
            except asyncio.QueueFull:
                self.dropped += 1
                log.warning("p2p block queue full, dropping block %d (derivation will get it from L1)",
                            d.payload.block_number)  # fmt: skip

        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(put)

    # ------------------------------------------------------------------ publishing

    async def encode_signed(self, payload: ExecutionPayload) -> tuple[str, bytes]:
        """The topic and the snappy-compressed ``signature ++ ssz`` of ``payload``
        (``SignAndPublishL2Payload``)."""
        if self.signer is None:
            raise P2PError(f"node has no p2p signer, payload {to_hex(payload.block_hash)}:{payload.block_number} "
                           "cannot be published")  # fmt: skip
        version = block_version_at(self.cfg, payload.timestamp)
        ssz = encode_block(payload, version)
        try:
            sig = await self.signer.sign_block_v1(self.cfg.l2_chain_id, payload_hash(ssz))
        except SignerError as e:
            raise P2PError(f"failed to sign execution payload with signer: {e}") from None
        return blocks_topic(self.cfg.l2_chain_id, version), snappy_compress(sig + ssz)

    async def publish_block(self, payload: ExecutionPayload) -> Validation:
        """Sign and publish ``payload`` (see the module docstring); returns the local validation
        result (:class:`P2PError` if it was not ACCEPTed)."""
        topic, data = await self.encode_signed(payload)
        log.info("Publishing signed execution payload on p2p: id=%s:%d", to_hex(payload.block_hash),
                 payload.block_number)  # fmt: skip
        res: Validation = await asyncio.wrap_future(self.host.publish(topic, data))
        if res.outcome is not Outcome.ACCEPT:
            raise P2PError(f"failed to publish block {payload.block_number}: local validation "
                           f"{res.outcome.value}: {res.reason}")  # fmt: skip
        return res

    # ------------------------------------------------------------------ req-resp server

    async def _serve_payload_by_number(self, stream: Any) -> None:
        """``ReqRespServer.HandleSyncRequest`` (runs on the host thread, under trio)."""
        import trio

        peer = str(stream.muxed_conn.peer_id)
        code, req = RESULT_SUCCESS, -1
        start = time.monotonic()
        try:
            with trio.fail_after(MAX_THROTTLE_DELAY):
                await trio.sleep(self._global_rl.reserve())
                bucket = self._peer_rl.get(peer)
                if bucket is None:
                    bucket = self._peer_rl[peer] = TokenBucket(PEER_SERVER_BLOCKS_RATE, PEER_SERVER_BLOCKS_BURST, self.clock)
                    bucket.reserve()  # the first request counts but does not wait
                else:
                    await trio.sleep(bucket.reserve())
                while len(self._peer_rl) > 1000:
                    self._peer_rl.pop(next(iter(self._peer_rl)))
            with trio.fail_after(SERVER_READ_REQUEST_TIMEOUT):
                raw = b""
                while len(raw) < 8:
                    chunk = await stream.read(8 - len(raw))
                    if not chunk:
                        raise P2PError("failed to read requested block number: EOF")
                    raw += chunk
            req = struct.unpack("<Q", raw)[0]
            genesis, now = self.cfg.genesis.l2, int(self.clock())
            if now < self.cfg.genesis.l2_time:  # rollup.Config.TargetBlockNumber: "did not reach genesis time yet"
                code = RESULT_INVALID
                raise P2PError("cannot determine max target block number to verify request: before L2 genesis time")
            max_number = genesis.number + (now - self.cfg.genesis.l2_time) // self.cfg.block_time
            if req < genesis.number or req > max_number:
                code = RESULT_INVALID
                raise P2PError(f"cannot serve request for L2 block {req} (genesis {genesis.number}, max {max_number})")
            payload = await trio.to_thread.run_sync(self._fetch_payload, req)
            ecotone = self.cfg.is_active(Fork.ECOTONE, payload.timestamp)
            body = encode_block(payload, block_version_at(self.cfg, payload.timestamp))
            with trio.fail_after(SERVER_WRITE_CHUNK_TIMEOUT):
                await stream.write((b"\x00\x01\x00\x00\x00" if ecotone else b"\x00" * 5)
                                   + bytes(cramjam.snappy.compress(body)))  # fmt: skip
            log.debug("successfully served sync response: req=%d peer=%s", req, peer)
        except Exception as e:
            if code == RESULT_SUCCESS:
                code = RESULT_NOT_FOUND if isinstance(e, NotFound) else RESULT_UNKNOWN
            log.warning("failed to serve p2p sync request: req=%d peer=%s err=%s", req, peer, e)
            with contextlib.suppress(Exception):
                await stream.write(bytes([code]))
        finally:
            # op-node ServerPayloadByNumberEvent (the number stays 0 when it could not be read)
            self.metrics.server_payload_by_number_event(max(req, 0), code, time.monotonic() - start)
            with contextlib.suppress(Exception):
                await stream.close()

    def _fetch_payload(self, number: int) -> ExecutionPayload:
        loop, fetch = self._loop, self.payload_by_number
        if loop is None or fetch is None:
            raise P2PError("no L2 source")
        fut: concurrent.futures.Future[ExecutionPayload] = asyncio.run_coroutine_threadsafe(fetch(number), loop)
        return fut.result(MAX_THROTTLE_DELAY)

    # ------------------------------------------------------------------ peers

    async def connect(self, addr: str) -> None:
        """``opp2p_connectPeer``: dial a multiaddr (30 s timeout)."""
        try:
            await asyncio.to_thread(self.host.call_async, lambda: self.host.connect(addr))
        except Exception as e:
            raise P2PError(f"failed to connect to {addr}: {type(e).__name__}: {e}") from None

    async def disconnect(self, pid: str) -> None:
        """Close every connection to ``pid``."""
        try:
            await asyncio.to_thread(self.host.call_async, lambda: self.host.disconnect(pid))
        except Exception as e:
            raise P2PError(f"failed to disconnect {pid}: {type(e).__name__}: {e}") from None

    # ------------------------------------------------------------------ state

    async def on_host(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the host thread (RPC reads)."""
        try:
            return await asyncio.to_thread(self.host.call, fn)
        except P2PHostError as e:
            raise P2PError(str(e)) from None


__all__ = [
    "P2PConfig",
    "P2PError",
    "P2PNode",
    "payload_by_number_protocol",
]
