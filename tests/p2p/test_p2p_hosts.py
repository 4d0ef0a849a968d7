"""pyop's libp2p hosts talking to each other in one process (pyop/p2p/host.py on py-libp2p,
127.0.0.1, free ports): gossip delivery, op-node's StrictNoSign message model (which py-libp2p
0.8.1's router and message cache get wrong without pyop's patches), REJECT penalties, bans.

The blocks are op-node's own (``spec_vectors/p2p/go-v1.19.6-gossip.json``), validated with the
vectors' clock. Interop with the Go op-node is in test_p2p_devnet.py."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from libp2p.pubsub.mcache import MessageCache
from libp2p.pubsub.pb import rpc_pb2

from pyop.config.forks import Fork
from pyop.p2p.host import Delivery, GossipHost, HostConfig, MessageIdCache
from pyop.p2p.signing import sign_block
from pyop.p2p.ssz import BlockVersion, decode_block, encode_block
from pyop.p2p.topics import all_blocks_topics, blocks_topic, message_id, snappy_compress
from pyop.p2p.validation import BlockValidator, Outcome, StaticSigner
from pyop.primitives import from_hex
from tests.p2p.helpers import rollup_config
from tests.p2p.test_p2p_go_vectors import vectors

CHAIN = 901


def wait_until(pred: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def v4_messages() -> list[bytes]:
    """op-node's V4 gossip messages of the vectors (valid at the vectors' clock)."""
    return [bytes.fromhex(e["message"]) for e in vectors()["encodings"] if e["version"] == 3]


class Node:
    def __init__(self, *, static: tuple[str, ...] = (), ban: bool = True) -> None:
        d = vectors()
        cfg = rollup_config(chain_id=CHAIN, forks={f: 0 for f in Fork if f < Fork.JOVIAN})
        signer = StaticSigner(from_hex(d["sequencerAddress"]))
        now = float(d["now"])
        vals = {t: BlockValidator(cfg, v, signer, clock=lambda: now) for t, v in all_blocks_topics(CHAIN).items()}
        self.got: list[Delivery] = []
        self.host = GossipHost(HostConfig(chain_id=CHAIN, priv_key=os.urandom(32), listen_ip="127.0.0.1",
                                          listen_tcp=0, static_peers=static, ban_peers=ban, ping=False),
                               vals, self.got.append)  # fmt: skip
        self.host.start()

    @property
    def addr(self) -> str:
        return self.host.listen_addrs[0]

    def connected(self) -> list[str]:
        return list(self.host.call(self.host.connected_peers))

    def mesh_peers(self, topic: str) -> list[str]:
        def read() -> list[str]:
            r = self.host.router
            return [str(p) for p in (r.mesh.get(topic, ()) if r is not None else ())]

        return list(self.host.call(read))

    def publish(self, data: bytes, topic: str | None = None) -> Outcome:
        return self.host.publish(topic or blocks_topic(CHAIN, BlockVersion.V4), data).result(10).outcome


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    made: list[Node] = []
    yield made
    for n in made:
        n.host.stop()


def pair(nodes: list[Node], **kw: Any) -> tuple[Node, Node]:
    a = Node(**kw)
    nodes.append(a)
    b = Node(static=(a.addr,), **kw)
    nodes.append(b)
    topic = blocks_topic(CHAIN, BlockVersion.V4)
    wait_until(lambda: a.mesh_peers(topic) and b.mesh_peers(topic), 15, "a gossipsub mesh of the two hosts")
    return a, b


def test_blocks_flow_and_are_not_delivered_back(nodes: list[Node]) -> None:
    """Every published block arrives, decoded, in order; the publisher does not receive its own
    blocks (op-node ``NewFilterSelf``). py-libp2p 0.8.1 unpatched relays only the first
    message ever under StrictNoSign (its "equivocation" check keys on the empty from/seqno)."""
    a, b = pair(nodes)
    msgs = v4_messages()
    assert len(msgs) == 2
    for m in msgs:
        assert a.publish(m) is Outcome.ACCEPT
    wait_until(lambda: len(b.got) == len(msgs), 15, "both blocks at the receiver")
    d = vectors()
    want = [e for e in d["encodings"] if e["version"] == 3]
    assert [g.payload.block_hash.hex() for g in b.got] == [e["envelope"]["executionPayload"]["blockHash"][2:] for e in want]
    assert all(g.topic == blocks_topic(CHAIN, BlockVersion.V4) and g.peer == str(a.host.peer_id) for g in b.got)
    assert a.got == []
    # a block seen again (same message) is not delivered twice
    assert a.publish(msgs[0]) is Outcome.IGNORE
    time.sleep(1.0)
    assert len(b.got) == 2


def test_local_validation_refuses_a_bad_block(nodes: list[Node]) -> None:
    """op-node's ``Publish`` runs the local validator first: a block the configured signer did
    not sign is not sent."""
    a, b = pair(nodes)
    d = vectors()
    case = next(e for e in d["encodings"] if e["version"] == 3)
    ssz = bytes.fromhex(case["ssz"])
    forged = snappy_compress(sign_block(bytes.fromhex(d["otherKey"]), CHAIN, ssz) + ssz)
    assert a.publish(forged) is Outcome.REJECT
    time.sleep(1.0)
    assert b.got == [] and b.host.stats.outcomes["REJECT"] == 0


def test_bad_peer_is_scored_down_banned_and_refused(nodes: list[Node]) -> None:
    """A peer that sends blocks signed by the wrong key, for another chain, too new, or a zip
    bomb: each REJECT costs it 20 points; below -100 it is banned, disconnected, and cannot come
    back; none of its blocks is delivered."""
    victim = Node()
    nodes.append(victim)
    bad = Node(static=(victim.addr,), ban=False)
    nodes.append(bad)
    topic = blocks_topic(CHAIN, BlockVersion.V4)
    wait_until(lambda: bad.mesh_peers(topic), 15, "the bad peer in the victim's mesh")
    d = vectors()
    case = next(e for e in d["encodings"] if e["version"] == 3)
    p = decode_block(bytes.fromhex(case["ssz"]), BlockVersion.V4)
    seq_key, other_key = bytes.fromhex(d["sequencerKey"]), bytes.fromhex(d["otherKey"])
    import dataclasses

    from pyop.engine.payload_hash import payload_block_hash

    def signed(key: bytes, chain: int, **changes: Any) -> bytes:
        q = dataclasses.replace(p, **changes)
        q = dataclasses.replace(q, block_hash=payload_block_hash(q, q.parent_beacon_block_root))
        ssz = encode_block(q, BlockVersion.V4)
        return snappy_compress(sign_block(key, chain, ssz) + ssz)

    attacks = [
        signed(other_key, CHAIN, block_number=5000),  # bad signature
        signed(seq_key, 10, block_number=5001),  # signed for another chain id
        signed(seq_key, CHAIN, block_number=5002, timestamp=d["now"] + 60),  # future block
        b"\xff\xff\xff\xff\x0f" + b"\x00" * 8,  # claims a 4 GiB block (zip bomb)
        signed(other_key, CHAIN, block_number=5003),
        signed(other_key, CHAIN, block_number=5004),
    ]
    bad_id = str(bad.host.peer_id)
    # the bad peer's own validator would refuse these: push them straight to its peers
    for m in attacks:
        bad.host.call_async(lambda m=m: _raw_publish(bad.host, topic, m))
    wait_until(lambda: victim.host.stats.bans == 1, 20, "the victim to ban the bad peer")
    assert victim.host.stats.outcomes["REJECT"] == len(attacks)
    assert victim.got == []
    score = victim.host.call(lambda: victim.host.scores.score(bad_id))  # type: ignore[union-attr]
    assert score <= -120.0
    wait_until(lambda: bad_id not in victim.connected(), 10, "the bad peer disconnected")
    # it cannot come back while banned: the victim closes the connection at once (the gater)
    with contextlib.suppress(Exception):
        bad.host.call_async(lambda: bad.host.connect(victim.addr), timeout=10)
    wait_until(lambda: victim.host.stats.refused_connections >= 1, 10, "the reconnection refused")
    time.sleep(1.0)
    assert bad_id not in victim.connected()


async def _raw_publish(host: GossipHost, topic: str, data: bytes) -> None:
    """Send ``data`` to every peer without local validation (what a malicious peer does)."""
    if host.pubsub is None or host.router is None:
        raise AssertionError("host not running")
    rpc = rpc_pb2.RPC(publish=[rpc_pb2.Message(data=data, topicIDs=[topic])])
    for p in list(host.pubsub.peers):
        host.router.send_rpc(p, rpc)


def test_message_cache_keys_by_message_id() -> None:
    """IWANT answers come from the message cache: under StrictNoSign every message has an empty
    ``from``/``seqno``, so py-libp2p's cache (keyed by them) keeps only the first message; pyop's
    keys by op-node's message id."""
    topic = blocks_topic(CHAIN, BlockVersion.V4)
    m1, m2 = (rpc_pb2.Message(data=m, topicIDs=[topic]) for m in v4_messages())
    stock = MessageCache(3, 12)
    stock.put(m1)
    stock.put(m2)
    assert len(stock.msgs) == 1  # the library's behaviour this patch exists for
    ours = MessageIdCache(3, 12)
    ours.put(m1)
    ours.put(m2)
    assert ours.get(message_id(topic, m1.data)) == m1 and ours.get(message_id(topic, m2.data)) == m2
    assert set(ours.window(topic)) == {message_id(topic, m1.data), message_id(topic, m2.data)}


def test_large_block_is_gossiped(nodes: list[Node]) -> None:
    """A 3 MB block (incompressible tx data): op-node allows 10 MiB messages; py-libp2p's
    outbound queues drop RPCs over 1 MiB unless pyop raises the limit."""
    import dataclasses

    from pyop.engine.payload_hash import payload_block_hash

    a, b = pair(nodes)
    d = vectors()
    case = next(e for e in d["encodings"] if e["version"] == 3)
    p = decode_block(bytes.fromhex(case["ssz"]), BlockVersion.V4)
    p = dataclasses.replace(p, transactions=(*p.transactions, b"\x02" + os.urandom(3_000_000)))
    p = dataclasses.replace(p, block_hash=payload_block_hash(p, p.parent_beacon_block_root))
    ssz = encode_block(p, BlockVersion.V4)
    data = snappy_compress(sign_block(bytes.fromhex(d["sequencerKey"]), CHAIN, ssz) + ssz)
    assert len(data) > 3_000_000
    assert a.publish(data) is Outcome.ACCEPT
    wait_until(lambda: b.got, 20, "the large block at the receiver")
    assert b.got[0].payload == p
