"""The seed's @eth-optimism/sdk flow on the all-Go stack (op-node, op-batcher and the
L2OutputOracle op-proposer v1.13.7), for comparison with the pyop stacks
(test_bridge_sdk_pyop*.py): depositETH -> RELAYED; withdrawETH -> READY_TO_PROVE -> proveMessage
-> READY_FOR_RELAY -> finalizeMessage -> RELAYED, with balances moving by the bridged amounts.

On the same chain, ``pyop proposer`` posts to a second L2OutputOracle (same submission interval
and starting block, its own proposer key): for every L2 block both proposed, the Go op-proposer's
and pyop's output roots must be identical; the L1 gas of their proposals is compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pyop.devnet.artifacts import load_artifact
from pyop.devnet.keys import dev_key
from pyop.devnet.l1_deploy import _Sender
from pyop.devnet.process import PidRegistry, free_port, start_process, wait_for_http
from pyop.devnet.proposer_role import pyop_proposer_argv
from pyop.primitives import hex_to_int
from tests.devnet.devnet_stack_harness import Devnet, bring_up, wait_for
from tests.devnet.sdk_flow_harness import check_balances, require_sdk, run_sdk_flow, timings

pytestmark = pytest.mark.slow
OUTPUT_PROPOSED = "0x" + load_artifact("L2OutputOracle").event_topic("OutputProposed").hex()


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


def _second_oracle(dn: Devnet, proposer: str) -> str:
    """A second L2OutputOracle proxy initialized like the devnet's (Deploy.s.sol's
    initializeL2OutputOracle) but with ``proposer`` as its proposer."""
    info = dn.info
    admin = dev_key("admin")
    from pyop.devnet.l1_deploy import load_deployment_json

    dep = load_deployment_json(info.directory / "deployment.json")
    s = _Sender(dn.l1, admin, info.l1_chain_id, dep.config)
    proxy = s.deploy("deploy second L2OutputOracleProxy", load_artifact("Proxy"),
                     info.addresses["ProxyAdmin"])  # fmt: skip
    l2oo = load_artifact("L2OutputOracle")
    cfg = dep.config
    init = l2oo.encode_call("initialize", cfg.l2_output_oracle_submission_interval,
                            cfg.l2_block_time, cfg.l2_output_oracle_starting_block_number,
                            dep.l2_genesis_time, proposer, proposer,
                            cfg.finalization_period_seconds)  # fmt: skip
    s.call("initialize second L2OutputOracle", info.addresses["ProxyAdmin"],
           load_artifact("ProxyAdmin").encode_call("upgradeAndCall", proxy,
                                                   info.addresses["L2OutputOracle"], init),
           gas=1_000_000)  # fmt: skip
    s.wait(60)
    return proxy


def _outputs(dn: Devnet, oracle: str) -> dict[int, tuple[str, str]]:
    """l2 block -> (output root, L1 tx hash) from the oracle's OutputProposed logs."""
    logs = dn.l1.call("eth_getLogs", {"address": oracle, "fromBlock": "0x0", "toBlock": "latest",
                                      "topics": [OUTPUT_PROPOSED]})  # fmt: skip
    return {hex_to_int(lg["topics"][3]): (lg["topics"][1], lg["transactionHash"]) for lg in logs}


def _gas(dn: Devnet, txs: list[str]) -> list[int]:
    return [hex_to_int(dn.l1.call("eth_getTransactionReceipt", h)["gasUsed"]) for h in txs]


def test_go_and_pyop_proposers_post_identical_roots(dn: Devnet) -> None:
    second = dev_key("challenger")
    oracle = _second_oracle(dn, second.address)
    registry = PidRegistry(dn.info.directory)
    proc = start_process("pyop-proposer-2", pyop_proposer_argv(
        dn.info, rpc_port=free_port("127.0.0.1"), l2oo_address=oracle, key=second.private_key_hex,
    ), log_path=dn.info.logs_dir / "pyop-proposer-2.log", registry=registry)  # fmt: skip
    try:
        main = dn.info.addresses["L2OutputOracleProxy"]

        def common() -> dict[int, Any] | None:
            go, py = _outputs(dn, main), _outputs(dn, oracle)
            both = sorted(set(go) & set(py))
            return {n: (go[n], py[n]) for n in both} if len(both) >= 4 else None

        pairs = wait_for(common, 180, "4 L2 blocks proposed by both proposers", interval=2.0)
        assert proc.alive(), proc.log_tail(20)
        for n, ((go_root, _), (py_root, _)) in pairs.items():
            assert go_root == py_root, f"L2 block {n}: Go {go_root} pyop {py_root}"
        # Gas per proposal, the first (cold storage) excluded from both.
        blocks = sorted(pairs)[1:]
        go_gas = _gas(dn, [pairs[n][0][1] for n in blocks])
        py_gas = _gas(dn, [pairs[n][1][1] for n in blocks])
        print(f"\n[proposers] identical roots for L2 blocks {sorted(pairs)}; L1 gas per proposal "
              f"Go {go_gas} pyop {py_gas}")  # fmt: skip
        assert all(abs(g - p) <= 2_000 for g, p in zip(go_gas, py_gas, strict=True))
        wait_for_http(proc_url(proc, dn), timeout=5)
    finally:
        proc.stop(sigint_timeout=10)
        registry.remove(proc.name)


def proc_url(proc: Any, dn: Devnet) -> str:
    for a in proc.argv:
        if a.startswith("--rpc.port="):
            return f"http://127.0.0.1:{a.split('=', 1)[1]}/healthz"
    return dn.info.url("proposerRpc")
