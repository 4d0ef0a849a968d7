"""A small malicious libp2p peer for the tests, built on pyop's own host (py-libp2p): it joins the
block topics, accepts everything it is sent, and pushes raw messages to its peers without
validating them (what an attacker's node does)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from libp2p.pubsub.pb import rpc_pb2

from pyop.engine.payload_hash import payload_block_hash
from pyop.p2p.host import GossipHost, HostConfig
from pyop.p2p.signing import sign_block
from pyop.p2p.ssz import BlockVersion, encode_block
from pyop.p2p.topics import MAX_GOSSIP_SIZE, all_blocks_topics, snappy_compress
from pyop.p2p.validation import Outcome, Validation
from pyop.primitives import ExecutionPayload


def _accept(data: bytes) -> Validation:
    return Validation(Outcome.ACCEPT, "the bad peer accepts everything")


class BadPeer:
    """See the module docstring. ``static``: the victim's multiaddr."""

    def __init__(self, chain_id: int, static: Sequence[str]) -> None:
        self.chain_id = chain_id
        self.host = GossipHost(HostConfig(chain_id=chain_id, priv_key=os.urandom(32), listen_ip="127.0.0.1",
                                          listen_tcp=0, static_peers=tuple(static), ban_peers=False, scoring=False,
                                          ping=False),
                               dict.fromkeys(all_blocks_topics(chain_id), _accept), lambda _d: None)  # fmt: skip

    def start(self) -> None:
        self.host.start()

    def stop(self) -> None:
        self.host.stop()

    @property
    def peer_id(self) -> str:
        return str(self.host.peer_id)

    def connected(self) -> list[str]:
        return list(self.host.call(self.host.connected_peers))

    def push(self, topic: str, data: bytes) -> None:
        """Send ``data`` on ``topic`` to every peer, unvalidated."""

        async def send() -> None:
            h = self.host
            if h.pubsub is None or h.router is None:
                return
            rpc = rpc_pb2.RPC(publish=[rpc_pb2.Message(data=data, topicIDs=[topic])])
            for p in list(h.pubsub.peers):
                h.router.send_rpc(p, rpc)

        self.host.call_async(send)


def signed_block(p: ExecutionPayload, key: bytes, chain_id: int, version: BlockVersion, *, fix_hash: bool = True,
                 **changes: object) -> tuple[bytes, bytes]:
    """``p`` with ``changes``, its block hash recomputed (unless ``fix_hash=False``: it keeps
    ``p``'s), signed by ``key`` for ``chain_id``: (the hash the block really has, which is what
    op-geth would know it by had it been inserted; snappy gossip data)."""
    q = dataclasses.replace(p, **changes)  # type: ignore[arg-type]
    real = payload_block_hash(q, q.parent_beacon_block_root)
    if fix_hash:
        q = dataclasses.replace(q, block_hash=real)
    ssz = encode_block(q, version)
    return real, snappy_compress(sign_block(key, chain_id, ssz) + ssz)


def oversize_message() -> bytes:
    """Valid snappy whose decompressed size is above op-node's 10 MiB limit (compressed: ~0.5 MB,
    under the RPC size limit, so it reaches the validator)."""
    return snappy_compress(b"\x00" * (MAX_GOSSIP_SIZE + 1))
