"""Batcher metrics under op-batcher's names (op-batcher/metrics/metrics.go, namespace
``op_batcher_default``): ``op_batcher_default_up``, ``..._channel_total{stage}``,
``..._batcher_tx_total{stage}``, ``..._refs_number{layer,type}``, the channel size series, and
the txmgr series (:class:`pyop.txmgr.metrics.TxMetrics`, ``..._txmgr_*``). DA throttling
metrics are absent (pyop batcher does not throttle)."""

from __future__ import annotations

import time

from pyop.opservice.metrics import Registry
from pyop.primitives import L1BlockRef, L2BlockRef
from pyop.txmgr.metrics import TxMetrics

NAMESPACE = "op_batcher_default"
STAGE_LOADED = "loaded"
STAGE_OPENED = "opened"
STAGE_ADDED = "added"
STAGE_CLOSED = "closed"
STAGE_FULLY_SUBMITTED = "fully_submitted"
STAGE_TIMED_OUT = "timed_out"
TX_SUBMITTED = "submitted"
TX_SUCCESS = "success"
TX_FAILED = "failed"

__all__ = ["NAMESPACE", "BatcherMetrics"]


class BatcherMetrics:
    """See the module docstring."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        ns = namespace
        self.registry = r = Registry()
        self.info = r.gauge(f"{ns}_info", "Pseudo-metric tracking version and config info", ["version"])
        self.up = r.gauge(f"{ns}_up", "1 if the op-batcher has finished starting up")
        self.channel_evs = r.counter(f"{ns}_channel_total", "Count of channel events", ["stage"])
        self.channel_last = r.gauge(f"{ns}_last_channel_unix", "Timestamp of last channel event", ["stage"])
        self.tx_evs = r.counter(f"{ns}_batcher_tx_total", "Count of BatcherTx events", ["stage"])
        self.pending_blocks = r.gauge(f"{ns}_pending_blocks_count", "Number of pending blocks, not added to a channel yet.", ["stage"])
        self.pending_bytes_total = r.counter(f"{ns}_pending_blocks_bytes_total", "Total size of transactions in pending blocks as they are fetched from L2")
        self.pending_bytes_current = r.gauge(f"{ns}_pending_blocks_bytes_current", "Current size of transactions in the pending (fetched from L2 but not in a channel) stage.")
        self.blocks_added = r.gauge(f"{ns}_blocks_added_count", "Total number of blocks added to current channel.")
        self.input_bytes = r.gauge(f"{ns}_input_bytes", "Number of input bytes to a channel.", ["stage"])
        self.ready_bytes = r.gauge(f"{ns}_ready_bytes", "Number of bytes ready in the compression buffer.")
        self.output_bytes = r.gauge(f"{ns}_output_bytes", "Number of compressed output bytes from a channel.")
        self.num_frames = r.gauge(f"{ns}_channel_num_frames", "Total number of frames of closed channel.")
        self.compr_ratio = r.histogram(f"{ns}_channel_compr_ratio", "Compression ratios of closed channel.",
                                       buckets=tuple(i / 10 for i in range(1, 11)))
        self.input_total = r.counter(f"{ns}_input_bytes_total", "Total number of bytes to a channel.")
        self.output_total = r.counter(f"{ns}_output_bytes_total", "Total number of compressed output bytes from a channel.")
        self.queue_length = r.gauge(f"{ns}_channel_queue_length", "The number of channels currently in memory.")
        self.blob_used = r.histogram(f"{ns}_blob_used_bytes", "Blob size in bytes (of last blob only for multi-blob txs).",
                                     buckets=tuple(i * 13_000 for i in range(1, 11)))
        self.refs_number = r.gauge(f"{ns}_refs_number", "Gauge representing the different L1/L2 reference block numbers", ["layer", "type"])
        self.refs_time = r.gauge(f"{ns}_refs_time", "Gauge representing the different L1/L2 reference block timestamps", ["layer", "type"])
        self.balance = r.gauge(f"{ns}_balance", "Balance of the batcher account (ETH)")
        self.l2_reorgs = r.counter(f"{ns}_l2_reorg_total", "pyop: L2 reorgs seen while loading blocks")
        self.l1_reorged_txs = r.counter(f"{ns}_l1_reorged_tx_total", "pyop: confirmed batcher txs an L1 reorg removed or moved", ["kind"])
        self.da_put_errors = r.counter(f"{ns}_altda_put_errors_total", "pyop: failed alt-DA server puts")
        self.txmgr = TxMetrics(r, ns)  # fmt: skip

    def record_info(self, version: str) -> None:
        self.info.set(1, version)

    def channel_event(self, stage: str) -> None:
        self.channel_evs.inc(stage)
        self.channel_last.set(time.time(), stage)

    def tx_event(self, stage: str) -> None:
        self.tx_evs.inc(stage)

    def record_l1_ref(self, kind: str, ref: L1BlockRef) -> None:
        self.refs_number.set(ref.number, "l1", kind)
        self.refs_time.set(ref.timestamp, "l1", kind)

    def record_l2_ref(self, kind: str, ref: L2BlockRef) -> None:
        self.refs_number.set(ref.number, "l2", kind)
        self.refs_time.set(ref.timestamp, "l2", kind)

    def render(self) -> str:
        return self.registry.render()
