"""``pyop node``'s ``--p2p.*`` flags -> :class:`pyop.p2p.node.P2PConfig` (op-node v1.19.6
``op-node/p2p/cli/load_config.go`` ``NewConfig``, ``load_signer.go`` ``LoadSignerSetup``,
``op-node/p2p/config.go`` ``Config.Check``), with op-node's error messages.

P2P is on unless ``--p2p.disable`` (op-node's default too): the node listens on
``--p2p.listen.ip:--p2p.listen.tcp`` (0.0.0.0:9222) with the network key of ``--p2p.priv.raw`` or
the ``--p2p.priv.path`` file (``opnode_p2p_priv.txt`` in the working directory, created if
missing). Peers come only from ``--p2p.static``: there is no maintained Python discv5
implementation to build on (ethereum/ddht and trinity's are archived), so discovery is always off
and the node says so at start-up when ``--p2p.no-discovery`` was not given.
"""

from __future__ import annotations

import ipaddress

from pyop.node.config import NodeConfig, NodeConfigError
from pyop.p2p.host import P2PHostError, parse_static_peers
from pyop.p2p.identity import NetworkKeyError, load_network_key
from pyop.p2p.node import P2PConfig
from pyop.p2p.signer import RemoteSignerConfig, parse_headers

MAX_MESH_PARAM = 1000
MUXERS = ("yamux", "mplex")


def validate_port(p: int, what: str) -> int:
    """op-node ``validatePort``."""
    if p == 0:
        return 0
    if p >= 1 << 16:
        raise NodeConfigError(f"bad {what}: port out of range: {p}")
    if p < 1024:
        raise NodeConfigError(f"bad {what}: port is reserved for system: {p}")
    return p


def sequencer_key(text: str) -> bytes | None:
    """``--p2p.sequencer.key``: hex (``0x`` optional) secp256k1 key, or ``None``."""
    if not text:
        return None
    t = text.removeprefix("0x")
    try:
        key = bytes.fromhex(t)
    except ValueError:
        raise NodeConfigError("failed to read sequencer p2p key: invalid hex character") from None
    if len(key) != 32:
        raise NodeConfigError(f"failed to read sequencer p2p key: invalid length, need 256 bits (got {len(key) * 8})")
    return key


def remote_signer(n: NodeConfig) -> RemoteSignerConfig | None:
    """``--signer.*`` (op-service signer ``CLIConfig.Check``: endpoint and address together)."""
    if bool(n.signer_endpoint) != bool(n.signer_address):
        raise NodeConfigError("signer endpoint and address must both be set or not set")
    if not n.signer_endpoint:
        return None
    return RemoteSignerConfig(endpoint=n.signer_endpoint, address=n.signer_address,
                              headers=parse_headers(n.signer_header), tls_enabled=n.signer_tls_enabled,
                              tls_ca=n.signer_tls_ca, tls_cert=n.signer_tls_cert, tls_key=n.signer_tls_key)  # fmt: skip


def p2p_config(n: NodeConfig) -> P2PConfig | None:
    """The P2P config of the flags, ``None`` with ``--p2p.disable``; reads (or creates) the
    network key file. :class:`NodeConfigError` names the bad flag."""
    key = sequencer_key(n.p2p_sequencer_key)  # op-node parses it with p2p off too
    remote = remote_signer(n)
    if key is not None and remote is not None:
        raise NodeConfigError("cannot specify both a private key and a remote signer for sequencer p2p")
    if n.p2p_disable:
        if n.p2p_static.strip(" ,"):
            raise NodeConfigError("both --p2p.static and --p2p.disable are specified")
        return None
    try:
        ip = str(ipaddress.ip_address(n.p2p_listen_ip))
    except ValueError:
        raise NodeConfigError(f"failed to load p2p listen options: failed to parse IP {n.p2p_listen_ip!r}") from None
    port = validate_port(n.p2p_listen_tcp, "listen TCP port")
    muxers = tuple(m.strip().lower() for m in n.p2p_mux.split(","))
    for m in muxers:
        if m not in MUXERS:
            raise NodeConfigError(f"failed to load p2p options: could not recognize mux {m}")
    security = [s.strip().lower() for s in n.p2p_security.split(",")]
    for s in security:
        if s != "noise":
            raise NodeConfigError(f"flag --p2p.security={n.p2p_security}: pyop supports noise only "
                                  "(op-node also has tls and none)")  # fmt: skip
    scoring = n.p2p_scoring or n.p2p_scoring_peers or n.p2p_scoring_topics
    if scoring not in ("light", "none", ""):
        raise NodeConfigError(f"failed to load p2p peer scoring options: unknown p2p scoring level: {scoring}")
    if n.p2p_peers_lo == 0 or n.p2p_peers_hi == 0 or n.p2p_peers_lo > n.p2p_peers_hi:
        raise NodeConfigError(f"peers lo/hi tides are invalid: {n.p2p_peers_lo}, {n.p2p_peers_hi}")
    for name, v in (("D", n.p2p_gossip_mesh_d), ("Dlo", n.p2p_gossip_mesh_lo), ("Dhi", n.p2p_gossip_mesh_dhi),
                    ("Dlazy", n.p2p_gossip_mesh_dlazy)):  # fmt: skip
        if v <= 0 or v > MAX_MESH_PARAM:
            raise NodeConfigError(f"mesh {name} param must not be 0 or exceed {MAX_MESH_PARAM}, but got {v}")
    try:
        static = parse_static_peers(n.p2p_static)
    except P2PHostError as e:
        raise NodeConfigError(f"failed to load p2p options: {e}") from None
    try:
        priv = load_network_key(n.p2p_priv_raw, n.p2p_priv_path)
    except NetworkKeyError as e:
        raise NodeConfigError(f"failed to load p2p priv key: {e}") from None
    return P2PConfig(
        priv_key=priv, listen_ip=ip, listen_tcp=port, static_peers=static, no_discovery=n.p2p_no_discovery,
        peers_lo=n.p2p_peers_lo, peers_hi=n.p2p_peers_hi, peers_grace=n.p2p_peers_grace,
        scoring=scoring or "none", ban_peers=n.p2p_ban_peers, ban_threshold=n.p2p_ban_threshold,
        ban_duration=n.p2p_ban_duration, muxers=muxers, user_agent=n.p2p_useragent or "optimism",
        mesh_d=n.p2p_gossip_mesh_d, mesh_dlo=n.p2p_gossip_mesh_lo, mesh_dhi=n.p2p_gossip_mesh_dhi,
        mesh_dlazy=n.p2p_gossip_mesh_dlazy, flood_publish=n.p2p_gossip_mesh_floodpublish,
        timestamp_threshold=int(n.p2p_gossip_timestamp_threshold), sync_req_resp=n.p2p_sync_req_resp,
        ping=n.p2p_ping, sequencer_key=key, remote_signer=remote, timeout_dial=n.p2p_timeout_dial,
        timeout_accept=n.p2p_timeout_accept, timeout_negotiation=n.p2p_timeout_negotiation,
    )  # fmt: skip


__all__ = ["p2p_config", "remote_signer", "sequencer_key", "validate_port"]
