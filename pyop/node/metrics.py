"""Prometheus metrics in the text exposition format (version 0.0.4), stdlib only.

Format (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): per
metric family a ``# HELP`` and a ``# TYPE`` line, then one ``name{label="value",...} number``
line per series; label values escape ``\\``, ``"`` and newline; histograms expose cumulative
``_bucket{le="..."}`` series ending with ``le="+Inf"``, then ``_sum`` and ``_count``. As the Go
Prometheus client does, a family with labels is only shown once it has a series.

Families, names, labels, buckets and help texts are op-node v1.19.6's (``op-node/metrics/
metrics.go`` with namespace ``op_node``, subsystem ``default``; ``op-service/metrics``
``ref_metrics.go``, ``event.go``, ``rpc_metrics.go``; the Go client's process collector and
``promhttp`` handler), so the standard OP Grafana dashboards and alerts read pyop node the same
way: ``refs_{number,time,hash,latency}{layer,type}`` and ``refs_seqnr{type}`` for every L1 and L2
head (the ``l1_origin`` layer of each L2 head too), ``derivation_idle``, events as
``<name>_total`` + ``last_<name>_unix`` (pipeline resets, unsafe payloads, derivation and
sequencing errors, sequencer resets, derived batches by type, channel events),
``unsafe_payloads_buffer_{len,mem_size}``, ``l1_reorg_depth``, ``transactions_sequenced_total``,
the sequencer's sealing and building timers, ``l1_request_seconds{request}``,
``rpc_server_*{rpc,method}`` / ``rpc_client_*{rpc,method}``, ``hardfork_activation_timestamp``,
``process_*``.

``rpc_{server,client}_{params,results}_size_total{rpc,method}``, ``channel_input_bytes``, the
P2P families (``p2p_*``, ``peer_scores``, ``publishing_errors``; see :mod:`pyop.p2p.metrics`).

``l1_source_cache_*`` / ``l2_source_cache_*`` meter pyop's L1 RPC caches (types ``headers``, ``txs``,
``receipts``) and the engine L2 reader's (``payloads``), :mod:`pyop.sources.lru`; op-node has more
cache types (``blockrefs``, ``systemconfigs``, ...), so the label sets differ.

Not exported (no equivalent in pyop): ``go_*`` (the Go runtime), ``events_*`` (op-node's event
bus). pyop adds ``derivation_l1_lag_blocks``, ``engine_call_seconds``,
``engine_call_errors_total``, ``derivation_drops_total{reason}``, ``pipeline_resets_by_stage_total``,
``l1_reorg_total``, ``sequencer_errors_total{kind}``, ``unsafe_reorgs_total``.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from pyop.p2p.metrics import PEER_SCORE_TYPES, score_component
from pyop.primitives import L1BlockRef, L2BlockRef

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAMESPACE = "op_node_default"

INF_LABEL = 'le="+Inf"'
DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def escape_label_value(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(v: float) -> str:
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if math.isnan(v):
        return "NaN"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{escape_label_value(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Metric(ABC):
    type_name = "untyped"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: Sequence[str]) -> tuple[str, ...]:
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {tuple(labels)}")
        return tuple(str(x) for x in labels)

    @abstractmethod
    def lines(self) -> list[str]:
        """The sample lines of this metric in the Prometheus text format."""

    def render(self) -> str:
        head = [f"# HELP {self.name} {escape_help(self.help)}", f"# TYPE {self.name} {self.type_name}"]
        return "\n".join(head + self.lines())


class Gauge(_Metric):
    type_name = "gauge"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self._values: dict[tuple[str, ...], float] = {}

    def set(self, value: float, *labels: str) -> None:
        with self._lock:
            self._values[self._key(labels)] = float(value)

    def get(self, *labels: str) -> float | None:
        return self._values.get(self._key(labels))

    def lines(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        if not items and not self.labelnames:
            items = [((), 0.0)]  # an unlabelled metric exists from the start (Go client)
        return [f"{self.name}{_labels(self.labelnames, k)} {format_value(v)}" for k, v in items]


class Counter(Gauge):
    type_name = "counter"

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        with self._lock:
            k = self._key(labels)
            self._values[k] = self._values.get(k, 0.0) + amount


class Histogram(_Metric):
    type_name = "histogram"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:  # fmt: skip
        super().__init__(name, help, labelnames)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}

    def observe(self, value: float, *labels: str) -> None:
        with self._lock:
            k = self._key(labels)
            counts, sc = self._series.setdefault(k, ([0] * len(self.buckets), [0.0, 0.0]))
            for i, b in enumerate(self.buckets):
                if value <= b:
                    counts[i] += 1
            sc[0] += value
            sc[1] += 1

    def count(self, *labels: str) -> int:
        s = self._series.get(self._key(labels))
        return 0 if s is None else int(s[1][1])

    def lines(self) -> list[str]:
        out: list[str] = []
        with self._lock:
            items = sorted((k, (list(c), list(s))) for k, (c, s) in self._series.items())
        if not items and not self.labelnames:
            items = [((), ([0] * len(self.buckets), [0.0, 0.0]))]
        for k, (counts, (total, n)) in items:
            for b, c in zip(self.buckets, counts, strict=True):
                le = f'le="{format_value(b)}"'
                out.append(f"{self.name}_bucket{_labels(self.labelnames, k, le)} {c}")
            out.append(f"{self.name}_bucket{_labels(self.labelnames, k, INF_LABEL)} {int(n)}")
            out.append(f"{self.name}_sum{_labels(self.labelnames, k)} {format_value(total)}")
            out.append(f"{self.name}_count{_labels(self.labelnames, k)} {int(n)}")
        return out


class Registry:
    """A set of metrics rendered together."""

    def __init__(self) -> None:
        self.metrics: list[_Metric] = []

    def add(self, m: _Metric) -> None:
        if any(x.name == m.name for x in self.metrics):
            raise ValueError(f"duplicate metric {m.name}")
        self.metrics.append(m)

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        g = Gauge(name, help, labelnames)
        self.add(g)
        return g

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        c = Counter(name, help, labelnames)
        self.add(c)
        return c

    def histogram(self, name: str, help: str, labelnames: Sequence[str] = (),
                  buckets: Sequence[float] = DEFAULT_BUCKETS) -> Histogram:  # fmt: skip
        h = Histogram(name, help, labelnames, buckets)
        self.add(h)
        return h

    def render(self) -> str:
        parts = []
        for m in self.metrics:
            lines = m.lines()
            if m.labelnames and not lines:
                continue  # the Go client shows a family with labels once it has a series
            parts.append(m.render())
        return "\n".join(p for p in parts if p) + "\n"


def _proc_stat() -> tuple[float, int, int, float] | None:
    """``(cpu seconds, rss bytes, vsize bytes, start time unix)`` from ``/proc/self/stat``."""
    try:
        raw = open("/proc/self/stat").read()  # noqa: SIM115
        rest = raw[raw.rfind(")") + 2 :].split()
        ticks = os.sysconf("SC_CLK_TCK")
        page = os.sysconf("SC_PAGE_SIZE")
        utime, stime = int(rest[11]), int(rest[12])
        start_ticks, vsize, rss = int(rest[19]), int(rest[20]), int(rest[21])
        with open("/proc/stat") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime"))
        return (utime + stime) / ticks, rss * page, vsize, btime + start_ticks / ticks
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _proc_limit(name: str) -> float | None:
    try:
        with open("/proc/self/limits") as f:
            for line in f:
                if line.startswith(name):
                    v = line[len(name):].split()[0]
                    return -1.0 if v == "unlimited" else float(v)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _net_bytes() -> tuple[float, float] | None:
    try:
        rx = tx = 0
        with open("/proc/self/net/dev") as f:
            for line in f.readlines()[2:]:
                fields = line.split(":", 1)[1].split()
                rx += int(fields[0])
                tx += int(fields[8])
        return float(rx), float(tx)
    except (OSError, ValueError, IndexError):
        return None


class ProcessCollector(_Metric):
    """The Go client's ``collectors.NewProcessCollector`` families, read from ``/proc`` at each
    scrape (several families: rendered together)."""

    def __init__(self) -> None:
        super().__init__("process", "process metrics")

    def lines(self) -> list[str]:
        return []

    def render(self) -> str:
        out: list[tuple[str, str, str, float]] = []
        st = _proc_stat()
        if st is not None:
            cpu, rss, vsize, start = st
            out += [("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu),
                    ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss),
                    ("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", start),
                    ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize)]  # fmt: skip
        mx = _proc_limit("Max open files")
        if mx is not None:
            out.append(("process_max_fds", "gauge", "Maximum number of open file descriptors.", mx))
        with contextlib.suppress(OSError):
            out.append(("process_open_fds", "gauge", "Number of open file descriptors.",
                        float(len(os.listdir("/proc/self/fd")))))  # fmt: skip
        vmax = _proc_limit("Max address space")
        if vmax is not None:
            out.append(("process_virtual_memory_max_bytes", "gauge",
                        "Maximum amount of virtual memory available in bytes.", vmax))  # fmt: skip
        net = _net_bytes()
        if net is not None:
            out += [("process_network_receive_bytes_total", "counter",
                     "Number of bytes received by the process over the network.", net[0]),
                    ("process_network_transmit_bytes_total", "counter",
                     "Number of bytes sent by the process over the network.", net[1])]  # fmt: skip
        text = []
        for name, kind, help_, v in sorted(out):
            text += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name} {format_value(v)}"]
        return "\n".join(text)


class Event:
    """op-service ``metrics.Event`` / ``EventVec``: ``<name>_total`` and ``last_<name>_unix``."""

    def __init__(self, r: Registry, ns: str, name: str, display: str, labelnames: Sequence[str] = ()) -> None:
        self.total = r.counter(f"{ns}_{name}_total", f"Count of {display} events", labelnames)
        self.last = r.gauge(f"{ns}_last_{name}_unix", f"Timestamp of last {display} event", labelnames)

    def record(self, *labels: str) -> None:
        self.total.inc(*labels)
        self.last.set(time.time(), *labels)


class CacheMetrics:
    """op-service ``metrics.CacheMetrics``: ``<name>_size{type}``, ``<name>_get{type,hit}``,
    ``<name>_add{type,evicted}`` (a :class:`~pyop.sources.lru.CacheMetricsSink`)."""

    def __init__(self, r: Registry, ns: str, name: str, display: str) -> None:
        self.size = r.gauge(f"{ns}_{name}_size", f"{display} cache size", ["type"])
        self.get = r.counter(f"{ns}_{name}_get", f"{display} lookups, hitting or not", ["type", "hit"])
        self.add = r.counter(f"{ns}_{name}_add", f"{display} additions, evicting previous values or not",
                             ["type", "evicted"])  # fmt: skip

    def cache_add(self, type_label: str, cache_size: int, evicted: bool) -> None:
        self.size.set(cache_size, type_label)
        self.add.inc(type_label, "true" if evicted else "false")

    def cache_get(self, type_label: str, hit: bool) -> None:
        self.get.inc(type_label, "true" if hit else "false")


#: op-node metrics.go buckets
L1_REORG_DEPTH_BUCKETS = (0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 20.5, 50.5, 100.5)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BUILDING_DIFF_BUCKETS = (-10, -5, -2.5, -1, -0.5, -0.25, -0.1, -0.05, -0.025, -0.01, -0.005,
                         0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)  # fmt: skip
#: op-node ``PeerScores`` buckets
PEER_SCORE_BUCKETS = (-100, -40, -20, -10, -5, -2, -1, -0.5, -0.05, 0, 0.05, 0.5, 1, 2, 5, 10, 20, 40)
#: the Go client's ``prometheus.DefBuckets``, used when a histogram gives none (op-node's
#: ``p2p_req_duration_seconds`` has ``Buckets: []float64{}``)
DEFAULT_BUCKETS_GO = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: ``hardfork_activation_timestamp`` forks (op-node ``RecordHardforkActivationTimes``): pyop
#: config field -> op-node fork label, activation basis
HARDFORK_FIELDS = (
    ("regolith_time", "regolith", "l2_timestamp"), ("canyon_time", "canyon", "l2_timestamp"),
    ("delta_time", "delta", "l2_timestamp"), ("ecotone_time", "ecotone", "l2_timestamp"),
    ("fjord_time", "fjord", "l2_timestamp"), ("granite_time", "granite", "l2_timestamp"),
    ("holocene_time", "holocene", "l2_timestamp"), ("isthmus_time", "isthmus", "l2_timestamp"),
    ("jovian_time", "jovian", "l2_timestamp"), ("karst_time", "karst", "l2_timestamp"),
    ("lagoon_time", "lagoon", "l2_timestamp"),
    ("pectra_blob_schedule_time", "pectra_blob_schedule", "l1_origin_timestamp"),
)  # fmt: skip


class NodeMetrics:
    """The node's metrics (see the module docstring)."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        ns = namespace
        self.registry = r = Registry()
        self.info = r.gauge(f"{ns}_info", "Pseudo-metric tracking version and config info", ["version"])
        # op-node metrics.go: the L1 RPC source's and the engine's L2 source's caches
        self.l1_source_cache = CacheMetrics(r, ns, "l1_source_cache", "L1 Source cache")
        self.l2_source_cache = CacheMetrics(r, ns, "l2_source_cache", "L2 Source cache")
        self.up = r.gauge(f"{ns}_up", "1 if the op node has finished starting up")
        self.hardfork_activation = r.gauge(f"{ns}_hardfork_activation_timestamp",
                                           "Configured hardfork activation timestamp by fork",
                                           ["chain_id", "fork", "activation_basis"])  # fmt: skip
        # op-service RPCMetrics: the rollup RPC server ("main") and the clients ("l1", "engine-api")
        self.rpc_server_requests = r.counter(f"{ns}_rpc_server_requests_total",
                                             "Total requests to the RPC server", ["rpc", "method"])  # fmt: skip
        self.rpc_server_duration = r.histogram(f"{ns}_rpc_server_request_duration_seconds",
                                               "Histogram of RPC server request durations",
                                               ["rpc", "method"], REQUEST_BUCKETS)  # fmt: skip
        self.rpc_server_responses = r.counter(f"{ns}_rpc_server_responses_total",
                                              "Total RPC request responses served", ["rpc", "method", "error"])  # fmt: skip
        self.rpc_client_requests = r.counter(f"{ns}_rpc_client_requests_total",
                                             "Total RPC requests initiated", ["rpc", "method"])  # fmt: skip
        self.rpc_client_duration = r.histogram(f"{ns}_rpc_client_request_duration_seconds",
                                               "Histogram of RPC client request durations",
                                               ["rpc", "method"], REQUEST_BUCKETS)  # fmt: skip
        self.rpc_client_responses = r.counter(f"{ns}_rpc_client_responses_total",
                                              "Total RPC request responses received", ["rpc", "method", "error"])  # fmt: skip
        # op-service RPCMetrics size counters: bytes of the raw JSON ``params`` / ``result``
        # values (op-geth ``RecordedMsg.MsgParams`` / ``MsgResult``; results of successful
        # calls only)
        self.rpc_client_params_size = r.counter(f"{ns}_rpc_client_params_size_total",
                                                "Total bytes of RPC params sent", ["rpc", "method"])  # fmt: skip
        self.rpc_client_results_size = r.counter(f"{ns}_rpc_client_results_size_total",
                                                 "Total bytes of RPC results received", ["rpc", "method"])  # fmt: skip
        self.rpc_server_params_size = r.counter(f"{ns}_rpc_server_params_size_total",
                                                "Total bytes of RPC params received", ["rpc", "method"])  # fmt: skip
        self.rpc_server_results_size = r.counter(f"{ns}_rpc_server_results_size_total",
                                                 "Total bytes of RPC results sent back", ["rpc", "method"])  # fmt: skip
        self.derivation_idle = r.gauge(f"{ns}_derivation_idle", "1 if the derivation pipeline is idle")
        self.pipeline_resets = Event(r, ns, "pipeline_resets", "derivation pipeline resets")
        self.unsafe_payloads = Event(r, ns, "unsafe_payloads", "unsafe payloads")
        self.derivation_errors = Event(r, ns, "derivation_errors", "derivation errors")
        self.sequencing_errors = Event(r, ns, "sequencing_errors", "sequencing errors")
        self.sequencer_active = r.gauge(f"{ns}_sequencer_active", "1 if sequencer active, 0 otherwise")
        self.derived_batches = Event(r, ns, "derived_batches", "derived batches", ["type"])
        self.sequencer_inconsistent_l1_origin = Event(
            r, ns, "sequencer_inconsistent_l1_origin", "events when the sequencer selects an inconsistent L1 origin")
        self.sequencer_resets = Event(r, ns, "sequencer_resets", "sequencer resets")
        self.unsafe_payloads_buffer_len = r.gauge(f"{ns}_unsafe_payloads_buffer_len",
                                                  "Number of buffered L2 unsafe payloads")  # fmt: skip
        self.unsafe_payloads_buffer_mem = r.gauge(f"{ns}_unsafe_payloads_buffer_mem_size",
                                                  "Total estimated memory size of buffered L2 unsafe payloads")  # fmt: skip
        self.refs_number = r.gauge(f"{ns}_refs_number", "Gauge representing the different L1/L2 "
                                   "reference block numbers", ["layer", "type"])  # fmt: skip
        self.refs_time = r.gauge(f"{ns}_refs_time", "Gauge representing the different L1/L2 "
                                 "reference block timestamps", ["layer", "type"])  # fmt: skip
        self.refs_hash = r.gauge(f"{ns}_refs_hash", "Gauge representing the different L1/L2 "
                                 "reference block hashes truncated to float values", ["layer", "type"])  # fmt: skip
        self.refs_seqnr = r.gauge(f"{ns}_refs_seqnr", "Gauge representing the different L2 "
                                  "reference sequence numbers", ["type"])  # fmt: skip
        self.refs_latency = r.gauge(f"{ns}_refs_latency", "Gauge representing the different L1/L2 "
                                    "reference block timestamps minus current time, in seconds", ["layer", "type"])  # fmt: skip
        self.l1_reorg_depth = r.histogram(f"{ns}_l1_reorg_depth", "Histogram of L1 Reorg Depths", (),
                                          L1_REORG_DEPTH_BUCKETS)  # fmt: skip
        self.transactions_sequenced = r.counter(f"{ns}_transactions_sequenced_total",
                                                "Count of total transactions sequenced", ["type"])  # fmt: skip
        self.l1_request_seconds = r.histogram(f"{ns}_l1_request_seconds", "Histogram of L1 request time",
                                              ["request"], REQUEST_BUCKETS)  # fmt: skip
        self.sequencer_building_diff = r.histogram(f"{ns}_sequencer_building_diff_seconds",
                                                   "Histogram of Sequencer building time, minus block time",
                                                   (), BUILDING_DIFF_BUCKETS)  # fmt: skip
        self.sequencer_building_diff_total = r.counter(f"{ns}_sequencer_building_diff_total",
                                                       "Number of sequencer block building jobs")  # fmt: skip
        self.sequencer_sealing = r.histogram(f"{ns}_sequencer_sealing_seconds",
                                             "Histogram of Sequencer block sealing time", (), REQUEST_BUCKETS)  # fmt: skip
        self.sequencer_sealing_total = r.counter(f"{ns}_sequencer_sealing_total",
                                                 "Number of sequencer block sealing jobs")  # fmt: skip
        self.channel_timeout = Event(r, ns, "channel_timeout", "Channel has timed out")
        self.frame_added = Event(r, ns, "frame_added", "New frame ingested in the channel bank")
        self.head_channel = Event(r, ns, "head_channel", "New channel at the front of the channel bank")
        self.storage_errors = Event(r, ns, "storage_errors", "errors when fetching or uploading to storage service")
        self.channel_input_bytes = r.counter(f"{ns}_channel_input_bytes",
                                             "Number of compressed bytes added to the channel")  # fmt: skip
        # --- P2P (op-node metrics.go; fed by pyop/p2p through the P2PMetricer methods below)
        self.publishing_errors = Event(r, ns, "publishing_errors", "p2p publishing errors")
        self.p2p_peer_count = r.gauge(f"{ns}_p2p_peer_count", "Count of currently connected p2p peers")
        self.peer_scores = r.histogram(f"{ns}_peer_scores", "Histogram of currently connected peer scores",
                                       ["type"], PEER_SCORE_BUCKETS)  # fmt: skip
        self.p2p_stream_count = r.gauge(f"{ns}_p2p_stream_count", "Count of currently connected p2p streams")
        self.p2p_gossip_events = r.counter(f"{ns}_p2p_gossip_events_total", "Count of gossip events by type",
                                           ["type"])  # fmt: skip
        self.p2p_bandwidth = r.gauge(f"{ns}_p2p_bandwidth_bytes_total", "P2P bandwidth by direction", ["direction"])
        self.p2p_peer_unbans = r.counter(f"{ns}_p2p_peer_unbans", "Count of peer unbans")
        self.p2p_ip_unbans = r.counter(f"{ns}_p2p_ip_unbans", "Count of IP unbans")
        self.p2p_dials = r.counter(f"{ns}_p2p_dials",
                                   "Count of outgoing dial attempts, with label to filter to allowed attempts",
                                   ["allow"])  # fmt: skip
        self.p2p_accepts = r.counter(f"{ns}_p2p_accepts", "Count of incoming dial attempts to accept, "
                                     "with label to filter to allowed attempts", ["allow"])  # fmt: skip
        self.p2p_req_duration = r.histogram(f"{ns}_p2p_req_duration_seconds", "Duration of P2P requests",
                                            ["p2p_role", "p2p_method", "result_code"], DEFAULT_BUCKETS_GO)  # fmt: skip
        self.p2p_req_total = r.counter(f"{ns}_p2p_req_total", "Number of P2P requests",
                                       ["p2p_role", "p2p_method", "result_code"])  # fmt: skip
        self.p2p_payload_by_number = r.gauge(f"{ns}_p2p_payload_by_number", "Payload by number requests",
                                             ["p2p_role"])  # fmt: skip
        # --- pyop's own
        self.derivation_lag = r.gauge(f"{ns}_derivation_l1_lag_blocks",
                                      "L1 head number minus the L1 block derivation is at")  # fmt: skip
        self.engine_latency = r.histogram(f"{ns}_engine_call_seconds",
                                          "Engine API call latency by method", ["method"])  # fmt: skip
        self.engine_errors = r.counter(f"{ns}_engine_call_errors_total",
                                       "Engine API calls that failed, by method", ["method"])  # fmt: skip
        self.resets_by_stage = r.counter(f"{ns}_pipeline_resets_by_stage_total",
                                         "Derivation pipeline / engine resets, by the stage that asked", ["stage"])  # fmt: skip
        self.drops = r.counter(f"{ns}_derivation_drops_total",
                               "Items dropped by the derivation pipeline, by reason", ["reason"])  # fmt: skip
        self.l1_reorgs = r.counter(f"{ns}_l1_reorg_total", "L1 reorgs seen by the L1 watcher")
        self.sequenced_blocks = r.counter(f"{ns}_sequencer_blocks_total", "Blocks sealed by the sequencer")
        self.sequencer_errors = r.counter(f"{ns}_sequencer_errors_total",
                                          "Sequencer errors, by kind", ["kind"])  # fmt: skip
        self.unsafe_reorgs = r.counter(f"{ns}_unsafe_reorgs_total",
                                       "Unsafe blocks replaced by blocks derived from L1 (consolidation mismatches)")  # fmt: skip
        self.process = ProcessCollector()
        r.add(self.process)
        self.promhttp_requests = r.counter("promhttp_metric_handler_requests_total",
                                           "Total number of scrapes by HTTP status code.", ["code"])  # fmt: skip
        self.promhttp_in_flight = r.gauge("promhttp_metric_handler_requests_in_flight",
                                          "Current number of scrapes being served.")  # fmt: skip
        self.derivation_idle.set(0)
        self.sequencer_active.set(0)
        self.unsafe_payloads_buffer_len.set(0)
        self.unsafe_payloads_buffer_mem.set(0)
        self.promhttp_in_flight.set(0)
        for code in ("200", "500", "503"):  # the Go promhttp handler starts with these
            self.promhttp_requests.inc(code, amount=0)
        self._latency_seen: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ refs (op-service RefMetrics)

    def record_ref(self, layer: str, kind: str, number: int, timestamp: int, block_hash: bytes = b"") -> None:
        """op-service ``recordRefWithLabels``: number; time and (the first time a hash is seen
        for ``kind``) latency = time - now; the hash's first 8 bytes (little-endian) as a float."""
        with self._lock:
            self.refs_number.set(number, layer, kind)
            if timestamp:
                self.refs_time.set(timestamp, layer, kind)
                if self._latency_seen.get(kind) != block_hash:
                    self._latency_seen[kind] = block_hash
                    self.refs_latency.set(timestamp - time.time(), layer, kind)
            h = (block_hash + bytes(8))[:8]
            self.refs_hash.set(float(int.from_bytes(h, "little")), layer, kind)

    def record_l1_ref(self, kind: str, ref: L1BlockRef) -> None:
        self.record_ref("l1", kind, ref.number, ref.timestamp, ref.hash)

    def record_l2_ref(self, kind: str, ref: L2BlockRef) -> None:
        self.record_ref("l2", kind, ref.number, ref.timestamp, ref.hash)
        self.record_ref("l1_origin", kind, ref.l1_origin.number, 0, ref.l1_origin.hash)
        self.refs_seqnr.set(ref.sequence_number, kind)

    # ------------------------------------------------------------------ events

    def record_pipeline_reset(self, stage: str) -> None:
        self.pipeline_resets.record()
        self.resets_by_stage.inc(stage)

    def record_unsafe_payloads(self, length: int, mem_size: int) -> None:
        self.unsafe_payloads_buffer_len.set(length)
        self.unsafe_payloads_buffer_mem.set(mem_size)

    def record_l1_reorg(self, depth: int | None) -> None:
        self.l1_reorgs.inc()
        if depth is not None:
            self.l1_reorg_depth.observe(depth)

    def record_sequencer_sealing(self, seal_seconds: float, build_seconds: float, block_time: int) -> None:
        """op-node ``sealBuild``: sealing time and building time minus the block time."""
        self.sequencer_sealing.observe(seal_seconds)
        self.sequencer_sealing_total.inc()
        self.sequencer_building_diff.observe(build_seconds - block_time)
        self.sequencer_building_diff_total.inc()

    def record_sequenced_txs(self, txs: int, deposits: int) -> None:
        """op-node ``CountSequencedTxsInBlock``: ``deposits`` is the index of the last deposit
        (op-node's ``lastDeposit``), ``txns`` the number of transactions."""
        self.transactions_sequenced.inc("deposits", amount=deposits)
        self.transactions_sequenced.inc("txns", amount=txs)

    def record_hardforks(self, cfg: object, chain_id: int) -> None:
        for field_name, fork, basis in HARDFORK_FIELDS:
            ts = getattr(cfg, field_name, None)
            if isinstance(ts, int):
                self.hardfork_activation.set(ts, str(chain_id), fork, basis)
        karst = getattr(cfg, "karst_time", None)
        if getattr(cfg, "keep_karst_upgrade_gas", False) and isinstance(karst, int):
            self.hardfork_activation.set(karst, str(chain_id), "keep_karst_upgrade_gas", "l2_timestamp")

    # ------------------------------------------------------------------ rpc

    def record_rpc_server(self, method: str, seconds: float, error: int | None) -> None:
        self.rpc_server_requests.inc("main", method)
        self.rpc_server_duration.observe(seconds, "main", method)
        self.rpc_server_responses.inc("main", method, "<nil>" if error is None else f"rpc_{error}")

    def record_rpc_client(self, rpc: str, method: str, seconds: float, error: int | None = None,
                          ok: bool = True) -> None:  # fmt: skip
        self.rpc_client_requests.inc(rpc, method)
        self.rpc_client_duration.observe(seconds, rpc, method)
        if ok or error is not None:
            self.rpc_client_responses.inc(rpc, method, "<nil>" if error is None else f"rpc_{error}")

    def record_rpc_sizes(self, side: str, rpc: str, method: str, params_size: int,
                         result_size: int | None) -> None:  # fmt: skip
        """op-service ``rpcRecorder``: ``params_size`` bytes of the request's params;
        ``result_size`` bytes of the result (``None``: an error or no answer, not counted).
        ``side``: ``"client"`` or ``"server"``."""
        params, results = ((self.rpc_client_params_size, self.rpc_client_results_size) if side == "client"
                           else (self.rpc_server_params_size, self.rpc_server_results_size))  # fmt: skip
        params.inc(rpc, method, amount=params_size)
        if result_size is not None:
            results.inc(rpc, method, amount=result_size)

    def record_channel_input_bytes(self, n: int) -> None:
        """op-node ``RecordChannelInputBytes``."""
        self.channel_input_bytes.inc(amount=n)

    # ------------------------------------------------------------------ p2p (pyop.p2p.metrics.P2PMetricer)

    def inc_peer_count(self) -> None:
        with self._lock:
            self.p2p_peer_count.set((self.p2p_peer_count.get() or 0.0) + 1)

    def dec_peer_count(self) -> None:
        with self._lock:
            self.p2p_peer_count.set((self.p2p_peer_count.get() or 0.0) - 1)

    def inc_stream_count(self) -> None:
        with self._lock:
            self.p2p_stream_count.set((self.p2p_stream_count.get() or 0.0) + 1)

    def dec_stream_count(self) -> None:
        with self._lock:
            self.p2p_stream_count.set((self.p2p_stream_count.get() or 0.0) - 1)

    def record_gossip_event(self, event_type: str) -> None:
        self.p2p_gossip_events.inc(event_type)

    def record_bandwidth(self, total_in: int, total_out: int) -> None:
        self.p2p_bandwidth.set(total_in, "in")
        self.p2p_bandwidth.set(total_out, "out")

    def set_peer_scores(self, scores: list[Mapping[str, object]]) -> None:
        """op-node ``SetPeerScores``: one observation per peer and component."""
        for sc in scores:
            for label, path in PEER_SCORE_TYPES:
                self.peer_scores.observe(score_component(sc, path), label)

    def record_dial(self, allow: bool) -> None:
        self.p2p_dials.inc("true" if allow else "false")

    def record_accept(self, allow: bool) -> None:
        self.p2p_accepts.inc("true" if allow else "false")

    def record_peer_unban(self) -> None:
        self.p2p_peer_unbans.inc()

    def record_ip_unban(self) -> None:
        self.p2p_ip_unbans.inc()

    def server_payload_by_number_event(self, num: int, result_code: int, seconds: float) -> None:
        """op-node ``ServerPayloadByNumberEvent``."""
        code = str(result_code)
        self.p2p_req_total.inc("server", "payload_by_number", code)
        self.p2p_req_duration.observe(seconds, "server", "payload_by_number", code)
        self.p2p_payload_by_number.set(num, "server")

    def record_publishing_error(self) -> None:
        self.publishing_errors.record()

    def record_engine_call(self, method: str, seconds: float, ok: bool) -> None:
        self.engine_latency.observe(seconds, method)
        self.record_rpc_client("engine-api", method, seconds, ok=ok)
        if not ok:
            self.engine_errors.inc(method)

    def render(self) -> str:
        self.promhttp_in_flight.set(1)
        try:
            return self.registry.render()
        finally:
            self.promhttp_in_flight.set(0)
            self.promhttp_requests.inc("200")
