"""Live devnet, batches as calldata: anvil L1 + OP L1 contracts + op-geth + the Go op-node
(sequencer), op-batcher and op-proposer, started with ``pyop.devnet.stack`` (what ``pyop devnet
init``/``up`` run). Isthmus and Jovian activate mid-run; a second op-geth with a Go op-node
verifier (p2p off, so it derives from L1 only) must reach the sequencer's safe head.

Expected values come from independent sources: the upgrade transactions from
pyop.protocol.upgrades (specs/protocol/isthmus|jovian/derivation.md), the deposit source hash
from the L1 log (specs/protocol/deposits.md), the output root from the L2 block and
``eth_getProof`` (specs/protocol/proposals.md "L2 Output Commitment Construction").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from pyop.config import Fork
from pyop.devnet.artifacts import load_artifact
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS
from pyop.devnet.process import PidRegistry
from pyop.devnet.stack import start_verifier
from pyop.primitives import from_hex, hex_to_int, to_hex
from pyop.protocol import predeploys as pd
from pyop.protocol import upgrades
from pyop.protocol.deposits import user_deposit_source_hash
from pyop.protocol.output_root import output_root
from tests.devnet.devnet_stack_harness import (
    Devnet,
    balance,
    batcher_txs,
    bring_up,
    fork_block_number,
    l2_block,
    l2oo_latest_block_number,
    l2oo_output_root_at,
    safe_head_advances,
    wait_for,
)

pytestmark = pytest.mark.slow

FORK_OFFSETS = {**DEFAULT_FORK_OFFSETS, Fork.ISTHMUS: 30, Fork.JOVIAN: 50}
TRANSACTION_DEPOSITED = "0x" + load_artifact("OptimismPortal").event_topic(
    "TransactionDeposited"
).hex()


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    yield from bring_up(tmp_path_factory.mktemp("calldata"), da="calldata",
                        fork_offsets=FORK_OFFSETS)  # fmt: skip


def test_stack_started(dn: Devnet) -> None:
    dn.assert_alive()
    names = set(dn.stack.processes)
    assert {"op-geth", "op-node", "op-batcher", "op-proposer"} <= names
    registered = {p.name for p in PidRegistry(dn.info.directory).entries()}
    assert names | {"anvil"} <= registered
    # The forks must activate after the sequencer started, i.e. on a live chain.
    started = dn.stack.processes["op-node"].started_at
    for fork in ("isthmus", "jovian"):
        t = dn.info.fork_times[fork]
        assert t is not None and t > started, f"{fork} at {t}, op-node started {started:.0f}"
    print(f"\ninit {dn.init_seconds:.1f}s, up {dn.up_seconds:.1f}s")


def test_unsafe_head_advances_every_block_time(dn: Devnet) -> None:
    bt = dn.info.l2_block_time
    first = int(dn.sync_status()["unsafe_l2"]["number"])
    t0 = time.monotonic()
    time.sleep(5 * bt)
    last = int(dn.sync_status()["unsafe_l2"]["number"])
    elapsed = time.monotonic() - t0
    assert abs((last - first) - elapsed / bt) <= 1.5, (first, last, elapsed)
    for n in range(first + 1, last + 1):
        parent, blk = l2_block(dn, n - 1), l2_block(dn, n)
        assert blk["parentHash"] == parent["hash"]
        assert hex_to_int(blk["timestamp"]) - hex_to_int(parent["timestamp"]) == bt
        assert hex_to_int(blk["timestamp"]) == dn.info.l2_genesis_time + n * bt


def test_deposit_appears_on_l2(dn: Devnet) -> None:
    user = dn.info.keys["user"]["address"]
    recipient = "0x" + bytes(range(0xA0, 0xB4)).hex()
    value = 1_234_567 * 10**12
    portal = dn.info.addresses["OptimismPortalProxy"]
    data = load_artifact("OptimismPortal").encode_call(
        "depositTransaction", recipient, value, 100_000, False, b""
    )
    assert balance(dn.l2, recipient) == 0
    tx_hash = dn.l1.call("eth_sendTransaction", {"from": user, "to": portal,
                                                 "value": hex(value), "data": to_hex(data)})  # fmt: skip
    receipt = wait_for(lambda: dn.l1.call("eth_getTransactionReceipt", tx_hash), 30, "L1 receipt")
    assert receipt["status"] == "0x1"
    (log,) = [lg for lg in receipt["logs"] if lg["topics"][0] == TRANSACTION_DEPOSITED]
    source_hash = user_deposit_source_hash(
        from_hex(receipt["blockHash"], length=32), hex_to_int(log["logIndex"])
    )
    got = wait_for(lambda: balance(dn.l2, recipient) or None, 60, "the deposit on L2")
    assert got == value
    # The deposit transaction itself: type 0x7e with the source hash of the L1 log.
    n = int(dn.sync_status()["unsafe_l2"]["number"])
    found = None
    for k in range(n, max(0, n - 40), -1):
        for tx in l2_block(dn, k, full=True)["transactions"]:
            if tx.get("sourceHash") == to_hex(source_hash):
                found = tx
        if found:
            break
    assert found is not None, "no L2 deposit tx with the expected source hash"
    assert found["type"] == "0x7e"
    assert hex_to_int(found["mint"]) == value and hex_to_int(found["value"]) == value
    assert found["to"].lower() == recipient


def test_fork_activation_upgrade_txs(dn: Devnet) -> None:
    jovian_block = fork_block_number(dn.info, "jovian")
    wait_for(lambda: int(dn.sync_status()["unsafe_l2"]["number"]) > jovian_block, 120,
             "the Jovian activation block")  # fmt: skip
    for fork, txs in (("isthmus", upgrades.isthmus_upgrade_txs()),
                      ("jovian", upgrades.jovian_upgrade_txs())):  # fmt: skip
        n = fork_block_number(dn.info, fork)
        blk = l2_block(dn, n)
        assert hex_to_int(blk["timestamp"]) == dn.info.fork_times[fork]
        want = [to_hex(d.tx_hash()) for d in txs]
        # specs: the L1-info deposit first, then the upgrade deposits, in spec order.
        assert blk["transactions"][1 : 1 + len(want)] == want, fork
        for h in want:
            assert dn.l2.call("eth_getTransactionReceipt", h)["status"] == "0x1", (fork, h)
        prev = l2_block(dn, n - 1)
        assert not set(want) & set(prev["transactions"])


def test_safe_head_advances_with_calldata_batches(dn: Devnet) -> None:
    head = hex_to_int(dn.l1.call("eth_blockNumber"))
    before, after = safe_head_advances(dn, blocks=4, timeout=60)
    txs = batcher_txs(dn, 1, hex_to_int(dn.l1.call("eth_blockNumber")))
    assert txs, "no batcher transactions on L1"
    assert all(tx["type"] == "0x2" and tx["input"].startswith("0x00") for tx in txs)
    assert after > before
    assert any(hex_to_int(tx["blockNumber"]) >= head for tx in txs), "no batch posted meanwhile"
    safe = dn.sync_status()["safe_l2"]
    assert l2_block(dn, int(safe["number"]))["hash"] == safe["hash"]


def test_finalized_follows_l1_finality(dn: Devnet) -> None:
    st = dn.sync_status()
    start = int(st["finalized_l2"]["number"])
    def advanced() -> dict[str, Any] | None:
        s = dn.sync_status()
        return s if int(s["finalized_l2"]["number"]) > start else None

    st = wait_for(advanced, 60, "the finalized head to advance")
    fin = st["finalized_l2"]
    assert int(fin["l1origin"]["number"]) <= int(st["finalized_l1"]["number"])
    assert int(fin["number"]) <= int(st["safe_l2"]["number"])
    l1_fin = dn.l1.call("eth_getBlockByNumber", "finalized", False)
    assert hex_to_int(l1_fin["number"]) >= int(st["finalized_l1"]["number"])
    assert dn.l2.call("eth_getBlockByNumber", "finalized", False)["number"] is not None


def test_proposer_outputs_in_l2_output_oracle(dn: Devnet) -> None:
    latest = wait_for(lambda: l2oo_latest_block_number(dn), 90, "an L2OutputOracle proposal")
    assert latest > 0
    root, _ts, number = l2oo_output_root_at(dn, latest)
    assert number == latest
    rpc_out = dn.rollup.call("optimism_outputAtBlock", hex(latest))
    assert from_hex(rpc_out["outputRoot"], length=32) == root
    # Recompute it independently: version 0 || state root || message passer storage root ||
    # block hash (the storage root from eth_getProof at that block).
    blk = l2_block(dn, latest)
    proof = dn.l2.call("eth_getProof", to_hex(pd.L2_TO_L1_MESSAGE_PASSER), [], hex(latest))
    expect = output_root(
        from_hex(blk["stateRoot"], length=32),
        from_hex(proof["storageHash"], length=32),
        from_hex(blk["hash"], length=32),
    )
    assert expect == root


def test_verifier_reaches_sequencer_safe_head(dn: Devnet) -> None:
    registry = PidRegistry(dn.info.directory)
    target = dn.sync_status()["safe_l2"]
    t0 = time.monotonic()
    verifier = start_verifier(dn.info)
    try:
        def reached() -> dict[str, object] | None:
            st = dn.sync_status(verifier.rollup_rpc_url)
            return st if int(st["safe_l2"]["number"]) >= int(target["number"]) else None

        wait_for(reached, 180, f"the verifier's safe head to reach {target['number']}")
        print(f"\nverifier reached safe {target['number']} in {time.monotonic() - t0:.1f}s")
        vblk = verifier.op_geth.rpc().call("eth_getBlockByNumber", hex(int(target["number"])), False)
        assert vblk["hash"] == target["hash"]
        # And it keeps following: its safe head matches the sequencer's block at that height.
        st = dn.sync_status(verifier.rollup_rpc_url)
        vs = st["safe_l2"]
        assert l2_block(dn, int(vs["number"]))["hash"] == vs["hash"]
        assert verifier.op_node.alive() and verifier.op_geth.alive()
    finally:
        verifier.stop(registry)
    assert registry.get("verifier-op-node") is None
