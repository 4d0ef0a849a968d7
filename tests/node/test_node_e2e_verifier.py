"""End to end: ``pyop node`` as a verifier of a Go-sequenced devnet (issue 5, "Proof").

anvil L1 + OP L1 contracts + op-geth + the Go op-node sequencer + the Go op-batcher (calldata);
Isthmus and Jovian activate mid-run. Beside it: ``pyop node`` without ``--sequencer.enabled``
on its own op-geth (:func:`pyop.devnet.stack.start_verifier` with ``kind="pyop"``), and a Go
op-node verifier on a third op-geth as the reference for the L1 reorg. Both verifiers derive
from L1 only (no p2p).

Expected values come from the Go op-node (the sequencer's and the Go verifier's safe heads,
``optimism_outputAtBlock``) and op-geth's own labels; nothing here is produced by the code under
test.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from pyop.config import Fork
from pyop.devnet.faults import restart_op_geth, restart_registered
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS
from pyop.devnet.process import PidRegistry, free_port
from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import Verifier, start_verifier
from pyop.primitives import hex_to_int
from tests.conftest import REPO
from tests.devnet.devnet_stack_harness import Devnet, fork_block_number, l2_block, wait_for
from tests.node.node_e2e_harness import (
    block_hash,
    bring_up,
    count_in_log,
    engine_heads_logged,
    log_size,
    reorg_l1_below_safe_origin,
    same_safe_hash,
    sync_status,
    wait_rpc,
)

pytestmark = pytest.mark.slow

FORK_OFFSETS = {**DEFAULT_FORK_OFFSETS, Fork.ISTHMUS: 30, Fork.JOVIAN: 50, Fork.KARST: 70}
KARST_UPGRADE_GAS = json.loads((REPO / "spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json").read_text())["sets"][0]["upgradeGas"]
L1_RPC_LIMITS = ("--l1.rpc-max-batch-size=4", "--l1.max-concurrency=2", "--l1.rpc-rate-limit=100",
                 "--l1.cache-size=16")  # fmt: skip
OUTPUT_FIELDS = ("version", "outputRoot", "blockRef", "withdrawalStorageRoot", "stateRoot")


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    yield from bring_up(tmp_path_factory.mktemp("e2e-ver"), stack="go", fork_offsets=FORK_OFFSETS,
                        proposer=False, label="Go sequencer")  # fmt: skip


@pytest.fixture(scope="module")
def pyop_metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def pyop_verifier(dn: Devnet, pyop_metrics_port: int) -> Iterator[Verifier]:
    """``pyop node`` (no sequencer) on its own op-geth, started right after the devnet so it
    derives Isthmus and Jovian as they happen; p2p off, so it follows L1 only (the gossip path
    has its own tests, tests/p2p). Its L1 client runs under op-node's L1 RPC limits, set tight
    (batches of 4, 2 requests in flight, 100 requests/s, 16 cached headers: the chain outgrows
    the cache)."""
    v = start_verifier(dn.info, name="pyop-verifier", kind="pyop", p2p=False, metrics_port=pyop_metrics_port,
                       extra=L1_RPC_LIMITS)  # fmt: skip
    try:
        yield v
    finally:
        v.stop(PidRegistry(dn.info.directory))


@pytest.fixture(scope="module")
def go_verifier(dn: Devnet) -> Iterator[Verifier]:
    v = start_verifier(dn.info, kind="go", p2p=False)
    try:
        yield v
    finally:
        v.stop(PidRegistry(dn.info.directory))


def test_pyop_verifier_reaches_go_safe_head(dn: Devnet, pyop_verifier: Verifier) -> None:
    assert pyop_verifier.kind == "pyop"
    assert "--sequencer.enabled" not in pyop_verifier.op_node.argv
    assert RpcClient(pyop_verifier.rollup_rpc_url).call("optimism_version").endswith("-pyop")
    jovian = fork_block_number(dn.info, "jovian")
    # past both activations: pyop derived the upgrade transactions the Go sequencer included
    wait_for(lambda: int(dn.sync_status()["safe_l2"]["number"]) > jovian + 2, 120, "the Go safe head past Jovian")
    target = dn.sync_status()["safe_l2"]
    purl = pyop_verifier.rollup_rpc_url
    t0 = time.monotonic()
    wait_for(lambda: int(sync_status(purl)["safe_l2"]["number"]) >= int(target["number"]), 120,
             f"the pyop verifier's safe head to reach {target['number']}")  # fmt: skip
    print(f"\npyop verifier at the Go safe head {target['number']} {time.monotonic() - t0:.1f}s later")
    pl2 = pyop_verifier.op_geth.rpc()
    assert block_hash(pl2, int(target["number"])) == target["hash"]
    for fork in ("isthmus", "jovian"):
        n = fork_block_number(dn.info, fork)
        assert block_hash(pl2, n) == l2_block(dn, n)["hash"], fork
    st = sync_status(purl)
    # derives from L1 only: its unsafe head is its safe head, and op-geth has the same labels
    assert st["unsafe_l2"] == st["safe_l2"]
    assert block_hash(dn.l2, int(st["safe_l2"]["number"])) == st["safe_l2"]["hash"]
    wait_for(lambda: pl2.call("eth_getBlockByNumber", "safe", False)["hash"] == sync_status(purl)["safe_l2"]["hash"],
             20, "the pyop verifier's op-geth safe label")  # fmt: skip


def test_l1_rpc_limits_hold(dn: Devnet, pyop_verifier: Verifier, pyop_metrics_port: int) -> None:
    """--l1.cache-size=16: the headers cache never holds more than 16 (op-node's
    ``l1_source_cache_size{type="headers"}``) and has evicted; the verifier derived the chain
    with these limits (test_pyop_verifier_reaches_go_safe_head)."""
    import urllib.request

    assert all(f in pyop_verifier.op_node.argv for f in L1_RPC_LIMITS)
    purl = pyop_verifier.rollup_rpc_url
    wait_for(lambda: int(sync_status(purl)["current_l1"]["number"]) > 20, 120, "the verifier past L1 block 20")
    with urllib.request.urlopen(f"http://127.0.0.1:{pyop_metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    ns = "op_node_default_l1_source_cache"
    size = re.search(rf'^{ns}_size{{type="headers"}} (\d+)$', text, re.M)
    evicted = re.search(rf'^{ns}_add{{type="headers",evicted="true"}} (\d+)$', text, re.M)
    assert size is not None and 1 <= int(size.group(1)) <= 16, text
    assert evicted is not None and int(evicted.group(1)) > 0, text


def test_pyop_verifier_derives_the_go_karst_block(dn: Devnet, pyop_verifier: Verifier) -> None:
    """Derivation audit D1: the Go sequencer's Karst activation block (31 NUT-bundle deposits,
    gas limit + 55,370,657 upgrade gas, then back) is derived by pyop with the same hash, and so
    are the blocks around it (the next one from a SystemConfig with the upgrade gas stripped)."""
    karst = fork_block_number(dn.info, "karst")
    purl = pyop_verifier.rollup_rpc_url
    wait_for(lambda: int(sync_status(purl)["safe_l2"]["number"]) > karst + 1, 120,
             "the pyop verifier's safe head past Karst")  # fmt: skip
    pl2 = pyop_verifier.op_geth.rpc()
    for n in (karst - 1, karst, karst + 1):
        assert block_hash(pl2, n) == l2_block(dn, n)["hash"], n
    blk, prev, nxt = l2_block(dn, karst), l2_block(dn, karst - 1), l2_block(dn, karst + 1)
    assert len(blk["transactions"]) == 1 + 31
    assert hex_to_int(blk["gasLimit"]) == hex_to_int(prev["gasLimit"]) + KARST_UPGRADE_GAS
    assert hex_to_int(nxt["gasLimit"]) == hex_to_int(prev["gasLimit"])


def test_pyop_verifier_keeps_following(dn: Devnet, pyop_verifier: Verifier) -> None:
    purl = pyop_verifier.rollup_rpc_url
    start = int(sync_status(purl)["safe_l2"]["number"])
    n = same_safe_hash(dn.info.rollup_rpc_url, dn.l2, purl, pyop_verifier.op_geth.rpc(), at_least=start + 5,
                       timeout=60, what="five more safe blocks on both")  # fmt: skip
    assert n >= start + 5

    def finalized_moved() -> bool:
        return int(sync_status(purl)["finalized_l2"]["number"]) > 0

    wait_for(finalized_moved, 60, "the pyop verifier's finalized head")
    fin = sync_status(purl)["finalized_l2"]
    assert block_hash(dn.l2, int(fin["number"])) == fin["hash"]


def test_output_at_block_equals_go_op_node(dn: Devnet, pyop_verifier: Verifier) -> None:
    purl = pyop_verifier.rollup_rpc_url
    isthmus = fork_block_number(dn.info, "isthmus")
    jovian = fork_block_number(dn.info, "jovian")
    safe = int(sync_status(purl)["safe_l2"]["number"])
    assert safe > jovian
    blocks = sorted({0, 1, 2, isthmus - 1, isthmus, isthmus + 1, jovian, jovian + 1, safe})
    pyop, go = RpcClient(purl), dn.rollup
    for n in blocks:
        a = pyop.call("optimism_outputAtBlock", hex(n))
        b = go.call("optimism_outputAtBlock", hex(n))
        for f in OUTPUT_FIELDS:
            assert a[f] == b[f], f"block {n} field {f}: pyop {a[f]} != Go op-node {b[f]}"


def test_l1_reorg_pyop_verifier_recovers_like_go_op_node(
    dn: Devnet, pyop_verifier: Verifier, go_verifier: Verifier
) -> None:
    purl, gurl = pyop_verifier.rollup_rpc_url, go_verifier.rollup_rpc_url
    pl2, gl2 = pyop_verifier.op_geth.rpc(), go_verifier.op_geth.rpc()
    same_safe_hash(purl, pl2, gurl, gl2, at_least=int(dn.sync_status()["safe_l2"]["number"]), timeout=120,
                   what="the Go verifier to catch up before the reorg")  # fmt: skip
    mark = log_size(pyop_verifier.op_node)
    # Reorg below the pyop verifier's own safe head's L1 origin (it derives from the same L1).
    r = reorg_l1_below_safe_origin(dn, purl)
    print(f"\nL1 reorg: {r}")
    old_safe = r["safe_l2"]
    old_hash = block_hash(pl2, old_safe)
    wait_for(lambda: count_in_log(pyop_verifier.op_node, "reset engine and derivation pipeline", mark)
             + count_in_log(pyop_verifier.op_node, "derivation reset", mark) > 0, 60,
             "the pyop verifier to reset on the L1 reorg")  # fmt: skip
    # The Go sequencer's new chain replaces the L2 blocks built on the replaced L1 origin ...
    wait_for(lambda: block_hash(dn.l2, old_safe) not in (None, old_hash), 60,
             f"the Go sequencer to replace L2 block {old_safe}")  # fmt: skip
    # ... and the pyop verifier, the Go verifier and the Go sequencer agree past the old head.
    target = int(dn.sync_status()["unsafe_l2"]["number"])
    n = same_safe_hash(purl, pl2, gurl, gl2, at_least=target, timeout=150,
                       what="both verifiers' safe heads past the sequencer's post-reorg head")  # fmt: skip
    assert block_hash(dn.l2, n) == block_hash(pl2, n)
    assert block_hash(pl2, old_safe) == block_hash(dn.l2, old_safe) != old_hash
    assert pyop_verifier.op_node.alive() and go_verifier.op_node.alive()


def test_pyop_verifier_kill_and_restart_loses_nothing(dn: Devnet, pyop_verifier: Verifier) -> None:
    registry = PidRegistry(dn.info.directory)
    proc, geth = pyop_verifier.op_node, pyop_verifier.op_geth
    purl, pl2 = pyop_verifier.rollup_rpc_url, geth.rpc()
    assert proc.popen is not None
    proc.popen.kill()  # SIGKILL
    proc.popen.wait(10)
    latest = pl2.call("eth_getBlockByNumber", "latest", False)
    fin = pl2.call("eth_getBlockByNumber", "finalized", False)
    assert geth.stop() == "sigint"
    geth2 = restart_op_geth(registry, geth, dn.info.l2_chain_id)
    pyop_verifier.op_geth = geth2
    for tag, blk in (("latest", latest), ("finalized", fin)):
        assert pl2.call("eth_getBlockByNumber", tag, False)["hash"] == blk["hash"], tag
    mark = log_size(proc)
    proc2 = restart_registered(registry, proc, cwd=dn.info.directory / proc.name)
    pyop_verifier.op_node = proc2
    wait_rpc(purl, proc2)
    unsafe_n, safe_n, fin_n = wait_for(lambda: engine_heads_logged(proc2, mark), 30, "heads found")[0]
    assert unsafe_n == hex_to_int(latest["number"])
    assert hex_to_int(fin["number"]) <= fin_n <= safe_n <= unsafe_n
    old = hex_to_int(latest["number"])
    n = same_safe_hash(dn.info.rollup_rpc_url, dn.l2, purl, pl2, at_least=old + 3, timeout=90,
                       what="the restarted pyop verifier past its old head")  # fmt: skip
    assert block_hash(pl2, old) == latest["hash"] == block_hash(dn.l2, old)
    assert n >= old + 3
    assert count_in_log(proc2, "Traceback") == 0
