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
from itertools import pairwise

import pytest

from pyop.devnet.artifacts import load_artifact
from pyop.devnet.roles import Roles
from tests.devnet.devnet_stack_harness import (
    Devnet,
    bring_up,
    dispute_games,
    restart_pyop_proposer,
    wait_for,
)
from tests.devnet.sdk_flow_harness import (
    FlowResult,
    check_balances,
    require_sdk,
    run_sdk_flow,
    timings,
)

pytestmark = pytest.mark.slow
ALL_PYOP = Roles(node="pyop", batcher="pyop", proposer="pyop")
"""``--stack pyop``: rollup node, batcher and proposer all pyop (op-geth stays the EL)."""


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    require_sdk()
    yield from bring_up(tmp_path_factory.mktemp("sdk-fp"), stack="pyop", roles=ALL_PYOP,
                        fault_proofs=True)  # fmt: skip


def test_anchor_is_the_genesis_output_root(dn: Devnet) -> None:
    fp = dn.info.fault_proofs
    assert fp is not None
    out = dn.rollup.call("optimism_outputAtBlock", "0x0")
    assert fp["anchorRoot"] == out["outputRoot"]


FLOW: dict[str, FlowResult] = {}


def test_sdk_deposit_and_withdrawal_fault_proofs(dn: Devnet) -> None:
    assert {"pyop-proposer", "game-resolver"} <= set(dn.stack.processes)
    res = FLOW["res"] = run_sdk_flow(dn.info)
    assert res.by_event["fpac"]["fpac"] is True
    fees = check_balances(dn.info, res)
    print(f"\n[sdk pyop fault proofs] {timings(res)} fees {fees} total {res.seconds:.1f}s")
    dn.assert_alive()


def test_games_claim_the_output_roots_of_their_blocks(dn: Devnet) -> None:
    games = dispute_games(dn)
    assert len(games) >= 1
    for i, g in enumerate(games):
        assert g.creator == dn.info.keys["proposer"]["address"].lower()
        out = dn.rollup.call("optimism_outputAtBlock", hex(g.l2_block))
        assert g.root == out["outputRoot"], (i, g.l2_block)


def test_status_shows_latest_game_and_withdrawal_states(dn: Devnet) -> None:
    """``pyop devnet status --withdrawal``: the SDK's withdrawal is finalized; a new one is
    initiated at once and becomes provable when a game covers its block."""
    import subprocess
    import sys

    from eth_account import Account

    from pyop.devnet.withdrawals import latest_proposal, withdrawal_status
    from pyop.primitives import hex_to_int, to_hex

    p = latest_proposal(dn.info)
    assert p is not None and p.game is not None and p.l1_tx is not None
    assert p.output_root == dn.rollup.call("optimism_outputAtBlock", hex(p.l2_block))["outputRoot"]
    done = withdrawal_status(dn.info, FLOW["res"].tx("withdrawal_sent"))
    assert done.state == "finalized"
    out = subprocess.run([sys.executable, "-m", "pyop.cli", "devnet", "status",
                          str(dn.info.directory), "--withdrawal", done.withdrawal_hash],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert "state: finalized" in out and "latest proposal (dispute game)" in out
    # A fresh withdrawal: L2ToL1MessagePasser.initiateWithdrawal(to, gasLimit, data).
    key = dn.info.key("user")
    passer = load_artifact("L2ToL1MessagePasser")
    data = passer.encode_call("initiateWithdrawal", Account.from_key(key).address, 100_000, b"")
    nonce = hex_to_int(dn.l2.call("eth_getTransactionCount", Account.from_key(key).address,
                                  "pending"))  # fmt: skip
    tx = {"type": 2, "chainId": dn.info.l2_chain_id, "nonce": nonce, "gas": 200_000,
          "to": "0x4200000000000000000000000000000000000016", "value": 12345, "data": data,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}  # fmt: skip
    h = dn.l2.call("eth_sendRawTransaction",
                   to_hex(bytes(Account.sign_transaction(tx, key).raw_transaction)))  # fmt: skip
    wait_for(lambda: dn.l2.call("eth_getTransactionReceipt", h), 30, "the withdrawal receipt")
    assert withdrawal_status(dn.info, h).state == "initiated"
    wait_for(lambda: withdrawal_status(dn.info, h).state == "provable", 90, "a covering game")


def test_go_and_pyop_dispute_game_proposals(dn: Devnet) -> None:
    """op-proposer v1.19.6 and pyop proposer side by side on the permissionless CANNON game type
    (each with its own key): every game's claim is the output root of its block, and the L1 gas
    of ``create`` is compared."""
    from pyop.devnet.keys import dev_key
    from pyop.devnet.process import PidRegistry, free_port, start_process
    from pyop.devnet.proposer_role import go_dgf_proposer_argv, pyop_proposer_argv
    from pyop.devnet.stack import find_dgf_op_proposer
    from pyop.primitives import hex_to_int

    go_bin = find_dgf_op_proposer()
    if go_bin is None:
        pytest.skip("no op-proposer with DisputeGameFactory mode in the peers cache")
    go_key, py_key = dev_key("go-proposer", index=6), dev_key("pyop-proposer", index=7)
    override = ["--game-type=0", "--proposal-interval=6s"]
    registry = PidRegistry(dn.info.directory)
    procs = [
        start_process("go-dgf-proposer", [*go_dgf_proposer_argv(go_bin, dn.info,
                      rpc_port=free_port("127.0.0.1")), *override,
                      f"--private-key={go_key.private_key_hex[2:]}"],
                      log_path=dn.info.logs_dir / "go-dgf-proposer.log", registry=registry),
        start_process("pyop-dgf-proposer", [*pyop_proposer_argv(dn.info,
                      rpc_port=free_port("127.0.0.1"), key=py_key.private_key_hex), *override],
                      log_path=dn.info.logs_dir / "pyop-dgf-proposer.log", registry=registry),
    ]  # fmt: skip
    dgf = load_artifact("DisputeGameFactory")
    factory = dn.info.addresses["DisputeGameFactoryProxy"]

    def games() -> dict[str, list[tuple[int, str, str]]]:
        """creator -> [(l2 block, root, game address)] of CANNON games."""
        out: dict[str, list[tuple[int, str, str]]] = {}
        for g in dispute_games(dn):
            if g.game_type == 0:
                out.setdefault(g.creator, []).append((g.l2_block, g.root, g.address))
        return out

    try:
        got = wait_for(lambda: (g := games()) and all(len(g.get(k.address.lower(), [])) >= 3
                                                      for k in (go_key, py_key)) and g,
                       180, "3 CANNON games from each proposer", interval=2.0)  # fmt: skip
        for p in procs:
            assert p.alive(), p.log_tail(20)
    finally:
        for p in procs:
            p.stop(sigint_timeout=10)
            registry.remove(p.name)
    created = dgf.event_topic("DisputeGameCreated")
    gas: dict[str, list[int]] = {}
    for who, key in (("go", go_key), ("pyop", py_key)):
        for block, root, addr in got[key.address.lower()]:
            assert root == dn.rollup.call("optimism_outputAtBlock", hex(block))["outputRoot"]
            logs = dn.l1.call("eth_getLogs", {"address": factory, "fromBlock": "0x0",
                                              "toBlock": "latest",
                                              "topics": ["0x" + created.hex(),
                                                         "0x" + "00" * 12 + addr[2:].lower()]})  # fmt: skip
            rcpt = dn.l1.call("eth_getTransactionReceipt", logs[0]["transactionHash"])
            gas.setdefault(who, []).append(hex_to_int(rcpt["gasUsed"]))
    print(f"\n[dispute games] L1 gas per create(): Go {gas['go']} pyop {gas['pyop']}")
    go_med, py_med = sorted(gas["go"])[1], sorted(gas["pyop"])[1]
    assert abs(go_med - py_med) <= 25_000, gas


def _games(dn: Devnet, game_type: int = 1) -> list[tuple[int, str, str, int]]:
    """The devnet proposer's games of ``game_type``, oldest first: (L2 block, root claim, game
    address, creation timestamp), read from the DisputeGameFactory."""
    me = dn.info.keys["proposer"]["address"].lower()
    return [(g.l2_block, g.root, g.address, g.created) for g in dispute_games(dn)
            if g.game_type == game_type and g.creator == me]  # fmt: skip


def test_dgf_restart_continues_without_duplicates(dn: Devnet) -> None:
    """DisputeGameFactory mode keeps nothing between polls but what L1 says (its newest game):
    a restarted ``pyop proposer`` waits out the proposal interval from that game and goes on
    with newer blocks, never a second game for a block it already proposed."""
    from pyop.devnet.proposer_role import DEVNET_PROPOSAL_INTERVAL

    interval = int(DEVNET_PROPOSAL_INTERVAL.removesuffix("s"))
    before = _games(dn)
    assert before, "no game from the devnet's proposer yet"
    new = restart_pyop_proposer(dn)
    after = wait_for(lambda: (g := _games(dn)) and len(g) >= len(before) + 2 and g, 120 + 3 * interval,
                     "two more games after the restart", interval=2.0)  # fmt: skip
    blocks = [b for b, *_ in after]
    assert blocks == sorted(set(blocks)), f"a block proposed twice or out of order: {blocks}"
    stamps = [ts for *_, ts in after]
    # the interval is checked against the wall clock at the poll; L1 timestamps may round
    assert all(b - a >= interval - 2 for a, b in pairwise(stamps)), stamps
    for b, root, *_ in after[len(before) :]:
        assert root == dn.rollup.call("optimism_outputAtBlock", hex(b))["outputRoot"]
    assert new.alive(), new.log_tail(20)


def test_dgf_l1_reorg_removing_a_game_is_proposed_again(dn: Devnet) -> None:
    """An L1 reorg that removes the proposer's newest game: the factory no longer has it, so the
    proposer (which reads its newest game from L1 at every poll) creates a game again for a block
    at or past the removed one, claiming that block's output root."""
    from pyop.primitives import hex_to_int

    games = wait_for(lambda: _games(dn), 60, "a game to reorg away")
    block, root, addr, _ts = games[-1]
    dgf = load_artifact("DisputeGameFactory")
    logs = dn.l1.call("eth_getLogs", {"address": dn.info.addresses["DisputeGameFactoryProxy"],
                                      "fromBlock": "0x0", "toBlock": "latest",
                                      "topics": ["0x" + dgf.event_topic("DisputeGameCreated").hex(),
                                                 "0x" + "00" * 12 + addr[2:].lower()]})  # fmt: skip
    assert len(logs) == 1
    created_in = hex_to_int(logs[0]["blockNumber"])
    head = hex_to_int(dn.l1.call("eth_blockNumber"))
    dn.l1.call("anvil_reorg", head - created_in + 1, [])
    wait_for(lambda: all(a != addr for _b, _r, a, _t in _games(dn)), 30, "the reorg to remove the game")
    again = wait_for(lambda: [g for g in _games(dn) if g[0] >= block], 240,
                     f"a new game at or past L2 block {block}", interval=2.0)  # fmt: skip
    # (the factory clones games with CREATE: after the reorg its nonce is back, so the new game
    # may well get the removed game's address)
    for b, r, _a, _t in again:
        assert r == dn.rollup.call("optimism_outputAtBlock", hex(b))["outputRoot"]
    if again[0][0] == block:
        assert again[0][1] == root  # the same block claims the same root
    dn.assert_alive()
