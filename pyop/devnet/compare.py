"""Compare two rollup nodes' heads over time (the differential devnet; issue 9): poll both nodes'
``optimism_syncStatus`` and their op-geths' blocks about once a second, and at *every* poll check

1. **agreement**: every block both nodes call safe has the same hash on both (checked at the
   lower of the two safe heads: a block hash commits to all its ancestors), the same for
   finalized, and each node's reported safe / finalized hash is its own op-geth's block there;
2. **lag**: the two safe heads are within one L1 block's worth of L2 blocks of each other:
   the lagging node has at least the safe head the leading node had *before* the last L1 block
   that moved its safe head (``optimism_safeHeadAtL1Block`` on the leader; without a safe db,
   ``l1_block_time / l2_block_time`` blocks);

and, once a scenario settles, **equal heads** (:meth:`HeadComparator.wait_settled`): the same
safe and finalized heads (and unsafe heads when both nodes are verifiers).

Two exceptions, each with its reason:

- a node whose ``current_l1`` (the L1 block its derivation is at) is no longer on the canonical
  L1 chain has not seen an L1 reorg yet; its safe head comes from L1 data that is gone, so it is
  *stale*, not wrong (specs/protocol/derivation.md: safe = derived from the canonical L1 chain).
  Its claims are not compared at that poll; the poll records it, and :attr:`Poll.stale`
  durations are bounded by :meth:`HeadComparator.watch` (``max_stale``);
- the lag rule is checked only while both nodes are *caught up* with L1 (their ``current_l1`` at
  most ``caught_up_l1`` blocks behind the L1 head and at most one block apart: the rule compares
  two nodes reading the same L1, give or take the block in flight; a node that just started is
  still reading older L1 blocks) and neither is *recovering* from a fault the
  scenario injected into one node (:meth:`HeadComparator.fault`, e.g. its op-geth killed; the
  rule is back from the next settled poll): after a reset or an outage a node re-derives at its
  own speed, and the gap then measures speed, not agreement. Bring-up counts as recovery too:
  a new comparator checks the lag rule only from the first settled poll on (a node that just
  started can read the L1 block next to the other node's while it has applied none of the
  batches it found yet: CI saw a Go verifier at L1 6 with safe head 1 beside a sequencer at
  L1 7 with safe head 6, three polls after start). The largest gap seen while catching
  up or recovering is kept in :attr:`HeadComparator.max_catchup_gap`.

Finalized blocks have no exception for reorgs: they never reorg. A node whose own op-geth does
not have the block it calls safe or finalized (op-geth restarted without it, before the node has
reset), or a node that reports zero-hash heads (op-node answers ``optimism_syncStatus`` before it
has read its engine's heads at start-up), has no backed claim at that poll: the poll is counted
like an unreachable node (bounded by ``max_unreachable``), not as a divergence.

Import it from scenario tests (``from pyop.devnet.compare import HeadComparator, NodeEndpoints``)
or use :func:`side_by_side` for ``pyop devnet status``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.primitives import PyopError

ZERO_HASH = "0x" + "00" * 32


class ClaimNotBacked(PyopError):
    """A node calls a block safe/finalized that its own op-geth does not have (yet/any more)."""


class HeadsDiverged(PyopError):
    """The two nodes disagree about a block both call safe or finalized, or their safe heads
    are further apart than the lag rule allows. The message names the poll, the rule, both
    heads and both hashes."""


@dataclass(frozen=True, slots=True)
class NodeEndpoints:
    """One rollup node: a name, its rollup RPC and its op-geth RPC."""

    name: str
    rollup_url: str
    l2_url: str


@dataclass(frozen=True, slots=True)
class Head:
    number: int
    hash: str

    @classmethod
    def of(cls, ref: dict[str, Any]) -> Head:
        return cls(int(ref["number"]), str(ref["hash"]))


@dataclass(frozen=True, slots=True)
class NodeView:
    """One node at one poll."""

    name: str
    unsafe: Head
    safe: Head
    finalized: Head
    current_l1: Head
    stale: bool
    """``current_l1`` is not canonical on L1 at this poll (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class Poll:
    """One poll of both nodes."""

    t: float
    a: NodeView
    b: NodeView
    l1_head: int
    checked_safe: int | None
    """The block number both nodes' safe chains were compared at (``None``: a stale view)."""
    checked_finalized: int
    lag_checked: bool
    safe_gap: int

    @property
    def stale(self) -> bool:
        return self.a.stale or self.b.stale

    def settled(self, *, compare_unsafe: bool) -> bool:
        same = self.a.safe == self.b.safe and self.a.finalized == self.b.finalized
        if compare_unsafe:
            same = same and self.a.unsafe == self.b.unsafe
        return same and not self.stale

    def line(self) -> str:
        def v(n: NodeView) -> str:
            return (f"{n.name}: unsafe {n.unsafe.number} safe {n.safe.number} fin {n.finalized.number} "
                    f"l1 {n.current_l1.number}{' STALE' if n.stale else ''}")  # fmt: skip

        return f"[L1 {self.l1_head}] {v(self.a)} | {v(self.b)}"


@dataclass
class HeadComparator:
    """Polls and checks two nodes (see the module docstring).

    ``l1_url``: the L1 RPC (for the canonical check and the L1 head); ``l1_block_time`` and
    ``l2_block_time`` in seconds; ``compare_unsafe``: also require equal unsafe heads to call a
    poll settled (two verifiers; a sequencer's unsafe head runs ahead of any verifier without
    p2p)."""

    a: NodeEndpoints
    b: NodeEndpoints
    l1_url: str
    l1_block_time: int
    l2_block_time: int
    compare_unsafe: bool = False
    caught_up_l1: int = 2
    timeout: float = 5.0
    polls: list[Poll] = field(default_factory=list)
    max_catchup_gap: int = 0
    on_poll: Callable[[Poll], None] | None = None
    faults: list[tuple[float, str]] = field(default_factory=list)
    recovering: bool = True
    """The lag rule is suspended until the next settled poll: at bring-up and after :meth:`fault`."""

    def fault(self, what: str) -> None:
        """A fault is being injected into one node: suspend the lag rule until the next settled
        poll (agreement is still checked at every poll)."""
        self.faults.append((time.time(), what))
        self.recovering = True

    def _rpc(self, url: str) -> RpcClient:
        return RpcClient(url, timeout=self.timeout)

    def _block_hash(self, l2_url: str, n: int) -> str | None:
        blk = self._rpc(l2_url).call("eth_getBlockByNumber", hex(n), False)
        return None if blk is None else str(blk["hash"])

    def _l1_hash(self, n: int) -> str | None:
        blk = self._rpc(self.l1_url).call("eth_getBlockByNumber", hex(n), False)
        return None if blk is None else str(blk["hash"])

    def _view(self, ep: NodeEndpoints, st: dict[str, Any], l1_hashes: dict[int, str | None]) -> NodeView:
        cur = Head.of(st["current_l1"])
        if cur.number not in l1_hashes:
            l1_hashes[cur.number] = self._l1_hash(cur.number)
        stale = cur.number > 0 and l1_hashes[cur.number] != cur.hash
        return NodeView(ep.name, Head.of(st["unsafe_l2"]), Head.of(st["safe_l2"]), Head.of(st["finalized_l2"]),
                        cur, stale)  # fmt: skip

    def _safe_at_l1(self, ep: NodeEndpoints, l1: int) -> int | None:
        try:
            r = self._rpc(ep.rollup_url).call("optimism_safeHeadAtL1Block", hex(l1))
        except RpcError:
            return None
        return int(r["safeHead"]["number"])

    def _lag_floor(self, lead: NodeEndpoints, lead_view: NodeView) -> int:
        """The safe head ``lead`` had before the last L1 block that moved its safe head."""
        fallback = lead_view.safe.number - max(1, self.l1_block_time // max(1, self.l2_block_time))
        try:
            r = self._rpc(lead.rollup_url).call("optimism_safeHeadAtL1Block", hex(lead_view.current_l1.number))
        except RpcError:
            return fallback
        j = int(r["l1Block"]["number"])
        before = self._safe_at_l1(lead, j - 1) if j > 0 else None
        return fallback if before is None else min(before, lead_view.safe.number)

    def poll(self) -> Poll:
        """One poll: read both nodes and check the rules; :class:`HeadsDiverged` on a
        violation (the poll is recorded first)."""
        st_a = self._rpc(self.a.rollup_url).call("optimism_syncStatus")
        st_b = self._rpc(self.b.rollup_url).call("optimism_syncStatus")
        l1_head = int(self._rpc(self.l1_url).call("eth_blockNumber"), 16)
        l1_hashes: dict[int, str | None] = {}
        va, vb = self._view(self.a, st_a, l1_hashes), self._view(self.b, st_b, l1_hashes)
        for v in (va, vb):
            if ZERO_HASH in (v.safe.hash, v.finalized.hash):
                # op-node answers syncStatus before its engine heads are known (zero refs):
                # the node makes no claim yet
                raise ClaimNotBacked(f"{v.name} has no heads yet (zero safe/finalized hash)")
        problems: list[str] = []
        # finalized: no exception
        fin = min(va.finalized.number, vb.finalized.number)
        ha, hb = self._block_hash(self.a.l2_url, fin), self._block_hash(self.b.l2_url, fin)
        if ha is None or hb is None:
            raise ClaimNotBacked(f"finalized block {fin} missing from an op-geth ({ha}, {hb})")
        if ha != hb:
            problems.append(f"finalized block {fin} differs: {self.a.name} {ha} vs {self.b.name} {hb}")
        for v, h in ((va, ha), (vb, hb)):
            if v.finalized.number == fin and v.finalized.hash != h:
                problems.append(f"{v.name} reports finalized {fin} {v.finalized.hash} but its op-geth has {h}")
        # safe: unless a view is stale
        checked: int | None = None
        if not (va.stale or vb.stale):
            checked = min(va.safe.number, vb.safe.number)
            sa, sb = self._block_hash(self.a.l2_url, checked), self._block_hash(self.b.l2_url, checked)
            if sa is None or sb is None:
                raise ClaimNotBacked(f"safe block {checked} missing from an op-geth ({sa}, {sb})")
            safe_problems = []
            if sa != sb:
                safe_problems.append(f"safe block {checked} differs: {self.a.name} {sa} vs {self.b.name} {sb}")
            for v, h in ((va, sa), (vb, sb)):
                if v.safe.number == checked and v.safe.hash != h:
                    safe_problems.append(f"{v.name} reports safe {checked} {v.safe.hash} but its op-geth has {h}")
            if safe_problems:
                # an L1 reorg between reading the status and the blocks makes the view stale
                # after the fact: look again before calling it a divergence
                fresh: dict[int, str | None] = {}
                va = self._view(self.a, st_a, fresh)
                vb = self._view(self.b, st_b, fresh)
                if va.stale or vb.stale:
                    checked = None
                else:
                    problems += safe_problems
        gap = abs(va.safe.number - vb.safe.number)
        caught_up = not self.recovering and abs(va.current_l1.number - vb.current_l1.number) <= 1 and all(
            not v.stale and l1_head - v.current_l1.number <= self.caught_up_l1 for v in (va, vb))
        lag_checked = False
        if caught_up and gap:
            lead_ep, lead, lag = (self.a, va, vb) if va.safe.number > vb.safe.number else (self.b, vb, va)
            floor = self._lag_floor(lead_ep, lead)
            lag_checked = True
            if lag.safe.number < floor:
                problems.append(
                    f"safe heads more than one L1 block's worth apart: {lead.name} {lead.safe.number} "
                    f"(before its last L1 block: {floor}), {lag.name} {lag.safe.number}"
                )
        elif gap:
            self.max_catchup_gap = max(self.max_catchup_gap, gap)
        p = Poll(time.time(), va, vb, l1_head, checked, fin, lag_checked, gap)
        if self.recovering and not problems and p.settled(compare_unsafe=self.compare_unsafe):
            self.recovering = False
        self.polls.append(p)
        if self.on_poll is not None:
            self.on_poll(p)
        if problems:
            raise HeadsDiverged(f"poll {len(self.polls)} {p.line()}: " + "; ".join(problems))
        return p

    def _poll_retrying(self) -> Poll | None:
        try:
            return self.poll()
        except (RpcTransportError, RpcError, KeyError, TypeError, ValueError, ClaimNotBacked):
            return None  # a node or its op-geth restarting: no backed claim this poll

    def watch(
        self,
        seconds: float | None = None,
        *,
        until: Callable[[Poll], bool] | None = None,
        interval: float = 1.0,
        max_stale: float = 30.0,
        max_unreachable: float = 120.0,
        what: str = "",
    ) -> Poll | None:
        """Poll every ``interval`` s for ``seconds`` (or until ``until(poll)``; then that poll is
        returned), checking every poll. A node that does not answer (restarting) is skipped for
        up to ``max_unreachable`` s; a stale view may last ``max_stale`` s."""
        end = None if seconds is None else time.monotonic() + seconds
        last_ok = time.monotonic()
        stale_since: float | None = None
        last: Poll | None = None
        while True:
            t0 = time.monotonic()
            p = self._poll_retrying()
            if p is None:
                if t0 - last_ok > max_unreachable:
                    raise HeadsDiverged(f"{what}: a node did not answer for {max_unreachable:.0f} s")
            else:
                last_ok, last = t0, p
                if p.stale:
                    stale_since = stale_since or t0
                    if t0 - stale_since > max_stale:
                        raise HeadsDiverged(f"{what}: a node kept a stale L1 view for {max_stale:.0f} s: {p.line()}")
                else:
                    stale_since = None
                if until is not None and until(p):
                    return p
            if end is not None and time.monotonic() >= end:
                if until is not None:
                    raise HeadsDiverged(f"{what}: condition not reached in {seconds:.0f} s; last "
                                        f"{last.line() if last else 'no answer'}")  # fmt: skip
                return last
            time.sleep(max(0.0, interval - (time.monotonic() - t0)))

    def wait_settled(self, timeout: float, *, min_safe: int = 0, what: str = "settle") -> Poll:
        """Poll (checking every poll) until both nodes have the same safe and finalized heads
        (and unsafe with ``compare_unsafe``), with safe at least ``min_safe``."""
        p = self.watch(timeout, until=lambda q: q.settled(compare_unsafe=self.compare_unsafe)
                       and q.a.safe.number >= min_safe, what=what)  # fmt: skip
        if p is None:  # watch(until=...) returns a poll or raises; kept for the type checker
            raise HeadsDiverged(f"{what}: no poll")
        return p


# --------------------------------------------------------------------------- status table


def side_by_side(a: NodeEndpoints, b: NodeEndpoints, *, timeout: float = 3.0) -> list[str]:
    """``pyop devnet status``: both nodes' unsafe / safe / finalized heads next to each other;
    a row where number or hash differ is marked ``<-- differs`` (a sequencer's unsafe head is
    expected to run ahead of a verifier without p2p)."""

    def status(ep: NodeEndpoints) -> dict[str, Any] | None:
        try:
            st = RpcClient(ep.rollup_url, timeout=timeout).call("optimism_syncStatus")
        except (RpcError, RpcTransportError):
            return None
        return dict(st) if isinstance(st, dict) else None

    sa, sb = status(a), status(b)
    lines = [f"{'L2 head':<10} {a.name:<34} {b.name:<34}"]
    for key, label in (("unsafe_l2", "unsafe"), ("safe_l2", "safe"), ("finalized_l2", "finalized")):
        cells = []
        for st in (sa, sb):
            if st is None:
                cells.append("(not answering)")
            else:
                ref = st[key]
                cells.append(f"{int(ref['number']):>8} {str(ref['hash'])[:10]}..{str(ref['hash'])[-4:]}")
        diff = sa is not None and sb is not None and (sa[key]["hash"] != sb[key]["hash"])
        lines.append(f"{label:<10} {cells[0]:<34} {cells[1]:<34}{'  <-- differs' if diff else ''}")
    return lines
