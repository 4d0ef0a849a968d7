"""The ``opp2p_*`` JSON-RPC methods, with op-node's names and JSON shapes (op-node v1.19.6
``op-node/p2p/rpc_server.go`` ``APIBackend``; ``op-service/apis/p2p.go`` ``PeerInfo``,
``PeerDump``, ``PeerStats``; ``op-node/p2p/store/iface.go`` ``PeerScores``; op-node registers the
namespace whenever P2P is on, without ``--rpc.enable-admin``).

- ``opp2p_self``: our ``PeerInfo`` (``gossipBlocks`` true, ``latency`` 0, ``userAgent`` and
  ``protocolVersion`` empty, ``protocols`` null, as op-node answers);
- ``opp2p_peers(connected)``: ``{totalConnected, peers: {id: PeerInfo}, bannedPeers, bannedIPS,
  bannedSubnets}``; all known peers, or only the connected ones;
- ``opp2p_peerStats``: ``{connected, table, blocksTopic, blocksTopicV2..V4, banned, known}``;
- ``opp2p_discoveryTable``: ``discovery disabled`` (pyop has no discv5; op-node answers the same
  with ``--p2p.no-discovery``);
- the operator's controls: ``opp2p_blockPeer`` / ``unblockPeer`` / ``listBlockedPeers``,
  ``blockAddr`` / ``unblockAddr`` / ``listBlockedAddrs``, ``blockSubnet`` / ``unblockSubnet`` /
  ``listBlockedSubnets``, ``protectPeer`` / ``unprotectPeer``, ``connectPeer(multiaddr)``,
  ``disconnectPeer``.

``PeerInfo`` fields (JSON names as op-node): ``peerID``, ``nodeID`` (discv5 id of the peer's
secp256k1 key, hex without 0x), ``userAgent``, ``protocolVersion``, ``ENR`` (empty: no
discovery), ``addresses`` (multiaddrs with ``/p2p/<id>``), ``protocols``, ``connectedness``
(0 not connected, 1 connected), ``direction`` (0 unknown, 1 inbound, 2 outbound), ``protected``,
``chainID`` (0: only discovery learns it), ``latency`` (ns), ``gossipBlocks``, ``scores``.
py-libp2p does not keep the identify agent and protocol version of peers, so ``userAgent`` and
``protocolVersion`` of peers are empty.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from pyop.p2p.host import GossipHost
from pyop.p2p.identity import node_id, node_id_of_public_key
from pyop.p2p.node import P2PNode
from pyop.p2p.ssz import BlockVersion
from pyop.p2p.topics import blocks_topic
from pyop.primitives import PyopError

SERVER_ERROR = -32000
INVALID_PARAMS = -32602


class P2PRPCError(PyopError):
    """An ``opp2p_*`` error answer (``code``, ``message``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _peer_arg(params: list[Any]) -> str:
    if not params or not isinstance(params[0], str) or not params[0]:
        raise P2PRPCError(INVALID_PARAMS, "invalid argument 0: expected a peer ID string")
    try:
        from libp2p.peer.id import ID

        ID.from_base58(params[0])
    except Exception:
        raise P2PRPCError(SERVER_ERROR, "invalid request") from None
    return params[0]


def _ip_arg(params: list[Any]) -> str:
    if not params or not isinstance(params[0], str):
        raise P2PRPCError(INVALID_PARAMS, "invalid argument 0: expected an IP address string")
    try:
        return str(ipaddress.ip_address(params[0]))
    except ValueError:
        raise P2PRPCError(SERVER_ERROR, "invalid request") from None


def _subnet_arg(params: list[Any]) -> str:
    if not params or not isinstance(params[0], str):
        raise P2PRPCError(INVALID_PARAMS, "invalid argument 0: expected a CIDR subnet string")
    try:
        return str(ipaddress.ip_network(params[0], strict=False))
    except ValueError:
        raise P2PRPCError(SERVER_ERROR, "invalid request") from None


class P2PAPI:
    """The ``opp2p`` namespace over a running :class:`P2PNode`; :attr:`methods` maps method names
    to ``async fn(params)``."""

    def __init__(self, node: P2PNode) -> None:
        self.node = node
        self.blocked_subnets: set[str] = set()
        self.methods: dict[str, Callable[[list[Any]], Awaitable[object]]] = {
            "opp2p_self": self.self_,
            "opp2p_peers": self.peers,
            "opp2p_peerStats": self.peer_stats,
            "opp2p_discoveryTable": self.discovery_table,
            "opp2p_blockPeer": self.block_peer,
            "opp2p_unblockPeer": self.unblock_peer,
            "opp2p_listBlockedPeers": self.list_blocked_peers,
            "opp2p_blockAddr": self.block_addr,
            "opp2p_unblockAddr": self.unblock_addr,
            "opp2p_listBlockedAddrs": self.list_blocked_addrs,
            "opp2p_blockSubnet": self.block_subnet,
            "opp2p_unblockSubnet": self.unblock_subnet,
            "opp2p_listBlockedSubnets": self.list_blocked_subnets,
            "opp2p_protectPeer": self.protect_peer,
            "opp2p_unprotectPeer": self.unprotect_peer,
            "opp2p_connectPeer": self.connect_peer,
            "opp2p_disconnectPeer": self.disconnect_peer,
        }

    @property
    def host(self) -> GossipHost:
        return self.node.host

    # ------------------------------------------------------------------ reports

    def _peer_info(self, pid: str, topic_peers: set[str]) -> dict[str, object]:
        h = self.host
        info = h.peer_snapshot(pid)
        scores = h.scores.to_json(pid) if h.scores is not None else _zero_scores()
        return {
            "peerID": pid,
            "nodeID": node_id_of_public_key(info.public_key).hex() if info.public_key else "0" * 64,
            "userAgent": "",
            "protocolVersion": "",
            "ENR": "",
            "addresses": info.addresses or None,
            "protocols": info.protocols or None,
            "connectedness": 1 if info.connected else 0,
            "direction": info.direction if info.connected else 0,
            "protected": pid in h.static_ids or info.protected,
            "chainID": 0,
            "latency": info.latency_ns,
            "gossipBlocks": pid in topic_peers,
            "scores": scores,
        }

    def _topic_peers(self) -> set[str]:
        out: set[str] = set()
        for v in BlockVersion:
            out |= set(self.host.topic_peers(blocks_topic(self.node.cfg.l2_chain_id, v)))
        return out

    async def self_(self, params: list[Any]) -> object:
        h = self.host

        def read() -> dict[str, object]:
            pid = str(h.peer_id)
            return {
                "peerID": pid,
                "nodeID": node_id(self.node.p2p.priv_key).hex(),
                "userAgent": "",
                "protocolVersion": "",
                "ENR": "",
                "addresses": list(h.listen_addrs),
                "protocols": None,
                "connectedness": 0,
                "direction": 0,
                "protected": False,
                "chainID": 0,
                "latency": 0,
                "gossipBlocks": True,
                "scores": h.scores.to_json(pid) if h.scores is not None else _zero_scores(),
            }

        return await self.node.on_host(read)

    async def peers(self, params: list[Any]) -> object:
        if not params or not isinstance(params[0], bool):
            raise P2PRPCError(INVALID_PARAMS, "invalid argument 0: json: cannot unmarshal into Go value of type bool")
        connected_only = params[0]
        h = self.host

        def read() -> dict[str, object]:
            connected = set(h.connected_peers())
            ids = sorted(connected) if connected_only else h.known_peers()
            topic_peers = self._topic_peers()
            peers = {pid: self._peer_info(pid, topic_peers) for pid in ids}
            return {
                "totalConnected": sum(1 for p in peers.values() if p["connectedness"] == 1),
                "peers": peers,
                "bannedPeers": sorted(h.bans.blocked_peers),
                "bannedIPS": sorted(h.bans.blocked_ips),
                "bannedSubnets": sorted(self.blocked_subnets),
            }

        return await self.node.on_host(read)

    async def peer_stats(self, params: list[Any]) -> object:
        h = self.host
        chain = self.node.cfg.l2_chain_id

        def read() -> dict[str, object]:
            return {
                "connected": len(h.connected_peers()),
                "table": 0,
                "blocksTopic": len(h.topic_peers(blocks_topic(chain, BlockVersion.V1))),
                "blocksTopicV2": len(h.topic_peers(blocks_topic(chain, BlockVersion.V2))),
                "blocksTopicV3": len(h.topic_peers(blocks_topic(chain, BlockVersion.V3))),
                "blocksTopicV4": len(h.topic_peers(blocks_topic(chain, BlockVersion.V4))),
                "banned": len(h.bans.blocked_peers),
                "known": len(h.known_peers()) + 1,  # op-node counts its own peerstore entry
            }

        return await self.node.on_host(read)

    async def discovery_table(self, params: list[Any]) -> object:
        raise P2PRPCError(SERVER_ERROR, "discovery disabled")

    # ------------------------------------------------------------------ operator controls

    async def block_peer(self, params: list[Any]) -> object:
        pid = _peer_arg(params)
        h = self.host
        await self.node.on_host(lambda: h.bans.blocked_peers.add(pid))
        await self._disconnect(pid)
        return None

    async def unblock_peer(self, params: list[Any]) -> object:
        pid = _peer_arg(params)
        await self.node.on_host(lambda: self.host.bans.blocked_peers.discard(pid))
        return None

    async def list_blocked_peers(self, params: list[Any]) -> object:
        return await self.node.on_host(lambda: sorted(self.host.bans.blocked_peers))

    async def block_addr(self, params: list[Any]) -> object:
        ip = _ip_arg(params)
        await self.node.on_host(lambda: self.host.bans.blocked_ips.add(ip))
        return None

    async def unblock_addr(self, params: list[Any]) -> object:
        ip = _ip_arg(params)
        await self.node.on_host(lambda: self.host.bans.blocked_ips.discard(ip))
        return None

    async def list_blocked_addrs(self, params: list[Any]) -> object:
        return await self.node.on_host(lambda: sorted(self.host.bans.blocked_ips))

    async def block_subnet(self, params: list[Any]) -> object:
        self.blocked_subnets.add(_subnet_arg(params))
        return None

    async def unblock_subnet(self, params: list[Any]) -> object:
        self.blocked_subnets.discard(_subnet_arg(params))
        return None

    async def list_blocked_subnets(self, params: list[Any]) -> object:
        return sorted(self.blocked_subnets)

    async def protect_peer(self, params: list[Any]) -> object:
        pid = _peer_arg(params)

        def protect() -> None:
            self.host.peer_snapshot(pid)
            self.host.peers.setdefault(pid, self.host.peer_snapshot(pid)).protected = True

        await self.node.on_host(protect)
        return None

    async def unprotect_peer(self, params: list[Any]) -> object:
        pid = _peer_arg(params)

        def unprotect() -> None:
            info = self.host.peers.get(pid)
            if info is not None:
                info.protected = False

        await self.node.on_host(unprotect)
        return None

    async def connect_peer(self, params: list[Any]) -> object:
        if not params or not isinstance(params[0], str):
            raise P2PRPCError(INVALID_PARAMS, "invalid argument 0: expected a multiaddr string")
        try:
            await self.node.connect(params[0])
        except PyopError as e:
            raise P2PRPCError(SERVER_ERROR, str(e)) from None
        return None

    async def disconnect_peer(self, params: list[Any]) -> object:
        await self._disconnect(_peer_arg(params))
        return None

    async def _disconnect(self, pid: str) -> None:
        await self.node.disconnect(pid)


def _zero_scores() -> dict[str, object]:
    return {
        "gossip": {"total": 0, "blocks": {"timeInMesh": 0, "firstMessageDeliveries": 0, "meshMessageDeliveries": 0,
                                          "invalidMessageDeliveries": 0},
                   "IPColocationFactor": 0, "behavioralPenalty": 0},
        "reqResp": {"validResponses": 0, "errorResponses": 0, "rejectedPayloads": 0},
    }  # fmt: skip


__all__ = ["P2PAPI", "P2PRPCError"]
