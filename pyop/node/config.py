"""``pyop node`` flags: op-node's common flags, same names, same ``OP_NODE_*`` environment
variables, same precedence (flag > environment > default).

Flag names, environment variables and defaults follow op-node v1.9.4 ``op-node/flags/flags.go``,
``p2p_flags.go``, ``op-alt-da/cli.go``, ``op-service/log/cli.go`` and ``op-service/metrics/cli.go``
(shared/notes/go-op-node-reference.md section 8). Syntax is Go urfave/cli's: ``--flag=value``,
``--flag value``, ``-flag`` (one dash works too); a boolean flag alone means true and takes a
value only as ``--flag=true|false`` (Go ``strconv.ParseBool``); durations as Go writes them
(``500ms``, ``1s``, ``2m``, ``1h30m``).

A flag pyop node does not know is refused by name (``flag --foo is not supported by pyop
node``). Some op-node flags are accepted and ignored because they only tune things pyop does not
have (p2p, conductor, engine kind): :data:`IGNORED_FLAGS` (a warning names them at start-up).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pyop.primitives import PyopError

Kind = Literal["string", "int", "bool", "duration"]
ENV_PREFIX = "OP_NODE_"


class NodeConfigError(PyopError):
    """A bad command line or environment for ``pyop node``."""


class HelpRequested(PyopError):
    """``--help`` / ``-h``: the message is the help text."""


@dataclass(frozen=True, slots=True)
class FlagSpec:
    """One flag: its name (without dashes), value kind, default, environment variables (without
    the ``OP_NODE_`` prefix) and usage line. ``ignored``: accepted for compatibility only."""

    name: str
    kind: Kind
    default: object
    envs: tuple[str, ...]
    usage: str
    ignored: bool = False

    @property
    def dest(self) -> str:
        return self.name.replace(".", "_").replace("-", "_")


def _f(name: str, kind: Kind, default: object, env: str | tuple[str, ...], usage: str,
       *, ignored: bool = False) -> FlagSpec:  # fmt: skip
    envs = (env,) if isinstance(env, str) else env
    return FlagSpec(name, kind, default, envs, usage, ignored)


FLAGS: tuple[FlagSpec, ...] = (
    # --- L1 / L2 endpoints (op-node/flags/flags.go) -----------------------------------------
    _f("l1", "string", "http://127.0.0.1:8545", "L1_ETH_RPC", "L1 execution JSON-RPC endpoint"),
    _f("l1.beacon", "string", "", "L1_BEACON", "L1 beacon API (or anvil) for blobs"),
    _f("l1.beacon.ignore", "bool", False, "L1_BEACON_IGNORE",
       "start without a beacon endpoint (blobs cannot be read)"),
    _f("l1.rpckind", "string", "standard", "L1_RPC_KIND",
       "L1 RPC provider kind (pyop always uses standard methods with fallbacks)"),
    _f("l1.trustrpc", "bool", False, "L1_TRUST_RPC",
       "trust the L1 RPC: skip block hash / tx / receipt root checks"),
    _f("l1.http-poll-interval", "duration", 12.0, "L1_HTTP_POLL_INTERVAL",
       "how often to poll the L1 head (pyop polls at most every second)"),
    _f("l1.epoch-poll-interval", "duration", 384.0, "L1_EPOCH_POLL_INTERVAL",
       "how often to poll L1 safe/finalized (pyop polls them with the head)"),
    _f("l2", "string", "", "L2_ENGINE_RPC", "L2 engine API endpoint (op-geth authrpc)"),
    _f("l2.jwt-secret", "string", "", "L2_ENGINE_AUTH", "file with the engine API JWT secret (hex)"),
    _f("rollup.config", "string", "", "ROLLUP_CONFIG", "rollup.json"),
    _f("network", "string", "", "NETWORK", "network preset (see `pyop networks`)"),
    _f("rollup.l1-chain-config", "string", "", "ROLLUP_L1_CHAIN_CONFIG",
       "L1 chain config JSON (blob schedule) for L1s op-node does not know"),
    # --- sequencer / verifier ---------------------------------------------------------------
    _f("sequencer.enabled", "bool", False, "SEQUENCER_ENABLED", "run as the sequencer"),
    _f("sequencer.stopped", "bool", False, "SEQUENCER_STOPPED",
       "start the sequencer stopped (admin_startSequencer starts it)"),
    _f("sequencer.l1-confs", "int", 4, "SEQUENCER_L1_CONFS",
       "L1 blocks to wait before adopting an L1 block as sequencer origin"),
    _f("verifier.l1-confs", "int", 0, "VERIFIER_L1_CONFS",
       "L1 blocks to wait before deriving from an L1 block"),
    _f("p2p.sequencer.key", "string", "", "P2P_SEQUENCER_KEY",
       "hex key that signs gossiped blocks (pyop has no p2p: accepted, unused)"),
    # --- RPC / safe db ----------------------------------------------------------------------
    _f("rpc.addr", "string", "127.0.0.1", "RPC_ADDR", "rollup RPC listening address"),
    _f("rpc.port", "int", 9545, "RPC_PORT", "rollup RPC listening port (0: any free port)"),
    _f("rpc.enable-admin", "bool", False, "RPC_ENABLE_ADMIN", "enable the admin_* API"),
    _f("safedb.path", "string", "", "SAFEDB_PATH",
       "directory of the safe head database (enables optimism_safeHeadAtL1Block)"),
    # --- alt-DA (op-alt-da/cli.go) ----------------------------------------------------------
    _f("altda.enabled", "bool", False, "ALTDA_ENABLED", "enable alt-DA"),
    _f("altda.da-server", "string", "", "ALTDA_DA_SERVER", "alt-DA server URL"),
    _f("altda.da-service", "bool", False, "ALTDA_DA_SERVICE", "generic commitments (DA service)"),
    _f("altda.verify-on-read", "bool", True, "ALTDA_VERIFY_ON_READ",
       "check keccak commitments against the input read"),
    # --- logs / metrics ---------------------------------------------------------------------
    _f("log.level", "string", "info", "LOG_LEVEL", "trace, debug, info, warn, error, crit"),
    _f("log.format", "string", "text", "LOG_FORMAT", "text or logfmt (both logfmt here)"),
    _f("log.color", "bool", False, "LOG_COLOR", "accepted, no colors", ignored=True),
    _f("metrics.enabled", "bool", False, "METRICS_ENABLED", "serve Prometheus metrics"),
    _f("metrics.addr", "string", "0.0.0.0", "METRICS_ADDR", "metrics listening address"),
    _f("metrics.port", "int", 7300, "METRICS_PORT", "metrics listening port"),
    # --- accepted for compatibility (no effect in pyop) -------------------------------------
    _f("l2.enginekind", "string", "geth", "L2_ENGINE_KIND", "EL kind", ignored=True),
    _f("l1.beacon.slot-duration-override", "int", 0, "L1_BEACON_SLOT_DURATION_OVERRIDE",
       "beacon slot duration (pyop reads anvil blobs by block)", ignored=True),
    _f("p2p.disable", "bool", False, "P2P_DISABLE", "no p2p (pyop has none)", ignored=True),
    _f("p2p.no-discovery", "bool", False, "P2P_NO_DISCOVERY", "no discovery", ignored=True),
    _f("p2p.listen.ip", "string", "0.0.0.0", "P2P_LISTEN_IP", "p2p", ignored=True),
    _f("p2p.listen.tcp", "int", 9222, "P2P_LISTEN_TCP_PORT", "p2p", ignored=True),
    _f("p2p.listen.udp", "int", 0, "P2P_LISTEN_UDP_PORT", "p2p", ignored=True),
    _f("p2p.priv.path", "string", "", "P2P_PRIV_PATH", "p2p", ignored=True),
    _f("p2p.peerstore.path", "string", "", "P2P_PEERSTORE_PATH", "p2p", ignored=True),
    _f("p2p.discovery.path", "string", "", "P2P_DISCOVERY_PATH", "p2p", ignored=True),
    _f("p2p.bootnodes", "string", "", "P2P_BOOTNODES", "p2p", ignored=True),
)

IGNORED_FLAGS = frozenset(f.name for f in FLAGS if f.ignored)
_BY_NAME = {f.name: f for f in FLAGS}

LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "crit")


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """The parsed ``pyop node`` configuration (attribute = flag name with ``.``/``-`` -> ``_``)."""

    l1: str = "http://127.0.0.1:8545"
    l1_beacon: str = ""
    l1_beacon_ignore: bool = False
    l1_rpckind: str = "standard"
    l1_trustrpc: bool = False
    l1_http_poll_interval: float = 12.0
    l1_epoch_poll_interval: float = 384.0
    l2: str = ""
    l2_jwt_secret: str = ""
    rollup_config: str = ""
    network: str = ""
    rollup_l1_chain_config: str = ""
    sequencer_enabled: bool = False
    sequencer_stopped: bool = False
    sequencer_l1_confs: int = 4
    verifier_l1_confs: int = 0
    p2p_sequencer_key: str = ""
    rpc_addr: str = "127.0.0.1"
    rpc_port: int = 9545
    rpc_enable_admin: bool = False
    safedb_path: str = ""
    altda_enabled: bool = False
    altda_da_server: str = ""
    altda_da_service: bool = False
    altda_verify_on_read: bool = True
    log_level: str = "info"
    log_format: str = "text"
    metrics_enabled: bool = False
    metrics_addr: str = "0.0.0.0"
    metrics_port: int = 7300
    #: accepted-but-ignored flags that were given (flag or environment)
    ignored: tuple[str, ...] = ()
    #: where each value came from: ``flag``, ``env`` (default otherwise)
    sources: Mapping[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """op-node's required-flag checks (``op-node/flags`` ``CheckRequired`` + service
        config checks)."""
        if not self.l2:
            raise NodeConfigError("flag --l2 is required (the L2 engine API endpoint)")
        if not self.l2_jwt_secret:
            raise NodeConfigError("flag --l2.jwt-secret is required (the engine JWT secret file)")
        if not self.rollup_config and not self.network:
            raise NodeConfigError("give --rollup.config FILE or --network NAME")
        if self.log_level.lower() not in LOG_LEVELS:
            raise NodeConfigError(f"flag --log.level: unknown level {self.log_level!r} "
                                  f"(one of {', '.join(LOG_LEVELS)})")  # fmt: skip
        if self.altda_enabled and not self.altda_da_server:
            raise NodeConfigError("--altda.enabled needs --altda.da-server")
        for name in ("sequencer_l1_confs", "verifier_l1_confs", "rpc_port", "metrics_port"):
            if getattr(self, name) < 0:
                raise NodeConfigError(f"flag --{name.replace('_', '.', 1)} must not be negative")


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
    if spec.kind == "int":
        try:
            return int(text, 10)
        except ValueError:
            raise NodeConfigError(f"{what}: invalid integer {text!r}") from None
    if spec.kind == "duration":
        return parse_duration(text, what)
    return text


def help_text() -> str:
    lines = ["usage: pyop node [flags]", "",
             "The pyop rollup node (op-node compatible flags; env OP_NODE_<NAME>).", ""]  # fmt: skip
    for f in FLAGS:
        arg = "" if f.kind == "bool" else f" {f.kind.upper()}"
        dflt = "" if f.default in ("", False) else f" (default: {f.default})"
        env = f" [${ENV_PREFIX}{f.envs[0]}]"
        ign = " [accepted, ignored]" if f.ignored else ""
        lines.append(f"  --{f.name}{arg}\n        {f.usage}{dflt}{env}{ign}")
    return "\n".join(lines)


def parse_node_args(argv: Sequence[str], env: Mapping[str, str] | None = None) -> NodeConfig:
    """Parse ``pyop node`` arguments and ``OP_NODE_*`` environment variables.

    Raises :class:`NodeConfigError` naming the offending flag, or :class:`HelpRequested`.
    Does not run :meth:`NodeConfig.check` (the caller does, so tests can parse partial sets).
    """
    environ = os.environ if env is None else env
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
    known = {k: v for k, v in values.items() if k in NodeConfig.__dataclass_fields__}
    return NodeConfig(**known, ignored=ignored, sources=sources)  # type: ignore[arg-type]
