"""``pyop node`` flags: op-node's flags, same names, same ``OP_NODE_*`` environment variables,
same precedence (flag > environment > default).

Flag names, environment variables and defaults follow op-node v1.19.6 ``op-node/flags/flags.go``,
``p2p_flags.go``, ``op-service/flags/flags.go`` (``--override.<fork>``), ``op-alt-da/cli.go``,
``op-service/log/cli.go``, ``op-service/metrics/cli.go`` and ``op-service/rpc/cli.go``
(:mod:`pyop.node.go_flags` lists all 138 op-node flags). Syntax is Go urfave/cli's:
``--flag=value``, ``--flag value``, ``-flag`` (one dash works too); a boolean flag alone means
true and takes a value only as ``--flag=true|false`` (Go ``strconv.ParseBool``); durations as Go
writes them (``500ms``, ``1s``, ``2m``, ``1h30m``).

What pyop does with each op-node flag, so that nothing is silently dropped:

- honoured: the flags of :data:`FLAGS` without ``effect`` set;
- accepted without effect (``effect="none"``): flags that only tune what pyop does not have
  (p2p, the engine kind, the L1 RPC kind, ...); the node names every one given in its start-up
  line ``accepted op-node flags without effect in pyop`` (:attr:`NodeConfig.ignored`);
- deprecated no-ops (``effect="deprecated"``): op-node's own deprecated flags that are no-ops in
  op-node too (:data:`pyop.node.go_flags.GO_DEPRECATED_NOOP_FLAGS`), accepted so old configs
  start, named in the same start-up line;
- refused: every other flag, on the command line (``flag --foo is not supported by pyop node``)
  **and** in the environment: an ``OP_NODE_*`` variable that sets no pyop flag is refused by
  name, with the op-node flag it belongs to (``environment variable OP_NODE_CONDUCTOR_ENABLED
  (op-node flag --conductor.enabled) is not supported by pyop node``). op-node itself ignores
  unknown variables; pyop refuses them because a Docker/Helm deployment configures op-node
  through them, and an ignored ``OP_NODE_OVERRIDE_*`` or ``OP_NODE_CONDUCTOR_ENABLED`` changes
  consensus or HA behaviour without a trace.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pyop.config import RollupConfig
from pyop.config.errors import RollupConfigError
from pyop.node.go_flags import GO_ENV_TO_FLAG, GO_OVERRIDABLE_FORKS
from pyop.primitives import PyopError

Kind = Literal["string", "int", "uint", "bool", "duration", "float"]
Effect = Literal["", "none", "deprecated"]
ENV_PREFIX = "OP_NODE_"


class NodeConfigError(PyopError):
    """A bad command line or environment for ``pyop node``."""


class HelpRequested(PyopError):
    """``--help`` / ``-h``: the message is the help text."""


@dataclass(frozen=True, slots=True)
class FlagSpec:
    """One flag: its name (without dashes), value kind, default, environment variables (without
    the ``OP_NODE_`` prefix) and usage line. ``effect``: ``""`` honoured, ``"none"`` accepted
    without effect in pyop, ``"deprecated"`` a deprecated no-op in op-node too."""

    name: str
    kind: Kind
    default: object
    envs: tuple[str, ...]
    usage: str
    effect: Effect = ""

    @property
    def dest(self) -> str:
        return self.name.replace(".", "_").replace("-", "_")

    @property
    def ignored(self) -> bool:
        return self.effect != ""


def _f(name: str, kind: Kind, default: object, env: str | tuple[str, ...], usage: str,
       *, effect: Effect = "") -> FlagSpec:  # fmt: skip
    envs = (env,) if isinstance(env, str) else env
    return FlagSpec(name, kind, default, envs, usage, effect)


#: ``--l1.rpckind`` values op-node accepts (op-service/sources ``RPCProviderKinds``).
L1_RPC_KINDS = ("alchemy", "quicknode", "infura", "parity", "nethermind", "debug_geth", "erigon",
                "basic", "any", "standard")  # fmt: skip
#: ``--log.format`` values (op-service/log ``FormatType``).
LOG_FORMATS = ("text", "terminal", "logfmt", "logfmtms", "json", "jsonms")
#: ``--syncmode`` values (op-node/rollup/sync ``ModeStrings``); pyop derives from L1 only.
SYNC_MODES = ("consensus-layer", "execution-layer")
OFFSET_EL_SAFE_DEFAULT = 12 * 3600.0
"""op-node v1.19.6 ``--syncmode.offset-el-safe`` default, 12h."""


def _override_flag(fork: str) -> FlagSpec:
    return _f(f"override.{fork}", "uint", None, f"OVERRIDE_{fork.upper()}",
              f"manually specify the {fork} fork timestamp, overriding the rollup config")  # fmt: skip


FLAGS: tuple[FlagSpec, ...] = (
    # --- L1 / L2 endpoints (op-node/flags/flags.go) -----------------------------------------
    _f("l1", "string", "http://127.0.0.1:8545", "L1_ETH_RPC", "L1 execution JSON-RPC endpoint"),
    _f("l1.beacon", "string", "", "L1_BEACON", "L1 beacon API (or anvil) for blobs"),
    _f("l1.beacon-header", "string", "", "L1_BEACON_HEADER",
       "HTTP header 'X-Key: Value' added to every request to --l1.beacon (not to the fallbacks)"),
    _f("l1.beacon-fallbacks", "string", "", ("L1_BEACON_FALLBACKS", "L1_BEACON_ARCHIVER"),
       "comma-separated beacon-API endpoints asked for blobs --l1.beacon does not serve, e.g. "
       "expired blobs from an archiver (alias --l1.beacon-archiver)"),
    _f("l1.beacon.slot-duration-override", "int", 0, "L1_BEACON_SLOT_DURATION_OVERRIDE",
       "beacon slot duration in seconds; when set, /eth/v1/config/spec is not asked"),
    _f("l1.beacon.ignore", "bool", False, "L1_BEACON_IGNORE",
       "start without a beacon endpoint (blobs cannot be read)"),
    _f("l1.rpckind", "string", "standard", "L1_RPC_KIND",
       "L1 RPC provider kind (pyop always uses standard methods with fallbacks)", effect="none"),
    _f("l1.trustrpc", "bool", False, "L1_TRUST_RPC",
       "trust the L1 RPC: skip block hash / tx / receipt root checks"),
    _f("l1.http-poll-interval", "duration", 12.0, "L1_HTTP_POLL_INTERVAL",
       "how often to poll the L1 head"),
    _f("l1.epoch-poll-interval", "duration", 384.0, "L1_EPOCH_POLL_INTERVAL",
       "how often to poll the L1 safe and finalized blocks"),
    _f("l1.rpc-rate-limit", "float", 0.0, "L1_RPC_RATE_LIMIT",
       "self-imposed global rate limit on L1 RPC requests, requests/second (0: none); a batch "
       "of N counts as N and may burst up to --l1.rpc-max-batch-size"),
    _f("l1.rpc-max-batch-size", "int", 20, "L1_RPC_MAX_BATCH_SIZE",
       "most L1 RPC requests bundled in one JSON-RPC batch (1-500)"),
    _f("l1.max-concurrency", "int", 10, "L1_MAX_CONCURRENCY",
       "most concurrent HTTP requests to the L1 RPC"),
    _f("l1.cache-size", "uint", 900, "L1_CACHE_SIZE",
       "L1 headers cached (0: 3/2 of the sequencing window); blocks with their transactions and "
       "receipts: a quarter of it, at least 16 (pyop keeps them as parsed JSON)"),
    _f("l2", "string", "", "L2_ENGINE_RPC", "L2 engine API endpoint (op-geth authrpc)"),
    _f("l2.engine-rpc-timeout", "duration", 10.0, "L2_ENGINE_RPC_TIMEOUT", "L2 engine client rpc timeout"),
    _f("l2.jwt-secret", "string", "", "L2_ENGINE_AUTH", "file with the engine API JWT secret (hex)"),
    _f("rollup.config", "string", "", "ROLLUP_CONFIG", "rollup.json"),
    _f("network", "string", "", "NETWORK", "network preset (see `pyop networks`)"),
    _f("rollup.l1-chain-config", "string", "", "ROLLUP_L1_CHAIN_CONFIG",
       "L1 chain config JSON (blob schedule) for L1s op-node does not know"),
    *(_override_flag(f) for f in GO_OVERRIDABLE_FORKS),
    _f("override.keep-karst-upgrade-gas", "bool", None, "OVERRIDE_KEEP_KARST_UPGRADE_GAS",
       "manually set keep_karst_upgrade_gas, overriding the rollup config"),
    _f("syncmode", "string", "consensus-layer", "SYNCMODE",
       "consensus-layer (derive from L1; pyop has no execution-layer sync)"),
    _f("syncmode.offset-el-safe", "duration", OFFSET_EL_SAFE_DEFAULT, "SYNCMODE_OFFSET_EL_SAFE",
       "on a recovery from an EL without finality, keep safe/finalized this far behind the tip"),
    # --- sequencer / verifier ---------------------------------------------------------------
    _f("sequencer.enabled", "bool", False, "SEQUENCER_ENABLED", "run as the sequencer"),
    _f("sequencer.stopped", "bool", False, "SEQUENCER_STOPPED",
       "start the sequencer stopped (admin_startSequencer starts it)"),
    _f("sequencer.l1-confs", "int", 4, "SEQUENCER_L1_CONFS",
       "L1 blocks to wait before adopting an L1 block as sequencer origin"),
    _f("sequencer.recover", "bool", False, "SEQUENCER_RECOVER",
       "recover mode: no tx-pool transactions, origins as auto-derivation picks them"),
    _f("sequencer.sealing-duration", "duration", 0.05, "SEQUENCER_SEALING_DURATION",
       "the sequencer fetches the payload this long before the block's timestamp (<= 0: 50ms)"),
    _f("sequencer.max-safe-lag", "uint", 0, "SEQUENCER_MAX_SAFE_LAG",
       "stop sequencing while the unsafe head is this many blocks ahead of safe (0: off)"),
    _f("verifier.l1-confs", "int", 0, "VERIFIER_L1_CONFS",
       "L1 blocks to wait before deriving from an L1 block"),
    # --- RPC / safe db ----------------------------------------------------------------------
    _f("rpc.addr", "string", "0.0.0.0", "RPC_ADDR", "rollup RPC listening address"),
    _f("rpc.port", "int", 9545, "RPC_PORT", "rollup RPC listening port (0: any free port)"),
    _f("rpc.enable-admin", "bool", False, "RPC_ENABLE_ADMIN", "enable the admin_* API"),
    _f("rpc.admin-state", "string", "", "RPC_ADMIN_STATE",
       "file that keeps the sequencer's started/stopped state set through the admin API across restarts"),
    _f("safedb.path", "string", "", "SAFEDB_PATH",
       "directory of the safe head database (enables optimism_safeHeadAtL1Block)"),
    # --- alt-DA (op-alt-da/cli.go) ----------------------------------------------------------
    _f("altda.enabled", "bool", False, "ALTDA_ENABLED", "enable alt-DA"),
    _f("altda.da-server", "string", "", "ALTDA_DA_SERVER", "alt-DA server URL"),
    _f("altda.da-service", "bool", False, "ALTDA_DA_SERVICE",
       "generic commitments from a DA service (only the batcher's side)", effect="none"),
    _f("altda.verify-on-read", "bool", True, "ALTDA_VERIFY_ON_READ",
       "check keccak commitments against the input read"),
    # --- logs / metrics (op-service/log, op-service/metrics) --------------------------------
    _f("log.level", "string", "info", "LOG_LEVEL", "trace, debug, info, warn, error, crit"),
    _f("log.format", "string", "text", "LOG_FORMAT",
       "text, terminal, logfmt, logfmtms, json, jsonms (text: terminal on a color terminal, "
       "else logfmt)"),
    _f("log.color", "bool", False, "LOG_COLOR", "color the terminal format (default: stdout is a tty)"),
    _f("log.pid", "bool", False, "LOG_PID", "add pid=<process id> to every log line"),
    _f("metrics.enabled", "bool", False, "METRICS_ENABLED", "serve Prometheus metrics"),
    _f("metrics.addr", "string", "0.0.0.0", "METRICS_ADDR", "metrics listening address"),
    _f("metrics.port", "int", 7300, "METRICS_PORT", "metrics listening port"),
    # --- accepted for compatibility (no effect in pyop) -------------------------------------
    _f("l2.enginekind", "string", "reth", "L2_ENGINE_KIND", "EL kind (only used for EL sync)",
       effect="none"),
    _f("l1.beacon.fetch-all-sidecars", "bool", False, "L1_BEACON_FETCH_ALL_SIDECARS",
       "no effect, as in op-node v1.19.6 (L1BeaconClientConfig.FetchAllSidecars is never read)",
       effect="none"),
    # --- p2p (op-node/flags/p2p_flags.go; pyop/p2p) ----------------------------------------
    _f("p2p.disable", "bool", False, "P2P_DISABLE", "completely disable the P2P stack"),
    _f("p2p.no-discovery", "bool", False, "P2P_NO_DISCOVERY",
       "disable discv5 (pyop has no discv5: it only dials --p2p.static peers either way)"),
    _f("p2p.listen.ip", "string", "0.0.0.0", "P2P_LISTEN_IP", "IP to bind libp2p to"),
    _f("p2p.listen.tcp", "uint", 9222, "P2P_LISTEN_TCP_PORT", "TCP port to bind libp2p to (0: any free port)"),
    _f("p2p.listen.udp", "uint", 0, "P2P_LISTEN_UDP_PORT", "UDP port of discv5 (no discv5 in pyop)",
       effect="none"),
    _f("p2p.priv.path", "string", "opnode_p2p_priv.txt", "P2P_PRIV_PATH",
       "file with the hex secp256k1 network key (created if missing)"),
    _f("p2p.priv.raw", "string", "", "P2P_PRIV_RAW", "the hex secp256k1 network key"),
    _f("p2p.static", "string", "", "P2P_STATIC",
       "comma-separated multiaddrs of static peers (dialled and kept connected, never pruned or banned)"),
    _f("p2p.bootnodes", "string", "", "P2P_BOOTNODES", "discv5 bootnodes (no discv5 in pyop)", effect="none"),
    _f("p2p.advertise.ip", "string", "", "P2P_ADVERTISE_IP", "IP in the ENR (no discv5 in pyop)", effect="none"),
    _f("p2p.advertise.tcp", "uint", 0, "P2P_ADVERTISE_TCP", "TCP port in the ENR (no discv5 in pyop)",
       effect="none"),
    _f("p2p.advertise.udp", "uint", 0, "P2P_ADVERTISE_UDP", "UDP port in the ENR (no discv5 in pyop)",
       effect="none"),
    _f("p2p.discovery.path", "string", "opnode_discovery_db", "P2P_DISCOVERY_PATH",
       "discv5 database (no discv5 in pyop)", effect="none"),
    _f("p2p.peerstore.path", "string", "opnode_peerstore_db", "P2P_PEERSTORE_PATH",
       "peerstore database (pyop keeps peers and bans in memory)", effect="none"),
    _f("p2p.netrestrict", "string", "", "P2P_NETRESTRICT", "CIDRs discv5 may dial (no discv5 in pyop)",
       effect="none"),
    _f("p2p.nat", "bool", False, "P2P_NAT", "NAT traversal with PMP/UPNP (not in pyop)", effect="none"),
    _f("p2p.peers.lo", "uint", 20, "P2P_PEERS_LO", "low-tide peer count: trim down to this many"),
    _f("p2p.peers.hi", "uint", 30, "P2P_PEERS_HI", "high-tide peer count: trim when above"),
    _f("p2p.peers.grace", "duration", 30.0, "P2P_PEERS_GRACE", "new peers are not trimmed for this long"),
    _f("p2p.scoring", "string", "light", "P2P_PEER_SCORING", "peer scoring: light or none"),
    _f("p2p.scoring.peers", "string", "", (), "deprecated alias of --p2p.scoring"),
    _f("p2p.scoring.topics", "string", "", (), "deprecated alias of --p2p.scoring"),
    _f("p2p.ban.peers", "bool", True, "P2P_PEER_BANNING", "ban peers whose score falls below the threshold"),
    _f("p2p.ban.threshold", "float", -100.0, "P2P_PEER_BANNING_THRESHOLD", "ban below this score"),
    _f("p2p.ban.duration", "duration", 3600.0, "P2P_PEER_BANNING_DURATION", "how long a ban lasts"),
    _f("p2p.mux", "string", "yamux,mplex", "P2P_MUX", "stream multiplexers in order of preference"),
    _f("p2p.security", "string", "noise", "P2P_SECURITY", "transport security (pyop: noise only)"),
    _f("p2p.useragent", "string", "optimism", "P2P_AGENT", "user agent sent with libp2p identify"),
    _f("p2p.timeout.negotiation", "duration", 10.0, "P2P_TIMEOUT_NEGOTIATION",
       "security/muxer and stream protocol negotiation timeout"),
    _f("p2p.timeout.accept", "duration", 10.0, "P2P_TIMEOUT_ACCEPT", "timeout to upgrade an inbound connection"),
    _f("p2p.timeout.dial", "duration", 10.0, "P2P_TIMEOUT_DIAL", "dial timeout of outgoing connections"),
    _f("p2p.gossip.mesh.d", "uint", 8, "P2P_GOSSIP_MESH_D", "gossipsub D"),
    _f("p2p.gossip.mesh.lo", "uint", 6, "P2P_GOSSIP_MESH_DLO", "gossipsub Dlo"),
    _f("p2p.gossip.mesh.dhi", "uint", 12, "P2P_GOSSIP_MESH_DHI", "gossipsub Dhi"),
    _f("p2p.gossip.mesh.dlazy", "uint", 6, "P2P_GOSSIP_MESH_DLAZY", "gossipsub Dlazy"),
    _f("p2p.gossip.mesh.floodpublish", "bool", False, "P2P_GOSSIP_FLOOD_PUBLISH",
       "publish our blocks to every topic peer, not only the mesh"),
    _f("p2p.gossip.timestamp.threshold", "duration", 60.0, "P2P_GOSSIP_TIMESTAMP_THRESHOLD",
       "reject gossiped blocks older than this"),
    _f("p2p.sync.req-resp", "bool", True, "P2P_SYNC_REQ_RESP", "serve payload_by_number to peers"),
    _f("p2p.ping", "bool", True, "P2P_PING", "ping peers every 3 minutes (latency in opp2p_peers)"),
    _f("p2p.sequencer.key", "string", "", "P2P_SEQUENCER_KEY",
       "hex key that signs the blocks the sequencer gossips"),
    _f("signer.endpoint", "string", "", "SIGNER_ENDPOINT", "op-signer endpoint that signs gossiped blocks"),
    _f("signer.address", "string", "", "SIGNER_ADDRESS", "the address the op-signer signs for"),
    _f("signer.header", "string", "", "SIGNER_HEADER",
       "HTTP headers for the op-signer, key=value (comma-separated for several)"),
    _f("signer.tls.enabled", "bool", True, "SIGNER_TLS_ENABLED", "TLS client authentication to the op-signer"),
    _f("signer.tls.ca", "string", "tls/ca.crt", "SIGNER_TLS_CA", "CA certificate of the op-signer"),
    _f("signer.tls.cert", "string", "tls/tls.crt", "SIGNER_TLS_CERT", "client certificate for the op-signer"),
    _f("signer.tls.key", "string", "tls/tls.key", "SIGNER_TLS_KEY", "client key for the op-signer"),
    _f("l1.runtime-config-reload-interval", "duration", 600.0, "L1_RUNTIME_CONFIG_RELOAD_INTERVAL",
       "reload the unsafe block signer from the L1 SystemConfig this often (0: never)"),
    # --- op-node's deprecated no-op flags (no-ops there too) --------------------------------
    _f("snapshotlog.file", "string", "", "SNAPSHOT_LOG", "deprecated no-op", effect="deprecated"),
    _f("heartbeat.enabled", "bool", False, "HEARTBEAT_ENABLED", "deprecated no-op",
       effect="deprecated"),
    _f("heartbeat.moniker", "string", "", "HEARTBEAT_MONIKER", "deprecated no-op",
       effect="deprecated"),
    _f("heartbeat.url", "string", "", "HEARTBEAT_URL", "deprecated no-op", effect="deprecated"),
    _f("beta.extra-networks", "bool", False, "BETA_EXTRA_NETWORKS", "deprecated no-op",
       effect="deprecated"),
    _f("syncmode.req-resp", "bool", False, "SYNCMODE_REQ_RESP", "deprecated no-op",
       effect="deprecated"),
    _f("p2p.sync.onlyreqtostatic", "bool", False, "P2P_SYNC_ONLYREQTOSTATIC", "deprecated no-op",
       effect="deprecated"),
    _f("p2p.score.bands", "string", "", (), "deprecated no-op", effect="deprecated"),
)
IGNORED_FLAGS = frozenset(f.name for f in FLAGS if f.ignored)
DEPRECATED_FLAGS = frozenset(f.name for f in FLAGS if f.effect == "deprecated")
_BY_NAME = {f.name: f for f in FLAGS}
#: op-node flag aliases (urfave/cli ``Aliases``)
FLAG_ALIASES = {"l1.beacon-archiver": "l1.beacon-fallbacks"}
_BY_NAME.update({alias: _BY_NAME[name] for alias, name in FLAG_ALIASES.items()})
_OVERRIDE_PREFIX = "override."
#: every ``OP_NODE_*`` variable pyop reads
PYOP_ENV_VARS = frozenset(ENV_PREFIX + e for f in FLAGS for e in f.envs)

LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "crit")


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """The parsed ``pyop node`` configuration (attribute = flag name with ``.``/``-`` -> ``_``)."""

    l1: str = "http://127.0.0.1:8545"
    l1_beacon: str = ""
    l1_beacon_ignore: bool = False
    l1_beacon_header: str = ""
    l1_beacon_fallbacks: str = ""
    l1_beacon_slot_duration_override: int = 0
    l1_rpckind: str = "standard"
    l1_trustrpc: bool = False
    l1_http_poll_interval: float = 12.0
    l1_epoch_poll_interval: float = 384.0
    l1_rpc_rate_limit: float = 0.0
    l1_rpc_max_batch_size: int = 20
    l1_max_concurrency: int = 10
    l1_cache_size: int = 900
    l2: str = ""
    l2_jwt_secret: str = ""
    l2_engine_rpc_timeout: float = 10.0
    rollup_config: str = ""
    network: str = ""
    rollup_l1_chain_config: str = ""
    syncmode: str = "consensus-layer"
    syncmode_offset_el_safe: float = OFFSET_EL_SAFE_DEFAULT
    sequencer_enabled: bool = False
    sequencer_stopped: bool = False
    sequencer_l1_confs: int = 4
    sequencer_recover: bool = False
    sequencer_max_safe_lag: int = 0
    sequencer_sealing_duration: float = 0.05
    verifier_l1_confs: int = 0
    p2p_disable: bool = False
    p2p_no_discovery: bool = False
    p2p_listen_ip: str = "0.0.0.0"
    p2p_listen_tcp: int = 9222
    p2p_priv_path: str = "opnode_p2p_priv.txt"
    p2p_priv_raw: str = ""
    p2p_static: str = ""
    p2p_peers_lo: int = 20
    p2p_peers_hi: int = 30
    p2p_peers_grace: float = 30.0
    p2p_scoring: str = "light"
    p2p_scoring_peers: str = ""
    p2p_scoring_topics: str = ""
    p2p_ban_peers: bool = True
    p2p_ban_threshold: float = -100.0
    p2p_ban_duration: float = 3600.0
    p2p_mux: str = "yamux,mplex"
    p2p_security: str = "noise"
    p2p_useragent: str = "optimism"
    p2p_gossip_mesh_d: int = 8
    p2p_gossip_mesh_lo: int = 6
    p2p_gossip_mesh_dhi: int = 12
    p2p_gossip_mesh_dlazy: int = 6
    p2p_gossip_mesh_floodpublish: bool = False
    p2p_gossip_timestamp_threshold: float = 60.0
    p2p_sync_req_resp: bool = True
    p2p_ping: bool = True
    p2p_sequencer_key: str = ""
    signer_endpoint: str = ""
    signer_address: str = ""
    signer_header: str = ""
    signer_tls_enabled: bool = True
    signer_tls_ca: str = "tls/ca.crt"
    signer_tls_cert: str = "tls/tls.crt"
    signer_tls_key: str = "tls/tls.key"
    p2p_timeout_negotiation: float = 10.0
    p2p_timeout_accept: float = 10.0
    p2p_timeout_dial: float = 10.0
    l1_runtime_config_reload_interval: float = 600.0
    rpc_addr: str = "0.0.0.0"
    rpc_port: int = 9545
    rpc_enable_admin: bool = False
    rpc_admin_state: str = ""
    safedb_path: str = ""
    altda_enabled: bool = False
    altda_da_server: str = ""
    altda_da_service: bool = False
    altda_verify_on_read: bool = True
    log_level: str = "info"
    log_format: str = "text"
    log_color: bool | None = None
    log_pid: bool = False
    metrics_enabled: bool = False
    metrics_addr: str = "0.0.0.0"
    metrics_port: int = 7300
    #: ``--override.<fork>`` values given: fork name (op-node's, e.g. ``pectrablobschedule``)
    #: -> activation timestamp
    overrides: Mapping[str, int] = field(default_factory=dict)
    #: ``--override.keep-karst-upgrade-gas`` if given
    override_keep_karst_upgrade_gas: bool | None = None
    #: accepted-but-ignored flags that were given (flag or environment)
    ignored: tuple[str, ...] = ()
    #: deprecated no-op flags that were given (a subset of ``ignored``)
    deprecated: tuple[str, ...] = ()
    #: where each value came from: ``flag``, ``env`` (default otherwise)
    sources: Mapping[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """op-node's required-flag checks (``op-node/flags`` ``CheckRequired`` + service
        config checks) and the value checks of op-node's flag types."""
        if not self.l2:
            raise NodeConfigError("flag --l2 is required (the L2 engine API endpoint)")
        if not self.l2_jwt_secret:
            raise NodeConfigError("flag --l2.jwt-secret is required (the engine JWT secret file)")
        if not self.rollup_config and not self.network:
            raise NodeConfigError("give --rollup.config FILE or --network NAME")
        if self.log_level.lower() not in LOG_LEVELS:
            raise NodeConfigError(f"flag --log.level: unknown level {self.log_level!r} "
                                  f"(one of {', '.join(LOG_LEVELS)})")  # fmt: skip
        if self.log_format not in LOG_FORMATS:
            raise NodeConfigError(f"flag --log.format: unrecognized log-format {self.log_format!r} "
                                  f"(one of {', '.join(LOG_FORMATS)})")  # fmt: skip
        if self.l1_rpckind not in L1_RPC_KINDS:
            raise NodeConfigError(f"flag --l1.rpckind: unknown RPC kind {self.l1_rpckind!r} "
                                  f"(one of {', '.join(L1_RPC_KINDS)})")  # fmt: skip
        if self.syncmode.lower() not in SYNC_MODES:
            raise NodeConfigError(f"flag --syncmode: unknown sync mode: {self.syncmode}")
        if self.syncmode.lower() != "consensus-layer":
            raise NodeConfigError("flag --syncmode=execution-layer is not supported by pyop node "
                                  "(it derives every block from L1: --syncmode=consensus-layer)")  # fmt: skip
        for name, url in (("l1", self.l1), ("l2", self.l2)):
            if not url.lower().startswith(("http://", "https://")):
                raise NodeConfigError(f"flag --{name} {url!r}: pyop node speaks JSON-RPC over http(s) only "
                                      "(op-node also takes ws:// and wss://)")  # fmt: skip
        if self.l1_beacon_header:
            beacon_header(self.l1_beacon_header)
        for url in self.beacon_fallbacks():
            if not url.lower().startswith(("http://", "https://")):
                raise NodeConfigError(f"flag --l1.beacon-fallbacks: {url!r} is not an http(s) URL")
        if self.l1_beacon_slot_duration_override < 0:
            raise NodeConfigError("flag --l1.beacon.slot-duration-override must not be negative")
        if self.altda_enabled and not self.altda_da_server:
            raise NodeConfigError("--altda.enabled needs --altda.da-server")
        for name in ("sequencer_l1_confs", "verifier_l1_confs", "rpc_port", "metrics_port"):
            if getattr(self, name) < 0:
                raise NodeConfigError(f"flag --{name.replace('_', '.', 1)} must not be negative")
        # op-node config.L1EndpointConfig.Check, its messages
        if not 1 <= self.l1_rpc_max_batch_size <= 500:
            raise NodeConfigError(f"batch size is invalid or unreasonable: {self.l1_rpc_max_batch_size}")
        if self.l1_rpc_rate_limit < 0:
            raise NodeConfigError(f"rate limit cannot be negative: {self.l1_rpc_rate_limit:f}")
        if self.l1_max_concurrency < 1:
            raise NodeConfigError(f"max concurrent requests cannot be less than 1, was {self.l1_max_concurrency}")
        if self.l1_cache_size > 1_000_000:
            raise NodeConfigError(f"cache size is dangerously large: {self.l1_cache_size}")
        if self.syncmode_offset_el_safe < 0:
            raise NodeConfigError("flag --syncmode.offset-el-safe must be >= 0")
        for what, v in (("l2.engine-rpc-timeout", self.l2_engine_rpc_timeout),
                        ("l1.http-poll-interval", self.l1_http_poll_interval),
                        ("l1.epoch-poll-interval", self.l1_epoch_poll_interval)):  # fmt: skip
            if v <= 0:
                raise NodeConfigError(f"flag --{what} must be positive")


    def l1_headers_cache_size(self, seq_window_size: int) -> int:
        """``--l1.cache-size``, 0: 3/2 of the sequencing window (op-node ``initL1Source``)."""
        return self.l1_cache_size if self.l1_cache_size > 0 else seq_window_size * 3 // 2

    def sealing_duration(self) -> float:
        """``--sequencer.sealing-duration``; op-node: "If this is <= 0 it is automatically
        adjusted to 50ms"."""
        return self.sequencer_sealing_duration if self.sequencer_sealing_duration > 0 else 0.05

    def beacon_fallbacks(self) -> list[str]:
        """``--l1.beacon-fallbacks`` as a list (urfave/cli ``StringSliceFlag``: comma-separated)."""
        return [u.strip() for u in self.l1_beacon_fallbacks.split(",") if u.strip()]


def beacon_header(text: str) -> dict[str, str]:
    """op-node ``parseHTTPHeader`` (op-node/config/beacon.go): ``Key: Value``, split at the first
    ``": "``."""
    key, sep, value = text.partition(": ")
    if not sep:
        raise NodeConfigError(f"flag --l1.beacon-header {text!r}: parsing beacon header: invalid header format "
                              "(want 'X-Key: Value')")  # fmt: skip
    return {key: value}


_BOOL_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_BOOL_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_DUR = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DUR_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_bool(text: str, what: str) -> bool:
    """Go ``strconv.ParseBool``."""
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    raise NodeConfigError(f"{what}: invalid boolean value {text!r}")


def parse_duration(text: str, what: str) -> float:
    """Go ``time.ParseDuration`` (seconds as float); a bare number means seconds."""
    t = text.strip()
    if re.fullmatch(r"\d+(\.\d*)?", t):
        return float(t)
    pos = 0
    total = 0.0
    for m in _DUR.finditer(t):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _DUR_UNIT[m.group(2)]
        pos = m.end()
    if pos != len(t) or not t:
        raise NodeConfigError(f"{what}: invalid duration {text!r}")
    return total


def _convert(spec: FlagSpec, text: str, what: str) -> object:
    if spec.kind == "bool":
        return parse_bool(text, what)
    if spec.kind in ("int", "uint"):
        try:
            n = int(text, 10)
        except ValueError:
            raise NodeConfigError(f"{what}: invalid integer {text!r}") from None
        if spec.kind == "uint" and n < 0:
            raise NodeConfigError(f"{what}: invalid unsigned integer {text!r}")
        return n
    if spec.kind == "duration":
        return parse_duration(text, what)
    if spec.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise NodeConfigError(f"{what}: invalid float value {text!r}") from None
    return text


def help_text() -> str:
    lines = ["usage: pyop node [flags]", "",
             "The pyop rollup node (op-node compatible flags; env OP_NODE_<NAME>).", ""]  # fmt: skip
    for f in FLAGS:
        arg = "" if f.kind == "bool" else f" {f.kind.upper()}"
        dflt = "" if f.default in ("", False, None) else f" (default: {f.default})"
        env = f" [${ENV_PREFIX}{f.envs[0]}]" if f.envs else ""
        ign = {"": "", "none": " [accepted, no effect in pyop]",
               "deprecated": " [deprecated no-op, as in op-node]"}[f.effect]  # fmt: skip
        lines.append(f"  --{f.name}{arg}\n        {f.usage}{dflt}{env}{ign}")
    return "\n".join(lines)


def unsupported_env_var(key: str) -> NodeConfigError:
    """The refusal of an ``OP_NODE_*`` variable pyop does not read (see the module docstring)."""
    go = GO_ENV_TO_FLAG.get(key)
    what = f" (op-node flag --{go})" if go else " (not an op-node v1.19.6 variable either)"
    return NodeConfigError(f"environment variable {key}{what} is not supported by pyop node")


def parse_node_args(argv: Sequence[str], env: Mapping[str, str] | None = None) -> NodeConfig:
    """Parse ``pyop node`` arguments and ``OP_NODE_*`` environment variables.

    Raises :class:`NodeConfigError` naming the offending flag or variable, or
    :class:`HelpRequested`. Does not run :meth:`NodeConfig.check` (the caller does, so tests can
    parse partial sets).
    """
    environ = os.environ if env is None else env
    for key in sorted(environ):
        if key.startswith(ENV_PREFIX) and key not in PYOP_ENV_VARS:
            raise unsupported_env_var(key)
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    given: list[str] = []
    i = 0
    args = list(argv)
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-h", "--help", "-help"):
            raise HelpRequested(help_text())
        if arg == "--":
            if i < len(args):
                raise NodeConfigError(f"unexpected argument {args[i]!r} (pyop node takes only flags)")
            break
        if not arg.startswith("-") or arg in ("-",):
            raise NodeConfigError(f"unexpected argument {arg!r} (pyop node takes only flags)")
        body = arg[2:] if arg.startswith("--") else arg[1:]
        name, eq, value = body.partition("=")
        spec = _BY_NAME.get(name)
        if spec is None:
            raise NodeConfigError(f"flag --{name} is not supported by pyop node")
        what = f"flag --{name}"
        if spec.kind == "bool":
            val: object = parse_bool(value, what) if eq else True
        else:
            if not eq:
                if i >= len(args):
                    raise NodeConfigError(f"{what} needs a value")
                value = args[i]
                i += 1
            val = _convert(spec, value, what)
        values[spec.dest] = val
        sources[spec.dest] = "flag"
        given.append(spec.name)
    for spec in FLAGS:
        if spec.dest in values:
            continue
        for e in spec.envs:
            key = ENV_PREFIX + e
            if key in environ:
                values[spec.dest] = _convert(spec, environ[key], f"environment variable {key}")
                sources[spec.dest] = "env"
                given.append(spec.name)
                break
    ignored = tuple(sorted({n for n in given if n in IGNORED_FLAGS}))
    deprecated = tuple(n for n in ignored if n in DEPRECATED_FLAGS)
    overrides: dict[str, int] = {}
    keep_karst: bool | None = None
    for spec in FLAGS:
        if not spec.name.startswith(_OVERRIDE_PREFIX) or spec.dest not in values:
            continue
        v = values.pop(spec.dest)
        if spec.kind == "bool":
            keep_karst = bool(v)
        else:
            overrides[spec.name.removeprefix(_OVERRIDE_PREFIX)] = int(v)  # type: ignore[call-overload]
    known = {k: v for k, v in values.items() if k in NodeConfig.__dataclass_fields__}
    return NodeConfig(**known, overrides=overrides, override_keep_karst_upgrade_gas=keep_karst,  # type: ignore[arg-type]
                      ignored=ignored, deprecated=deprecated, sources=sources)  # fmt: skip


#: op-node fork names whose rollup.json key is not ``<name>_time``
_OVERRIDE_FIELD = {"pectrablobschedule": "pectra_blob_schedule_time"}


def override_field(fork: str) -> str:
    """The :class:`pyop.config.RollupConfig` field ``--override.<fork>`` sets (the rollup.json
    key: ``<fork>_time``, ``pectra_blob_schedule_time``)."""
    return _OVERRIDE_FIELD.get(fork, f"{fork}_time")


def apply_overrides(cfg: RollupConfig, ncfg: NodeConfig) -> RollupConfig:
    """op-node ``applyOverrides`` (op-node/service.go): each ``--override.<fork>`` sets that fork's
    activation time (``rollup.Config.SetActivationTime``), ``--override.keep-karst-upgrade-gas``
    sets ``keep_karst_upgrade_gas``; then the config is checked again (fork order).

    The mapping is generic: a fork op-node can override but pyop's rollup config does not have
    yet (``lagoon`` today) is refused by name rather than ignored, and works as soon as the
    field exists."""
    changes: dict[str, object] = {}
    fields = {f.name for f in dataclasses.fields(cfg)}
    for fork, ts in ncfg.overrides.items():
        name = override_field(fork)
        if name not in fields:
            raise NodeConfigError(f"flag --override.{fork}: pyop's rollup config has no {name} "
                                  f"field yet, so the {fork} fork cannot be scheduled")  # fmt: skip
        changes[name] = ts
    if ncfg.override_keep_karst_upgrade_gas is not None:
        changes["keep_karst_upgrade_gas"] = ncfg.override_keep_karst_upgrade_gas
    if not changes:
        return cfg
    out = dataclasses.replace(cfg, **changes)  # type: ignore[arg-type]
    try:
        out.check()
    except RollupConfigError as e:
        raise NodeConfigError(f"rollup config after --override.* flags: {e}") from None
    return out
