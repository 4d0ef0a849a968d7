"""op-node v1.19.6's P2P metric families (``op-node/metrics/metrics.go``) fed by pyop's libp2p
host: two hosts in one process (127.0.0.1, free ports), each with its own
:class:`pyop.node.metrics.NodeMetrics`, checked against what the libraries and the test itself
see (connections, mesh membership, the messages it published, the bytes the other side read).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator

import pytest

import pyop.p2p.host as host_mod
from pyop.config.forks import Fork
from pyop.node.metrics import NodeMetrics
from pyop.p2p.host import GossipHost, HostConfig
from pyop.p2p.node import P2PConfig, P2PNode
from pyop.p2p.scoring import BanBook
from pyop.p2p.signing import sign_block
from pyop.p2p.ssz import BlockVersion
from pyop.p2p.topics import all_blocks_topics, blocks_topic, snappy_compress
from pyop.p2p.validation import BlockValidator, Outcome, StaticSigner
from pyop.primitives import ExecutionPayload, from_hex
from pyop.sources.interfaces import NotFound
from tests.p2p.helpers import rollup_config
from tests.p2p.test_p2p_go_vectors import vectors
from tests.p2p.test_p2p_hosts import CHAIN, v4_messages, wait_until
from tests.p2p.test_p2p_req_resp import _forks, _Pair, _vector

#: op-node SetPeerScores labels (metrics.go), written out from the Go source
GO_PEER_SCORE_TYPES = {"total", "ipColocation", "behavioralPenalty", "blocksFirstMessage", "blocksTimeInMesh",
                       "blocksMessageDeliveries", "blocksInvalidMessageDeliveries", "reqRespValidResponses",
                       "reqRespErrorResponses", "reqRespRejectedPayloads"}  # fmt: skip


def samples(m: NodeMetrics, family: str) -> dict[str, float]:
    """``{labels: value}`` of one family's sample lines (``_count`` etc. keep their suffix)."""
    out: dict[str, float] = {}
    for line in m.render().splitlines():
        mm = re.match(rf"^({re.escape(family)}\w*)(\{{.*\}})? (\S+)$", line)
        if mm:
            out[mm[1][len(family):] + (mm[2] or "")] = float(mm[3])
    return out


def value(m: NodeMetrics, family: str, labels: str = "") -> float:
    return samples(m, family).get(labels, 0.0)


class MeteredHost:
    def __init__(self, *, static: tuple[str, ...] = ()) -> None:
        d = vectors()
        cfg = rollup_config(chain_id=CHAIN, forks={f: 0 for f in Fork if f < Fork.JOVIAN})
        now = float(d["now"])
        signer = StaticSigner(from_hex(d["sequencerAddress"]))
        vals = {t: BlockValidator(cfg, v, signer, clock=lambda: now) for t, v in all_blocks_topics(CHAIN).items()}
        self.metrics = NodeMetrics()
        self.host = GossipHost(HostConfig(chain_id=CHAIN, priv_key=os.urandom(32), listen_ip="127.0.0.1",
                                          listen_tcp=0, static_peers=static, ping=False),
                               vals, lambda _d: None, metrics=self.metrics)  # fmt: skip
        self.host.start()

    def connections(self) -> int:
        return int(self.host.call(lambda: sum(len(c) for c in self.host.host.get_network().get_connections_map().values())))

    def mesh_size(self) -> int:
        r = self.host.router
        return int(self.host.call(lambda: sum(len(p) for p in r.mesh.values()) if r is not None else 0))


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MeteredHost, MeteredHost]]:
    monkeypatch.setattr(host_mod, "BANDWIDTH_INTERVAL", 1.0)
    monkeypatch.setattr(host_mod, "PEER_SCORE_INSPECT_INTERVAL", 1.0)
    a = MeteredHost()
    b = MeteredHost(static=(a.host.listen_addrs[0],))
    try:
        topic = blocks_topic(CHAIN, BlockVersion.V4)
        wait_until(lambda: a.host.call(lambda: a.host.topic_peers(topic)) and b.host.call(lambda: b.host.topic_peers(topic))
                   and a.mesh_size() and b.mesh_size(), 15, "a gossipsub mesh of the two hosts")  # fmt: skip
        yield a, b
    finally:
        for h in (a, b):
            h.host.stop()


def test_p2p_families_follow_the_hosts(pair: tuple[MeteredHost, MeteredHost]) -> None:
    """Peer and stream counts, gossip events by type, bandwidth by direction, peer scores,
    dials and accepts, as op-node records them (notifications.go, gossip.go tracer,
    RecordBandwidth, SetPeerScores, gating/metrics.go)."""
    a, b = pair
    ns = "op_node_default_"
    for h in (a, b):  # one connection each way (libp2p's own count)
        assert h.connections() == 1
        assert value(h.metrics, ns + "p2p_peer_count") == 1
        assert value(h.metrics, ns + "p2p_stream_count") >= 1
        # each host joined the four block topics; GRAFTs minus PRUNEs = peers in its mesh now
        ev = samples(h.metrics, ns + "p2p_gossip_events_total")
        assert ev['{type="JOIN"}'] == len(all_blocks_topics(CHAIN))
        assert ev['{type="GRAFT"}'] - ev.get('{type="PRUNE"}', 0) == h.mesh_size()
        assert ev['{type="SEND_RPC"}'] >= 1 and ev['{type="ON_NEW_OUTBOUND_STREAM"}'] == 1
    # b dialled a (its static peer): two dial checks (peer, address) and the secured check;
    # a accepted it: the accept check and the secured check
    assert samples(b.metrics, ns + "p2p_dials") == {'{allow="true"}': 2}
    assert samples(b.metrics, ns + "p2p_accepts") == {'{allow="true"}': 1}
    assert samples(a.metrics, ns + "p2p_accepts") == {'{allow="true"}': 2}
    assert samples(a.metrics, ns + "p2p_dials") == {}

    msgs = v4_messages()
    for m in msgs:
        assert a.host.publish(blocks_topic(CHAIN, BlockVersion.V4), m).result(10).outcome is Outcome.ACCEPT
    d = vectors()
    ssz = bytes.fromhex(next(e for e in d["encodings"] if e["version"] == 3)["ssz"])
    forged = snappy_compress(sign_block(bytes.fromhex(d["otherKey"]), CHAIN, ssz) + ssz)
    assert a.host.publish(blocks_topic(CHAIN, BlockVersion.V4), forged).result(10).outcome is Outcome.REJECT
    wait_until(lambda: value(b.metrics, ns + "p2p_gossip_events_total", '{type="DELIVER_MESSAGE"}') == len(msgs),
               15, "both blocks delivered at b")  # fmt: skip
    ea = samples(a.metrics, ns + "p2p_gossip_events_total")
    assert ea['{type="PUBLISH_MESSAGE"}'] == len(msgs) + 1
    assert ea['{type="DELIVER_MESSAGE"}'] == len(msgs) and ea['{type="REJECT_MESSAGE"}'] == 1
    assert value(b.metrics, ns + "p2p_gossip_events_total", '{type="REJECT_MESSAGE"}') == 0

    # bandwidth: what a wrote is what b read and the other way round, once the streams are quiet
    def quiet() -> bool:
        sa, sb = a.host.stats, b.host.stats
        return sa.bytes_out == sb.bytes_in and sb.bytes_out == sa.bytes_in

    wait_until(quiet, 15, "equal byte counts on both ends")
    assert a.host.stats.bytes_out > sum(len(m) for m in msgs)  # the blocks went out
    wait_until(lambda: value(a.metrics, ns + "p2p_bandwidth_bytes_total", '{direction="out"}') > sum(map(len, msgs)),
               5, "the bandwidth gauge's tick")  # fmt: skip
    assert set(samples(a.metrics, ns + "p2p_bandwidth_bytes_total")) == {'{direction="in"}', '{direction="out"}'}

    # peer scores: one observation per tracked peer and op-node component at each inspection
    wait_until(lambda: value(a.metrics, ns + "peer_scores", '_count{type="total"}') >= 1, 5, "a peer score inspection")
    sc = samples(a.metrics, ns + "peer_scores")
    assert {re.search(r'type="(\w+)"', k)[1] for k in sc if k.startswith("_count")} == GO_PEER_SCORE_TYPES  # type: ignore[index]
    n = sc['_count{type="total"}']
    assert sc['_bucket{type="total",le="0"}'] == n and sc['_bucket{type="total",le="-0.05"}'] == 0  # a score of 0

    a.host.call_async(lambda: a.host.disconnect(str(b.host.peer_id)))
    wait_until(lambda: a.connections() == 0, 15, "a closed its connection to b")
    wait_until(lambda: value(a.metrics, ns + "p2p_peer_count") == 0, 15, "a's peer count back to 0")
    wait_until(lambda: value(a.metrics, ns + "p2p_stream_count") == 0, 15, "a's streams closed")


def test_unbans_are_counted_when_a_ban_expires() -> None:
    """op-node ``ExpiryConnectionGater``: a ban found expired is lifted and counted."""
    now = [1000.0]
    m = NodeMetrics()
    kinds: list[str] = []
    bans = BanBook(lambda: now[0], on_unban=lambda k: (kinds.append(k), m.record_peer_unban() if k == "peer"
                                                          else m.record_ip_unban()))  # fmt: skip
    bans.ban_peer("p1", 1010.0)
    bans.ban_ip("10.0.0.1", 1020.0)
    assert not bans.peer_allowed("p1") and not bans.ip_allowed("10.0.0.1")
    now[0] = 1015.0
    assert bans.peer_allowed("p1") and bans.peer_allowed("p1") and not bans.ip_allowed("10.0.0.1")
    now[0] = 1021.0
    assert bans.ip_allowed("10.0.0.1")
    assert kinds == ["peer", "ip"]
    assert value(m, "op_node_default_p2p_peer_unbans") == 1 and value(m, "op_node_default_p2p_ip_unbans") == 1


def test_payload_by_number_requests_are_counted() -> None:
    """op-node ``ServerPayloadByNumberEvent``: ``p2p_req_total`` / ``p2p_req_duration_seconds``
    by role, method and result code, ``p2p_payload_by_number{p2p_role="server"}`` the last
    number asked for."""
    payload, _ssz = _vector(3)
    cfg = rollup_config(chain_id=vectors()["chainId"], forks=_forks(Fork.ISTHMUS))
    m = NodeMetrics()
    blocks: dict[int, ExecutionPayload] = {payload.block_number: payload}

    async def main() -> None:
        p = _Pair(cfg, blocks)

        async def fetch(n: int) -> ExecutionPayload:
            if n not in blocks:
                raise NotFound(f"block {n}")
            return blocks[n]

        p.server = P2PNode(cfg, P2PConfig(priv_key=os.urandom(32), listen_ip="127.0.0.1", listen_tcp=0, ping=False,
                                          no_discovery=True), p.signer, lambda _p, _: None,
                           payload_by_number=fetch, clock=lambda: p.now, metrics=m)  # fmt: skip
        await p.start()
        try:
            assert (await p.request(payload.block_number))[:1] == b"\x00"
            assert await p.request(payload.block_number + 1) == b"\x01"
        finally:
            p.stop()

    asyncio.run(main())
    ns = "op_node_default_p2p_"
    lbl = 'p2p_role="server",p2p_method="payload_by_number",result_code="{}"'
    assert samples(m, ns + "req_total") == {"{" + lbl.format(0) + "}": 1, "{" + lbl.format(1) + "}": 1}
    assert value(m, ns + "req_duration_seconds", "_count{" + lbl.format(0) + "}") == 1
    assert samples(m, ns + "payload_by_number") == {'{p2p_role="server"}': payload.block_number + 1}


def test_publishing_errors_and_unlabelled_families_exist_from_the_start() -> None:
    """The unlabelled P2P families are served from the start, as the Go client does (the
    differential devnet test compares the family names); a publishing error is an op-service
    Event (``_total`` and ``last_..._unix``)."""
    m = NodeMetrics()
    text = m.render()
    for fam in ("p2p_peer_count", "p2p_stream_count", "p2p_peer_unbans", "p2p_ip_unbans", "publishing_errors_total",
                "last_publishing_errors_unix", "channel_input_bytes"):  # fmt: skip
        assert re.search(rf"^op_node_default_{fam} 0$", text, re.M), fam
    m.record_publishing_error()
    assert value(m, "op_node_default_publishing_errors_total") == 1
    assert value(m, "op_node_default_last_publishing_errors_unix") > 1.7e9
