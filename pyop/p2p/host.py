"""The libp2p host of ``pyop node``: py-libp2p (``libp2p`` on PyPI, trio-based) run in its own
thread, bridged to pyop's asyncio runtime (specs/protocol/rollup-node-p2p.md "LibP2P",
"GossipSub"; op-node v1.19.6 ``op-node/p2p/host.go``, ``gossip.go`` ``NewGossipSub`` /
``JoinGossip``, ``node.go``, ``notifications.go``).

Threading. :class:`GossipHost` starts one thread that runs ``trio.run``; everything libp2p does
(dialling, noise handshakes, yamux/mplex streams, gossipsub, validation, scoring, bans) happens
there. The asyncio side talks to it only through thread-safe calls:

- :meth:`GossipHost.publish` hands a message to the trio thread with
  ``TrioToken.run_sync_soon`` (non-blocking) and returns a ``concurrent.futures.Future`` with the
  local validation result, as op-node's ``Topic.Publish`` returns the local validator's error;
- received, ACCEPTed blocks go to the ``deliver`` callback (the caller makes it thread-safe,
  e.g. ``loop.call_soon_threadsafe``);
- :meth:`GossipHost.call` runs a function on the trio thread and returns its result (the
  ``opp2p_*`` RPC reads state this way).

What op-node configures, and how it is done on py-libp2p 0.8.1:

- TCP, noise (the secp256k1 network key as the libp2p identity), yamux then mplex
  (``--p2p.mux``), identify, ping; no relay, no mDNS, no UPnP, no QUIC;
- gossipsub ``/meshsub/1.1.0`` (and 1.0.0) with op-node's parameters: D 8, Dlo 6, Dhi 12,
  Dlazy 6 (``--p2p.gossip.mesh.*``), heartbeat 0.5 s, fanout TTL 24 s, mcache 12 windows of
  which 3 are gossiped, seen TTL 130 heartbeats (65 s), no peer exchange, max message size
  10 MiB, subscriptions allowed only to the four block topics;
- ``StrictNoSign``: published messages carry only ``data`` and ``topic`` (no ``from``, no
  ``seqno``, no signature, no key; op-node rejects messages that have them), and message ids
  are op-node's content id (:func:`pyop.p2p.topics.message_id`);
- one extended validator per topic (:class:`pyop.p2p.validation.BlockValidator`): ACCEPT relays
  and delivers, IGNORE and REJECT drop; a REJECT costs the forwarding peer a "rejected payload"
  (:mod:`pyop.p2p.scoring`); messages we published ourselves are not delivered back
  (op-node ``NewFilterSelf``);
- static peers (``--p2p.static``) are protected from pruning, dialled at start and re-dialled
  every minute when disconnected (``initStaticPeers``, ``monitorStaticPeers``); the connection
  manager trims to ``--p2p.peers.lo`` when above ``--p2p.peers.hi``, sparing static peers and
  peers younger than ``--p2p.peers.grace``; bans are checked when a peer connects (the
  connection gater) and by the ban monitor.

Four things py-libp2p 0.8.1 does differently, patched here without touching the library:

1. its router drops every message whose ``from ++ seqno`` it saw before with other data
   ("equivocation"); under ``StrictNoSign`` every message has an empty ``from`` and ``seqno``,
   so it would relay and publish only the first message ever -> :class:`OpGossipSub` turns that
   check off (op-node's equivalent is the per-height seen-blocks rule of the validator);
2. its message cache keys messages by ``from ++ seqno`` instead of the pubsub message id, so
   IHAVE would announce empty ids and IWANT could not be answered -> :class:`MessageIdCache`
   keys by op-node's message id;
3. its per-peer outbound queues drop RPCs over 1 MiB -> :class:`OutboundQueues` allows op-node's
   10 MiB (and keeps op-node's 256 queued RPCs per peer);
4. its extras that go-libp2p-pubsub does not have (per-topic publish rate limit, adaptive
   heartbeat that slows to 30-60 s, IP-diversity grafting, equivocation and spam penalties) are
   turned off; its peer scorer is replaced by :class:`OpNodeScorer`, which reports op-node's
   score (:class:`pyop.p2p.scoring.ScoreBook`) to py-libp2p's gossip/publish/graylist gates.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ipaddress
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import INetConn, INetStream, INetwork, INotifee
from libp2p.crypto.secp256k1 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_new_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.config import ConnectionConfig
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.pubsub import mcache as _mcache
from libp2p.pubsub.gossipsub import PROTOCOL_ID, PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.rpc_queue import PriorityQueue, RpcQueue
from libp2p.pubsub.score import PeerScorer, ScoreParams
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.mplex.mplex import MPLEX_PROTOCOL_ID, Mplex
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from libp2p.tools.anyio_service import background_trio_service

from pyop.p2p.metrics import NoopP2PMetrics, P2PMetricer
from pyop.p2p.scoring import (
    ACCEPT_PX_THRESHOLD,
    BAN_CHECK_INTERVAL,
    GOSSIP_THRESHOLD,
    GRAYLIST_THRESHOLD,
    PUBLISH_THRESHOLD,
    BanBook,
    BanMonitor,
    LightScoreParams,
    ScoreBook,
)
from pyop.p2p.topics import MAX_GOSSIP_SIZE, message_id
from pyop.p2p.validation import Outcome, Validation
from pyop.primitives import ExecutionPayload, PyopError

log = logging.getLogger("pyop.p2p")

GOSSIP_HEARTBEAT = 0.5
SEEN_MESSAGES_TTL = 130 * GOSSIP_HEARTBEAT
FANOUT_TTL = 24
HISTORY_LENGTH = 12
HISTORY_GOSSIP = 3
PRUNE_BACKOFF = 60
UNSUBSCRIBE_BACKOFF = 10
STATIC_PEER_DIAL_TIMEOUT = 30.0
STATIC_PEER_CHECK_INTERVAL = 60.0
CONN_MANAGER_CHECK_INTERVAL = 10.0
PING_ROUND = 180.0
MAX_VALIDATE_QUEUE = 256
MAX_OUTBOUND_QUEUE = 256
STATIC_TAG = "static"
MAX_CONNECTIONS = 300
#: op-node ``peerScoreInspectFrequency`` and ``RecordBandwidth``'s tick
PEER_SCORE_INSPECT_INTERVAL = 15.0
BANDWIDTH_INTERVAL = 10.0


class P2PHostError(PyopError):
    """The libp2p host could not start (bad listen address, port in use, bad static peer)."""


@dataclass(frozen=True, slots=True)
class HostConfig:
    """What the host needs (the libp2p part of op-node's ``p2p.Config``)."""

    chain_id: int
    priv_key: bytes
    listen_ip: str = "0.0.0.0"
    listen_tcp: int = 9222
    static_peers: tuple[str, ...] = ()
    muxers: tuple[str, ...] = ("yamux", "mplex")
    peers_lo: int = 20
    peers_hi: int = 30
    peers_grace: float = 30.0
    user_agent: str = "optimism"
    mesh_d: int = 8
    mesh_dlo: int = 6
    mesh_dhi: int = 12
    mesh_dlazy: int = 6
    flood_publish: bool = False
    block_time: int = 2
    scoring: bool = True
    ban_peers: bool = True
    ban_threshold: float = -100.0
    ban_duration: float = 3600.0
    ping: bool = True
    timeout_dial: float = 10.0
    timeout_accept: float = 10.0
    timeout_negotiation: float = 10.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """An ACCEPTed block from the network."""

    topic: str
    peer: str
    payload: ExecutionPayload
    received_at: float
    message_id: bytes


@dataclass
class PeerInfo:
    """What the host knows of a peer (for ``opp2p_peers``)."""

    peer_id: str
    addresses: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)
    connected: bool = False
    direction: int = 0  # op-node network.Direction: 0 unknown, 1 inbound, 2 outbound
    connected_at: float = 0.0
    latency_ns: int = 0
    public_key: bytes | None = None
    protected: bool = False


@dataclass
class HostStats:
    """Counters of what the host did (for logs, metrics and tests)."""

    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    delivered: int = 0
    published: int = 0
    dropped_deliveries: int = 0
    bans: int = 0
    refused_connections: int = 0
    bytes_in: int = 0  # stream payload bytes (libp2p BandwidthCounter totals)
    bytes_out: int = 0


# --------------------------------------------------------------------------- py-libp2p patches


class MessageIdCache(_mcache.MessageCache):
    """py-libp2p's message cache keyed by op-node's message id instead of ``from ++ seqno``."""

    def put(self, msg: rpc_pb2.Message) -> None:
        mid = message_id(msg.topicIDs[0], msg.data) if msg.topicIDs else b""
        if mid in self.msgs:
            return
        self.msgs[mid] = msg
        self.history[0].append(_mcache.CacheEntry(mid, msg.topicIDs))


class OutboundQueues(dict[Any, RpcQueue]):
    """Pubsub's per-peer outbound queues with op-node's limits: messages up to 10 MiB
    (``WithMaxMessageSize``; py-libp2p's queues drop anything over 1 MiB, so a large block
    would never leave) and 256 queued RPCs per peer (``WithPeerOutboundQueueSize``)."""

    def __setitem__(self, peer: Any, queue: RpcQueue) -> None:
        queue.max_message_size = MAX_GOSSIP_SIZE
        if len(queue) == 0:
            queue._queue = PriorityQueue(MAX_OUTBOUND_QUEUE)
        super().__setitem__(peer, queue)


class OpNodeScorer(PeerScorer):
    """Reports op-node's peer score (:class:`ScoreBook`) to py-libp2p's gates; py-libp2p's own
    counters and penalties are not used (op-node scores no topic, see :mod:`pyop.p2p.scoring`).
    A GRAFT during the prune backoff is gossipsub's behaviour penalty."""

    def __init__(self, book: ScoreBook | None) -> None:
        super().__init__(ScoreParams(
            publish_threshold=PUBLISH_THRESHOLD if book else float("-inf"),
            gossip_threshold=GOSSIP_THRESHOLD if book else float("-inf"),
            graylist_threshold=GRAYLIST_THRESHOLD if book else float("-inf"),
            accept_px_threshold=ACCEPT_PX_THRESHOLD if book else float("-inf"),
        ))  # fmt: skip
        self.book = book

    def score(self, peer: ID, topics: list[str]) -> float:
        return self.book.score(str(peer)) if self.book is not None else 0.0

    def on_heartbeat(self, dt_seconds: float = 1.0) -> None:
        pass  # the host decays the book every slot

    def on_invalid_message(self, peer: ID, topic: str) -> None:
        pass  # the validator wrapper scores REJECTs (not IGNOREs)

    def penalize_graft_flood(self, peer: ID, amount: float = 10.0) -> None:
        if self.book is not None:
            self.book.behaviour_penalty(str(peer), 1.0)

    def penalize_behavior(self, peer: ID, amount: float = 1.0) -> None:
        pass

    def penalize_iwant_spam(self, peer: ID, amount: float = 5.0) -> None:
        pass

    def penalize_ihave_spam(self, peer: ID, amount: float = 5.0) -> None:
        pass

    def penalize_equivocation(self, peer: ID, amount: float = 100.0) -> None:
        pass


Trace = Callable[[str], None]


class _TracedTopicMesh(set[Any]):
    """One topic's mesh: a peer entering it is gossipsub's GRAFT trace event, a peer leaving it
    a PRUNE (go-libp2p-pubsub ``tracer.Graft`` / ``tracer.Prune``)."""

    def __init__(self, trace: Trace, items: Any = ()) -> None:
        super().__init__(items)
        self.trace = trace

    def add(self, peer: Any) -> None:
        if peer not in self:
            self.trace("GRAFT")
        super().add(peer)

    def discard(self, peer: Any) -> None:
        if peer in self:
            self.trace("PRUNE")
        super().discard(peer)

    def remove(self, peer: Any) -> None:
        if peer in self:
            self.trace("PRUNE")
        super().remove(peer)


class _TracedMesh(dict[str, set[Any]]):
    """gossipsub's ``mesh`` (topic -> peers) with :class:`_TracedTopicMesh` values."""

    def __init__(self, trace: Trace) -> None:
        super().__init__()
        self.trace = trace

    def __setitem__(self, topic: str, peers: set[Any]) -> None:
        super().__setitem__(topic, peers if isinstance(peers, _TracedTopicMesh) else _TracedTopicMesh(self.trace, peers))


class OpPubsub(Pubsub):
    """py-libp2p's pubsub reporting go-libp2p-pubsub's trace events that it can see:
    DUPLICATE_MESSAGE (a message already seen), SEND_RPC / DROP_RPC (an RPC written to a peer's
    stream, or not: the stream was closed). The validator reports DELIVER_MESSAGE and
    REJECT_MESSAGE, the publisher PUBLISH_MESSAGE (:class:`GossipHost`)."""

    trace: Trace = staticmethod(lambda _t: None)

    async def push_msg(self, msg_forwarder: ID, msg: rpc_pb2.Message) -> None:
        if self._is_msg_seen(msg):
            self.trace("DUPLICATE_MESSAGE")
        await super().push_msg(msg_forwarder, msg)

    async def write_msg(self, stream: INetStream, rpc_msg: rpc_pb2.RPC) -> bool:
        ok = await super().write_msg(stream, rpc_msg)
        self.trace("SEND_RPC" if ok else "DROP_RPC")
        return ok


class OpGossipSub(GossipSub):
    """gossipsub for op-node's ``StrictNoSign`` messages (see the module docstring); reports
    the router's trace events (ON_NEW_OUTBOUND_STREAM / ON_CLOSED_OUTBOUND_STREAM for a pubsub
    peer added / removed, JOIN, LEAVE, GRAFT, PRUNE) to ``trace``."""

    def __init__(self, cfg: HostConfig, book: ScoreBook | None, trace: Trace | None = None) -> None:
        super().__init__(
            protocols=[PROTOCOL_ID_V11, PROTOCOL_ID],
            degree=cfg.mesh_d, degree_low=cfg.mesh_dlo, degree_high=cfg.mesh_dhi,
            time_to_live=FANOUT_TTL, gossip_window=HISTORY_GOSSIP, gossip_history=HISTORY_LENGTH,
            heartbeat_initial_delay=0.1, heartbeat_interval=GOSSIP_HEARTBEAT,  # type: ignore[arg-type]
            do_px=False, prune_back_off=PRUNE_BACKOFF, unsubscribe_back_off=UNSUBSCRIBE_BACKOFF,
            adaptive_gossip_enabled=False, spam_protection_enabled=False,
            eclipse_protection_enabled=False,
        )  # fmt: skip
        self.mcache = MessageIdCache(HISTORY_GOSSIP, HISTORY_LENGTH)
        self.scorer = OpNodeScorer(book)
        self.dlazy = cfg.mesh_dlazy
        self.flood_publish = cfg.flood_publish
        self.trace: Trace = trace or (lambda _t: None)
        self.mesh = _TracedMesh(self.trace)

    def add_peer(self, peer_id: ID, protocol_id: TProtocol | None) -> None:
        super().add_peer(peer_id, protocol_id)
        self.trace("ON_NEW_OUTBOUND_STREAM")

    def remove_peer(self, peer_id: ID) -> None:
        super().remove_peer(peer_id)
        self.trace("ON_CLOSED_OUTBOUND_STREAM")

    async def join(self, topic: str) -> None:
        self.trace("JOIN")
        await super().join(topic)

    async def leave(self, topic: str) -> None:
        for _ in self.mesh.get(topic, ()):
            self.trace("PRUNE")
        self.trace("LEAVE")
        await super().leave(topic)

    def _check_equivocation(self, msg: rpc_pb2.Message) -> bool:
        return True

    def _get_adaptive_gossip_peers_count(self, topic: str, total_peers: int) -> int:
        """go-libp2p-pubsub ``emitGossip``: ``max(Dlazy, GossipFactor 0.25 * peers)``."""
        return max(self.dlazy, int(total_peers * 0.25))

    def _get_peers_to_send(self, topic_ids: Any, msg_forwarder: ID, origin: ID,
                           msg_id: bytes | None = None) -> Any:  # fmt: skip
        """Mesh (or fanout) peers; with ``--p2p.gossip.mesh.floodpublish`` our own messages go
        to every peer of the topic whose score is at least the publish threshold
        (go-libp2p-pubsub ``floodPublish``)."""
        peers = set(super()._get_peers_to_send(topic_ids, msg_forwarder, origin, msg_id))
        if self.flood_publish and self.pubsub is not None and msg_forwarder == self.pubsub.my_id:
            for topic in topic_ids:
                for p in self.pubsub.peer_topics.get(topic, ()):
                    if p != msg_forwarder and self.scorer is not None and self.scorer.allow_publish(p, [topic]):
                        peers.add(p)
        yield from peers


# --------------------------------------------------------------------------- the host


def _ip_of(conn: INetConn) -> str | None:
    try:
        remote = conn.muxed_conn.get_remote_address()  # type: ignore[attr-defined]
    except Exception:
        return None
    if not remote:
        return None
    host = str(remote[0])
    return host[7:] if host.lower().startswith("::ffff:") else host


def _multiaddr_of(ip: str, port: int) -> str:
    proto = "ip6" if isinstance(ipaddress.ip_address(ip), ipaddress.IPv6Address) else "ip4"
    return f"/{proto}/{ip}/tcp/{port}"


class _Notifee(INotifee):
    def __init__(self, host: GossipHost) -> None:
        self.h = host

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        self.h._on_opened_stream(stream)

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        self.h._on_closed_stream(stream)

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        self.h.metrics.inc_peer_count()  # op-node notifications.Connected: per connection
        await self.h._on_connected(conn)

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        self.h.metrics.dec_peer_count()
        self.h._on_disconnected(conn)

    async def listen(self, network: INetwork, multiaddr: multiaddr.Multiaddr) -> None:
        pass

    async def listen_close(self, network: INetwork, multiaddr: multiaddr.Multiaddr) -> None:
        pass


Validator = Callable[[bytes], Validation]


class GossipHost:
    """See the module docstring. ``validators``: topic -> validator (the topics to join);
    ``deliver``: called on the host thread for each ACCEPTed block from a peer."""

    def __init__(
        self,
        cfg: HostConfig,
        validators: Mapping[str, Validator],
        deliver: Callable[[Delivery], None],
        *,
        clock: Callable[[], float] = time.time,
        stream_handlers: Mapping[str, Callable[[INetStream], Any]] | None = None,
        metrics: P2PMetricer | None = None,
    ) -> None:
        self.cfg = cfg
        self.metrics: P2PMetricer = metrics or NoopP2PMetrics()
        self.validators = dict(validators)
        self.deliver = deliver
        self.clock = clock
        self.stream_handlers = dict(stream_handlers or {})
        self.key_pair = create_new_key_pair(cfg.priv_key)
        self.peer_id = ID.from_pubkey(self.key_pair.public_key)
        self.stats = HostStats()
        params = LightScoreParams.for_block_time(cfg.block_time)
        self.scores: ScoreBook | None = ScoreBook(params, clock) if cfg.scoring else None
        self.bans = BanBook(clock, on_unban=self._on_unban)
        self.monitor = (BanMonitor(self.scores, self.bans, cfg.ban_threshold, cfg.ban_duration)
                        if cfg.ban_peers and self.scores is not None else None)  # fmt: skip
        self.peers: dict[str, PeerInfo] = {}
        self.static_ids: dict[str, str] = {}  # peer id -> static multiaddr
        self.listen_addrs: list[str] = []
        self._own: OrderedDict[bytes, None] = OrderedDict()
        self._accepted: OrderedDict[bytes, tuple[ExecutionPayload, str]] = OrderedDict()
        self._results: dict[bytes, Validation] = {}
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._cancel: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None
        self._send: trio.MemorySendChannel[tuple[str, bytes, concurrent.futures.Future[Validation]]] | None = None
        self.host: Any = None
        self.pubsub: Pubsub | None = None
        self.router: OpGossipSub | None = None

    # ------------------------------------------------------------------ lifecycle (any thread)

    def start(self, timeout: float = 30.0) -> None:
        """Start the host thread; return once it listens (raises :class:`P2PHostError`)."""
        self._thread = threading.Thread(target=self._thread_main, name="pyop-p2p", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise P2PHostError(f"the libp2p host did not start within {timeout}s")
        if self._error is not None:
            raise P2PHostError(f"failed to start p2p host: {type(self._error).__name__}: {self._error}")

    def stop(self, timeout: float = 10.0) -> None:
        token, scope = self._token, self._cancel
        if token is not None and scope is not None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(scope.cancel)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._error is None

    def publish(self, topic: str, data: bytes) -> concurrent.futures.Future[Validation]:
        """Publish ``data`` (a snappy-compressed signed block) on ``topic``; the future holds
        the local validation result (REJECT/IGNORE: not published)."""
        fut: concurrent.futures.Future[Validation] = concurrent.futures.Future()
        token, send = self._token, self._send
        if token is None or send is None:
            fut.set_exception(P2PHostError("the p2p host is not running"))
            return fut

        def put() -> None:
            try:
                send.send_nowait((topic, data, fut))
            except trio.WouldBlock:
                fut.set_exception(P2PHostError("p2p outbound queue full"))

        try:
            token.run_sync_soon(put)
        except trio.RunFinishedError:
            fut.set_exception(P2PHostError("the p2p host is not running"))
        return fut

    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn`` on the host thread and return its result (blocks the caller)."""
        token = self._token
        if token is None:
            raise P2PHostError("the p2p host is not running")
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as e:
                fut.set_exception(e)

        token.run_sync_soon(run)
        return fut.result(timeout)

    def call_async(self, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Run the coroutine function ``fn`` on the host thread and return its result (blocks
        the caller up to ``timeout``)."""
        token, nursery = self._token, self._nursery
        if token is None or nursery is None:
            raise P2PHostError("the p2p host is not running")
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()

        async def run() -> None:
            try:
                with trio.fail_after(timeout):
                    fut.set_result(await fn())
            except BaseException as e:
                if isinstance(e, trio.Cancelled):
                    fut.set_exception(P2PHostError("p2p host stopped"))
                    raise
                fut.set_exception(e)

        token.run_sync_soon(lambda: nursery.start_soon(run))
        return fut.result(timeout + 1)

    async def connect(self, addr: str) -> None:
        """Dial ``addr`` (a multiaddr with ``/p2p/<id>``), refusing banned peers."""
        await self._dial(addr, STATIC_PEER_DIAL_TIMEOUT)  # refuses a banned peer

    # ------------------------------------------------------------------ the trio thread

    def _thread_main(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as e:  # reported by start(), or logged when it dies later
            if not self._ready.is_set():
                self._error = e
            else:
                log.error("p2p host stopped: %s: %s", type(e).__name__, e)
                self._error = e
        finally:
            self._ready.set()

    def _muxers(self) -> dict[TProtocol, Any]:
        table = {"yamux": (TProtocol(YAMUX_PROTOCOL_ID), Yamux), "mplex": (TProtocol(MPLEX_PROTOCOL_ID), Mplex)}
        out: dict[TProtocol, Any] = {}
        for m in self.cfg.muxers:
            if m not in table:
                raise P2PHostError(f"could not recognize mux {m}")
            pid, cls = table[m]
            out[pid] = cls
        return out

    async def _main(self) -> None:
        from libp2p.identity.identify import identify as _identify

        # identify's agent version is a module constant in py-libp2p; op-node sends
        # --p2p.useragent ("optimism")
        _identify.AGENT_VERSION = self.cfg.user_agent
        noise = NoiseTransport(self.key_pair, noise_privkey=create_new_x25519_key_pair().private_key)
        listen = multiaddr.Multiaddr(_multiaddr_of(self.cfg.listen_ip, self.cfg.listen_tcp))
        # py-libp2p's own connection manager neither dials (op-node has no auto-dialling without
        # discovery) nor trims (see _trim: --p2p.peers.lo/hi/grace); its timeouts are op-node's
        conns = ConnectionConfig(
            min_connections=0, low_watermark=0, high_watermark=MAX_CONNECTIONS, max_connections=MAX_CONNECTIONS,
            dial_timeout=self.cfg.timeout_dial, inbound_upgrade_timeout=self.cfg.timeout_accept,
            outbound_upgrade_timeout=self.cfg.timeout_negotiation,
            outbound_stream_protocol_negotiation_timeout=self.cfg.timeout_negotiation,
            inbound_stream_protocol_negotiation_timeout=self.cfg.timeout_negotiation,
        )  # fmt: skip
        self.host = host = new_host(
            key_pair=self.key_pair, muxer_opt=self._muxers(), sec_opt={TProtocol(NOISE_PROTOCOL_ID): noise},
            listen_addrs=[listen], connection_config=conns,
        )  # fmt: skip
        self.router = router = OpGossipSub(self.cfg, self.scores, self.metrics.record_gossip_event)
        self.pubsub = pubsub = OpPubsub(
            host, router, strict_signing=False, seen_ttl=int(SEEN_MESSAGES_TTL),
            msg_id_constructor=lambda m: message_id(m.topicIDs[0] if m.topicIDs else "", m.data),
            max_inbound_rpc_size=MAX_GOSSIP_SIZE, allowed_topics=frozenset(self.validators),
        )  # fmt: skip
        pubsub.peer_queues = OutboundQueues()
        pubsub.trace = self.metrics.record_gossip_event
        for topic, fn in self.validators.items():
            pubsub.set_topic_validator(topic, self._make_validator(topic, fn), False)
        for proto, handler in self.stream_handlers.items():
            host.set_stream_handler(TProtocol(proto), handler)
        host.get_network().register_notifee(_Notifee(self))
        send, recv = trio.open_memory_channel[tuple[str, bytes, concurrent.futures.Future[Validation]]](MAX_OUTBOUND_QUEUE)
        self._send = send
        with trio.CancelScope() as scope:
            self._cancel = scope
            async with host.run(listen_addrs=[listen]), background_trio_service(pubsub), background_trio_service(router):
                await pubsub.wait_until_ready()
                subs = [(t, await pubsub.subscribe(t)) for t in self.validators]
                self.listen_addrs = [str(a) for a in host.get_addrs()]
                self._token = trio.lowlevel.current_trio_token()
                async with trio.open_nursery() as n:
                    self._nursery = n
                    for topic, sub in subs:
                        n.start_soon(self._read_subscription, topic, sub)
                    n.start_soon(self._publisher, pubsub, recv)
                    n.start_soon(self._static_peers)
                    n.start_soon(self._maintenance)
                    if self.cfg.ping:
                        n.start_soon(self._pinger)
                    self._ready.set()
                    log.info("started p2p host: addrs=%s peerID=%s", self.listen_addrs, self.peer_id)

    # -------------------------------------------------------- validation and delivery

    def _make_validator(self, topic: str, fn: Validator) -> Callable[[ID, rpc_pb2.Message], bool]:
        def validate(forwarder: ID, msg: rpc_pb2.Message) -> bool:
            res = fn(msg.data)
            self.stats.outcomes[res.outcome.value] += 1
            mid = message_id(topic, msg.data)
            own = forwarder == self.peer_id
            src = "self" if own else str(forwarder)
            # go-libp2p-pubsub traces DELIVER_MESSAGE for a validated message, REJECT_MESSAGE
            # for a rejected or ignored one
            self.metrics.record_gossip_event("DELIVER_MESSAGE" if res.outcome is Outcome.ACCEPT else "REJECT_MESSAGE")
            if res.outcome is Outcome.ACCEPT:
                if res.payload is not None:
                    self._accepted[mid] = (res.payload, src)
                    while len(self._accepted) > MAX_VALIDATE_QUEUE:
                        self._accepted.popitem(last=False)
                log.debug("validated block: result=ACCEPT from=%s topic=%s", src, topic)
            else:
                log.warning("gossip block %s: %s (from %s, topic %s)", res.outcome.value, res.reason, src, topic)
                if res.outcome is Outcome.REJECT and not own and self.scores is not None:
                    self.scores.rejected_payload(str(forwarder))
            if own:
                self._results[mid] = res
            return res.outcome is Outcome.ACCEPT

        return validate

    async def _read_subscription(self, topic: str, sub: Any) -> None:
        while True:
            msg = await sub.get()
            mid = message_id(topic, msg.data)
            accepted = self._accepted.pop(mid, None)
            if mid in self._own:
                continue  # op-node NewFilterSelf: our own block
            if accepted is None:
                log.error("gossip message with no data on %s", topic)
                continue
            self.stats.delivered += 1
            try:
                self.deliver(Delivery(topic, accepted[1], accepted[0], self.clock(), mid))
            except Exception as e:  # the receiver's problem, not the host's
                self.stats.dropped_deliveries += 1
                log.error("failed to process gossip message: %s: %s", type(e).__name__, e)

    async def _publisher(self, pubsub: Pubsub,
                         recv: trio.MemoryReceiveChannel[tuple[str, bytes, concurrent.futures.Future[Validation]]]) -> None:  # fmt: skip
        async for topic, data, fut in recv:
            mid = message_id(topic, data)
            self._own[mid] = None
            while len(self._own) > MAX_OUTBOUND_QUEUE:
                self._own.popitem(last=False)
            msg = rpc_pb2.Message(data=data, topicIDs=[topic])
            self.metrics.record_gossip_event("PUBLISH_MESSAGE")
            try:
                await pubsub.push_msg(self.peer_id, msg)
            except Exception as e:
                if not fut.done():
                    fut.set_exception(P2PHostError(f"publish failed: {type(e).__name__}: {e}"))
                continue
            res = self._results.pop(mid, None) or Validation(Outcome.IGNORE, "duplicate of a message seen before")
            if res.outcome is Outcome.ACCEPT:
                self.stats.published += 1
            if not fut.done():
                fut.set_result(res)

    # -------------------------------------------------------- peers, bans, static peers

    async def _on_connected(self, conn: INetConn) -> None:
        pid = str(conn.muxed_conn.peer_id)
        ip = _ip_of(conn)
        direction = str(getattr(conn, "direction", "")).lower()
        if "inbound" in direction:  # the gater's InterceptAccept (the remote address only)
            self.metrics.record_accept(self.bans.ip_allowed(ip))
        allowed = self.bans.peer_allowed(pid) and self.bans.ip_allowed(ip)
        self.metrics.record_accept(allowed)  # InterceptSecured (both directions)
        if not allowed:
            self.stats.refused_connections += 1
            log.warning("refusing connection of banned peer %s (%s)", pid, ip)
            with contextlib.suppress(Exception):
                await conn.close()
            return
        info = self.peers.setdefault(pid, PeerInfo(pid))
        info.connected, info.connected_at = True, self.clock()
        info.direction = 1 if "inbound" in direction else 2 if "outbound" in direction else 0
        info.protected = pid in self.static_ids
        if self.scores is not None:
            self.scores.connected(pid, ip)
        log.info("connected to peer %s (%s)", pid, ip)

    def _on_disconnected(self, conn: INetConn) -> None:
        pid = str(conn.muxed_conn.peer_id)
        network = self.host.get_network() if self.host is not None else None
        if network is not None and network.get_connections(conn.muxed_conn.peer_id):
            return  # another connection to the peer remains
        info = self.peers.get(pid)
        if info is not None:
            info.connected = False
        if self.scores is not None:
            self.scores.disconnected(pid)
        log.info("disconnected from peer %s", pid)

    def _on_unban(self, kind: str) -> None:
        if kind == "peer":
            self.metrics.record_peer_unban()
        else:
            self.metrics.record_ip_unban()

    def _on_opened_stream(self, stream: INetStream) -> None:
        """op-node ``OpenedStream`` (stream count) and libp2p's bandwidth reporter: every
        stream's payload bytes read and written are counted."""
        if getattr(stream, "_pyop_open", False):
            return
        stream._pyop_open = True  # type: ignore[attr-defined]
        self.metrics.inc_stream_count()
        read, write, stats = stream.read, stream.write, self.stats

        async def counted_read(n: int | None = None) -> bytes:
            data = await read(n)
            stats.bytes_in += len(data)
            return data

        async def counted_write(data: bytes) -> None:
            await write(data)
            stats.bytes_out += len(data)

        stream.read = counted_read  # type: ignore[method-assign]
        stream.write = counted_write  # type: ignore[method-assign]

    def _on_closed_stream(self, stream: INetStream) -> None:
        if getattr(stream, "_pyop_open", False):  # py-libp2p may report a close twice
            stream._pyop_open = False  # type: ignore[attr-defined]
            self.metrics.dec_stream_count()

    def _report_scores(self) -> None:
        """op-node's peer score inspection: every tracked peer's score components."""
        if self.scores is not None:
            self.metrics.set_peer_scores([self.scores.to_json(p) for p in list(self.scores.peers)])

    def connected_peers(self) -> list[str]:
        if self.host is None:
            return []
        return [str(p) for p in self.host.get_network().get_connections_map()]

    async def _dial(self, addr: str, timeout: float) -> None:
        """Dial ``addr`` through the connection gater's dial checks (op-node
        ``InterceptPeerDial`` then ``InterceptAddrDial``: the peer, then the address's IP)."""
        ma = multiaddr.Multiaddr(addr)
        info = info_from_p2p_addr(ma)
        peer_ok = self.bans.peer_allowed(str(info.peer_id))
        self.metrics.record_dial(peer_ok)
        if not peer_ok:
            raise P2PHostError(f"peer {info.peer_id} is banned")
        ip = next((ma.value_for_protocol(p) for p in ("ip4", "ip6") if p in [x.name for x in ma.protocols()]), None)
        ip_ok = self.bans.ip_allowed(None if ip is None else str(ip))
        self.metrics.record_dial(ip_ok)
        if not ip_ok:
            raise P2PHostError(f"address {addr} is banned")
        with trio.fail_after(timeout):
            await self.host.connect(info)

    async def _static_peers(self) -> None:
        for addr in self.cfg.static_peers:
            info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
            if info.peer_id == self.peer_id:
                log.info("Static-peer list contains address of local peer, ignoring the address.")
                continue
            self.static_ids[str(info.peer_id)] = addr
            self.peers.setdefault(str(info.peer_id), PeerInfo(str(info.peer_id))).protected = True

        async def dial(addr: str) -> None:
            log.info("dialing static peer %s", addr)
            try:
                await self._dial(addr, STATIC_PEER_DIAL_TIMEOUT)
            except BaseException as e:
                if isinstance(e, trio.Cancelled):
                    raise
                log.warning("error dialing static peer %s: %s: %s", addr, type(e).__name__, e)

        async with trio.open_nursery() as n:
            for addr in self.static_ids.values():
                n.start_soon(dial, addr)
        while self.static_ids:
            await trio.sleep(STATIC_PEER_CHECK_INTERVAL)
            connected = set(self.connected_peers())
            async with trio.open_nursery() as n:
                for pid, addr in self.static_ids.items():
                    if pid not in connected:
                        log.warning("static peer disconnected, reconnecting: %s", pid)
                        n.start_soon(dial, addr)

    async def disconnect(self, pid: str) -> None:
        with contextlib.suppress(Exception):
            await self.host.disconnect(ID.from_base58(pid))

    async def _maintenance(self) -> None:
        """Score decay (every slot), the ban monitor (every second), connection trimming."""
        last_decay = last_trim = last_scores = last_bw = self.clock()
        decay_every = self.scores.params.decay_interval if self.scores is not None else 0.0
        while True:
            await trio.sleep(BAN_CHECK_INTERVAL)
            now = self.clock()
            if now - last_scores >= PEER_SCORE_INSPECT_INTERVAL:
                last_scores = now
                self._report_scores()
            if now - last_bw >= BANDWIDTH_INTERVAL:
                last_bw = now
                self.metrics.record_bandwidth(self.stats.bytes_in, self.stats.bytes_out)
            if self.scores is not None and now - last_decay >= decay_every:
                self.scores.decay()
                last_decay = now
            if self.monitor is not None:
                banned = self.monitor.check_next(self.connected_peers, lambda p: p in self.static_ids)
                if banned is not None:
                    self.stats.bans += 1
                    log.warning("banning peer %s (score %.1f below %.1f) for %.0fs", banned,
                                self.monitor.scores.score(banned), self.cfg.ban_threshold, self.cfg.ban_duration)  # fmt: skip
                    await self.disconnect(banned)
            if now - last_trim >= CONN_MANAGER_CHECK_INTERVAL:
                last_trim = now
                await self._trim()

    async def _trim(self) -> None:
        """libp2p ``BasicConnMgr``: above ``peers_hi``, close the unprotected peers past their
        grace period, lowest score first, down to ``peers_lo``."""
        connected = self.connected_peers()
        if len(connected) <= self.cfg.peers_hi:
            return
        now = self.clock()
        candidates = [p for p in connected if p not in self.static_ids
                      and now - self.peers.get(p, PeerInfo(p)).connected_at >= self.cfg.peers_grace]  # fmt: skip
        candidates.sort(key=lambda p: self.scores.score(p) if self.scores is not None else 0.0)
        for p in candidates[: len(connected) - self.cfg.peers_lo]:
            log.info("trimming connection to peer %s (above %d peers)", p, self.cfg.peers_hi)
            await self.disconnect(p)

    async def _pinger(self) -> None:
        from libp2p.host.ping import PingService

        svc = PingService(self.host)
        await trio.sleep(10.0)  # a first round once the static peers are connected
        while True:
            for pid in self.connected_peers():
                with contextlib.suppress(Exception), trio.move_on_after(10):
                    rtts = await svc.ping(ID.from_base58(pid), ping_amt=1)
                    if rtts and pid in self.peers:
                        self.peers[pid].latency_ns = int(rtts[0]) * 1_000_000
            await trio.sleep(PING_ROUND)

    # -------------------------------------------------------- state (host thread only)

    def topic_peers(self, topic: str) -> list[str]:
        if self.pubsub is None:
            return []
        return [str(p) for p in self.pubsub.peer_topics.get(topic, ())]

    def peer_snapshot(self, pid: str) -> PeerInfo:
        info = self.peers.get(pid) or PeerInfo(pid)
        if self.host is not None:
            store = self.host.get_peerstore()
            peer = ID.from_base58(pid)
            with contextlib.suppress(Exception):
                info.addresses = [f"{a}/p2p/{pid}" for a in store.addrs(peer)]
            with contextlib.suppress(Exception):
                info.protocols = [str(p) for p in store.get_protocols(peer)]
            with contextlib.suppress(Exception):
                info.public_key = store.pubkey(peer).to_bytes()
            info.connected = pid in self.connected_peers()
        return info

    def known_peers(self) -> list[str]:
        out = set(self.peers)
        if self.host is not None:
            with contextlib.suppress(Exception):
                out |= {str(p) for p in self.host.get_peerstore().peer_ids() if p != self.peer_id}
        out.discard(str(self.peer_id))
        return sorted(out)


def parse_static_peers(text: str | Sequence[str]) -> tuple[str, ...]:
    """``--p2p.static``: comma-separated multiaddrs with a ``/p2p/<peer id>`` each
    (:class:`P2PHostError` naming the bad one)."""
    items = [a.strip() for a in (text.split(",") if isinstance(text, str) else text)]
    items = [a for a in items if a]
    for i, a in enumerate(items):
        try:
            info_from_p2p_addr(multiaddr.Multiaddr(a))
        except Exception as e:
            raise P2PHostError(f"failed to parse multi addr of static peer {i} (out of {len(items)}): {a!r} err: {e}") from None
    return tuple(items)


__all__ = [
    "Delivery",
    "GossipHost",
    "HostConfig",
    "HostStats",
    "MessageIdCache",
    "OpGossipSub",
    "OpNodeScorer",
    "OpPubsub",
    "P2PHostError",
    "PeerInfo",
    "parse_static_peers",
]
