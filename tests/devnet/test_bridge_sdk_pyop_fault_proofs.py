"""The seed's @eth-optimism/sdk flow on a ``--fault-proofs`` devnet (OptimismPortal2 +
permissioned dispute game) with a pyop rollup node and ``pyop proposer`` creating games through
the DisputeGameFactory (``--game-type 1 --proposal-interval 12s``); games are resolved after
their clock by the devnet's game resolver (op-challenger's duty). The SDK takes its fault-proof
path (``fpac()``: portal version >= 3) and must reach RELAYED with balances moving by the
bridged amounts. Also: the anchor state is the genesis output root the rollup node
reports for block 0, and every game's root claim is the output root of its L2 block.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_abi.abi import decode as abi_decode

from pyop.devnet.artifacts import load_artifact
from pyop.devnet.l1_deploy import eth_call
from tests.devnet.devnet_stack_harness import Devnet, bring_up
from tests.devnet.sdk_flow_harness import check_balances, require_sdk, run_sdk_flow, timings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    require_sdk()
    yield from bring_up(tmp_path_factory.mktemp("sdk-fp"), stack="pyop", proposer_kind="pyop",
                        fault_proofs=True)  # fmt: skip


def test_anchor_is_the_genesis_output_root(dn: Devnet) -> None:
    fp = dn.info.fault_proofs
    assert fp is not None
    out = dn.rollup.call("optimism_outputAtBlock", "0x0")
    assert fp["anchorRoot"] == out["outputRoot"]


def test_sdk_deposit_and_withdrawal_fault_proofs(dn: Devnet) -> None:
    assert {"pyop-proposer", "game-resolver"} <= set(dn.stack.processes)
    res = run_sdk_flow(dn.info)
    assert res.by_event["fpac"]["fpac"] is True
    fees = check_balances(dn.info, res)
    print(f"\n[sdk pyop fault proofs] {timings(res)} fees {fees} total {res.seconds:.1f}s")
    dn.assert_alive()


def test_games_claim_the_output_roots_of_their_blocks(dn: Devnet) -> None:
    dgf = load_artifact("DisputeGameFactory")
    game = load_artifact("FaultDisputeGame")
    factory = dn.info.addresses["DisputeGameFactoryProxy"]
    (count,) = eth_call(dn.l1, factory, dgf, "gameCount")
    assert int(count) >= 1
    for i in range(int(count)):
        (_t, _ts, addr) = eth_call(dn.l1, factory, dgf, "gameAtIndex", i)
        (extra,) = eth_call(dn.l1, addr, game, "extraData")
        (block,) = abi_decode(["uint256"], bytes(extra))
        (root,) = eth_call(dn.l1, addr, game, "rootClaim")
        (creator,) = eth_call(dn.l1, addr, game, "gameCreator")
        assert str(creator).lower() == dn.info.keys["proposer"]["address"].lower()
        out = dn.rollup.call("optimism_outputAtBlock", hex(block))
        assert "0x" + bytes(root).hex() == out["outputRoot"], (i, block)
