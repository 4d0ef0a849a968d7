"""Prometheus metrics in the text exposition format 0.0.4 (op-service ``metrics``).

Format (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): per
family a ``# HELP`` and a ``# TYPE`` line, then ``name{label="value",...} number`` per series;
label values escape ``\\``, ``"`` and newline; a histogram has cumulative
``_bucket{le="..."}`` series ending with ``le="+Inf"``, then ``_sum`` and ``_count``.
:func:`metrics_app` serves a :class:`Registry` on ``GET /metrics`` (op-service
``metrics.StartServer``).
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence

from aiohttp import web

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

__all__ = ["CONTENT_TYPE", "Counter", "Gauge", "Histogram", "Registry", "metrics_app"]


def _esc_label(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(v: float) -> str:
    """A sample value: integers without a fraction, ``+Inf``/``-Inf``/``NaN``."""
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if math.isnan(v):
        return "NaN"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_esc_label(v)}"' for n, v in zip(names, values, strict=True)]
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
        """The sample lines."""

    def render(self) -> str:
        help_ = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        return "\n".join([f"# HELP {self.name} {help_}", f"# TYPE {self.name} {self.type_name}",
                          *self.lines()])  # fmt: skip


class Gauge(_Metric):
    type_name = "gauge"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self._values: dict[tuple[str, ...], float] = {}

    def set(self, value: float, *labels: str) -> None:
        with self._lock:
            self._values[self._key(labels)] = float(value)

    def add(self, amount: float, *labels: str) -> None:
        with self._lock:
            k = self._key(labels)
            self._values[k] = self._values.get(k, 0.0) + amount

    def get(self, *labels: str) -> float | None:
        return self._values.get(self._key(labels))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def lines(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.labelnames, k)} {format_value(v)}" for k, v in items]


class Counter(Gauge):
    type_name = "counter"

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self.add(amount, *labels)


class Histogram(_Metric):
    type_name = "histogram"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:  # fmt: skip
        super().__init__(name, help, labelnames)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}

    def observe(self, value: float, *labels: str) -> None:
        with self._lock:
            counts, sc = self._series.setdefault(self._key(labels),
                                                 ([0] * len(self.buckets), [0.0, 0.0]))  # fmt: skip
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
            inf = 'le="+Inf"'
            out.append(f"{self.name}_bucket{_labels(self.labelnames, k, inf)} {int(n)}")
            out.append(f"{self.name}_sum{_labels(self.labelnames, k)} {format_value(total)}")
            out.append(f"{self.name}_count{_labels(self.labelnames, k)} {int(n)}")
        return out


class Registry:
    """The metrics of one service, rendered together."""

    def __init__(self) -> None:
        self.metrics: list[_Metric] = []

    def _add(self, m: _Metric) -> None:
        if any(x.name == m.name for x in self.metrics):
            raise ValueError(f"duplicate metric {m.name}")
        self.metrics.append(m)

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        g = Gauge(name, help, labelnames)
        self._add(g)
        return g

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        c = Counter(name, help, labelnames)
        self._add(c)
        return c

    def histogram(self, name: str, help: str, labelnames: Sequence[str] = (),
                  buckets: Sequence[float] = DEFAULT_BUCKETS) -> Histogram:  # fmt: skip
        h = Histogram(name, help, labelnames, buckets)
        self._add(h)
        return h

    def render(self) -> str:
        return "\n".join(m.render() for m in self.metrics) + "\n"


def metrics_app(registry: Registry) -> web.Application:
    """An aiohttp app serving ``registry`` on ``GET /metrics``."""
    app = web.Application()

    async def get(_request: web.Request) -> web.Response:
        return web.Response(body=registry.render().encode(), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/metrics", get)
    return app
