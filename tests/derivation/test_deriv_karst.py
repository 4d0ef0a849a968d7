"""Karst (and Lagoon) in the attributes builder and in the SystemConfig rebuilt from an L2 block
(derivation audit D1). Expected deposits and gas come from op-node v1.19.6 itself
(``spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json``, ``interop/go/vectors``); the rules from
op-node ``PreparePayloadAttributes`` (``gasLimit = sysConfig.GasLimit + upgradeGas``) and
``PayloadToSystemConfig`` / ``upgradeGasToStrip``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from eth_hash.auto import keccak

from pyop.derivation.attributes import build_payload_attributes
from pyop.primitives import ExecutionPayload, L1Header, to_hex
from pyop.protocol.l1_info import L1InfoFormat, L1OriginInfo, decode_l1_info_tx, l1_info_deposit_tx
from pyop.sources.l2 import L2DataError, system_config_from_payload
from tests.derivation.deriv_fakes import GENESIS_TIME, SYSCFG, h, l1, l2, make_cfg

GO = {s["name"]: s for s in json.loads(
    (Path(__file__).parents[2] / "spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json").read_text())["sets"]}  # fmt: skip
KARST_GAS = GO["karst"]["upgradeGas"]
T = GENESIS_TIME + 22  # the block after PARENT
PARENT = l2(10, l1(1), seq=4)


def origin() -> L1Header:
    r = l1(1)
    return L1Header(hash=r.hash, number=r.number, parent_hash=r.parent_hash, timestamp=r.timestamp,
                    base_fee=7, mix_digest=h("mix", 1), excess_blob_gas=0,
                    parent_beacon_root=h("beacon", 1))  # fmt: skip


def _go_hashes(name: str) -> list[str]:
    return [t["hash"] for t in GO[name]["txs"]]


def test_karst_activation_block_attributes() -> None:
    cfg = make_cfg(all_until="jovian", karst_time=T)
    a = build_payload_attributes(cfg, SYSCFG, origin(), PARENT, seq_number=5, user_deposits=[b"\x7edep"])
    # L1-info deposit, user deposits, then the 31 Karst deposits (op-node order)
    assert a.transactions[1] == b"\x7edep"
    assert [to_hex(keccak(t)) for t in a.transactions[2:]] == _go_hashes("karst")
    assert a.gas_limit == SYSCFG.gas_limit + KARST_GAS
    assert a.no_tx_pool
    # the L1-info deposit keeps the Jovian format (Karst changes no L1-info field)
    assert decode_l1_info_tx(a.transactions[0])[1].format is L1InfoFormat.JOVIAN
    nxt = build_payload_attributes(cfg, SYSCFG, origin(), replace(PARENT, number=11, timestamp=T), seq_number=6)
    assert len(nxt.transactions) == 1 and nxt.gas_limit == SYSCFG.gas_limit


def test_lagoon_activation_block_attributes() -> None:
    cfg = make_cfg(all_until="jovian", karst_time=0, lagoon_time=T)
    a = build_payload_attributes(cfg, SYSCFG, origin(), PARENT, seq_number=5)
    assert [to_hex(keccak(t)) for t in a.transactions[1:]] == _go_hashes("lagoon-single-chain")
    assert a.gas_limit == SYSCFG.gas_limit + GO["lagoon-single-chain"]["upgradeGas"]


def _payload(cfg: object, ts: int, gas_limit: int) -> ExecutionPayload:
    info = L1OriginInfo(l1(1).hash, 1, l1(1).timestamp, 7, 1)
    dep = l1_info_deposit_tx(cfg, SYSCFG, info, 5, ts).encode()  # type: ignore[arg-type]
    extra = b"\x01" + (250).to_bytes(4, "big") + (6).to_bytes(4, "big") + (0).to_bytes(8, "big")
    z = b"\x00" * 32
    return ExecutionPayload(PARENT.hash, b"\x00" * 20, z, z, b"\x00" * 256, h("randao"), 11, gas_limit, 0, ts,
                            extra, 1, h("karst block"), (dep,), withdrawals=())  # fmt: skip


def test_system_config_from_karst_activation_block_strips_upgrade_gas() -> None:
    """The SystemConfig rebuilt from the activation block (as after a reset, or for the next
    block's attributes) holds the steady-state gas limit again, unless
    ``keep_karst_upgrade_gas`` (op-node ``upgradeGasToStrip``)."""
    cfg = make_cfg(all_until="jovian", karst_time=T)
    p = _payload(cfg, T, SYSCFG.gas_limit + KARST_GAS)
    assert system_config_from_payload(cfg, p).gas_limit == SYSCFG.gas_limit
    keep = replace(cfg, keep_karst_upgrade_gas=True)
    assert system_config_from_payload(keep, p).gas_limit == SYSCFG.gas_limit + KARST_GAS
    # not the activation block: nothing stripped
    later = make_cfg(all_until="jovian", karst_time=T - 2)
    assert system_config_from_payload(later, p).gas_limit == SYSCFG.gas_limit + KARST_GAS
    # an activation block whose gas limit cannot hold the upgrade gas is an error (op-node too)
    with pytest.raises(L2DataError, match="below upgrade gas"):
        system_config_from_payload(cfg, _payload(cfg, T, KARST_GAS - 1))


def test_lagoon_strip_has_no_opt_out() -> None:
    cfg = make_cfg(all_until="jovian", karst_time=0, lagoon_time=T, keep_karst_upgrade_gas=True)
    gas = GO["lagoon-single-chain"]["upgradeGas"]
    assert system_config_from_payload(cfg, _payload(cfg, T, 30_000_000 + gas)).gas_limit == 30_000_000
