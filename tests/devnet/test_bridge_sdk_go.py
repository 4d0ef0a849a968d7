"""The seed's @eth-optimism/sdk flow on the all-Go stack (op-node, op-batcher and the
L2OutputOracle op-proposer v1.13.7), for comparison with the pyop stacks
(test_bridge_sdk_pyop*.py): depositETH -> RELAYED; withdrawETH -> READY_TO_PROVE -> proveMessage
-> READY_FOR_RELAY -> finalizeMessage -> RELAYED, with balances moving by the bridged amounts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.devnet.devnet_stack_harness import Devnet, bring_up
from tests.devnet.sdk_flow_harness import check_balances, require_sdk, run_sdk_flow, timings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    require_sdk()
    yield from bring_up(tmp_path_factory.mktemp("sdk-go"), stack="go")


def test_sdk_deposit_and_withdrawal_go_stack(dn: Devnet) -> None:
    res = run_sdk_flow(dn.info)
    assert res.by_event["fpac"]["fpac"] is False  # L2OutputOracle portal (OptimismPortal 2.x)
    fees = check_balances(dn.info, res)
    print(f"\n[sdk go] {timings(res)} fees {fees} total {res.seconds:.1f}s")
    dn.assert_alive()
