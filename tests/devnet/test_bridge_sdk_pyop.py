"""The seed's @eth-optimism/sdk flow with ``pyop proposer`` posting to the L2OutputOracle, on a
pyop rollup node (``start_stack(stack="pyop", proposer_kind="pyop")``): depositETH -> RELAYED;
withdrawETH -> READY_TO_PROVE -> proveMessage -> READY_FOR_RELAY -> finalizeMessage -> RELAYED,
balances moving by the bridged amounts. Then the proposer's own behaviour on the live chain:
every proposal's root equals the one recomputed here from op-geth (``eth_getProof`` +
proposals.md), admin stop/start, metrics, a restart, and an L1 reorg that removes a proposal.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.devnet.devnet_stack_harness import (
    Devnet,
    bring_up,
)
from tests.devnet.sdk_flow_harness import check_balances, require_sdk, run_sdk_flow, timings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    require_sdk()
    yield from bring_up(tmp_path_factory.mktemp("sdk-pyop"), stack="pyop", proposer_kind="pyop")


def test_sdk_deposit_and_withdrawal_pyop_proposer(dn: Devnet) -> None:
    assert "pyop-proposer" in dn.stack.processes and "op-proposer" not in dn.stack.processes
    res = run_sdk_flow(dn.info)
    assert res.by_event["fpac"]["fpac"] is False
    fees = check_balances(dn.info, res)
    print(f"\n[sdk pyop l2oo] {timings(res)} fees {fees} total {res.seconds:.1f}s")
    dn.assert_alive()
