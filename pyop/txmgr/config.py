"""Transaction-manager configuration and its flags (op-service/txmgr/cli.go).

The flag names, environment variable suffixes and defaults are op-service's
``CLIFlagsWithDefaults(envPrefix, DefaultBatcherFlagValues)``, which op-batcher and op-proposer
both use (``OP_BATCHER_NUM_CONFIRMATIONS``, ``OP_PROPOSER_NUM_CONFIRMATIONS``, ...). Fee flags
are in gwei (floats) on the command line and wei here; durations are seconds.

Not supported (refused by name, since they are not in :data:`TXMGR_FLAGS`): the remote signer
(``--signer.*``) and the blob tip oracle (``--txmgr.blob-tip-cap-dynamic`` and its two
parameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from pyop.opservice.flags import FlagSpec, ParsedFlags, flag
from pyop.txmgr.errors import TxManagerConfigError

GWEI = 10**9
MAX_UINT64 = 2**64 - 1
MIN_BLOB_TX_FEE = GWEI
"""geth's 1 gwei minimum blob fee cap for blob transactions (txmgr ``defaultMinBlobTxFee``)."""

__all__ = ["GWEI", "MIN_BLOB_TX_FEE", "TXMGR_FLAGS", "TxManagerConfig", "gwei_to_wei",
           "txmgr_config_from_flags"]  # fmt: skip


def gwei_to_wei(gwei: float | str, what: str = "value") -> int:
    """Go ``eth.GweiToWei``: gwei (a float) to integer wei; refuses negative or non-finite."""
    try:
        d = Decimal(str(gwei))
    except InvalidOperation:
        raise TxManagerConfigError(f"{what}: not a number: {gwei!r}") from None
    if not d.is_finite() or d < 0:
        raise TxManagerConfigError(f"{what}: must be a non-negative number, got {gwei}")
    return int(d * GWEI)


@dataclass(frozen=True, slots=True)
class TxManagerConfig:
    """Everything :class:`~pyop.txmgr.manager.TxManager` needs besides the L1 and the key
    (Go ``txmgr.Config``). Wei and seconds; ``None`` means "no limit"."""

    num_confirmations: int = 10
    safe_abort_nonce_too_low_count: int = 3
    fee_limit_multiplier: int = 5
    fee_limit_threshold: int = 100 * GWEI
    min_tip_cap: int = GWEI
    max_tip_cap: int | None = None
    min_base_fee: int = GWEI
    max_base_fee: int | None = None
    min_blob_tx_fee: int = MIN_BLOB_TX_FEE
    rebroadcast_interval: float = 12.0
    resubmission_timeout: float = 48.0
    network_timeout: float = 10.0
    retry_interval: float = 1.0
    max_retries: int = 10
    tx_send_timeout: float = 0.0
    """0: no timeout (op-batcher's default keeps trying, to preserve tx order for Holocene)."""
    tx_not_in_mempool_timeout: float = 120.0
    receipt_query_interval: float = 12.0
    already_published_custom_errs: tuple[str, ...] = ()
    cell_proof_time: int = MAX_UINT64
    """L1 time from which blob txs carry EIP-7594 cell proofs (the L1 Osaka/Fusaka time)."""
    reorg_watch_depth: int = 64
    """pyop addition: how many L1 blocks a confirmed tx stays watched for an L1 reorg that
    removes it (it is then re-sent; Go's txmgr forgets a tx once confirmed)."""
    extra: Mapping[str, object] = field(default_factory=dict)

    def check(self) -> None:
        """Go ``CLIConfig.Check`` / ``Config.Check``."""
        if self.num_confirmations < 1:
            raise TxManagerConfigError("NumConfirmations must not be 0 (--num-confirmations)")
        if self.network_timeout <= 0:
            raise TxManagerConfigError("must provide NetworkTimeout (--network-timeout)")
        if self.fee_limit_multiplier < 1:
            raise TxManagerConfigError("must provide FeeLimitMultiplier (--fee-limit-multiplier)")
        if self.min_base_fee < self.min_tip_cap:
            raise TxManagerConfigError(
                f"minBaseFee smaller than minTipCap, have {self.min_base_fee} < {self.min_tip_cap} "
                "(--txmgr.min-basefee, --txmgr.min-tip-cap)"
            )
        if self.resubmission_timeout <= 0:
            raise TxManagerConfigError("must provide ResubmissionTimeout (--resubmission-timeout)")
        if self.receipt_query_interval <= 0:
            raise TxManagerConfigError(
                "must provide ReceiptQueryInterval (--txmgr.receipt-query-interval)")
        if self.tx_not_in_mempool_timeout <= 0:
            raise TxManagerConfigError(
                "must provide TxNotInMempoolTimeout (--txmgr.not-in-mempool-timeout)")
        if self.safe_abort_nonce_too_low_count < 1:
            raise TxManagerConfigError(
                "SafeAbortNonceTooLowCount must not be 0 (--safe-abort-nonce-too-low-count)")

    def with_(self, **changes: object) -> TxManagerConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


_D = TxManagerConfig()

#: op-service txmgr flags: key management and ``CLIFlagsWithDefaults``; env suffixes after the
#: service prefix (``OP_BATCHER_``).
TXMGR_FLAGS: tuple[FlagSpec, ...] = (
    flag("mnemonic", "string", "", "MNEMONIC",
         "The mnemonic used to derive the wallets for either the service"),
    flag("hd-path", "string", "", "HD_PATH",
         "The HD path used to derive the sequencer wallet from the mnemonic."),
    flag("private-key", "string", "", "PRIVATE_KEY",
         "The private key to use with the service. Must not be used with mnemonic."),
    flag("num-confirmations", "uint", _D.num_confirmations, "NUM_CONFIRMATIONS",
         "Number of confirmations which we will wait after sending a transaction"),
    flag("safe-abort-nonce-too-low-count", "uint", _D.safe_abort_nonce_too_low_count,
         "SAFE_ABORT_NONCE_TOO_LOW_COUNT",
         "Number of ErrNonceTooLow observations required to give up on a tx at a particular "
         "nonce without receiving confirmation"),
    flag("fee-limit-multiplier", "uint", _D.fee_limit_multiplier, "TXMGR_FEE_LIMIT_MULTIPLIER",
         "The multiplier applied to fee suggestions to put a hard limit on fee increases"),
    flag("txmgr.fee-limit-threshold", "float", 100.0, "TXMGR_FEE_LIMIT_THRESHOLD",
         "The minimum threshold (in GWei) at which fee bumping starts to be capped."),
    flag("txmgr.min-tip-cap", "float", 1.0, "TXMGR_MIN_TIP_CAP",
         "Enforces a minimum tip cap (in GWei) to use when determining tx fees."),
    flag("txmgr.max-tip-cap", "float", 0.0, "TXMGR_MAX_TIP_CAP",
         "Enforces a maximum tip cap (in GWei); 0 disables it."),
    flag("txmgr.min-basefee", "float", 1.0, "TXMGR_MIN_BASEFEE",
         "Enforces a minimum base fee (in GWei) to assume when determining tx fees."),
    flag("txmgr.max-basefee", "float", 0.0, "TXMGR_MAX_BASEFEE",
         "Enforces a maximum base fee (in GWei); 0 disables it."),
    flag("txmgr.rebroadcast-interval", "duration", _D.rebroadcast_interval,
         "TXMGR_REBROADCAST_INTERVAL",
         "Interval at which a published transaction will be rebroadcasted if not yet mined."),
    flag("resubmission-timeout", "duration", _D.resubmission_timeout, "RESUBMISSION_TIMEOUT",
         "Duration we will wait before resubmitting a transaction to L1"),
    flag("network-timeout", "duration", _D.network_timeout, "NETWORK_TIMEOUT",
         "Timeout for all network operations"),
    flag("txmgr.retry-interval", "duration", _D.retry_interval, "TXMGR_RETRY_INTERVAL",
         "Duration we will wait before resubmitting a transaction on a transient error."),
    flag("txmgr.max-retries", "uint", _D.max_retries, "TXMGR_MAX_RETRIES",
         "Maximum number of times to resubmit a transaction on a transient error."),
    flag("txmgr.send-timeout", "duration", _D.tx_send_timeout, "TXMGR_TX_SEND_TIMEOUT",
         "Timeout for sending transactions. If 0 it is disabled."),
    flag("txmgr.not-in-mempool-timeout", "duration", _D.tx_not_in_mempool_timeout,
         "TXMGR_TX_NOT_IN_MEMPOOL_TIMEOUT",
         "Timeout for aborting a tx send if the tx does not make it to the mempool."),
    flag("txmgr.receipt-query-interval", "duration", _D.receipt_query_interval,
         "TXMGR_RECEIPT_QUERY_INTERVAL", "Frequency to poll for receipts"),
    flag("txmgr.already-published-custom-errs", "strings", (),
         "TXMGR_ALREADY_PUBLISHED_CUSTOM_ERRS",
         "List of custom RPC error messages that indicate that a transaction has already been "
         "published."),
    flag("txmgr.cell-proof-time", "uint", MAX_UINT64, "TXMGR_CELL_PROOF_TIME",
         "Enables cell proofs in blob transactions (EIP-7594) from this unix timestamp (the L1 "
         "Fusaka time)."),
    flag("txmgr.reorg-watch-depth", "uint", _D.reorg_watch_depth, "TXMGR_REORG_WATCH_DEPTH",
         "pyop: L1 blocks a confirmed tx is watched for an L1 reorg that removes it (then "
         "re-sent)."),
)  # fmt: skip


def txmgr_config_from_flags(p: ParsedFlags) -> TxManagerConfig:
    """The :class:`TxManagerConfig` of parsed :data:`TXMGR_FLAGS` (Go ``ReadCLIConfig`` +
    ``NewConfig``; the key flags stay in ``p`` for :func:`pyop.txmgr.signer.signer_from_flags`)."""
    v = p.values

    def gwei(dest: str, name: str) -> int:
        return gwei_to_wei(v[dest], f"flag --{name}")  # type: ignore[arg-type]

    max_tip = gwei("txmgr_max_tip_cap", "txmgr.max-tip-cap")
    max_base = gwei("txmgr_max_basefee", "txmgr.max-basefee")
    cfg = TxManagerConfig(
        num_confirmations=int(v["num_confirmations"]),  # type: ignore[call-overload]
        safe_abort_nonce_too_low_count=int(v["safe_abort_nonce_too_low_count"]),  # type: ignore[call-overload]
        fee_limit_multiplier=int(v["fee_limit_multiplier"]),  # type: ignore[call-overload]
        fee_limit_threshold=gwei("txmgr_fee_limit_threshold", "txmgr.fee-limit-threshold"),
        min_tip_cap=gwei("txmgr_min_tip_cap", "txmgr.min-tip-cap"),
        max_tip_cap=max_tip if max_tip > 0 else None,
        min_base_fee=gwei("txmgr_min_basefee", "txmgr.min-basefee"),
        max_base_fee=max_base if max_base > 0 else None,
        rebroadcast_interval=float(v["txmgr_rebroadcast_interval"]),  # type: ignore[arg-type]
        resubmission_timeout=float(v["resubmission_timeout"]),  # type: ignore[arg-type]
        network_timeout=float(v["network_timeout"]),  # type: ignore[arg-type]
        retry_interval=float(v["txmgr_retry_interval"]),  # type: ignore[arg-type]
        max_retries=int(v["txmgr_max_retries"]),  # type: ignore[call-overload]
        tx_send_timeout=float(v["txmgr_send_timeout"]),  # type: ignore[arg-type]
        tx_not_in_mempool_timeout=float(v["txmgr_not_in_mempool_timeout"]),  # type: ignore[arg-type]
        receipt_query_interval=float(v["txmgr_receipt_query_interval"]),  # type: ignore[arg-type]
        already_published_custom_errs=tuple(v["txmgr_already_published_custom_errs"]),  # type: ignore[arg-type]
        cell_proof_time=int(v["txmgr_cell_proof_time"]),  # type: ignore[call-overload]
        reorg_watch_depth=int(v["txmgr_reorg_watch_depth"]),  # type: ignore[call-overload]
    )
    cfg.check()
    return cfg
