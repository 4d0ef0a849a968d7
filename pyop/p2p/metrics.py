"""What the P2P layer reports to the node's metrics (op-node v1.19.6 ``op-node/metrics/
metrics.go`` ``Metricer``, its P2P part), as a small interface: ``pyop/p2p`` sits below
``pyop/node`` and must not import its metrics; :class:`pyop.node.metrics.NodeMetrics`
implements :class:`P2PMetricer` and the node hands it to :class:`pyop.p2p.node.P2PNode`.

Where op-node calls each method, and where pyop does:

- ``IncPeerCount`` / ``DecPeerCount``: libp2p ``Connected`` / ``Disconnected`` notifications,
  once per *connection* (``p2p/notifications.go``); pyop: the host's network notifee;
- ``IncStreamCount`` / ``DecStreamCount``: ``OpenedStream`` / ``ClosedStream``; pyop: the same
  notifee (py-libp2p may report a stream closed twice: counted once);
- ``RecordGossipEvent(type)``: go-libp2p-pubsub's tracer, one event per ``pb.TraceEvent`` (see
  :data:`GOSSIP_EVENT_TYPES`); pyop: the router and pubsub overrides in :mod:`pyop.p2p.host`.
  **pyop difference:** ``RECV_RPC`` is never counted: py-libp2p's pubsub reads a peer's RPCs in
  one loop (``continuously_read_stream``) with no per-RPC hook to override;
  ``DUPLICATE_MESSAGE`` counts messages already seen, checked before py-libp2p's own check;
- ``RecordBandwidth``: every 10 s the totals of libp2p's ``BandwidthCounter`` (stream payload
  bytes read and written, go-libp2p ``swarm_stream.go``); pyop: bytes through every stream's
  ``read``/``write``, published on the same 10 s tick;
- ``SetPeerScores``: every 15 s (``peerScoreInspectFrequency``), one observation per tracked
  peer and score component (``p2p/peer_scorer.go``), only with peer scoring on;
- ``RecordDial(allow)`` / ``RecordAccept(allow)``: the connection gater (``gating/metrics.go``):
  a dial is checked for the peer and for the address, a connection once secured (both
  directions) and an inbound one also when accepted;
- ``RecordPeerUnban`` / ``RecordIPUnban``: a ban found expired (``gating/expiry.go``);
- ``ServerPayloadByNumberEvent(num, code, duration)``: each ``payload_by_number`` request served
  (``p2p/sync.go``);
- ``RecordPublishingError``: a sealed block the node failed to sign and publish
  (``rollup/async/asyncgossiper.go``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

#: go-libp2p-pubsub v0.17.0 ``pb.TraceEvent_Type_name`` (the ``type`` label of
#: ``p2p_gossip_events_total``)
GOSSIP_EVENT_TYPES = (
    "PUBLISH_MESSAGE", "REJECT_MESSAGE", "DUPLICATE_MESSAGE", "DELIVER_MESSAGE",
    "ON_NEW_OUTBOUND_STREAM", "ON_CLOSED_OUTBOUND_STREAM", "RECV_RPC", "SEND_RPC", "DROP_RPC",
    "JOIN", "LEAVE", "GRAFT", "PRUNE",
)  # fmt: skip

#: op-node ``SetPeerScores`` label -> :meth:`pyop.p2p.scoring.ScoreBook.to_json` path
PEER_SCORE_TYPES = (
    ("total", ("gossip", "total")),
    ("ipColocation", ("gossip", "IPColocationFactor")),
    ("behavioralPenalty", ("gossip", "behavioralPenalty")),
    ("blocksFirstMessage", ("gossip", "blocks", "firstMessageDeliveries")),
    ("blocksTimeInMesh", ("gossip", "blocks", "timeInMesh")),
    ("blocksMessageDeliveries", ("gossip", "blocks", "meshMessageDeliveries")),
    ("blocksInvalidMessageDeliveries", ("gossip", "blocks", "invalidMessageDeliveries")),
    ("reqRespValidResponses", ("reqResp", "validResponses")),
    ("reqRespErrorResponses", ("reqResp", "errorResponses")),
    ("reqRespRejectedPayloads", ("reqResp", "rejectedPayloads")),
)


class P2PMetricer(Protocol):
    """See the module docstring. Called from the host thread: implementations are thread-safe."""

    def inc_peer_count(self) -> None: ...

    def dec_peer_count(self) -> None: ...

    def inc_stream_count(self) -> None: ...

    def dec_stream_count(self) -> None: ...

    def record_gossip_event(self, event_type: str) -> None: ...

    def record_bandwidth(self, total_in: int, total_out: int) -> None: ...

    def set_peer_scores(self, scores: list[Mapping[str, object]]) -> None: ...

    def record_dial(self, allow: bool) -> None: ...

    def record_accept(self, allow: bool) -> None: ...

    def record_peer_unban(self) -> None: ...

    def record_ip_unban(self) -> None: ...

    def server_payload_by_number_event(self, num: int, result_code: int, seconds: float) -> None: ...

    def record_publishing_error(self) -> None: ...


class NoopP2PMetrics:
    """A :class:`P2PMetricer` that records nothing (op-node ``NoopMetrics``)."""

    def inc_peer_count(self) -> None:
        pass

    def dec_peer_count(self) -> None:
        pass

    def inc_stream_count(self) -> None:
        pass

    def dec_stream_count(self) -> None:
        pass

    def record_gossip_event(self, event_type: str) -> None:
        pass

    def record_bandwidth(self, total_in: int, total_out: int) -> None:
        pass

    def set_peer_scores(self, scores: list[Mapping[str, object]]) -> None:
        pass

    def record_dial(self, allow: bool) -> None:
        pass

    def record_accept(self, allow: bool) -> None:
        pass

    def record_peer_unban(self) -> None:
        pass

    def record_ip_unban(self) -> None:
        pass

    def server_payload_by_number_event(self, num: int, result_code: int, seconds: float) -> None:
        pass

    def record_publishing_error(self) -> None:
        pass


def score_component(score: Mapping[str, object], path: tuple[str, ...]) -> float:
    """The number at ``path`` of an op-node ``store.PeerScores`` JSON object (0 if absent)."""
    v: object = score
    for k in path:
        if not isinstance(v, Mapping):
            return 0.0
        v = v.get(k, 0.0)
    return float(v) if isinstance(v, (int, float)) else 0.0


__all__ = ["GOSSIP_EVENT_TYPES", "PEER_SCORE_TYPES", "NoopP2PMetrics", "P2PMetricer", "score_component"]
