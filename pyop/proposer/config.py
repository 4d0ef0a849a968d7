"""``pyop proposer`` flags: op-proposer's names, ``OP_PROPOSER_*`` environment variables, same
precedence (flag > environment > default), urfave/cli syntax (:mod:`pyop.opservice.flags`).

Names and defaults: op-proposer v1.19.6 ``op-proposer/flags/flags.go`` (DisputeGameFactory mode)
plus ``--l2oo-address`` from v1.13.7 (the L2OutputOracle mode, dropped in later releases), the
op-service rpc / log / metrics flags and the txmgr flags (:data:`pyop.txmgr.TXMGR_FLAGS`).
A flag or ``OP_PROPOSER_*`` variable not listed here is refused by name
(``flag --superroot-rpcs is not supported by pyop proposer``).

One pyop addition: ``--l2-eth-rpc`` (``OP_PROPOSER_L2_ETH_RPC``), the L2 execution client pyop
proposer computes output roots from (the Go proposer only asks the rollup node); it is required.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eth_utils.address import is_hex_address, to_checksum_address

from pyop.opservice.flags import FlagError, FlagSpec, ParsedFlags, flag, parse_flags
from pyop.primitives import PyopError
from pyop.sources.active_rollup import split_rollup_urls
from pyop.txmgr import TXMGR_FLAGS

ENV_PREFIX = "OP_PROPOSER_"
SERVICE = "pyop proposer"
DESCRIPTION = ("pyop proposer: posts L2 output roots to the L2OutputOracle or the "
               "DisputeGameFactory (op-proposer flags; env OP_PROPOSER_<NAME>).")  # fmt: skip


class ProposerConfigError(PyopError):
    """A bad ``pyop proposer`` command line or environment."""


PROPOSER_FLAGS: tuple[FlagSpec, ...] = (
    flag("l1-eth-rpc", "string", "", "L1_ETH_RPC", "HTTP provider URL for L1"),
    flag("rollup-rpc", "string", "", "ROLLUP_RPC", "HTTP provider URL for the rollup node"),
    flag("l2-eth-rpc", "string", "", "L2_ETH_RPC",
         "pyop: HTTP provider URL for the L2 execution client the output roots are computed "
         "from (required)"),
    flag("poll-interval", "duration", 12.0, "POLL_INTERVAL",
         "Delay between periodic checks on whether it is time to load an output root and "
         "propose it."),
    flag("allow-non-finalized", "bool", False, "ALLOW_NON_FINALIZED",
         "Allow the proposer to submit proposals for L2 blocks derived from non-finalized L1 "
         "blocks."),
    flag("l2oo-address", "string", "", "L2OO_ADDRESS", "Address of the L2OutputOracle contract"),
    flag("game-factory-address", "string", "", "GAME_FACTORY_ADDRESS",
         "Address of the DisputeGameFactory contract"),
    flag("proposal-interval", "duration", 0.0, "PROPOSAL_INTERVAL",
         "Interval between submitting L2 output proposals when the dispute game factory "
         "address is set"),
    flag("game-type", "uint", 0, "GAME_TYPE",
         "Dispute game type to create via the configured DisputeGameFactory"),
    flag("active-sequencer-check-duration", "duration", 120.0, "ACTIVE_SEQUENCER_CHECK_DURATION",
         "The duration between checks to determine the active sequencer endpoint (with "
         "several --rollup-rpc URLs)."),
    flag("wait-node-sync", "bool", False, "WAIT_NODE_SYNC",
         "Wait at start-up until the rollup node has synced to the current L1 tip."),
    flag("l2-output-hd-path", "string", "", "L2_OUTPUT_HD_PATH",
         "DEPRECATED: the HD path used to derive the l2output wallet from the mnemonic."),
    # op-service rpc
    flag("rpc.addr", "string", "0.0.0.0", "RPC_ADDR", "rpc listening address"),
    flag("rpc.port", "int", 8545, "RPC_PORT", "rpc listening port"),
    flag("rpc.enable-admin", "bool", False, "RPC_ENABLE_ADMIN", "Enable the admin API"),
    # op-service log
    flag("log.level", "string", "info", "LOG_LEVEL",
         "The lowest log level that will be output"),
    flag("log.format", "string", "text", "LOG_FORMAT",
         "Format the log output. Supported formats: 'text', 'terminal', 'logfmt', 'json', "
         "'json-pretty',"),
    flag("log.color", "bool", False, "LOG_COLOR", "Color the log output if in terminal mode"),
    # op-service metrics
    flag("metrics.enabled", "bool", False, "METRICS_ENABLED", "Enable the metrics server"),
    flag("metrics.addr", "string", "0.0.0.0", "METRICS_ADDR", "Metrics listening address"),
    flag("metrics.port", "int", 7300, "METRICS_PORT", "Metrics listening port"),
)  # fmt: skip

ALL_FLAGS: tuple[FlagSpec, ...] = PROPOSER_FLAGS + tuple(
    f for f in TXMGR_FLAGS if f.name not in {p.name for p in PROPOSER_FLAGS}
)


@dataclass(frozen=True, slots=True)
class ProposerConfig:
    """The checked configuration (op-proposer ``CLIConfig.Check``)."""

    l1_eth_rpc: str
    rollup_rpc: str
    l2_eth_rpc: str
    poll_interval: float
    allow_non_finalized: bool
    l2oo_address: str | None
    game_factory_address: str | None
    proposal_interval: float
    game_type: int
    wait_node_sync: bool
    rpc_addr: str
    rpc_port: int
    rpc_enable_admin: bool
    log_level: str
    log_format: str
    metrics_enabled: bool
    metrics_addr: str
    metrics_port: int
    flags: ParsedFlags
    """Everything parsed, for the txmgr config and the signer."""
    active_sequencer_check_duration: float = 120.0
    """With several ``--rollup-rpc`` URLs: seconds between ``admin_sequencerActive`` checks."""

    @property
    def rollup_urls(self) -> list[str]:
        """``--rollup-rpc``: one URL, or the list of the active rollup provider."""
        return split_rollup_urls(self.rollup_rpc) if "," in self.rollup_rpc else [self.rollup_rpc]

    @property
    def mode(self) -> str:
        return "l2oo" if self.l2oo_address else "dgf"

    @property
    def contract(self) -> str:
        addr = self.l2oo_address or self.game_factory_address
        if addr is None:  # pragma: no cover - check() rules it out
            raise ProposerConfigError("no contract address")
        return addr


def _address(v: object, name: str) -> str | None:
    s = str(v or "")
    if not s:
        return None
    if not is_hex_address(s):
        raise ProposerConfigError(f"flag --{name}: {s!r} is not an address")
    return str(to_checksum_address(s))


def parse_proposer_args(argv: Sequence[str], env: Mapping[str, str] | None = None) -> ProposerConfig:
    """Parse and check (op-proposer ``flags.CheckRequired`` + ``CLIConfig.Check``).
    :class:`pyop.opservice.flags.FlagError` / :class:`ProposerConfigError` name the problem;
    ``--help`` raises :class:`pyop.opservice.flags.HelpRequested`."""
    p = parse_flags(argv, ALL_FLAGS, env_prefix=ENV_PREFIX, service=SERVICE, env=env,
                    description=DESCRIPTION)  # fmt: skip
    v = p.values
    if not v["l1_eth_rpc"]:
        raise ProposerConfigError("flag l1-eth-rpc is required")
    if not v["rollup_rpc"]:
        raise ProposerConfigError("missing rollup rpc (flag --rollup-rpc)")
    if "," in str(v["rollup_rpc"]):
        # op-proposer: a comma-separated list enables the active rollup provider
        # (pyop.sources.active_rollup)
        try:
            split_rollup_urls(str(v["rollup_rpc"]))
        except ValueError as e:
            raise ProposerConfigError(f"flag --rollup-rpc: {e}") from None
    if not v["l2_eth_rpc"]:
        raise ProposerConfigError(
            "flag --l2-eth-rpc is required: pyop proposer computes each output root itself "
            "from the L2 execution client and cross-checks it against the rollup node"
        )
    l2oo = _address(v["l2oo_address"], "l2oo-address")
    dgf = _address(v["game_factory_address"], "game-factory-address")
    interval = float(v["proposal_interval"])  # type: ignore[arg-type]
    # CLIConfig.Check (v1.13.7, which had both modes):
    if l2oo and dgf:
        raise ProposerConfigError("both the `DisputeGameFactory` and `L2OutputOracle` addresses "
                                  "were provided")  # fmt: skip
    if not l2oo and not dgf:
        raise ProposerConfigError("neither the `DisputeGameFactory` nor `L2OutputOracle` address "
                                  "was provided")  # fmt: skip
    if dgf and interval == 0:
        raise ProposerConfigError("the `DisputeGameFactory` address was provided but the "
                                  "`ProposalInterval` was not set")  # fmt: skip
    if interval != 0 and not dgf:
        raise ProposerConfigError("the `ProposalInterval` was provided but the "
                                  "`DisputeGameFactory` address was not set")  # fmt: skip
    poll = float(v["poll_interval"])  # type: ignore[arg-type]
    if poll <= 0:
        raise ProposerConfigError("flag --poll-interval must be positive")
    game_type = int(v["game_type"])  # type: ignore[call-overload]
    if not 0 <= game_type < 2**32:
        raise ProposerConfigError(f"flag --game-type: {game_type} is not a uint32")
    return ProposerConfig(
        l1_eth_rpc=str(v["l1_eth_rpc"]), rollup_rpc=str(v["rollup_rpc"]),
        l2_eth_rpc=str(v["l2_eth_rpc"]), poll_interval=poll,
        allow_non_finalized=bool(v["allow_non_finalized"]), l2oo_address=l2oo,
        game_factory_address=dgf, proposal_interval=interval, game_type=game_type,
        wait_node_sync=bool(v["wait_node_sync"]), rpc_addr=str(v["rpc_addr"]),
        rpc_port=int(v["rpc_port"]),  # type: ignore[call-overload]
        rpc_enable_admin=bool(v["rpc_enable_admin"]), log_level=str(v["log_level"]),
        log_format=str(v["log_format"]), metrics_enabled=bool(v["metrics_enabled"]),
        metrics_addr=str(v["metrics_addr"]),
        metrics_port=int(v["metrics_port"]),  # type: ignore[call-overload]
        flags=p,
        active_sequencer_check_duration=float(v["active_sequencer_check_duration"]),  # type: ignore[arg-type]
    )  # fmt: skip


__all__ = [
    "ALL_FLAGS",
    "ENV_PREFIX",
    "PROPOSER_FLAGS",
    "FlagError",
    "ProposerConfig",
    "ProposerConfigError",
    "parse_proposer_args",
]
