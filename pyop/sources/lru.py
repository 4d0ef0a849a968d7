"""The least-recently-used caches of the RPC sources, metered like op-node's.

op-node v1.19.6 keeps its RPC reads in ``op-service/sources/caching.LRUCache``s, each with a
*type* label (``headers``, ``txs``, ``receipts``, ``payloads``, ...), and meters every lookup
(``CacheGet(type, hit)``) and every addition (``CacheAdd(type, size after, evicted)``) into
``op_node_default_l1_source_cache_*`` / ``l2_source_cache_*``
(:class:`pyop.node.metrics.CacheMetrics`). :class:`LRUCache` does the same through the
:class:`CacheMetricsSink` it is given (none: not metered).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Protocol, TypeVar

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["CacheMetricsSink", "LRUCache"]


class CacheMetricsSink(Protocol):
    """op-service ``caching.Metrics``."""

    def cache_add(self, type_label: str, cache_size: int, evicted: bool) -> None: ...

    def cache_get(self, type_label: str, hit: bool) -> None: ...


class LRUCache(Generic[K, V]):
    """A small least-recently-used map of at most ``size`` entries; ``label`` and ``metrics``:
    the op-node cache type it stands for and where lookups and additions are metered."""

    def __init__(self, size: int, *, label: str = "", metrics: CacheMetricsSink | None = None) -> None:
        self.size = size
        self.label = label
        self.metrics = metrics
        self._d: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        v = self._d.get(key)
        if v is not None:
            self._d.move_to_end(key)
        if self.metrics is not None:
            self.metrics.cache_get(self.label, v is not None)
        return v

    def put(self, key: K, value: V) -> None:
        """Add or refresh ``key``; the oldest entry goes when the cache is full (op-node's
        ``evicted``: an addition that pushed another entry out)."""
        self._d[key] = value
        self._d.move_to_end(key)
        evicted = False
        while len(self._d) > self.size:
            self._d.popitem(last=False)
            evicted = True
        if self.metrics is not None:
            self.metrics.cache_add(self.label, len(self._d), evicted)

    def __len__(self) -> int:
        return len(self._d)
