"""The fault-proof L1 of ``pyop devnet init --fault-proofs`` on a real anvil (no L2): the
contracts-bedrock 0.17.3 DisputeGameFactory, PermissionedDisputeGame, AnchorStateRegistry,
DelayedWETH and OptimismPortal2 deployed by :mod:`pyop.devnet.fault_proofs`, then exercised the
way op-proposer and op-challenger use them: ``create`` with the factory's bond (and the reverts
for a wrong bond, a non-proposer, a block at the anchor), and resolution by
:mod:`pyop.devnet.game_resolver` only after the clock ran out.

Expected values come from the contracts' own rules (contracts-bedrock ``FaultDisputeGame.sol``,
``PermissionedDisputeGame.sol``, ``DisputeGameFactory.sol``; custom error selectors computed from
their signatures), not from the code under test.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_hash.auto import keccak

from pyop.devnet.anvil import AnvilError, anvil_binary, start_anvil
from pyop.devnet.artifacts import forge_artifacts_dir, load_artifact
from pyop.devnet.fault_proofs import (
    GAME_TYPE_PERMISSIONED_CANNON,
    FaultProofConfig,
    FaultProofDeployment,
    deploy_fault_proof_contracts,
    initialize_anchor_state,
    portal_version,
    respected_game_type,
)
from pyop.devnet.game_resolver import GameResolver
from pyop.devnet.keys import DevKeys, dev_keys
from pyop.devnet.l1_deploy import DeployConfig, Deployment, deploy_l1_contracts, eth_call
from pyop.devnet.process import PidRegistry
from pyop.devnet.rpc import RpcClient
from pyop.primitives import hex_to_int, to_hex

CLOCK = 4
FP = FaultProofConfig(max_clock_duration=CLOCK, clock_extension=1, init_bond=10**16)
ANCHOR = keccak(b"test anchor root")


def _selector(sig: str) -> str:
    return "0x" + keccak(sig.encode())[:4].hex()


class Env:
    def __init__(self, rpc: RpcClient, keys: DevKeys, dep: Deployment,
                 fp: FaultProofDeployment) -> None:  # fmt: skip
        self.rpc, self.keys, self.dep, self.fp = rpc, keys, dep, fp

    @property
    def factory(self) -> str:
        return self.dep.addresses["DisputeGameFactoryProxy"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    try:
        anvil_binary()
    except AnvilError as e:
        pytest.skip(f"{e} (the devnet tests need `npm install` (or `make deps`))")
    if not (forge_artifacts_dir() / "OptimismPortal2.sol").is_dir():
        pytest.skip("contracts-bedrock forge artifacts missing: run `npm install`")
    tmp: Path = tmp_path_factory.mktemp("fault-proofs")
    registry = PidRegistry(tmp)
    anvil = start_anvil(tmp, block_time=1, registry=registry)
    try:
        keys = dev_keys()
        dep = deploy_l1_contracts(anvil.rpc_url, keys, DeployConfig(), initialize_portal=False)
        fp = deploy_fault_proof_contracts(anvil.rpc_url, keys, dep, FP)
        fp = initialize_anchor_state(anvil.rpc_url, keys, dep, fp, ANCHOR, 0)
        yield Env(RpcClient(anvil.rpc_url, timeout=30.0), keys, dep, fp)
    finally:
        registry.stop_all(sigint_timeout=5.0)


def _send(e: Env, key: bytes, to: str, data: bytes, value: int = 0) -> dict[str, Any]:
    sender = Account.from_key(key).address
    nonce = hex_to_int(e.rpc.call("eth_getTransactionCount", sender, "pending"))
    tx = {"type": 2, "chainId": e.dep.l1_chain_id, "nonce": nonce, "to": to, "value": value,
          "data": data, "gas": 1_000_000, "maxFeePerGas": 20 * 10**9,
          "maxPriorityFeePerGas": 10**9}  # fmt: skip
    h = e.rpc.call("eth_sendRawTransaction",
                   to_hex(bytes(Account.sign_transaction(tx, key).raw_transaction)))  # fmt: skip
    deadline = time.monotonic() + 30
    while (r := e.rpc.call("eth_getTransactionReceipt", h)) is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return dict(r)


def _revert_data(e: Env, sender: str, to: str, data: bytes, value: int = 0) -> str:
    from pyop.devnet.rpc import RpcError

    try:
        e.rpc.call("eth_call", {"from": sender, "to": to, "data": to_hex(data),
                                "value": hex(value)}, "latest")  # fmt: skip
    except RpcError as err:
        return str(err.data)
    raise AssertionError("call did not revert")


def _create_data(block: int, root: bytes) -> bytes:
    return load_artifact("DisputeGameFactory").encode_call(
        "create", GAME_TYPE_PERMISSIONED_CANNON, root, abi_encode(["uint256"], [block])
    )


def test_portal2_respects_the_permissioned_game(env: Env) -> None:
    portal = env.dep.addresses["OptimismPortalProxy"]
    assert portal_version(env.rpc, portal) >= (3, 0, 0)  # the SDK's fpac() test
    assert respected_game_type(env.rpc, portal) == GAME_TYPE_PERMISSIONED_CANNON
    p2 = load_artifact("OptimismPortal2")
    (dgf,) = eth_call(env.rpc, portal, p2, "disputeGameFactory")
    assert str(dgf).lower() == env.factory.lower()
    (delay,) = eth_call(env.rpc, portal, p2, "proofMaturityDelaySeconds")
    assert int(delay) == FP.proof_maturity_delay
    (delay,) = eth_call(env.rpc, portal, p2, "disputeGameFinalityDelaySeconds")
    assert int(delay) == FP.dispute_game_finality_delay
    (bond,) = eth_call(env.rpc, env.factory, load_artifact("DisputeGameFactory"), "initBonds",
                       GAME_TYPE_PERMISSIONED_CANNON)  # fmt: skip
    assert int(bond) == FP.init_bond
    anchor = eth_call(env.rpc, env.fp.addresses["AnchorStateRegistryProxy"],
                      load_artifact("AnchorStateRegistry"), "anchors",
                      GAME_TYPE_PERMISSIONED_CANNON)  # fmt: skip
    assert (bytes(anchor[0]), int(anchor[1])) == (ANCHOR, 0)
    pdg = load_artifact("PermissionedDisputeGame")
    impl = env.fp.addresses["PermissionedDisputeGame"]
    (proposer,) = eth_call(env.rpc, impl, pdg, "proposer")
    assert str(proposer).lower() == env.keys.proposer.address.lower()
    (clock,) = eth_call(env.rpc, impl, pdg, "maxClockDuration")
    assert int(clock) == CLOCK


def test_create_rules(env: Env) -> None:
    proposer = env.keys.proposer
    root = keccak(b"an output root")
    # IncorrectBondAmount(): the factory wants exactly initBonds(gameType).
    got = _revert_data(env, proposer.address, env.factory, _create_data(5, root), FP.init_bond - 1)
    assert got.startswith(_selector("IncorrectBondAmount()"))
    # BadAuth(): only the proposer (tx.origin) may create a permissioned game.
    got = _revert_data(env, env.keys.user.address, env.factory, _create_data(5, root), FP.init_bond)
    assert got.startswith(_selector("BadAuth()"))
    # UnexpectedRootClaim(root): not at or before the anchor block.
    got = _revert_data(env, proposer.address, env.factory, _create_data(0, root), FP.init_bond)
    assert got.startswith(_selector("UnexpectedRootClaim(bytes32)"))


def test_resolver_waits_for_the_clock_then_defender_wins(env: Env) -> None:
    root = keccak(b"proposal at 7")
    rcpt = _send(env, env.keys.proposer.private_key, env.factory, _create_data(7, root),
                 FP.init_bond)  # fmt: skip
    assert hex_to_int(rcpt["status"]) == 1
    dgf = load_artifact("DisputeGameFactory")
    (count,) = eth_call(env.rpc, env.factory, dgf, "gameCount")
    (gtype, _ts, game) = eth_call(env.rpc, env.factory, dgf, "gameAtIndex", int(count) - 1)
    assert int(gtype) == GAME_TYPE_PERMISSIONED_CANNON
    fdg = load_artifact("FaultDisputeGame")
    assert eth_call(env.rpc, game, fdg, "l2BlockNumber") == (7,)
    assert bytes(eth_call(env.rpc, game, fdg, "rootClaim")[0]) == root
    created = int(eth_call(env.rpc, game, fdg, "createdAt")[0])

    logs: list[str] = []
    r = GameResolver(env.rpc, env.factory, env.keys.challenger, log=logs.append)
    assert r.poll() == []  # the clock is still running: nothing sent
    assert eth_call(env.rpc, game, fdg, "status") == (0,)
    deadline = time.monotonic() + 30
    done: list[int] = []
    while not done:
        assert time.monotonic() < deadline, "game never resolved"
        time.sleep(0.5)
        done = r.poll()
    assert done == [int(count) - 1]
    assert eth_call(env.rpc, game, fdg, "status") == (2,)  # DEFENDER_WINS
    resolved_at = int(eth_call(env.rpc, game, fdg, "resolvedAt")[0])
    assert resolved_at - created >= CLOCK
    # The anchor moved to the resolved game's claim (AnchorStateRegistry.tryUpdateAnchorState).
    anchor = eth_call(env.rpc, env.fp.addresses["AnchorStateRegistryProxy"],
                      load_artifact("AnchorStateRegistry"), "anchors",
                      GAME_TYPE_PERMISSIONED_CANNON)  # fmt: skip
    assert (bytes(anchor[0]), int(anchor[1])) == (root, 7)


def test_resolver_survives_an_l1_reorg_that_removes_its_game(env: Env) -> None:
    """A game the resolver holds open is taken out of L1 (``evm_revert`` to before its creation):
    the resolver logs it gone and goes on, and picks up the game created in its place. (CI once
    saw the devnet's resolver die on the empty ``status()`` of a reorged-away game.)"""
    dgf = load_artifact("DisputeGameFactory")
    logs: list[str] = []
    r = GameResolver(env.rpc, env.factory, env.keys.challenger, log=logs.append)
    r.poll()  # everything so far is resolved or open
    snap = env.rpc.call("evm_snapshot")
    rcpt = _send(env, env.keys.proposer.private_key, env.factory,
                 _create_data(9, keccak(b"reorged away")), FP.init_bond)  # fmt: skip
    assert hex_to_int(rcpt["status"]) == 1
    (count,) = eth_call(env.rpc, env.factory, dgf, "gameCount")
    removed = int(count) - 1
    r.poll()
    assert removed in r.open_games
    gone = r.open_games[removed]
    assert env.rpc.call("evm_revert", snap) is True
    assert eth_call(env.rpc, env.factory, dgf, "gameCount") == (removed,)
    assert env.rpc.call("eth_getCode", gone, "latest") == "0x"
    assert r.poll() == []
    assert removed not in r.open_games and r.next_index == removed
    assert any(f"game {removed} at {gone} is gone" in m for m in logs), logs

    # The reorg lands between reading the factory and calling the game: the empty status() is
    # a game gone, read again from the factory next poll, not an error.
    rcpt = _send(env, env.keys.proposer.private_key, env.factory,
                 _create_data(10, keccak(b"in its place")), FP.init_bond)  # fmt: skip
    assert hex_to_int(rcpt["status"]) == 1
    r.poll()
    assert removed in r.open_games
    r.open_games[removed] = "0x" + "00" * 19 + "77"  # as if the clone had vanished
    real_sync = r._sync_with_factory
    r._sync_with_factory = lambda: None  # type: ignore[method-assign]
    assert r.poll() == []
    assert removed not in r.open_games and r.next_index == removed
    r._sync_with_factory = real_sync  # type: ignore[method-assign]
    deadline = time.monotonic() + 30
    while removed not in r.resolved:  # the game in its place resolves as usual
        assert time.monotonic() < deadline, "the new game never resolved"
        time.sleep(0.5)
        r.poll()
    assert r.resolved[removed] == "DEFENDER_WINS"


def _proposer(env: Env, *extra: str) -> subprocess.CompletedProcess[str]:
    import sys

    argv = [sys.executable, "-m", "pyop.cli", "proposer", f"--l1-eth-rpc={env.rpc.url}",
            "--rollup-rpc=http://127.0.0.1:9", "--l2-eth-rpc=http://127.0.0.1:9",
            "--rpc.port=0", *extra]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items()
                               if not k.startswith("OP_PROPOSER_")})  # fmt: skip


def test_pyop_proposer_start_up_errors_are_one_clear_line(env: Env) -> None:
    key = env.keys.proposer.private_key_hex
    # A wrong contract address: an EOA, then a contract of another kind.
    r = _proposer(env, f"--private-key={key}", f"--l2oo-address={env.keys.user.address}")
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0
    assert "no contract at --l2oo-address" in r.stderr
    r = _proposer(env, f"--private-key={key}", f"--l2oo-address={env.factory}")
    assert r.returncode == 1 and "is not an L2OutputOracle" in r.stderr
    r = _proposer(env, f"--private-key={key}",
                  f"--game-factory-address={env.dep.addresses['L2OutputOracleProxy']}",
                  "--proposal-interval=10s", "--game-type=1")  # fmt: skip
    assert r.returncode == 1 and "is not a DisputeGameFactory" in r.stderr
    r = _proposer(env, f"--private-key={key}", f"--game-factory-address={env.factory}",
                  "--proposal-interval=10s", "--game-type=7")  # fmt: skip
    assert r.returncode == 1 and "has no implementation for --game-type 7" in r.stderr
    # An unfunded key.
    r = _proposer(env, "--private-key=" + "42" * 32, f"--game-factory-address={env.factory}",
                  "--proposal-interval=10s", "--game-type=1")  # fmt: skip
    assert r.returncode == 1 and "has no ETH on L1" in r.stderr, r.stderr
    # The L2OutputOracle's proposer is another account.
    r = _proposer(env, f"--private-key={env.keys.user.private_key_hex}",
                  f"--l2oo-address={env.dep.addresses['L2OutputOracleProxy']}")  # fmt: skip
    assert r.returncode == 1 and "accepts proposals only from" in r.stderr, r.stderr
