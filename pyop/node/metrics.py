"""Prometheus metrics in the text exposition format (version 0.0.4), stdlib only.

Format (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): per
metric family a ``# HELP`` and a ``# TYPE`` line, then one ``name{label="value",...} number``
line per series; label values escape ``\\``, ``"`` and newline; histograms expose cumulative
``_bucket{le="..."}`` series ending with ``le="+Inf"``, then ``_sum`` and ``_count``.

Names follow op-node's (``op-node/metrics/metrics.go``, namespace ``op_node``, subsystem
``default``): ``op_node_default_refs_number{layer,type}``, ``op_node_default_up``; pyop adds the
derivation lag, engine call latency per method, resets, drops and reorgs.
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence

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
        return "\n".join(m.render() for m in self.metrics) + "\n"


class NodeMetrics:
    """The node's metrics (see the module docstring)."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        ns = namespace
        self.registry = r = Registry()
        self.up = r.gauge(f"{ns}_up", "1 if the op node has finished starting up")
        self.info = r.gauge(f"{ns}_info", "Pseudo-metric tracking version and config info", ["version"])
        self.refs_number = r.gauge(f"{ns}_refs_number", "Gauge representing the different L1/L2 "
                                   "reference block numbers", ["layer", "type"])  # fmt: skip
        self.refs_time = r.gauge(f"{ns}_refs_time", "Gauge representing the different L1/L2 "
                                 "reference block timestamps", ["layer", "type"])  # fmt: skip
        self.derivation_lag = r.gauge(f"{ns}_derivation_l1_lag_blocks",
                                      "L1 head number minus the L1 block derivation is at")  # fmt: skip
        self.engine_latency = r.histogram(f"{ns}_engine_call_seconds",
                                          "Engine API call latency by method", ["method"])  # fmt: skip
        self.engine_errors = r.counter(f"{ns}_engine_call_errors_total",
                                       "Engine API calls that failed, by method", ["method"])  # fmt: skip
        self.resets = r.counter(f"{ns}_pipeline_resets_total",
                                "Derivation pipeline / engine resets, by stage", ["stage"])  # fmt: skip
        self.drops = r.counter(f"{ns}_derivation_drops_total",
                               "Items dropped by the derivation pipeline, by reason", ["reason"])  # fmt: skip
        self.l1_reorgs = r.counter(f"{ns}_l1_reorg_total", "L1 reorgs seen by the L1 watcher")
        self.sequencer_active = r.gauge(f"{ns}_sequencer_active", "1 if the sequencer is active")
        self.sequenced_blocks = r.counter(f"{ns}_sequencer_blocks_total", "Blocks sealed by the sequencer")
        self.sequencer_errors = r.counter(f"{ns}_sequencer_errors_total",
                                          "Sequencer errors, by kind", ["kind"])  # fmt: skip
        self.rpc_requests = r.counter(f"{ns}_rpc_server_requests_total",
                                      "Rollup RPC requests, by method", ["method"])  # fmt: skip

    def record_ref(self, layer: str, kind: str, number: int, timestamp: int) -> None:
        self.refs_number.set(number, layer, kind)
        self.refs_time.set(timestamp, layer, kind)

    def record_engine_call(self, method: str, seconds: float, ok: bool) -> None:
        self.engine_latency.observe(seconds, method)
        if not ok:
            self.engine_errors.inc(method)

    def render(self) -> str:
        return self.registry.render()
