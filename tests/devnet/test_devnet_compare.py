"""The differential devnet's head comparator (:mod:`pyop.devnet.compare`) against scripted
nodes: every rule fails when it should (agreement, own-op-geth backing, the one-L1-block lag
rule), and the exceptions (a stale L1 view, catching up, an op-geth without the block) are
exactly the documented ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from pyop.devnet.compare import (
    ClaimNotBacked,
    HeadComparator,
    HeadsDiverged,
    NodeEndpoints,
    side_by_side,
)
from pyop.devnet.rpc import RpcError


def hx(tag: str, n: int) -> str:
    return "0x" + (f"{tag}{n}".encode().hex()).ljust(64, "0")[:64]


@dataclass
class Node:
    safe: int
    unsafe: int
    fin: int
    l1: int
    l1_tag: str = "c"  # the L1 chain its current_l1 is on ("c": canonical)
    chain: str = "x"  # its L2 chain's hashes
    missing: set[int] = field(default_factory=set)
    safedb: dict[int, int] = field(default_factory=dict)
    diverge_above: int = -1  # blocks up to here are on the common chain "x"

    def h(self, n: int) -> str:
        return hx("x" if n <= self.diverge_above else self.chain, n)

    def ref(self, n: int) -> dict[str, Any]:
        return {"number": n, "hash": self.h(n)}

    def status(self) -> dict[str, Any]:
        return {"unsafe_l2": self.ref(self.unsafe), "safe_l2": self.ref(self.safe),
                "finalized_l2": self.ref(self.fin), "current_l1": {"number": self.l1, "hash": hx(self.l1_tag, self.l1)}}  # fmt: skip


class Fake:
    def __init__(self, nodes: dict[str, Node], l1_head: int) -> None:
        self.nodes, self.l1_head = nodes, l1_head

    def client(self, url: str) -> Any:
        fake = self

        class C:
            def call(self, method: str, *params: Any) -> Any:
                kind, name = url.split("://", 1)[1].split("/", 1)
                if kind == "l1":
                    if method == "eth_blockNumber":
                        return hex(fake.l1_head)
                    return {"hash": hx("c", int(params[0], 16))}
                node = fake.nodes[name]
                if kind == "rollup":
                    if method == "optimism_syncStatus":
                        return node.status()
                    if method == "optimism_safeHeadAtL1Block":
                        n = int(params[0], 16)
                        keys = [k for k in node.safedb if k <= n]
                        if not keys:
                            raise RpcError(method, -32000, "not found")
                        return {"l1Block": {"number": max(keys)}, "safeHead": {"number": node.safedb[max(keys)]}}
                n = int(params[0], 16)
                return None if n in node.missing else {"hash": node.h(n)}

        return C()


def make(a: Node, b: Node, l1_head: int = 50) -> tuple[HeadComparator, Fake]:
    fake = Fake({"a": a, "b": b}, l1_head)
    cmp = HeadComparator(NodeEndpoints("a", "http://rollup/a", "http://l2/a"),
                         NodeEndpoints("b", "http://rollup/b", "http://l2/b"), l1_url="http://l1/x",
                         l1_block_time=2, l2_block_time=2)  # fmt: skip
    cmp._rpc = fake.client  # type: ignore[method-assign]
    cmp.recovering = False  # past bring-up (test_lag_rule_starts_after_the_first_settled_poll)
    return cmp, fake


def test_agreement_and_settled() -> None:
    cmp, _ = make(Node(20, 22, 10, 49), Node(20, 20, 10, 49))
    p = cmp.poll()
    assert p.checked_safe == 20 and p.checked_finalized == 10 and not p.stale
    assert p.settled(compare_unsafe=False) and not p.settled(compare_unsafe=True)


def test_a_safe_block_that_differs_fails() -> None:
    cmp, _ = make(Node(20, 22, 10, 49), Node(18, 18, 10, 49, chain="y"))
    with pytest.raises(HeadsDiverged, match="safe block 18 differs"):
        cmp.poll()


def test_a_finalized_block_that_differs_fails_even_when_stale() -> None:
    cmp, _ = make(Node(20, 22, 10, 49, l1_tag="old"), Node(20, 20, 10, 49, chain="y"))
    with pytest.raises(HeadsDiverged, match="finalized block 10 differs"):
        cmp.poll()


def test_a_stale_l1_view_is_not_compared() -> None:
    """A node whose current L1 block was reorged out has not seen the reorg: its safe chain
    (from L1 data that is gone) is not compared; finalized still is."""
    a = Node(20, 22, 10, 49, l1_tag="reorged")
    b = Node(20, 20, 10, 49, chain="y", diverge_above=12)  # re-derived after the reorg
    cmp, _ = make(a, b)
    p = cmp.poll()
    assert p.stale and p.checked_safe is None and not p.settled(compare_unsafe=False)
    cmp, _ = make(Node(20, 22, 10, 49), Node(20, 20, 10, 49, chain="y", diverge_above=12))
    with pytest.raises(HeadsDiverged, match="safe block 20 differs"):
        cmp.poll()


def test_lag_rule_one_l1_block() -> None:
    """The lagging node must have at least the safe head the leader had before the last L1
    block that moved its safe head (both caught up with L1)."""
    lead = Node(20, 22, 10, 49, safedb={45: 14, 47: 17, 49: 20})
    cmp, _ = make(lead, Node(17, 17, 10, 48))
    assert cmp.poll().lag_checked
    cmp, _ = make(Node(20, 22, 10, 49, safedb={45: 14, 47: 17, 49: 20}), Node(15, 15, 10, 48))
    with pytest.raises(HeadsDiverged, match="one L1 block's worth"):
        cmp.poll()
    # a node that just started reads L1 two blocks behind the other (both near the L1 head):
    # catching up, not checked (it was, and failed at bring-up)
    cmp, _ = make(Node(9, 9, 0, 10, safedb={9: 8, 10: 9}), Node(6, 6, 0, 8), l1_head=10)
    assert not cmp.poll().lag_checked and cmp.max_catchup_gap == 3
    # catching up (far behind the L1 head): the gap is recorded, not checked
    cmp, _ = make(Node(20, 22, 10, 49, safedb={49: 20}), Node(5, 5, 5, 30))
    p = cmp.poll()
    assert not p.lag_checked and cmp.max_catchup_gap == 15


def test_lag_rule_starts_after_the_first_settled_poll() -> None:
    """Bring-up: a verifier that just started reads the L1 block next to the sequencer's with
    none of its batches applied yet (CI: Go verifier at L1 6, safe 1; sequencer at L1 7, safe 6).
    Not a lag violation until both nodes have once been settled; the rule holds from then on."""
    fake = Fake({"a": Node(6, 6, 0, 7, safedb={6: 4, 7: 6}), "b": Node(1, 1, 0, 6)}, 7)
    cmp = HeadComparator(NodeEndpoints("a", "http://rollup/a", "http://l2/a"),
                         NodeEndpoints("b", "http://rollup/b", "http://l2/b"), l1_url="http://l1/x",
                         l1_block_time=2, l2_block_time=2)  # fmt: skip
    cmp._rpc = fake.client  # type: ignore[method-assign]
    assert cmp.recovering
    p = cmp.poll()
    assert not p.lag_checked and cmp.max_catchup_gap == 5
    fake.nodes["b"] = Node(6, 6, 0, 7)
    assert cmp.poll().settled(compare_unsafe=False) and not cmp.recovering
    fake.nodes["a"] = Node(10, 10, 0, 9, safedb={6: 4, 7: 6, 8: 8, 9: 10})
    fake.nodes["b"] = Node(6, 6, 0, 8)
    fake.l1_head = 9
    with pytest.raises(HeadsDiverged, match="one L1 block's worth"):
        cmp.poll()


def test_lag_rule_suspended_after_a_fault_until_settled() -> None:
    lead = {45: 14, 47: 17, 49: 20}
    cmp, fake = make(Node(20, 22, 10, 49, safedb=lead), Node(15, 15, 10, 48))
    cmp.fault("op-geth of b killed")
    p = cmp.poll()
    assert not p.lag_checked and cmp.recovering
    fake.nodes["b"] = Node(20, 20, 10, 49)  # caught up: settled, the rule is back
    assert cmp.poll().settled(compare_unsafe=False) and not cmp.recovering
    fake.nodes["b"] = Node(15, 15, 10, 48)
    with pytest.raises(HeadsDiverged, match="one L1 block's worth"):
        cmp.poll()


def test_claims_the_nodes_op_geth_cannot_back_are_skipped() -> None:
    cmp, fake = make(Node(20, 22, 10, 49), Node(20, 20, 10, 49, missing={20}))
    with pytest.raises(ClaimNotBacked):
        cmp.poll()
    assert cmp.watch(0.01, interval=0.0, max_unreachable=60) is None  # counted as unreachable
    fake.nodes["b"].missing.clear()
    assert cmp.watch(0.01, interval=0.0) is not None


def test_side_by_side_marks_differences(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Fake({"a": Node(20, 25, 10, 49), "b": Node(20, 20, 10, 49)}, 50)
    import pyop.devnet.compare as c

    monkeypatch.setattr(c, "RpcClient", lambda url, timeout=3.0: fake.client(url))
    lines = side_by_side(NodeEndpoints("a", "http://rollup/a", ""), NodeEndpoints("b", "http://rollup/b", ""))
    assert len(lines) == 4
    assert lines[1].startswith("unsafe") and lines[1].endswith("<-- differs")
    assert not lines[2].endswith("<-- differs") and not lines[3].endswith("<-- differs")


def test_a_node_without_heads_yet_makes_no_claim() -> None:
    """op-node at start-up answers syncStatus with zero refs: not a divergence, no claim."""
    cmp, fake = make(Node(20, 22, 10, 49), Node(0, 0, 0, 0))
    zero = {"number": 0, "hash": "0x" + "00" * 32}
    fake.nodes["b"].status = lambda: {"unsafe_l2": zero, "safe_l2": zero, "finalized_l2": zero,  # type: ignore[method-assign]
                                      "current_l1": zero}  # fmt: skip
    with pytest.raises(ClaimNotBacked, match="no heads yet"):
        cmp.poll()
    assert cmp.polls == []
