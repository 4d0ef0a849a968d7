"""The dashboard's bounded view of a devnet, and the pushed updates the page receives.

Everything the page shows is here as plain JSON-able rows, bounded: the newest ``max_l2`` L2
blocks and ``max_l1`` L1 blocks, ``max_history`` points of the heads chart and the last
``max_events`` reorgs and narration lines. The collector (:mod:`pyop.dashboard.collector`) fills
it from RPC; the server streams every change to each page as server-sent events (one event per
kind per collector tick, never per block), after a first ``snapshot``.

Row shapes (keys kept short: 10,000 rows travel in the snapshot):

- L2 row: ``n`` number, ``h`` hash, ``p`` parent hash, ``t`` timestamp, ``o`` L1 origin number,
  ``oh`` origin hash, ``sq`` sequence number in the epoch, ``tx`` user (non-deposit)
  transactions, ``dep`` user deposits as ``[[l1 block, l1 tx], ...]``, ``b`` the L1 block whose
  batcher transaction carried the block's batch, ``pr`` the L1 block of an output proposal for
  this block. The state (unsafe / safe / finalized) is not stored per row: the page colours by
  comparing ``n`` with the three heads.
- L1 row: ``n``, ``h``, ``p``, ``t``, ``bt`` batcher transactions (``h`` tx hash, ``kind``
  calldata/blob/alt-da, ``frames`` as ``[channel id, frame number, is_last, size]``, ``ch`` the
  channel ids, ``l2`` the L2 range of their complete channels), ``dep`` deposits (``h``, ``v``
  wei, ``to``, ``l2tx`` hash of the L2 deposit tx, ``l2`` the L2 block it landed in), ``pr``
  output proposals (``h``, ``l2``, ``root``, ``kind``), ``sh`` the L2 safe head the rollup node
  had derived after this L1 block (``optimism_safeHeadAtL1Block``).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_L2 = 20_000
MAX_L1 = 5_000
MAX_HISTORY = 3_000
MAX_EVENTS = 300
QUEUE_SIZE = 2_000

__all__ = ["DashboardState", "Subscriber"]

Row = dict[str, Any]


@dataclass(eq=False)
class Subscriber:
    """One connected page: a bounded queue of ``(seq, kind, data)``. A page that cannot keep up
    is dropped (``stale``); its EventSource reconnects and gets a fresh snapshot."""

    queue: asyncio.Queue[tuple[int, str, Any]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    stale: bool = False


class DashboardState:
    def __init__(self, config: dict[str, Any], *, max_l2: int = MAX_L2, max_l1: int = MAX_L1,
                 max_history: int = MAX_HISTORY, max_events: int = MAX_EVENTS) -> None:  # fmt: skip
        self.config = config
        self.max_l2 = max_l2
        self.max_l1 = max_l1
        self.l2: OrderedDict[int, Row] = OrderedDict()
        self.l1: OrderedDict[int, Row] = OrderedDict()
        self.heads: dict[str, Any] = {}
        self.history: deque[list[float | None]] = deque(maxlen=max_history)
        self.events: deque[dict[str, Any]] = deque(maxlen=max_events)
        self.procs: list[dict[str, Any]] = []
        self.scenarios: dict[str, Any] = {}
        self.subscribers: set[Subscriber] = set()
        self.seq = 0
        self._pending_l2: dict[int, Row] = {}
        self._pending_l1: dict[int, Row] = {}
        self._removed: dict[str, int] = {}

    # ------------------------------------------------------------------ publishing

    def publish(self, kind: str, data: Any) -> None:
        """Send one event to every page (``ts``: server time in ms, for latency figures)."""
        self.seq += 1
        if isinstance(data, dict):
            data = {**data, "ts": time.time() * 1000.0}
        for sub in list(self.subscribers):
            if sub.stale:
                continue
            try:
                sub.queue.put_nowait((self.seq, kind, data))
            except asyncio.QueueFull:
                sub.stale = True
                self.subscribers.discard(sub)

    def subscribe(self) -> Subscriber:
        sub = Subscriber()
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def flush(self) -> None:
        """Publish the rows changed since the last flush: at most one ``l2``, one ``l1`` and one
        ``truncate`` event."""
        if self._removed:
            self.publish("truncate", dict(self._removed))
            self._removed = {}
        if self._pending_l1:
            self.publish("l1", {"rows": [self._pending_l1[n] for n in sorted(self._pending_l1)]})
            self._pending_l1 = {}
        if self._pending_l2:
            self.publish("l2", {"rows": [self._pending_l2[n] for n in sorted(self._pending_l2)]})
            self._pending_l2 = {}

    # ------------------------------------------------------------------ rows

    def upsert_l2(self, row: Row) -> None:
        n = int(row["n"])
        top = next(reversed(self.l2)) if self.l2 else None
        fresh = n not in self.l2
        self.l2[n] = row
        if fresh and top is not None and n < top:
            self.l2 = OrderedDict(sorted(self.l2.items()))
        while len(self.l2) > self.max_l2:
            self.l2.popitem(last=False)
        self._pending_l2[n] = row

    def upsert_l1(self, row: Row) -> None:
        n = int(row["n"])
        top = next(reversed(self.l1)) if self.l1 else None
        fresh = n not in self.l1
        self.l1[n] = row
        if fresh and top is not None and n < top:
            self.l1 = OrderedDict(sorted(self.l1.items()))
        while len(self.l1) > self.max_l1:
            self.l1.popitem(last=False)
        self._pending_l1[n] = row

    def touch_l2(self, n: int) -> None:
        if n in self.l2:
            self._pending_l2[n] = self.l2[n]

    def touch_l1(self, n: int) -> None:
        if n in self.l1:
            self._pending_l1[n] = self.l1[n]

    def drop_above(self, chain: str, number: int) -> list[Row]:
        """Remove rows above ``number`` (a reorg); returns them, oldest first."""
        rows = self.l2 if chain == "l2" else self.l1
        pending = self._pending_l2 if chain == "l2" else self._pending_l1
        gone = [rows.pop(n) for n in [n for n in rows if n > number]]
        for r in gone:
            pending.pop(int(r["n"]), None)
        if gone:
            prev = self._removed.get(chain)
            self._removed[chain] = number if prev is None else min(prev, number)
        return gone

    def top(self, chain: str) -> Row | None:
        rows = self.l2 if chain == "l2" else self.l1
        return rows[next(reversed(rows))] if rows else None

    def rows(self, chain: str, first: int, last: int) -> list[Row]:
        rows = self.l2 if chain == "l2" else self.l1
        return [rows[n] for n in range(first, last + 1) if n in rows]

    # ------------------------------------------------------------------ heads, events

    def set_heads(self, heads: dict[str, Any]) -> None:
        changed = any(heads.get(k) != self.heads.get(k) for k in heads)
        self.heads = heads
        l2 = heads.get("l2") or {}
        l1 = heads.get("l1") or {}
        now = round(time.time(), 3)
        point: list[float | None] = [now, _num(l2.get("unsafe")), _num(l2.get("safe")),
                 _num(l2.get("finalized")), _num(l1.get("head"))]  # fmt: skip
        if changed or not self.history or now - (self.history[-1][0] or 0.0) >= 5:
            self.history.append(point)
            self.publish("heads", {**heads, "point": point})

    def add_event(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        ev = {"kind": kind, "t": time.time(), **data}
        self.events.append(ev)
        self.publish(kind, ev)
        return ev

    def set_procs(self, procs: list[dict[str, Any]]) -> None:
        if procs != self.procs:
            self.procs = procs
            self.publish("procs", {"procs": procs})

    def set_scenarios(self, scenarios: dict[str, Any]) -> None:
        self.scenarios = scenarios
        self.publish("scenarios", {"scenarios": scenarios})

    def snapshot(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "heads": self.heads,
            "l2": list(self.l2.values()),
            "l1": list(self.l1.values()),
            "history": list(self.history),
            "events": list(self.events),
            "procs": self.procs,
            "scenarios": self.scenarios,
            "seq": self.seq,
            "ts": time.time() * 1000.0,
        }

    def extend_history(self, points: Iterable[list[float | None]]) -> None:
        self.history.extend(points)


def _num(ref: Any) -> float | None:
    if isinstance(ref, dict) and "number" in ref:
        return float(ref["number"])
    return None
