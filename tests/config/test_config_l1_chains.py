"""L1 blob schedules (pyop.config.l1_chains): the built-in schedules of the public L1s against
blob base fees computed by op-geth itself (``spec_vectors/l1info/go-v1.19.6-blob-fees.json``,
written by ``interop/go/vectors``), and op-node's ``NewL1ChainConfig`` resolution rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyop.config.l1_chains import (
    BUILTIN_L1_BLOB_SCHEDULES,
    L1ChainConfigError,
    builtin_l1_blob_schedule,
    l1_blob_schedule_from_json,
    load_l1_blob_schedule,
    resolve_l1_blob_schedule,
)
from pyop.devnet.l1_chain_config import l1_chain_config
from pyop.protocol.l1_info import (
    BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
    BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
    blob_base_fee,
)

GO = json.loads(
    (Path(__file__).parents[2] / "spec_vectors/l1info/go-v1.19.6-blob-fees.json").read_text()
)
CASES = [(c["l1ChainId"], x) for c in GO["l1Chains"] for x in c["cases"]]


def test_go_vectors_cover_every_builtin_chain_and_bpo2() -> None:
    assert sorted(c["l1ChainId"] for c in GO["l1Chains"]) == sorted(BUILTIN_L1_BLOB_SCHEDULES)
    for c in GO["l1Chains"]:
        after_bpo2 = [x for x in c["cases"] if x["timestamp"] > c["forkTimes"]["bpo2"] and x["excessBlobGas"] > 0]
        assert after_bpo2, c["l1ChainId"]
    assert len(CASES) > 800


@pytest.mark.parametrize("chain_id", sorted(BUILTIN_L1_BLOB_SCHEDULES))
def test_builtin_fork_times_equal_op_geth(chain_id: int) -> None:
    """The fork times of the built-in table are op-geth's (the Go program reads them from
    ``eth.L1ChainConfigByChainID``)."""
    go = next(c for c in GO["l1Chains"] if c["l1ChainId"] == chain_id)["forkTimes"]
    ours = {f: t for f, t, _ in BUILTIN_L1_BLOB_SCHEDULES[chain_id].forks}
    assert ours == go


def test_builtin_blob_fees_equal_op_geth_calc_blob_fee() -> None:
    """Every (chain, L1 timestamp, excess blob gas) case: pyop's fee with the built-in schedule
    equals op-geth ``eip4844.CalcBlobFee``; where op-geth has no blob config (before Cancun)
    pyop raises instead of guessing. Covers the fork boundaries (t-1, t, t+1h) of Cancun,
    Prague, Osaka, BPO1 and BPO2 of mainnet, Sepolia, Holesky and Hoodi."""
    bad = []
    for chain_id, x in CASES:
        sched = BUILTIN_L1_BLOB_SCHEDULES[chain_id]
        if x["blobBaseFee"] is None:
            with pytest.raises(L1ChainConfigError):
                sched.fraction_at(x["timestamp"])
            continue
        got = blob_base_fee(x["excessBlobGas"], sched.fraction_at(x["timestamp"]))
        if got != int(x["blobBaseFee"]):
            bad.append((chain_id, x, got))
    assert not bad, bad[:3]


def test_fraction_constants_against_go() -> None:
    """The module constants (mutants M8/M9 of the mutation audit) give op-geth's fees: Cancun
    via op-node's ``eth.CalcBlobFeeCancun`` (the pectra-blob-schedule override), Prague via
    op-geth's mainnet fees between Prague and Osaka."""
    for x in GO["cancunFees"]:
        assert blob_base_fee(x["excessBlobGas"], BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN) == int(x["blobBaseFee"])
    prague = [x for c, x in CASES if c == 1 and x["fork"] == "prague" and x["timestamp"] > 1746612311]
    assert len(prague) >= 14
    for x in prague:
        assert blob_base_fee(x["excessBlobGas"], BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE) == int(x["blobBaseFee"])


def test_post_bpo2_mainnet_fee_differs_from_prague_guess() -> None:
    """The chain split of D2 in numbers: after BPO2 the fee differs from what the Prague fraction
    gives (what pyop computed without a schedule)."""
    x = next(x for c, x in CASES if c == 1 and x["fork"] == "bpo2" and x["timestamp"] > 1767747671
             and x["excessBlobGas"] == 61_000_000)  # fmt: skip
    assert int(x["blobBaseFee"]) == 185
    assert blob_base_fee(61_000_000, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE) != 185


def test_resolve_like_op_node_new_l1_chain_config(tmp_path: Path) -> None:
    devnet = l1_blob_schedule_from_json(l1_chain_config(900, "prague"), "devnet")
    # public L1: the built-in config, a given one is ignored (op-node does the same)
    assert resolve_l1_blob_schedule(1, devnet) is builtin_l1_blob_schedule(1)
    assert resolve_l1_blob_schedule(11155111) is BUILTIN_L1_BLOB_SCHEDULES[11155111]
    # unknown L1: the given config, same chain id, with a blob schedule
    assert resolve_l1_blob_schedule(900, devnet) is devnet
    with pytest.raises(L1ChainConfigError, match="no built-in blob schedule"):
        resolve_l1_blob_schedule(900)
    with pytest.raises(L1ChainConfigError, match="chain ID mismatch"):
        resolve_l1_blob_schedule(901, devnet)
    bare = l1_blob_schedule_from_json({"chainId": 900, "londonBlock": 0, "cancunTime": 0}, "bare")
    with pytest.raises(L1ChainConfigError, match="does not have a blob schedule"):
        resolve_l1_blob_schedule(900, bare)
    # an OP Stack L1 (L3) needs no blob schedule
    op = l1_blob_schedule_from_json({"chainId": 10, "londonBlock": 0, "optimism": {}}, "op")
    assert resolve_l1_blob_schedule(10, op) is op


def test_parse_chain_config_and_genesis_file(tmp_path: Path) -> None:
    cfg = l1_chain_config(900, "prague")
    p = tmp_path / "genesis.json"
    p.write_text(json.dumps({"config": cfg, "alloc": {}}))
    s = load_l1_blob_schedule(p)
    assert s.chain_id == 900
    assert s.fraction_at(0) == 5_007_716
    cancun_only = l1_blob_schedule_from_json(l1_chain_config(900, "cancun"))
    assert cancun_only.fraction_at(10**10) == 3_338_477
    # a fork whose time is set but has no blob entry falls back to the earlier fork (op-geth)
    geth_like = dict(cfg, osakaTime=100)
    assert l1_blob_schedule_from_json(geth_like).fraction_at(200) == 5_007_716
    # BPO entries in a custom schedule are honoured by time, latest fork first
    custom = dict(cfg, bpo1Time=50, bpo2Time=40,
                  blobSchedule={**cfg["blobSchedule"],  # type: ignore[dict-item]
                                "bpo1": {"target": 1, "max": 2, "baseFeeUpdateFraction": 11},
                                "bpo2": {"target": 1, "max": 2, "baseFeeUpdateFraction": 22}})  # fmt: skip
    sched = l1_blob_schedule_from_json(custom)
    assert sched.fraction_at(45) == 22 and sched.fraction_at(60) == 22 and sched.fraction_at(10) == 5_007_716
    with pytest.raises(L1ChainConfigError, match="not JSON"):
        (tmp_path / "x.json").write_text("{")
        load_l1_blob_schedule(tmp_path / "x.json")
    with pytest.raises(L1ChainConfigError, match="baseFeeUpdateFraction"):
        l1_blob_schedule_from_json(dict(cfg, blobSchedule={"cancun": {"target": 3, "max": 6}}))
