"""P2P peering of the devnet's rollup nodes: the sequencer and the differential verifier gossip
unsafe blocks to each other over libp2p, as static peers (specs/protocol/rollup-node-p2p.md;
op-node ``--p2p.static``), whichever implementation each one is (Go op-node or ``pyop node``).

Each node's network key is written into its data directory (``p2p_priv.txt``, hex, op-node's
``--p2p.priv.path`` format) *before* the node starts, so its peer ID is known in advance: the
verifier is started with ``--p2p.static=/ip4/127.0.0.1/tcp/<sequencer p2p port>/p2p/<sequencer
peer id>`` and dials the sequencer (one direction is enough: gossipsub runs over the one
connection both ways). Discovery is off (``--p2p.no-discovery``, an empty bootnode list).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pyop.p2p.identity import load_network_key, peer_id

PRIV_FILE = "p2p_priv.txt"
HOST = "127.0.0.1"


def ensure_network_key(data_dir: Path) -> str:
    """Create ``data_dir/p2p_priv.txt`` if missing; return the node's libp2p peer ID."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return peer_id(load_network_key(path=str(data_dir / PRIV_FILE)))


def multiaddr(port: int, pid: str, host: str = HOST) -> str:
    return f"/ip4/{host}/tcp/{port}/p2p/{pid}"


def p2p_flags(data_dir: Path, port: int, *, static: Sequence[str] = ()) -> list[str]:
    """op-node's P2P flags for a devnet node listening on ``HOST:port`` with the key in
    ``data_dir`` and the given static peers."""
    flags = [
        "--p2p.no-discovery",
        f"--p2p.listen.ip={HOST}",
        f"--p2p.listen.tcp={port}",
        "--p2p.listen.udp=0",
        f"--p2p.priv.path={data_dir / PRIV_FILE}",
        f"--p2p.peerstore.path={data_dir / 'peerstore_db'}",
        "--p2p.discovery.path=memory",
        # An empty (but given) bootnode list: the default list names public hosts that
        # op-node resolves even with discovery off.
        "--p2p.bootnodes=,",
    ]
    if static:
        flags.append(f"--p2p.static={','.join(static)}")
    return flags


__all__ = ["PRIV_FILE", "ensure_network_key", "multiaddr", "p2p_flags"]
