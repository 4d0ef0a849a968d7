"""Transaction-manager metrics (op-service/txmgr/metrics/tx_metrics.go), under the owning
service's namespace and the ``txmgr`` subsystem: ``op_batcher_default_txmgr_current_nonce``, ...
"""

from __future__ import annotations

from pyop.opservice.metrics import Registry
from pyop.txmgr.backend import Receipt

__all__ = ["TxMetrics"]

GWEI = 1e9


class TxMetrics:
    """The txmgr series of Go's ``TxMetrics``; ``registry=None`` records nothing."""

    def __init__(self, registry: Registry | None = None, namespace: str = "op_batcher_default") -> None:
        self.enabled = registry is not None
        r = registry if registry is not None else Registry()
        ns = f"{namespace}_txmgr"
        self.fee_gwei = r.gauge(f"{ns}_tx_fee_gwei", "L1 gas fee for transactions in GWEI")
        self.fee_total = r.counter(f"{ns}_tx_fee_gwei_total", "Sum of fees spent for all transactions in GWEI")
        self.gas_bump = r.gauge(f"{ns}_tx_gas_bump", "Number of times a transaction gas needed to be bumped before it got included")
        self.tx_type = r.gauge(f"{ns}_tx_type", "Transaction type (receipt field)")
        self.latency = r.gauge(f"{ns}_tx_confirmed_latency_ms", "Latency of a confirmed transaction in milliseconds")
        self.nonce = r.gauge(f"{ns}_current_nonce", "Current nonce of the from address")
        self.pending = r.gauge(f"{ns}_pending_txs", "Number of transactions pending receipts")
        self.publish_errors = r.counter(f"{ns}_tx_publish_error_count", "Count of publish errors. Labels are sanitized error strings", ["error"])
        self.base_fee = r.gauge(f"{ns}_basefee_wei", "Latest L1 baseFee (in Wei)")
        self.blob_base_fee = r.gauge(f"{ns}_blob_basefee_wei", "Latest Blob baseFee (in Wei)")
        self.tip_cap = r.gauge(f"{ns}_tipcap_wei", "Latest L1 suggested tip cap (in Wei)")
        self.rpc_errors = r.counter(f"{ns}_rpc_error_count", "Temporary: Count of RPC errors (like timeouts) that have occurred")
        self.reorged = r.counter(f"{ns}_reorged_tx_count", "pyop: confirmed transactions removed by an L1 reorg (then re-sent)")  # fmt: skip

    def tx_confirmed(self, receipt: Receipt, bump_count: int, latency_s: float) -> None:
        fee = receipt.fee_wei / GWEI
        self.fee_gwei.set(fee)
        self.fee_total.inc(amount=fee)
        self.gas_bump.set(bump_count)
        self.tx_type.set(receipt.tx_type)
        self.latency.set(latency_s * 1000)

    def tx_published(self, error: str) -> None:
        if error:
            self.publish_errors.inc(error)
