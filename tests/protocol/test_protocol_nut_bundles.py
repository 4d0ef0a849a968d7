"""Karst / Lagoon NUT-bundle upgrade deposits (pyop.protocol.nut_bundles, upgrades) against
the deposits op-node v1.19.6 builds from the same bundles
(``spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json``, written by ``interop/go/vectors``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest
from eth_hash.auto import keccak

from pyop.primitives import to_hex
from pyop.protocol.deposits import DepositTx
from pyop.protocol.nut_bundles import (
    NUTBundleError,
    karst_upgrade_deposits,
    karst_upgrade_gas,
    lagoon_upgrade_deposits,
    lagoon_upgrade_gas,
    parse_nut_bundle,
)
from pyop.protocol.upgrades import (
    jovian_upgrade_txs,
    upgrade_deposits_at,
    upgrade_gas_at,
    upgrade_gas_to_strip,
)
from tests.derivation.deriv_fakes import GENESIS_TIME, make_cfg

GO = json.loads(
    (Path(__file__).parents[2] / "spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json").read_text()
)
SETS = {s["name"]: s for s in GO["sets"]}

# op-core/nuts/fork_lock.toml at optimism v1.19.6
LOCKED_SHA256 = {
    "karst": "08f5df36f7ff29a9421ab84beebe96684a7455df9a5d234a2468613a4008ad91",
    "lagoon": "2124ce31c0947cac15f00114214dd4354848f7b4642ff2d12ebb3f94b28cc989",
}


@pytest.mark.parametrize("fork", sorted(LOCKED_SHA256))
def test_shipped_bundle_is_op_nodes(fork: str) -> None:
    data = resources.files("pyop.protocol").joinpath("bundles", f"{fork}_nut_bundle.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == LOCKED_SHA256[fork]


def _compare(ours: list[DepositTx], go: dict[str, object]) -> None:
    want = go["txs"]
    assert isinstance(want, list)
    assert len(ours) == len(want)
    for i, (tx, w) in enumerate(zip(ours, want, strict=True)):
        assert to_hex(tx.source_hash) == w["sourceHash"], i
        assert to_hex(tx.from_) == w["from"], i
        assert (None if tx.to is None else to_hex(tx.to)) == w["to"], i
        assert tx.gas == w["gas"] and str(tx.mint) == w["mint"] and str(tx.value) == w["value"], i
        assert len(tx.data) == w["dataLength"] and to_hex(keccak(tx.data)) == w["dataKeccak"], i
        assert to_hex(keccak(tx.encode())) == w["hash"], i  # byte-exact encoding


def test_karst_deposits_and_gas_equal_op_node() -> None:
    _compare(karst_upgrade_deposits(), SETS["karst"])
    assert karst_upgrade_gas() == SETS["karst"]["upgradeGas"] == 55_370_657


@pytest.mark.parametrize(("name", "wrap"), [("lagoon-single-chain", False), ("lagoon-multi-chain", True)])
def test_lagoon_deposits_and_gas_equal_op_node(name: str, wrap: bool) -> None:
    _compare(lagoon_upgrade_deposits(wrap), SETS[name])
    assert lagoon_upgrade_gas() == SETS[name]["upgradeGas"]


def test_upgrade_deposits_order_and_gas_at_activation_blocks() -> None:
    t = GENESIS_TIME + 22
    karst = make_cfg(all_until="isthmus", jovian_time=t, karst_time=t)
    got = upgrade_deposits_at(karst, t)
    assert got == jovian_upgrade_txs() + karst_upgrade_deposits()  # op-node order
    assert upgrade_gas_at(karst, t) == karst_upgrade_gas()
    assert upgrade_gas_at(karst, t + 2) == 0 and upgrade_deposits_at(karst, t + 2) == []
    lagoon = make_cfg(all_until="jovian", karst_time=0, lagoon_time=t)
    assert upgrade_deposits_at(lagoon, t) == lagoon_upgrade_deposits(False)
    assert upgrade_deposits_at(lagoon, t, interop_dependency_chains=2) == lagoon_upgrade_deposits(True)
    assert upgrade_gas_at(lagoon, t) == lagoon_upgrade_gas()


def test_upgrade_gas_to_strip() -> None:
    """op-node ``upgradeGasToStrip``: the activation block's gas, Karst's only without
    ``keep_karst_upgrade_gas``; nothing elsewhere (and not at genesis)."""
    t = GENESIS_TIME + 22
    cfg = make_cfg(all_until="jovian", karst_time=t)
    assert upgrade_gas_to_strip(cfg, t) == 55_370_657
    assert upgrade_gas_to_strip(cfg, t - 2) == 0 and upgrade_gas_to_strip(cfg, t + 2) == 0
    assert upgrade_gas_to_strip(replace(cfg, keep_karst_upgrade_gas=True), t) == 0
    lag = make_cfg(all_until="jovian", karst_time=0, lagoon_time=t)
    assert upgrade_gas_to_strip(replace(lag, keep_karst_upgrade_gas=True), t) == SETS["lagoon-single-chain"]["upgradeGas"]
    at_genesis = make_cfg(all_until="jovian", karst_time=0)
    assert upgrade_gas_to_strip(at_genesis, 0) == 0


def test_bundle_parse_errors() -> None:
    ok = {"metadata": {"version": "1.0.0"},
          "transactions": [{"intent": "x", "from": "0x" + "11" * 20, "to": None, "data": "0x00", "gasLimit": 5}]}  # fmt: skip
    b = parse_nut_bundle("karst", ok)
    assert b.qualified_intent(0) == "Karst 0: x" and b.transactions[0].to is None
    with pytest.raises(NUTBundleError, match="version"):
        parse_nut_bundle("karst", {**ok, "metadata": {"version": "2.0.0"}})
    with pytest.raises(NUTBundleError, match="missing intent"):
        parse_nut_bundle("karst", {**ok, "transactions": [{**ok["transactions"][0], "intent": ""}]})  # type: ignore[dict-item]
    with pytest.raises(NUTBundleError, match="gasLimit"):
        parse_nut_bundle("karst", {**ok, "transactions": [{**ok["transactions"][0], "gasLimit": -1}]})  # type: ignore[dict-item]
    with pytest.raises(NUTBundleError, match="20 bytes"):
        parse_nut_bundle("karst", {**ok, "transactions": [{**ok["transactions"][0], "from": "0x11"}]})  # type: ignore[dict-item]
