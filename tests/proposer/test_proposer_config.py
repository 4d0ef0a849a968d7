"""``pyop proposer`` flags: op-proposer's names and OP_PROPOSER_* variables, unsupported ones
refused by name, and op-proposer's CLIConfig.Check rules (messages from
op-proposer/proposer/config.go)."""

from __future__ import annotations

import pytest

from pyop.opservice.flags import FlagError
from pyop.proposer.config import ProposerConfigError, parse_proposer_args

BASE = ["--l1-eth-rpc=http://l1", "--rollup-rpc=http://rollup", "--l2-eth-rpc=http://l2",
        "--private-key=" + "11" * 32]  # fmt: skip
L2OO = "0x" + "ab" * 20
DGF = "0x" + "cd" * 20


def test_l2oo_mode_and_go_syntax() -> None:
    cfg = parse_proposer_args([*BASE, "--l2oo-address", L2OO, "-poll-interval=2s",
                               "--allow-non-finalized"], env={})  # fmt: skip
    assert cfg.mode == "l2oo" and cfg.poll_interval == 2.0 and cfg.allow_non_finalized
    assert cfg.contract.lower() == L2OO


def test_dgf_mode_from_environment() -> None:
    env = {"OP_PROPOSER_GAME_FACTORY_ADDRESS": DGF, "OP_PROPOSER_PROPOSAL_INTERVAL": "1m",
           "OP_PROPOSER_GAME_TYPE": "1"}  # fmt: skip
    cfg = parse_proposer_args(BASE, env=env)
    assert (cfg.mode, cfg.proposal_interval, cfg.game_type) == ("dgf", 60.0, 1)
    assert cfg.flags.sources["game_factory_address"] == "env"


@pytest.mark.parametrize("argv,env,msg", [
    (["--superroot-rpcs=http://x"], {}, "flag --superroot-rpcs is not supported by pyop proposer"),
    (["--pprof.enabled"], {}, "flag --pprof.enabled is not supported by pyop proposer"),
    ([], {"OP_PROPOSER_SUPERROOT_RPCS": "x"},
     "environment variable OP_PROPOSER_SUPERROOT_RPCS is not supported by pyop proposer"),
])  # fmt: skip
def test_unsupported_refused_by_name(argv: list[str], env: dict[str, str], msg: str) -> None:
    with pytest.raises(FlagError, match=msg):
        parse_proposer_args([*BASE, f"--l2oo-address={L2OO}", *argv], env=env)


@pytest.mark.parametrize("argv,msg", [
    ([f"--l2oo-address={L2OO}", f"--game-factory-address={DGF}"],
     "both the `DisputeGameFactory` and `L2OutputOracle` addresses were provided"),
    ([], "neither the `DisputeGameFactory` nor `L2OutputOracle` address was provided"),
    ([f"--game-factory-address={DGF}"],
     "the `DisputeGameFactory` address was provided but the `ProposalInterval` was not set"),
    ([f"--l2oo-address={L2OO}", "--proposal-interval=10s"],
     "the `ProposalInterval` was provided but the `DisputeGameFactory` address was not set"),
    (["--l2oo-address=0x1234"], "is not an address"),
])  # fmt: skip
def test_check_rules(argv: list[str], msg: str) -> None:
    with pytest.raises(ProposerConfigError, match=msg):
        parse_proposer_args([*BASE, *argv], env={})


def test_l2_eth_rpc_is_required() -> None:
    with pytest.raises(ProposerConfigError, match="--l2-eth-rpc is required"):
        parse_proposer_args([a for a in BASE if "l2-eth" not in a] + [f"--l2oo-address={L2OO}"],
                            env={})  # fmt: skip


def test_rollup_rpc_list_is_the_active_sequencer_provider() -> None:
    """op-proposer: "A comma-separated list enables the active rollup provider"."""
    argv = ["--l1-eth-rpc=http://l1", "--rollup-rpc=http://r1,http://r2", "--l2-eth-rpc=http://l2",
            "--private-key=" + "11" * 32, f"--l2oo-address={L2OO}",
            "--active-sequencer-check-duration=30s"]  # fmt: skip
    cfg = parse_proposer_args(argv, env={})
    assert cfg.rollup_urls == ["http://r1", "http://r2"]
    assert cfg.active_sequencer_check_duration == 30.0
    assert parse_proposer_args([*BASE, f"--l2oo-address={L2OO}"], env={}).rollup_urls == ["http://rollup"]
    with pytest.raises(ProposerConfigError, match="empty URL"):
        parse_proposer_args([*argv, "--rollup-rpc=http://r1,"], env={})
