"""``pyop batcher`` flags: op-batcher's names, ``OP_BATCHER_*`` environment variables and
defaults (op-batcher v1.19.6 ``flags/flags.go``, op-service ``rpc``/``log``/``metrics``/``txmgr``
CLI flags, op-alt-da ``cli.go``; ``op-batcher --help`` lists the same).

Refused by name, with the reason: DA throttling (``--throttle.*``: pyop batcher does not
throttle the sequencer), ``--pprof.*`` (Go profiling), the remote signer (``--signer.*``), the
blob tip oracle (``--txmgr.blob-tip-cap-*``). Several ``--l2-eth-rpc`` and ``--rollup-rpc``
(in pairs) follow the active sequencer, as op-batcher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyop.batcher.channel_config import COMPRESSION_ALGOS, COMPRESSOR_KINDS, DA_TYPES
from pyop.batcher.errors import BatcherConfigError
from pyop.opservice.flags import FlagSpec, ParsedFlags, flag, parse_flags
from pyop.opservice.logs import FORMATS, LEVELS
from pyop.txmgr.blobs import MAX_BLOBS_PER_TX
from pyop.txmgr.config import TXMGR_FLAGS, TxManagerConfig, txmgr_config_from_flags

ENV_PREFIX = "OP_BATCHER_"
SERVICE = "pyop batcher"

__all__ = ["BATCHER_FLAGS", "ENV_PREFIX", "BatcherConfig", "parse_batcher_args"]

BATCHER_FLAGS: tuple[FlagSpec, ...] = (
    flag("l1-eth-rpc", "string", "", "L1_ETH_RPC", "HTTP provider URL for L1"),
    flag("l2-eth-rpc", "strings", (), "L2_ETH_RPC", "HTTP provider URL for the L2 execution engine"),
    flag("rollup-rpc", "strings", (), "ROLLUP_RPC", "HTTP provider URL for the rollup node"),
    flag("sub-safety-margin", "uint", 10, "SUB_SAFETY_MARGIN",
         "The batcher tx submission safety margin (in #L1-blocks) to subtract from a channel's "
         "timeout and sequencing window, to guarantee safe inclusion of a channel on L1."),
    flag("poll-interval", "duration", 6.0, "POLL_INTERVAL", "How frequently to poll L2 for new blocks"),
    flag("max-pending-tx", "uint", 1, "MAX_PENDING_TX",
         "The maximum number of pending transactions. 0 for no limit."),
    flag("max-channel-duration", "uint", 0, "MAX_CHANNEL_DURATION",
         "The maximum duration of L1-blocks to keep a channel open. 0 to disable."),
    flag("max-l1-tx-size-bytes", "uint", 120_000, "MAX_L1_TX_SIZE_BYTES",
         "The maximum size of a batch tx submitted to L1. Ignored for blobs."),
    flag("max-blocks-per-span-batch", "int", 0, "MAX_BLOCKS_PER_SPAN_BATCH",
         "Maximum number of blocks to add to a span batch. Default is 0 - no maximum."),
    flag("target-num-frames", "int", 1, "TARGET_NUM_FRAMES",
         "The target number of frames to create per channel (blobs per blob tx)."),
    flag("approx-compr-ratio", "float", 0.6, "APPROX_COMPR_RATIO",
         "The approximate compression ratio (<= 1.0). Only relevant for ratio compressor."),
    flag("compressor", "string", "shadow", "COMPRESSOR",
         "The type of compressor. Valid options: ratio, shadow, none"),
    flag("compression-algo", "string", "zlib", "COMPRESSION_ALGO",
         "The compression algorithm: zlib, brotli, brotli-9, brotli-10, brotli-11"),
    flag("stopped", "bool", False, "STOPPED",
         "Initialize the batcher in a stopped state (admin_startBatcher starts it)"),
    flag("batch-type", "uint", 0, "BATCH_TYPE", "The batch type. 0 for SingularBatch and 1 for SpanBatch."),
    flag("data-availability-type", "string", "calldata", "DATA_AVAILABILITY_TYPE",
         "The data availability type: calldata, blobs, auto"),
    flag("active-sequencer-check-duration", "duration", 5.0, "ACTIVE_SEQUENCER_CHECK_DURATION",
         "The duration between checks to determine the active sequencer endpoint."),
    flag("check-recent-txs-depth", "int", 0, "CHECK_RECENT_TXS_DEPTH",
         "How many L1 blocks back to look at start-up for a recent batch tx to wait for."),
    flag("wait-node-sync", "bool", False, "WAIT_NODE_SYNC",
         "Wait at start-up until the rollup node has derived up to the L1 head (or the recent "
         "batch tx)."),
    flag("sequencer-hd-path", "string", "", "SEQUENCER_HD_PATH", "DEPRECATED: use --hd-path."),
    # op-service rpc
    flag("rpc.addr", "string", "0.0.0.0", "RPC_ADDR", "rpc listening address"),
    flag("rpc.port", "int", 8545, "RPC_PORT", "rpc listening port"),
    flag("rpc.enable-admin", "bool", False, "RPC_ENABLE_ADMIN", "Enable the admin API"),
    # op-service log
    flag("log.level", "string", "info", "LOG_LEVEL", "The lowest log level that will be output"),
    flag("log.format", "string", "text", "LOG_FORMAT",
         "Format the log output: text, terminal, logfmt, logfmtms, json, jsonms"),
    flag("log.color", "bool", False, "LOG_COLOR", "Color the log output (accepted, no colors)"),
    flag("log.pid", "bool", False, "LOG_PID", "Show pid in the log"),
    # op-service metrics
    flag("metrics.enabled", "bool", False, "METRICS_ENABLED", "Enable the metrics server"),
    flag("metrics.addr", "string", "0.0.0.0", "METRICS_ADDR", "Metrics listening address"),
    flag("metrics.port", "int", 7300, "METRICS_PORT", "Metrics listening port"),
    # op-alt-da
    flag("altda.enabled", "bool", False, "ALTDA_ENABLED", "Enable Alt-DA mode"),
    flag("altda.da-server", "string", "", "ALTDA_DA_SERVER", "HTTP address of a DA Server"),
    flag("altda.da-service", "bool", False, "ALTDA_DA_SERVICE",
         "Use DA service type where commitments are generated by Alt-DA server"),
    flag("altda.verify-on-read", "bool", True, "ALTDA_VERIFY_ON_READ",
         "Verify input data matches the commitments from the DA storage service"),
    flag("altda.put-timeout", "duration", 0.0, "ALTDA_PUT_TIMEOUT",
         "Timeout for put requests. 0 means no timeout."),
    flag("altda.get-timeout", "duration", 0.0, "ALTDA_GET_TIMEOUT",
         "Timeout for get requests. 0 means no timeout."),
    flag("altda.max-concurrent-da-requests", "uint", 1, "ALTDA_MAX_CONCURRENT_DA_REQUESTS",
         "Maximum number of concurrent requests to the DA server (pyop puts one at a time, in "
         "frame order)"),
    *TXMGR_FLAGS,
)  # fmt: skip

UNSUPPORTED: Mapping[str, str] = {
    "throttle": "pyop batcher does not throttle the sequencer's DA usage (miner_setMaxDASize)",
    "pprof": "Go profiling; use Python's profilers",
    "signer": "the remote signer is not implemented; use --private-key or --mnemonic",
    "txmgr.blob-tip-cap": "the blob tip oracle is not implemented",
}


@dataclass(frozen=True, slots=True)
class BatcherConfig:
    """The parsed ``pyop batcher`` configuration (Go ``CLIConfig``; seconds for durations)."""

    l1_eth_rpc: str
    l2_eth_rpc: str
    """The first ``--l2-eth-rpc`` (for messages; :attr:`l2_eth_rpcs` has them all)."""
    rollup_rpc: str
    """The first ``--rollup-rpc`` (:attr:`rollup_rpcs` has them all)."""
    l2_eth_rpcs: tuple[str, ...] = ()
    rollup_rpcs: tuple[str, ...] = ()
    """Several of both (in pairs): follow the active sequencer (op-batcher
    ``NewActiveL2EndpointProvider``); otherwise the first of each is used."""
    active_sequencer_check_duration: float = 5.0
    sub_safety_margin: int = 10
    poll_interval: float = 6.0
    max_pending_tx: int = 1
    max_channel_duration: int = 0
    max_l1_tx_size_bytes: int = 120_000
    max_blocks_per_span_batch: int = 0
    target_num_frames: int = 1
    approx_compr_ratio: float = 0.6
    compressor: str = "shadow"
    compression_algo: str = "zlib"
    stopped: bool = False
    batch_type: int = 0
    data_availability_type: str = "calldata"
    check_recent_txs_depth: int = 0
    wait_node_sync: bool = False
    rpc_addr: str = "0.0.0.0"
    rpc_port: int = 8545
    rpc_enable_admin: bool = False
    log_level: str = "info"
    log_format: str = "text"
    log_pid: bool = False
    metrics_enabled: bool = False
    metrics_addr: str = "0.0.0.0"
    metrics_port: int = 7300
    altda_enabled: bool = False
    altda_da_server: str = ""
    altda_da_service: bool = False
    altda_put_timeout: float = 0.0
    txmgr: TxManagerConfig = field(default_factory=TxManagerConfig)

    def check(self) -> None:
        """Go ``CLIConfig.Check`` (the parts that do not need the rollup config)."""
        if not self.l1_eth_rpc:
            raise BatcherConfigError("flag --l1-eth-rpc is required")
        if not self.l2_eth_rpc:
            raise BatcherConfigError("flag --l2-eth-rpc is required")
        if not self.rollup_rpc:
            raise BatcherConfigError("flag --rollup-rpc is required")
        n_l2, n_rollup = len(self.l2_eth_rpcs), len(self.rollup_rpcs)
        if n_l2 > 1 and n_rollup > 1 and n_l2 != n_rollup:
            # op-service dial.newActiveL2EndpointProvider
            raise BatcherConfigError(f"number of eth urls ({n_l2}) and rollup urls ({n_rollup}) "
                                     "mismatch")  # fmt: skip
        if self.poll_interval <= 0:
            raise BatcherConfigError("must set PollInterval (--poll-interval)")
        if self.max_l1_tx_size_bytes <= 1:
            raise BatcherConfigError("MaxL1TxSize must be greater than 1 (--max-l1-tx-size-bytes)")
        if self.target_num_frames < 1:
            raise BatcherConfigError("TargetNumFrames must be at least 1 (--target-num-frames)")
        if self.compressor not in COMPRESSOR_KINDS:
            raise BatcherConfigError(f"unsupported compressor: {self.compressor} "
                                     f"(--compressor: {', '.join(COMPRESSOR_KINDS)})")  # fmt: skip
        if self.compressor == "ratio" and not 0 < self.approx_compr_ratio <= 1:
            raise BatcherConfigError(f"invalid ApproxComprRatio {self.approx_compr_ratio} for ratio compressor")
        if self.compression_algo not in COMPRESSION_ALGOS:
            raise BatcherConfigError(f"invalid compression algo {self.compression_algo} "
                                     f"(--compression-algo: {', '.join(COMPRESSION_ALGOS)})")  # fmt: skip
        if self.batch_type not in (0, 1):
            raise BatcherConfigError(f"unknown batch type: {self.batch_type} (--batch-type 0 or 1)")
        if self.check_recent_txs_depth > 128:
            raise BatcherConfigError("CheckRecentTxsDepth cannot be set higher than 128")
        if self.data_availability_type not in DA_TYPES:
            raise BatcherConfigError(f"unknown data availability type: {self.data_availability_type!r} "
                                     f"(--data-availability-type: {', '.join(DA_TYPES)})")  # fmt: skip
        if self.data_availability_type != "calldata" and self.target_num_frames > MAX_BLOBS_PER_TX:
            raise BatcherConfigError(f"too many frames for blob transactions, max {MAX_BLOBS_PER_TX}")
        if self.altda_enabled and not self.altda_da_server:
            raise BatcherConfigError("--altda.enabled needs --altda.da-server")
        if self.altda_enabled and self.data_availability_type != "calldata":
            raise BatcherConfigError("cannot use data availability type blobs or auto with Alt-DA")
        if self.log_level.lower() not in LEVELS:
            raise BatcherConfigError(f"unknown log level {self.log_level!r} (--log.level)")
        if self.log_format.lower() not in FORMATS:
            raise BatcherConfigError(f"unknown log format {self.log_format!r} (--log.format)")


def _first(values: Sequence[str]) -> str:
    return values[0] if values else ""


def parse_batcher_args(argv: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[BatcherConfig, ParsedFlags]:
    """Parse flags and ``OP_BATCHER_*``; check them (not the key: see
    :func:`pyop.txmgr.signer_from_flags`). Raises
    :class:`~pyop.opservice.flags.FlagError`, :class:`BatcherConfigError`,
    :class:`~pyop.txmgr.errors.TxManagerConfigError` or
    :class:`~pyop.opservice.flags.HelpRequested`."""
    p = parse_flags(argv, BATCHER_FLAGS, env_prefix=ENV_PREFIX, service=SERVICE, env=env,
                    unsupported=UNSUPPORTED,
                    description="The pyop batch submitter (op-batcher compatible flags; env "
                                "OP_BATCHER_<NAME>).")  # fmt: skip
    v = p.values
    cfg = BatcherConfig(
        l1_eth_rpc=str(v["l1_eth_rpc"]),
        l2_eth_rpc=_first(v["l2_eth_rpc"]),  # type: ignore[arg-type]
        rollup_rpc=_first(v["rollup_rpc"]),  # type: ignore[arg-type]
        l2_eth_rpcs=tuple(v["l2_eth_rpc"]),  # type: ignore[arg-type]
        rollup_rpcs=tuple(v["rollup_rpc"]),  # type: ignore[arg-type]
        active_sequencer_check_duration=float(v["active_sequencer_check_duration"]),  # type: ignore[arg-type]
        sub_safety_margin=int(v["sub_safety_margin"]),  # type: ignore[call-overload]
        poll_interval=float(v["poll_interval"]),  # type: ignore[arg-type]
        max_pending_tx=int(v["max_pending_tx"]),  # type: ignore[call-overload]
        max_channel_duration=int(v["max_channel_duration"]),  # type: ignore[call-overload]
        max_l1_tx_size_bytes=int(v["max_l1_tx_size_bytes"]),  # type: ignore[call-overload]
        max_blocks_per_span_batch=int(v["max_blocks_per_span_batch"]),  # type: ignore[call-overload]
        target_num_frames=int(v["target_num_frames"]),  # type: ignore[call-overload]
        approx_compr_ratio=float(v["approx_compr_ratio"]),  # type: ignore[arg-type]
        compressor=str(v["compressor"]),
        compression_algo=str(v["compression_algo"]),
        stopped=bool(v["stopped"]),
        batch_type=int(v["batch_type"]),  # type: ignore[call-overload]
        data_availability_type=str(v["data_availability_type"]),
        check_recent_txs_depth=int(v["check_recent_txs_depth"]),  # type: ignore[call-overload]
        wait_node_sync=bool(v["wait_node_sync"]),
        rpc_addr=str(v["rpc_addr"]),
        rpc_port=int(v["rpc_port"]),  # type: ignore[call-overload]
        rpc_enable_admin=bool(v["rpc_enable_admin"]),
        log_level=str(v["log_level"]),
        log_format=str(v["log_format"]),
        log_pid=bool(v["log_pid"]),
        metrics_enabled=bool(v["metrics_enabled"]),
        metrics_addr=str(v["metrics_addr"]),
        metrics_port=int(v["metrics_port"]),  # type: ignore[call-overload]
        altda_enabled=bool(v["altda_enabled"]),
        altda_da_server=str(v["altda_da_server"]),
        altda_da_service=bool(v["altda_da_service"]),
        altda_put_timeout=float(v["altda_put_timeout"]),  # type: ignore[arg-type]
        txmgr=txmgr_config_from_flags(p),
    )
    cfg.check()
    return cfg, p
