"""End to end on an alt-DA devnet: ``pyop node`` verifying a Go-sequenced alt-DA chain through a
DA-server outage, and its finalized head against the Go op-node's.

anvil L1 + OP contracts + op-geth + the Go op-node sequencer + the Go op-batcher storing batches
in pyop's DA server (``pyop.devnet.da_server``, generic commitments, the seed's flags
``--altda.da-service --altda.verify-on-read=false``). Challenge and resolve windows are 8 L1
blocks, so alt-DA finality shows within the test; the sequencing window (60 L1 blocks, 2 minutes)
is longer than the outage, as on a real alt-DA chain (the seed's Meeda chain: 12 hours).

1. The DA server is stopped and ``pyop node`` is started as a verifier: it reads the first
   commitment from L1, cannot fetch its input (connection refused) and keeps asking for that
   same commitment with the same pipeline. After a minute the DA server comes back (same data
   directory): pyop derives everything, nothing is lost (the blocks the Go sequencer built
   during the outage become safe unchanged). At every poll (about once a second, outage
   included) :class:`pyop.devnet.compare.HeadComparator` checks that every block both nodes
   call safe or finalized has the same hash on both (the lag rule waits for the nodes to
   settle after the outage); finally the safe and finalized heads are equal.
2. Finality waits out the DA challenge window as in op-node: whenever both nodes report the same
   L1 finalized block, their finalized L2 heads are the same block, and that block's L1 origin
   is at least the challenge window below L1 finality.

Expected values come from the Go op-node (its safe / finalized heads) and op-geth.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pyop.devnet.compare import HeadComparator, NodeEndpoints, Poll
from pyop.devnet.da_server import start_da_server_process
from pyop.devnet.process import PidRegistry
from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import HOST, Verifier, start_verifier
from tests.devnet.devnet_stack_harness import Devnet, wait_for
from tests.node.node_e2e_harness import (
    block_hash,
    bring_up,
    count_in_log,
    sync_status,
)

pytestmark = pytest.mark.slow

CW, RW = 8, 8
SEQ_WINDOW = 60
OUTAGE_SECONDS = 60.0


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    yield from bring_up(tmp_path_factory.mktemp("e2e-altda"), stack="go", proposer=False,
                        label="alt-DA Go sequencer", altda=True, altda_windows=(CW, RW),
                        seq_window_size=SEQ_WINDOW)  # fmt: skip


@dataclass
class Outage:
    verifier: Verifier
    started: float
    go_unsafe_at_start: dict[str, Any]
    polls: int = 0
    compared: list[int] = field(default_factory=list)


def stop_da_server(dn: Devnet) -> None:
    proc = dn.stack.processes["da-server"]
    proc.stop(sigint_timeout=5.0)
    PidRegistry(dn.info.directory).remove(proc.name)
    assert not proc.alive()


def start_da_server(dn: Devnet) -> None:
    proc, _ = start_da_server_process(dn.info.logs_dir, dn.info.ports["daServer"], host=HOST,
                                      registry=PidRegistry(dn.info.directory))  # fmt: skip
    dn.stack.processes["da-server"] = proc


@pytest.fixture(scope="module")
def outage(dn: Devnet) -> Iterator[Outage]:
    """Stop the DA server once batcher commitments are on L1, then start the pyop verifier."""
    wait_for(lambda: int(dn.sync_status()["safe_l2"]["number"]) >= 6, 90, "a few safe blocks on the Go node")
    stop_da_server(dn)
    go_unsafe = dn.sync_status()["unsafe_l2"]
    v = start_verifier(dn.info, name="pyop-verifier", kind="pyop")
    try:
        yield Outage(v, time.monotonic(), go_unsafe)
    finally:
        v.stop(PidRegistry(dn.info.directory))
        if not dn.stack.processes["da-server"].alive():
            start_da_server(dn)


def comparator(dn: Devnet, v: Verifier) -> HeadComparator:
    """The differential devnet's check (:class:`pyop.devnet.compare.HeadComparator`): at every
    poll, every block both nodes call safe or finalized has the same hash on both, and their safe
    heads are within one L1 block's worth of L2 blocks whenever both are caught up with L1."""
    return HeadComparator(NodeEndpoints("go sequencer", dn.info.rollup_rpc_url, dn.info.l2_rpc_url),
                          v.endpoints("pyop verifier"), l1_url=dn.info.l1_url,
                          l1_block_time=dn.info.l1_block_time, l2_block_time=dn.info.l2_block_time)  # fmt: skip


def test_da_outage_loses_nothing(dn: Devnet, outage: Outage) -> None:
    v = outage.verifier
    cmp = comparator(dn, v)
    cmp.fault("DA server down")  # the lag rule waits until the nodes settle again

    def each_poll(q: Poll) -> None:
        assert v.op_node.alive(), v.op_node.log_tail(20)
        outage.compared.append(q.checked_safe or 0)

    cmp.on_poll = each_poll
    # --- the outage: pyop keeps asking for the same commitment --------------------------
    cmp.watch(max(1.0, OUTAGE_SECONDS - (time.monotonic() - outage.started)), what="DA outage")
    text = v.op_node.log_path.read_text(errors="replace")
    asked = re.findall(r"failed to fetch input data with comm (0x[0-9a-f]+)", text)
    pyop_safe_in_outage = int(sync_status(v.rollup_rpc_url)["safe_l2"]["number"])
    go_unsafe_end = dn.sync_status()["unsafe_l2"]
    outage.polls = len(cmp.polls)
    print(f"\n[alt-DA outage] {OUTAGE_SECONDS:.0f}s, {outage.polls} polls; pyop asked {len(asked)} times for "
          f"{len(set(asked))} commitment(s); pyop safe {pyop_safe_in_outage}; Go unsafe "
          f"{outage.go_unsafe_at_start['number']} -> {go_unsafe_end['number']}")  # fmt: skip
    assert len(asked) >= 3 and len(set(asked)) == 1, "pyop must retry one kept commitment"
    assert pyop_safe_in_outage < int(outage.go_unsafe_at_start["number"])
    assert count_in_log(v.op_node, "reset engine and derivation pipeline") == 0
    assert count_in_log(v.op_node, "derivation dropped data") == 0

    # --- the DA server comes back: the same pipeline derives everything --------------------
    t_back = time.monotonic()
    start_da_server(dn)
    target = int(go_unsafe_end["number"])

    cmp.watch(240, until=lambda q: min(q.a.safe.number, q.b.safe.number) >= target,
              what=f"both safe heads at or past the Go unsafe head of the outage ({target})")  # fmt: skip
    catch_up = time.monotonic() - t_back
    # nothing lost: the blocks the Go sequencer built before and during the outage are safe,
    # unchanged, on both nodes
    for blk in (outage.go_unsafe_at_start, go_unsafe_end):
        n = int(blk["number"])
        assert block_hash(dn.l2, n) == blk["hash"] == block_hash(RpcClient(v.op_geth.http_url), n)
    # the same pipeline: no reset, no drop, only the one kept commitment retried
    assert count_in_log(v.op_node, "reset engine and derivation pipeline") == 0
    assert count_in_log(v.op_node, "derivation dropped data") == 0

    cmp.wait_settled(60, what="equal safe and finalized heads")
    cmp.watch(10, what="agreement once settled (the lag rule back on)")
    lag = sum(p.lag_checked for p in cmp.polls)
    print(f"[alt-DA outage] pyop caught up {catch_up:.1f}s after the DA server came back; "
          f"{len(cmp.polls)} polls, all agreeing ({lag} with the lag rule), last safe {cmp.polls[-1].line()}")
    assert len(cmp.polls) >= OUTAGE_SECONDS - 5 and not cmp.recovering


def test_finalized_head_equals_go(dn: Devnet, outage: Outage) -> None:
    """For every L1 finalized block both nodes saw, the finalized L2 head each node settled on
    while at that L1 finalized block (its last report) is the same block. Sampled every 0.3 s:
    op-node polls L1 finality every 2 s here, pyop every second, so the two move at different
    moments; what must agree is where each lands for the same L1 finality."""
    v = outage.verifier
    if not dn.stack.processes["da-server"].alive():
        start_da_server(dn)
    wait_for(lambda: int(sync_status(v.rollup_rpc_url)["finalized_l2"]["number"]) > 0, 120,
             "a finalized L2 block on the pyop verifier")  # fmt: skip
    last: dict[str, dict[int, tuple[int, str, int]]] = {"go": {}, "pyop": {}}
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        for who, url in (("go", dn.info.rollup_rpc_url), ("pyop", v.rollup_rpc_url)):
            st = sync_status(url)
            f1, f2 = int(st["finalized_l1"]["number"]), st["finalized_l2"]
            last[who][f1] = (int(f2["number"]), str(f2["hash"]), int(f2["l1origin"]["number"]))
        time.sleep(0.3)
    # the first and the last L1 finalized block of the window may be cut short on one node
    common = sorted(set(last["go"]) & set(last["pyop"]))[1:-1]
    table = {f: (last["go"][f][0], last["pyop"][f][0]) for f in common}
    print(f"\n[alt-DA finality] L1 finalized -> (Go, pyop) finalized L2: {table}")
    assert len(common) >= 10
    for f in common:
        assert last["go"][f][:2] == last["pyop"][f][:2], f"at L1 finalized {f}: Go {last['go'][f]}, pyop {last['pyop'][f]}"
        # the alt-DA lag: the finalized L2 block's L1 origin is at least the challenge window
        # below L1 finality (a raw-L1 finalizer would be a few blocks below it)
        assert last["pyop"][f][2] <= f - CW
