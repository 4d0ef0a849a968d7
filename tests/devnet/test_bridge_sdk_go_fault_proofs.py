"""The seed's @eth-optimism/sdk flow on ``--stack go --fault-proofs``: the Go op-node, op-batcher
and op-proposer v1.19.6 (DisputeGameFactory mode, the respected permissioned game type, every
12 s) on the OptimismPortal2 devnet, games resolved after their clock by the devnet's game
resolver. The comparison for test_bridge_sdk_pyop_fault_proofs.py (same devnet recipe, pyop in
all three roles): the SDK takes its fault-proof path and reaches RELAYED with balances moving by
the bridged amounts, and the Go op-proposer's games claim the output roots the Go op-node
reports (the same check the pyop module makes of pyop proposer).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pyop.devnet.stack import find_dgf_op_proposer
from tests.devnet.devnet_stack_harness import Devnet, bring_up, dispute_games
from tests.devnet.sdk_flow_harness import check_balances, require_sdk, run_sdk_flow, timings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    require_sdk()
    if find_dgf_op_proposer() is None:
        pytest.skip("no op-proposer with DisputeGameFactory mode in the peers cache "
                    "(scripts/build-peers.sh builds op-proposer v1.19.6)")  # fmt: skip
    yield from bring_up(tmp_path_factory.mktemp("sdk-go-fp"), stack="go", fault_proofs=True)


def test_sdk_deposit_and_withdrawal_go_fault_proofs(dn: Devnet) -> None:
    assert {"op-node", "op-batcher", "op-proposer", "game-resolver"} <= set(dn.stack.processes)
    res = run_sdk_flow(dn.info)
    assert res.by_event["fpac"]["fpac"] is True  # OptimismPortal2: the SDK's fault-proof path
    fees = check_balances(dn.info, res)
    print(f"\n[sdk go fault proofs] {timings(res)} fees {fees} total {res.seconds:.1f}s")
    # The games the Go op-proposer created claim the Go op-node's output roots.
    respected = int(dn.info.fault_proofs["config"]["respectedGameType"]) if dn.info.fault_proofs else -1
    games = dispute_games(dn)
    assert len(games) >= 1
    for i, g in enumerate(games):
        assert g.game_type == respected
        assert g.creator == dn.info.keys["proposer"]["address"].lower()
        out = dn.rollup.call("optimism_outputAtBlock", hex(g.l2_block))
        assert g.root == out["outputRoot"], (i, g.l2_block)
    dn.assert_alive()
