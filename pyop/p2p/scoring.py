"""Peer scores and bans as op-node v1.19.6 configures them (``--p2p.scoring=light``, the
default; op-node ``op-node/p2p/peer_params.go`` ``LightPeerScoreParams``, ``app_params.go``
``LightApplicationScoreParams``, ``app_scores.go``, ``peer_scorer.go``, ``store/scorebook.go``,
``monitor/peer_monitor.go``, ``node.go`` ``BanPeer``; specs/protocol/rollup-node-p2p.md "Peer
management", "Topic validation").

A peer's score is gossipsub's peer score with op-node's "light" parameters, where ``slot`` is the
block time and ``epoch`` six slots:

- application score (weight 1): ``0.5 * validResponses - 1 * errorResponses - 20 *
  rejectedPayloads``, the counters capped at 10, 9 and 20 and decayed every slot so that they
  reach 1% after ten epochs (:func:`score_decay`);
- IP colocation: ``-35 * surplus^2`` for each peer of an IP with more than 10 peers;
- behaviour penalty: ``-16 * (penalty - 6)^2`` above 6, decayed to 1% in ten epochs (gossipsub
  adds 1 for a GRAFT during a prune backoff and for each broken IWANT promise);
- no topic score (op-node sets ``Topics: nil``), so the ``blocks`` topic counters stay zero.

**pyop difference (the spec over op-node):** the spec says a REJECTed message brings "score
penalties" ("Topic validation"); op-node v1.19.6 scores no topic and no longer calls its
application scorer (the req-resp sync client that did was removed), so a peer that sends only
invalid blocks keeps a score of 0 there and is never banned. pyop counts each REJECT from a peer
as a *rejected payload* of op-node's application score (cap 20, weight -20, the same decay):
six rejected blocks take a peer below the ban threshold (-100). IGNOREd messages cost nothing
("scored like inactivity").

Bans (``--p2p.ban.peers``, threshold ``--p2p.ban.threshold`` -100, ``--p2p.ban.duration`` 1h):
once a second one connected peer is checked in turn; a peer below the threshold that is not a
static peer is banned until now + duration and disconnected; a banned peer cannot reconnect
until the ban expires. Scores of disconnected peers are retained for 100 epochs.

Thresholds (``NewPeerScoreThresholds``): gossip -10, publish -40, graylist -40, accept PX 20,
opportunistic graft 0.05.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

DECAY_TO_ZERO = 0.01
GOSSIP_THRESHOLD = -10.0
PUBLISH_THRESHOLD = -40.0
GRAYLIST_THRESHOLD = -40.0
ACCEPT_PX_THRESHOLD = 20.0
OPPORTUNISTIC_GRAFT_THRESHOLD = 0.05
DEFAULT_BAN_THRESHOLD = -100.0
DEFAULT_BAN_DURATION = 3600.0
BAN_CHECK_INTERVAL = 1.0


def score_decay(duration: float, slot: float) -> float:
    """op-node ``ScoreDecay``: the per-slot factor that decays a value to 1% over ``duration``
    (Go divides the durations as integers)."""
    return float(DECAY_TO_ZERO ** (1 / int(duration // slot)))


@dataclass(frozen=True, slots=True)
class LightScoreParams:
    """op-node's "light" peer-score and application-score parameters for a block time."""

    decay_interval: float
    retain_score: float
    behaviour_penalty_weight: float
    behaviour_penalty_threshold: float
    behaviour_penalty_decay: float
    ip_colocation_factor_weight: float
    ip_colocation_factor_threshold: int
    valid_response_cap: float
    valid_response_weight: float
    valid_response_decay: float
    error_response_cap: float
    error_response_weight: float
    error_response_decay: float
    rejected_payload_cap: float
    rejected_payload_weight: float
    rejected_payload_decay: float

    @classmethod
    def for_block_time(cls, block_time: int) -> LightScoreParams:
        """``LightPeerScoreParams`` + ``LightApplicationScoreParams``."""
        slot = float(block_time or 2)
        epoch = 6 * slot
        ten = score_decay(10 * epoch, slot)
        return cls(
            decay_interval=slot, retain_score=100 * epoch,
            behaviour_penalty_weight=-16, behaviour_penalty_threshold=6, behaviour_penalty_decay=ten,
            ip_colocation_factor_weight=-35, ip_colocation_factor_threshold=10,
            valid_response_cap=10, valid_response_weight=0.5, valid_response_decay=ten,
            error_response_cap=9, error_response_weight=-1, error_response_decay=ten,
            rejected_payload_cap=20, rejected_payload_weight=-20, rejected_payload_decay=ten,
        )  # fmt: skip


@dataclass
class PeerRecord:
    """What the score book keeps per peer (op-node ``store.PeerScores`` plus inputs)."""

    behaviour_penalty: float = 0.0
    valid_responses: float = 0.0
    error_responses: float = 0.0
    rejected_payloads: float = 0.0
    ip: str | None = None
    connected: bool = False
    disconnected_at: float | None = None
    total: float = 0.0
    ip_colocation_factor: float = 0.0


def _decay(value: float, factor: float) -> float:
    value *= factor
    return 0.0 if value < DECAY_TO_ZERO else value


@dataclass
class ScoreBook:
    """Peer scores (see the module docstring). Not thread-safe: one owner (the host thread)."""

    params: LightScoreParams
    clock: Callable[[], float]
    peers: dict[str, PeerRecord] = field(default_factory=dict)

    def record(self, peer: str) -> PeerRecord:
        rec = self.peers.get(peer)
        if rec is None:
            rec = self.peers[peer] = PeerRecord()
        return rec

    # -------------------------------------------------------------- events

    def connected(self, peer: str, ip: str | None) -> None:
        rec = self.record(peer)
        rec.connected, rec.disconnected_at, rec.ip = True, None, ip
        self.refresh()

    def disconnected(self, peer: str) -> None:
        rec = self.peers.get(peer)
        if rec is not None:
            rec.connected, rec.disconnected_at = False, self.clock()
            self.refresh()

    def rejected_payload(self, peer: str) -> None:
        """A REJECTed gossip message from ``peer`` (``IncrementRejectedPayloads``)."""
        rec = self.record(peer)
        rec.rejected_payloads = min(rec.rejected_payloads + 1, self.params.rejected_payload_cap)
        self.refresh()

    def behaviour_penalty(self, peer: str, amount: float = 1.0) -> None:
        """gossipsub ``AddPenalty`` (GRAFT during backoff, broken promises)."""
        self.record(peer).behaviour_penalty += amount
        self.refresh()

    def decay(self) -> None:
        """One decay interval: decay every counter; forget peers disconnected longer than the
        retention time. op-node decays application scores of connected peers only."""
        p = self.params
        now = self.clock()
        for peer, rec in list(self.peers.items()):
            rec.behaviour_penalty = _decay(rec.behaviour_penalty, p.behaviour_penalty_decay)
            if rec.connected:
                rec.valid_responses = _decay(rec.valid_responses, p.valid_response_decay)
                rec.error_responses = _decay(rec.error_responses, p.error_response_decay)
                rec.rejected_payloads = _decay(rec.rejected_payloads, p.rejected_payload_decay)
            elif rec.disconnected_at is not None and now - rec.disconnected_at > p.retain_score:
                del self.peers[peer]
        self.refresh()

    # -------------------------------------------------------------- scores

    def application_score(self, rec: PeerRecord) -> float:
        p = self.params
        return (rec.valid_responses * p.valid_response_weight + rec.error_responses * p.error_response_weight
                + rec.rejected_payloads * p.rejected_payload_weight)  # fmt: skip

    def refresh(self) -> None:
        """Recompute every total (IP colocation depends on the other connected peers)."""
        p = self.params
        per_ip: dict[str, int] = {}
        for rec in self.peers.values():
            if rec.connected and rec.ip is not None:
                per_ip[rec.ip] = per_ip.get(rec.ip, 0) + 1
        for rec in self.peers.values():
            n = per_ip.get(rec.ip, 0) if rec.ip is not None and rec.connected else 0
            surplus = n - p.ip_colocation_factor_threshold
            rec.ip_colocation_factor = float(surplus * surplus) if surplus > 0 else 0.0
            excess = rec.behaviour_penalty - p.behaviour_penalty_threshold
            behaviour = excess * excess * p.behaviour_penalty_weight if excess > 0 else 0.0
            rec.total = (self.application_score(rec) + rec.ip_colocation_factor * p.ip_colocation_factor_weight
                         + behaviour)  # fmt: skip

    def score(self, peer: str) -> float:
        rec = self.peers.get(peer)
        return rec.total if rec is not None else 0.0

    def to_json(self, peer: str) -> dict[str, object]:
        """op-node ``store.PeerScores`` JSON (``scores`` of ``opp2p_peers``)."""
        rec = self.peers.get(peer) or PeerRecord()
        return {
            "gossip": {
                "total": rec.total,
                "blocks": {"timeInMesh": 0, "firstMessageDeliveries": 0, "meshMessageDeliveries": 0,
                           "invalidMessageDeliveries": 0},
                "IPColocationFactor": rec.ip_colocation_factor,
                "behavioralPenalty": rec.behaviour_penalty,
            },
            "reqResp": {"validResponses": rec.valid_responses, "errorResponses": rec.error_responses,
                        "rejectedPayloads": rec.rejected_payloads},
        }


@dataclass
class BanBook:
    """Peer and IP bans with expiry (op-node ``store.PeerBanStore`` / ``IPBanStore`` and the
    ``ExpiryConnectionGater``), plus the operator's permanent blocks (``opp2p_blockPeer``)."""

    clock: Callable[[], float]
    peer_expiry: dict[str, float] = field(default_factory=dict)
    ip_expiry: dict[str, float] = field(default_factory=dict)
    blocked_peers: set[str] = field(default_factory=set)
    blocked_ips: set[str] = field(default_factory=set)
    #: called with ``"peer"`` or ``"ip"`` when an expired ban is lifted (op-node
    #: ``ExpiryConnectionGater``: ``RecordPeerUnban`` / ``RecordIPUnban``)
    on_unban: Callable[[str], None] | None = None

    def ban_peer(self, peer: str, until: float) -> None:
        self.peer_expiry[peer] = until

    def ban_ip(self, ip: str, until: float) -> None:
        self.ip_expiry[ip] = until

    def peer_allowed(self, peer: str) -> bool:
        """``peerBanExpiryCheck`` (an expired ban is lifted) and the operator's blocks."""
        if peer in self.blocked_peers:
            return False
        until = self.peer_expiry.get(peer)
        if until is None:
            return True
        if self.clock() < until:
            return False
        del self.peer_expiry[peer]
        if self.on_unban is not None:
            self.on_unban("peer")
        return True

    def ip_allowed(self, ip: str | None) -> bool:
        if ip is None:
            return True
        if ip in self.blocked_ips:
            return False
        until = self.ip_expiry.get(ip)
        if until is None:
            return True
        if self.clock() < until:
            return False
        del self.ip_expiry[ip]
        if self.on_unban is not None:
            self.on_unban("ip")
        return True

    def banned_now(self) -> list[str]:
        now = self.clock()
        return sorted(p for p, t in self.peer_expiry.items() if t > now)


@dataclass
class BanMonitor:
    """op-node ``PeerMonitor``: every :data:`BAN_CHECK_INTERVAL` check the next connected peer;
    ban one below ``threshold`` that is not static for ``duration``. :meth:`check_next` returns
    the peer to ban (the caller disconnects it)."""

    scores: ScoreBook
    bans: BanBook
    threshold: float = DEFAULT_BAN_THRESHOLD
    duration: float = DEFAULT_BAN_DURATION
    _list: list[str] = field(default_factory=list)
    _next: int = 0

    def check_next(self, connected: Callable[[], Iterable[str]], is_static: Callable[[str], bool]) -> str | None:
        if self._next >= len(self._list):
            self._list, self._next = list(connected()), 0
        if not self._list:
            return None
        peer = self._list[self._next]
        self._next += 1
        if self.scores.score(peer) >= self.threshold or is_static(peer):
            return None
        self.bans.ban_peer(peer, self.scores.clock() + self.duration)
        return peer


__all__ = [
    "ACCEPT_PX_THRESHOLD",
    "BAN_CHECK_INTERVAL",
    "DEFAULT_BAN_DURATION",
    "DEFAULT_BAN_THRESHOLD",
    "GOSSIP_THRESHOLD",
    "GRAYLIST_THRESHOLD",
    "OPPORTUNISTIC_GRAFT_THRESHOLD",
    "PUBLISH_THRESHOLD",
    "BanBook",
    "BanMonitor",
    "LightScoreParams",
    "PeerRecord",
    "ScoreBook",
    "score_decay",
]
