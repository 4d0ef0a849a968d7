"""End to end: ``pyop node`` as the sequencer of a live devnet (issue 5, "Proof").

anvil L1 + OP L1 contracts + op-geth driven by ``pyop node --sequencer.enabled`` (a process, the
Go op-node's command line; :func:`pyop.devnet.stack.start_stack` with ``stack="pyop"``), the Go
op-batcher posting calldata batches and the Go op-proposer (v1.13.7, L2OutputOracle) reading
pyop's rollup RPC. Isthmus and Jovian activate mid-run. A second op-geth with the Go op-node as
verifier (p2p off: it derives from L1 only) runs beside it as the reference.

Expected values come from independent sources: the Go op-node verifier (safe head hashes,
``optimism_outputAtBlock``), the L2OutputOracle on L1, pyop.protocol.upgrades for the upgrade
transactions (specs/protocol/isthmus|jovian/derivation.md), the deposit source hash from the L1
log (specs/protocol/deposits.md), the output root recomputed from ``eth_getProof``
(specs/protocol/proposals.md), op-geth's own forkchoice labels.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pyop.config import Fork
from pyop.devnet.artifacts import load_artifact
from pyop.devnet.faults import restart_op_geth, restart_registered
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS
from pyop.devnet.process import PidRegistry
from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import Verifier, start_verifier
from pyop.primitives import from_hex, hex_to_int, to_hex
from pyop.protocol import predeploys as pd
from pyop.protocol import upgrades
from pyop.protocol.deposits import user_deposit_source_hash
from pyop.protocol.output_root import output_root
from tests.conftest import REPO
from tests.devnet.devnet_stack_harness import (
    Devnet,
    balance,
    batcher_txs,
    fork_block_number,
    l2_block,
    l2oo_latest_block_number,
    l2oo_output_root_at,
    wait_for,
)
from tests.node.node_e2e_harness import (
    block_hash,
    bring_up,
    count_in_log,
    engine_heads_logged,
    heads,
    log_size,
    reorg_l1_below_safe_origin,
    same_safe_hash,
    sync_status,
    wait_rpc,
)

pytestmark = pytest.mark.slow

FORK_OFFSETS = {**DEFAULT_FORK_OFFSETS, Fork.ISTHMUS: 30, Fork.JOVIAN: 50, Fork.KARST: 70}
GO_KARST = json.loads((REPO / "spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json").read_text())["sets"][0]
TRANSACTION_DEPOSITED = "0x" + load_artifact("OptimismPortal").event_topic("TransactionDeposited").hex()
OUTPUT_FIELDS = ("version", "outputRoot", "blockRef", "withdrawalStorageRoot", "stateRoot")


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    yield from bring_up(tmp_path_factory.mktemp("e2e-seq"), stack="pyop", fork_offsets=FORK_OFFSETS,
                        label="pyop sequencer")  # fmt: skip


@pytest.fixture(scope="module")
def go_verifier(dn: Devnet) -> Iterator[Verifier]:
    """The Go op-node verifier beside pyop (started once, syncing while the other tests run)."""
    v = start_verifier(dn.info, kind="go")
    try:
        yield v
    finally:
        v.stop(PidRegistry(dn.info.directory))


def node(dn: Devnet) -> Any:
    return dn.stack.processes["pyop-node"]


def send_deposit(dn: Devnet, recipient: str, value: int) -> bytes:
    """``OptimismPortal.depositTransaction(recipient, value, 100000, false, "")`` from the user
    key; returns the L2 deposit's source hash computed from the L1 log."""
    portal = dn.info.addresses["OptimismPortalProxy"]
    data = load_artifact("OptimismPortal").encode_call("depositTransaction", recipient, value, 100_000, False, b"")
    tx = dn.l1.call("eth_sendTransaction", {"from": dn.info.keys["user"]["address"], "to": portal,
                                            "value": hex(value), "data": to_hex(data)})  # fmt: skip
    rc = wait_for(lambda: dn.l1.call("eth_getTransactionReceipt", tx), 30, "the L1 deposit receipt")
    assert rc["status"] == "0x1"
    (lg,) = [x for x in rc["logs"] if x["topics"][0] == TRANSACTION_DEPOSITED]
    return user_deposit_source_hash(from_hex(rc["blockHash"], length=32), hex_to_int(lg["logIndex"]))


def test_stack_is_pyop_sequenced(dn: Devnet, go_verifier: Verifier) -> None:
    dn.assert_alive()
    assert {"op-geth", "pyop-node", "op-batcher", "op-proposer"} <= set(dn.stack.processes)
    assert "op-node" not in dn.stack.processes  # no Go op-node sequencer on this devnet
    assert dn.rollup.call("optimism_version").endswith("-pyop")
    assert node(dn).argv[1:4] == ("-m", "pyop.cli", "node")
    assert "--sequencer.enabled" in node(dn).argv
    started = node(dn).started_at
    for fork in ("isthmus", "jovian"):
        t = dn.info.fork_times[fork]
        assert t is not None and t > started, f"{fork} at {t} must activate after pyop node started ({started:.0f})"


def test_unsafe_head_advances_every_block_time(dn: Devnet) -> None:
    bt = dn.info.l2_block_time
    first = int(dn.sync_status()["unsafe_l2"]["number"])
    t0 = time.monotonic()
    time.sleep(5 * bt)
    st = dn.sync_status()
    last = int(st["unsafe_l2"]["number"])
    elapsed = time.monotonic() - t0
    assert abs((last - first) - elapsed / bt) <= 1.5, (first, last, elapsed)
    assert abs(int(st["unsafe_l2"]["timestamp"]) - time.time()) <= 2 * bt + 1
    for n in range(first + 1, last + 1):
        parent, blk = l2_block(dn, n - 1), l2_block(dn, n)
        assert blk["parentHash"] == parent["hash"]
        assert hex_to_int(blk["timestamp"]) == dn.info.l2_genesis_time + n * bt
    # pyop's unsafe head is op-geth's head
    assert dn.l2.call("eth_getBlockByNumber", "latest", False)["number"] is not None
    latest = l2_block(dn, last)
    assert latest["hash"] == st["unsafe_l2"]["hash"]


def test_deposit_arrives_on_l2(dn: Devnet) -> None:
    recipient = "0x" + bytes(range(0x30, 0x44)).hex()
    value = 4_321_000 * 10**9
    assert balance(dn.l2, recipient) == 0
    source_hash = send_deposit(dn, recipient, value)
    assert wait_for(lambda: balance(dn.l2, recipient) or None, 60, "the deposit on L2") == value
    n = int(dn.sync_status()["unsafe_l2"]["number"])
    found = None
    for k in range(n, max(0, n - 40), -1):
        for tx in l2_block(dn, k, full=True)["transactions"]:
            if tx.get("sourceHash") == to_hex(source_hash):
                found = tx
        if found:
            break
    assert found is not None, "no L2 deposit tx with the source hash of the L1 log"
    assert found["type"] == "0x7e" and found["to"].lower() == recipient
    assert hex_to_int(found["mint"]) == value


def test_fork_activation_blocks_carry_upgrade_txs(dn: Devnet) -> None:
    jovian_block = fork_block_number(dn.info, "jovian")
    wait_for(lambda: int(dn.sync_status()["unsafe_l2"]["number"]) > jovian_block, 120, "the Jovian block")
    for fork, txs in (("isthmus", upgrades.isthmus_upgrade_txs()), ("jovian", upgrades.jovian_upgrade_txs())):
        n = fork_block_number(dn.info, fork)
        blk = l2_block(dn, n)
        assert hex_to_int(blk["timestamp"]) == dn.info.fork_times[fork]
        want = [to_hex(d.tx_hash()) for d in txs]
        assert blk["transactions"][1 : 1 + len(want)] == want, fork
        assert len(blk["transactions"]) == 1 + len(want), f"{fork} activation block must carry no user txs"
        for h in want:
            assert dn.l2.call("eth_getTransactionReceipt", h)["status"] == "0x1", (fork, h)
        assert not set(want) & set(l2_block(dn, n - 1)["transactions"])
        assert not set(want) & set(l2_block(dn, n + 1)["transactions"])


def test_safe_head_follows_batches(dn: Devnet) -> None:
    l1_head = hex_to_int(dn.l1.call("eth_blockNumber"))
    before = int(dn.sync_status()["safe_l2"]["number"])
    wait_for(lambda: int(dn.sync_status()["safe_l2"]["number"]) >= before + 4, 60, "the safe head to move 4 blocks")
    txs = batcher_txs(dn, 1, hex_to_int(dn.l1.call("eth_blockNumber")))
    assert any(hex_to_int(tx["blockNumber"]) >= l1_head for tx in txs), "no batch posted meanwhile"
    # pyop tells op-geth its safe head: op-geth's `safe` label is pyop's safe head

    def geth_safe_matches() -> bool:
        a = dn.sync_status()["safe_l2"]["hash"]
        g = dn.l2.call("eth_getBlockByNumber", "safe", False)["hash"]
        return bool(a == g)

    wait_for(geth_safe_matches, 20, "op-geth's safe label to equal pyop's safe head")
    st = dn.sync_status()
    assert int(st["safe_l2"]["number"]) <= int(st["unsafe_l2"]["number"])
    assert int(st["safe_l2"]["l1origin"]["number"]) <= int(st["current_l1"]["number"])


def test_finalized_follows_l1_finality(dn: Devnet) -> None:
    start = int(dn.sync_status()["finalized_l2"]["number"])

    def advanced() -> dict[str, Any] | None:
        s = dn.sync_status()
        return s if int(s["finalized_l2"]["number"]) > start else None

    st = wait_for(advanced, 60, "the finalized L2 head to advance")
    fin = st["finalized_l2"]
    assert int(fin["l1origin"]["number"]) <= int(st["finalized_l1"]["number"])
    assert int(fin["number"]) <= int(st["safe_l2"]["number"])
    l1_fin = dn.l1.call("eth_getBlockByNumber", "finalized", False)
    assert hex_to_int(l1_fin["number"]) >= int(st["finalized_l1"]["number"])
    assert block_hash(dn.l2, int(fin["number"])) == fin["hash"]

    def geth_finalized_matches() -> bool:
        a = dn.sync_status()["finalized_l2"]["hash"]
        return bool(a == dn.l2.call("eth_getBlockByNumber", "finalized", False)["hash"])

    wait_for(geth_finalized_matches, 20, "op-geth's finalized label to equal pyop's finalized head")


def test_go_verifier_follows_pyop_chain(dn: Devnet, go_verifier: Verifier) -> None:
    target = dn.sync_status()["safe_l2"]
    vurl = go_verifier.rollup_rpc_url
    wait_for(lambda: int(sync_status(vurl)["safe_l2"]["number"]) >= int(target["number"]), 120,
             f"the Go verifier's safe head to reach {target['number']}")  # fmt: skip
    assert block_hash(go_verifier.op_geth.rpc(), int(target["number"])) == target["hash"]
    vs = sync_status(vurl)["safe_l2"]
    assert block_hash(dn.l2, int(vs["number"])) == vs["hash"]
    # Past both activations: the Go op-node derived the same Isthmus and Jovian blocks.
    assert int(target["number"]) > fork_block_number(dn.info, "jovian")


def test_karst_block_built_by_pyop_is_the_go_verifiers(dn: Devnet, go_verifier: Verifier) -> None:
    """Derivation audit D1, sequencer side: pyop builds the Karst activation block as op-node
    v1.19.6 does (op-node's 31 NUT-bundle deposits from ``interop/go/vectors``, no user txs, gas
    limit + op-node's upgrade gas, engine_getPayloadV5), op-geth executes every deposit, and
    the Go op-node verifier derives exactly these blocks from L1."""
    karst = fork_block_number(dn.info, "karst")
    vurl = go_verifier.rollup_rpc_url
    wait_for(lambda: int(sync_status(vurl)["safe_l2"]["number"]) > karst + 1, 180,
             "the Go verifier's safe head past Karst")  # fmt: skip
    blk, prev, nxt = l2_block(dn, karst), l2_block(dn, karst - 1), l2_block(dn, karst + 1)
    assert hex_to_int(blk["timestamp"]) == dn.info.fork_times["karst"]
    assert blk["transactions"][1:] == [t["hash"] for t in GO_KARST["txs"]]
    assert hex_to_int(blk["gasLimit"]) == hex_to_int(prev["gasLimit"]) + GO_KARST["upgradeGas"]
    assert hex_to_int(nxt["gasLimit"]) == hex_to_int(prev["gasLimit"])
    for h in blk["transactions"]:
        assert dn.l2.call("eth_getTransactionReceipt", h)["status"] == "0x1", h
    vl2 = go_verifier.op_geth.rpc()
    for n in (karst - 1, karst, karst + 1):
        assert block_hash(vl2, n) == l2_block(dn, n)["hash"], n


def test_proposer_posts_outputs_from_pyop(dn: Devnet, go_verifier: Verifier) -> None:
    latest = wait_for(lambda: l2oo_latest_block_number(dn), 90, "an L2OutputOracle proposal")
    assert latest > 0
    root, _ts, number = l2oo_output_root_at(dn, latest)
    assert number == latest
    out = dn.rollup.call("optimism_outputAtBlock", hex(latest))
    assert from_hex(out["outputRoot"], length=32) == root
    blk = l2_block(dn, latest)
    proof = dn.l2.call("eth_getProof", to_hex(pd.L2_TO_L1_MESSAGE_PASSER), [], hex(latest))
    expect = output_root(from_hex(blk["stateRoot"], length=32), from_hex(proof["storageHash"], length=32),
                         from_hex(blk["hash"], length=32))  # fmt: skip
    assert expect == root
    vurl = go_verifier.rollup_rpc_url
    wait_for(lambda: int(sync_status(vurl)["safe_l2"]["number"]) >= latest, 60, "the Go verifier at the proposal")
    go_out = RpcClient(vurl).call("optimism_outputAtBlock", hex(latest))
    assert from_hex(go_out["outputRoot"], length=32) == root


def test_output_at_block_equals_go_op_node(dn: Devnet, go_verifier: Verifier) -> None:
    vurl = go_verifier.rollup_rpc_url
    jovian = fork_block_number(dn.info, "jovian")
    isthmus = fork_block_number(dn.info, "isthmus")
    safe = wait_for(lambda: (n := int(sync_status(vurl)["safe_l2"]["number"])) > jovian + 2 and n, 120,
                    "the Go verifier past Jovian")  # fmt: skip
    blocks = sorted({0, 1, isthmus - 1, isthmus, isthmus + 1, jovian, jovian + 1, safe})
    go = RpcClient(vurl)
    for n in blocks:
        a = dn.rollup.call("optimism_outputAtBlock", hex(n))
        b = go.call("optimism_outputAtBlock", hex(n))
        for f in OUTPUT_FIELDS:
            assert a[f] == b[f], f"block {n} field {f}: pyop {a[f]} != Go op-node {b[f]}"
        # Isthmus: the withdrawals root in the header is the message passer storage root
        blk = l2_block(dn, n)
        if n >= isthmus:
            assert a["withdrawalStorageRoot"] == blk["withdrawalsRoot"]


def test_l1_reorg_below_safe_origin_recovers_like_go_op_node(dn: Devnet, go_verifier: Verifier) -> None:
    vurl = go_verifier.rollup_rpc_url
    vl2 = go_verifier.op_geth.rpc()
    # Both nodes agree before the reorg.
    same_safe_hash(dn.info.rollup_rpc_url, dn.l2, vurl, vl2, at_least=1, timeout=60, what="agreement before the reorg")
    mark = log_size(node(dn))
    old = heads(dn.info.rollup_rpc_url)
    r = reorg_l1_below_safe_origin(dn, dn.info.rollup_rpc_url)
    print(f"\nL1 reorg: {r}")
    old_safe_n = r["safe_l2"]
    old_safe_hash = block_hash(dn.l2, old_safe_n)
    # pyop notices and resets (it names the stage and the reason) ...
    wait_for(lambda: count_in_log(node(dn), "reset engine and derivation pipeline", mark) > 0, 60,
             "pyop node to reset on the L1 reorg")  # fmt: skip
    # ... the L2 blocks built on the replaced L1 origin are replaced too ...
    wait_for(lambda: block_hash(dn.l2, old_safe_n) not in (None, old_safe_hash), 60,
             f"L2 block {old_safe_n} (L1 origin reorged out) to be replaced")  # fmt: skip
    # ... and both nodes go past the old heads to the same safe chain.
    n = same_safe_hash(dn.info.rollup_rpc_url, dn.l2, vurl, vl2, at_least=int(old.unsafe["number"]) + 2, timeout=150,
                       what="pyop and the Go verifier past the old unsafe head after the reorg")  # fmt: skip
    st = dn.sync_status()
    assert block_hash(dn.l2, int(st["safe_l2"]["number"])) == st["safe_l2"]["hash"]
    assert int(st["unsafe_l2"]["number"]) >= n
    # the replacement block's L1 origin is on the new canonical L1 chain
    ref = dn.rollup.call("optimism_outputAtBlock", hex(old_safe_n))["blockRef"]
    assert ref["hash"] != old_safe_hash
    origin = ref["l1origin"]
    assert dn.l1.call("eth_getBlockByNumber", hex(origin["number"]), False)["hash"] == origin["hash"]
    dn.assert_alive()
    assert go_verifier.op_node.alive()


def test_kill_and_restart_loses_nothing(dn: Devnet, go_verifier: Verifier) -> None:
    registry = PidRegistry(dn.info.directory)
    proc = node(dn)
    geth = dn.stack.op_geth
    assert proc.popen is not None
    proc.popen.kill()  # SIGKILL: no clean shutdown of pyop node
    proc.popen.wait(10)
    registry.remove(proc.name)
    latest = dn.l2.call("eth_getBlockByNumber", "latest", False)
    safe = dn.l2.call("eth_getBlockByNumber", "safe", False)
    fin = dn.l2.call("eth_getBlockByNumber", "finalized", False)
    assert geth.stop() == "sigint"  # op-geth: SIGINT, a clean database shutdown
    geth2 = restart_op_geth(registry, geth, dn.info.l2_chain_id)
    dn.stack.op_geth = geth2
    dn.stack.processes["op-geth"] = geth2.process
    # op-geth keeps its head and finalized block; it does not store the safe block and restarts
    # with safe = finalized (go-ethereum core/blockchain.go loadLastState), so pyop re-derives it.
    for tag, blk in (("latest", latest), ("finalized", fin), ("safe", fin)):
        assert dn.l2.call("eth_getBlockByNumber", tag, False)["hash"] == blk["hash"], tag
    assert block_hash(dn.l2, hex_to_int(safe["number"])) == safe["hash"]
    mark = log_size(proc)
    proc2 = restart_registered(registry, proc, cwd=dn.info.directory / "pyop-node")
    dn.stack.processes["pyop-node"] = proc2
    wait_rpc(dn.info.rollup_rpc_url, proc2)
    found = wait_for(lambda: engine_heads_logged(proc2, mark), 30, "pyop node to find its heads")
    unsafe_n, safe_n, fin_n = found[0]
    # start-up resumes from op-geth's head; safe/finalized never go below what op-geth had finalized
    assert unsafe_n == hex_to_int(latest["number"])
    assert hex_to_int(fin["number"]) <= fin_n <= safe_n <= hex_to_int(safe["number"])
    # The chain continues on top of the old head, and the safe head passes the old one.
    old_unsafe = hex_to_int(latest["number"])
    wait_for(lambda: int(dn.sync_status()["unsafe_l2"]["number"]) >= old_unsafe + 3, 60, "new unsafe blocks")
    assert block_hash(dn.l2, old_unsafe) == latest["hash"]
    assert l2_block(dn, old_unsafe + 1)["parentHash"] == latest["hash"]
    wait_for(lambda: int(dn.sync_status()["safe_l2"]["number"]) > old_unsafe, 90, "the safe head past the old unsafe head")
    assert block_hash(dn.l2, hex_to_int(safe["number"])) == safe["hash"]
    same_safe_hash(dn.info.rollup_rpc_url, dn.l2, go_verifier.rollup_rpc_url, go_verifier.op_geth.rpc(),
                   at_least=old_unsafe + 1, timeout=90, what="the Go verifier after the restart")  # fmt: skip
    assert count_in_log(proc2, "Traceback") == 0
    dn.assert_alive()
