"""The seed's @eth-optimism/sdk flow on ``--stack pyop``: pyop node (sequencer), pyop batcher and
``pyop proposer`` posting to the L2OutputOracle (op-geth stays the EL): depositETH -> RELAYED;
withdrawETH -> READY_TO_PROVE -> proveMessage -> READY_FOR_RELAY -> finalizeMessage -> RELAYED,
balances moving by the bridged amounts. Then the proposer's own behaviour on the live chain:
every proposal's root equals the one recomputed here from op-geth (``eth_getProof`` +
proposals.md), admin stop/start, metrics, a restart, and an L1 reorg that removes a proposal.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from eth_hash.auto import keccak

from pyop.devnet.artifacts import load_artifact
from pyop.devnet.roles import Roles
from pyop.devnet.rpc import RpcClient, RpcError
from pyop.primitives import hex_to_int
from tests.devnet.devnet_stack_harness import (
    Devnet,
    bring_up,
    l2oo_latest_block_number,
    restart_pyop_proposer,
    wait_for,
)
from tests.devnet.sdk_flow_harness import check_balances, require_sdk, run_sdk_flow, timings

pytestmark = pytest.mark.slow
ALL_PYOP = Roles(node="pyop", batcher="pyop", proposer="pyop")
"""``--stack pyop``: rollup node, batcher and proposer all pyop (op-geth stays the EL)."""


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    require_sdk()
    yield from bring_up(tmp_path_factory.mktemp("sdk-pyop"), stack="pyop", roles=ALL_PYOP)


def test_sdk_deposit_and_withdrawal_pyop_proposer(dn: Devnet) -> None:
    assert {"pyop-node", "pyop-batcher", "pyop-proposer"} <= set(dn.stack.processes)
    assert not {"op-node", "op-batcher", "op-proposer"} & set(dn.stack.processes)
    res = run_sdk_flow(dn.info)
    assert res.by_event["fpac"]["fpac"] is False
    fees = check_balances(dn.info, res)
    print(f"\n[sdk pyop l2oo] {timings(res)} fees {fees} total {res.seconds:.1f}s")
    dn.assert_alive()


OUTPUT_PROPOSED = "0x" + load_artifact("L2OutputOracle").event_topic("OutputProposed").hex()


def _proposals(dn: Devnet) -> dict[int, tuple[str, str, int]]:
    """l2 block -> (root, L1 tx, L1 block) from the oracle's OutputProposed logs."""
    logs = dn.l1.call("eth_getLogs", {"address": dn.info.addresses["L2OutputOracleProxy"],
                                      "fromBlock": "0x0", "toBlock": "latest",
                                      "topics": [OUTPUT_PROPOSED]})  # fmt: skip
    return {hex_to_int(lg["topics"][3]): (lg["topics"][1], lg["transactionHash"],
                                          hex_to_int(lg["blockNumber"])) for lg in logs}  # fmt: skip


def test_every_proposal_is_the_output_root_of_its_block(dn: Devnet) -> None:
    # the SDK flow needed one proposal; wait for a second (checkpoints every 10 L2 blocks)
    props = wait_for(lambda: (p := _proposals(dn)) and len(p) >= 2 and p, 120, "two proposals")
    for n, (root, _tx, _b) in props.items():
        blk = dn.l2.call("eth_getBlockByNumber", hex(n), False)
        proof = dn.l2.call("eth_getProof", "0x4200000000000000000000000000000000000016", [],
                           blk["hash"])  # fmt: skip
        wr = proof["storageHash"]
        if blk.get("withdrawalsRoot") and n > 0 and dn.info.fork_times.get("isthmus") is not None \
                and hex_to_int(blk["timestamp"]) >= int(dn.info.fork_times["isthmus"] or 0):
            assert blk["withdrawalsRoot"] == wr  # Isthmus: the header commits to it
        want = keccak(b"\x00" * 32 + bytes.fromhex(blk["stateRoot"][2:]) + bytes.fromhex(wr[2:])
                      + bytes.fromhex(blk["hash"][2:]))  # fmt: skip
        assert root == "0x" + want.hex(), n
        assert root == dn.rollup.call("optimism_outputAtBlock", hex(n))["outputRoot"]


def _metric(dn: Devnet, name: str) -> float | None:
    port = dn.info.ports.get("proposerMetrics")
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_admin_stop_start_and_metrics(dn: Devnet) -> None:
    admin = RpcClient(dn.info.url("proposerRpc"), timeout=5)
    latest = wait_for(lambda: l2oo_latest_block_number(dn), 60, "a proposal")
    assert _metric(dn, "op_proposer_default_up") == 1
    assert (_metric(dn, "op_proposer_default_proposed_sequence_number") or 0) >= 10
    assert (_metric(dn, "op_proposer_default_proposal_gas_used") or 0) > 50_000
    admin.call("admin_stopProposer")
    with pytest.raises(RpcError, match="not running"):
        admin.call("admin_stopProposer")
    stopped_at = l2oo_latest_block_number(dn)
    # The safe head passes the next checkpoint, but nothing is proposed while stopped.
    wait_for(lambda: int(dn.sync_status()["safe_l2"]["number"]) >= stopped_at + 12, 90,
             "the safe head past the next checkpoint")  # fmt: skip
    assert l2oo_latest_block_number(dn) == stopped_at
    admin.call("admin_startProposer")
    wait_for(lambda: l2oo_latest_block_number(dn) > stopped_at, 60, "a proposal after start")
    assert latest <= stopped_at


def test_restart_continues_without_duplicates(dn: Devnet) -> None:
    before = l2oo_latest_block_number(dn)
    restart_pyop_proposer(dn)
    wait_for(lambda: l2oo_latest_block_number(dn) >= before + 20, 120, "two more proposals")
    blocks = sorted(_proposals(dn))
    assert blocks == list(range(10, blocks[-1] + 1, 10))  # every checkpoint exactly once


def test_l1_reorg_removing_a_proposal_is_proposed_again(dn: Devnet) -> None:
    props = _proposals(dn)
    n = max(props)
    _root, _tx, l1_block = props[n]
    head = hex_to_int(dn.l1.call("eth_blockNumber"))
    depth = head - l1_block + 1
    dn.l1.call("anvil_reorg", depth, [])
    # The proposal (and whatever else was in those L1 blocks) is gone from the canonical chain...
    wait_for(lambda: n not in _proposals(dn) or _proposals(dn)[n][2] != l1_block, 30,
             "the reorg to remove the proposal")  # fmt: skip
    # ...and the proposer proposes block n again, with the same root.
    again = wait_for(lambda: _proposals(dn).get(n), 180, f"block {n} proposed again")
    assert again[0] == props[n][0]
    assert l2oo_latest_block_number(dn) >= n
