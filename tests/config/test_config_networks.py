"""Network presets: registry-derived rollup configs vs the shared op-node rollup.json files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pyop.config import (
    RollupConfig,
    RollupConfigError,
    network_chain_name,
    network_config,
    network_name_for_chain_id,
    network_names,
)
from pyop.config.gen_networks import (
    DATA_FILE,
    build_networks,
    derive_from_registry,
    load_inputs,
    network_name,
    render,
)
from tests.conftest import SHARED_VECTORS, SPEC_VECTORS

ROLLUP_DIR = SPEC_VECTORS / "config" / "rollup-configs"
REGISTRY = SHARED_VECTORS / "registry"

# File name prefix -> op-node network name (independent of the generator's naming code).
FILE_NETWORK = {
    "op-mainnet-10": "op-mainnet",
    "op-sepolia-11155420": "op-sepolia",
    "base-mainnet-8453": "base-mainnet",
    "base-sepolia-84532": "base-sepolia",
}

# Known, documented differences between the registry dump (kona @ cdb9be24) and the newer
# registry the rollup-configs were built from (superchain-registry @ 8336d2ae).
NEWER_REGISTRY_ONLY = {("op-mainnet", "karst_time"), ("op-sepolia", "karst_time")}


def rollup_files() -> list[Path]:
    files = sorted(ROLLUP_DIR.glob("*.rollup.json"))
    if not files:
        raise AssertionError(f"no rollup configs under {ROLLUP_DIR}")
    return files


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: obj}


def field_diff(a: Any, b: Any) -> dict[str, tuple[Any, Any]]:
    fa, fb = flatten(a), flatten(b)
    missing = object()
    return {
        k: (fa.get(k, "<absent>"), fb.get(k, "<absent>"))
        for k in sorted(set(fa) | set(fb))
        if fa.get(k, missing) != fb.get(k, missing)
    }


@pytest.mark.parametrize("path", rollup_files(), ids=lambda p: p.name)
def test_preset_equals_shared_rollup_config(path: Path) -> None:
    name = FILE_NETWORK[path.name.removesuffix(".rollup.json")]
    expected = json.loads(path.read_text())
    got = network_config(name).to_json()
    diff = field_diff(got, expected)
    assert not diff, f"{name}: fields differing (preset, file): {diff}"
    assert list(got) == list(expected)


@pytest.mark.parametrize("path", rollup_files(), ids=lambda p: p.name)
def test_registry_alone_matches_file_except_known_newer_fields(path: Path) -> None:
    name = FILE_NETWORK[path.name.removesuffix(".rollup.json")]
    superchains = json.loads((REGISTRY / "superchain-configs.json").read_text())
    chain_list = json.loads((REGISTRY / "chainList.json").read_text())
    derived = derive_from_registry(superchains, chain_list)[name]["rollup_config"]
    expected = json.loads(path.read_text())
    diff = field_diff(derived, expected)
    unexplained = {k: v for k, v in diff.items() if (name, k) not in NEWER_REGISTRY_ONLY}
    assert not unexplained, f"{name}: registry-derived vs file: {unexplained}"
    for k in diff:
        assert diff[k][0] == "<absent>", f"{name}.{k}: registry value must be absent, not differ"


def test_packaged_data_is_regenerated_from_shared_registry() -> None:
    assert DATA_FILE.read_text() == render(build_networks(SHARED_VECTORS))


def test_every_registry_chain_has_a_preset_that_passes_check() -> None:
    chain_list = json.loads((REGISTRY / "chainList.json").read_text())
    assert len(chain_list) > 50
    names = network_names()
    assert len(names) == len(chain_list)
    for entry in chain_list:
        superchain, chain = entry["identifier"].split("/")
        name = f"{chain}-{superchain}"
        assert name in names
        cfg = network_config(name)
        assert cfg.l2_chain_id == entry["chainId"]
        assert network_name_for_chain_id(entry["chainId"]) == name
        cfg.check()


def test_op_sepolia_against_kona_payload_rollup_config() -> None:
    files = sorted((SHARED_VECTORS / "payloads").glob("op-sepolia-block-*.json"))
    assert files, "no op-sepolia payload fixtures"
    ours = network_config("op-sepolia").to_json()
    assert ours["l2_chain_id"] == 11155420
    for f in files:
        kona = json.loads(f.read_text())["rollup_config"]
        for key in ("block_time", "max_sequencer_drift", "seq_window_size", "channel_timeout",
                    "l1_chain_id", "l2_chain_id", "batch_inbox_address",
                    "deposit_contract_address", "l1_system_config_address",
                    "protocol_versions_address"):
            assert ours[key] == kona[key], (f.name, key)
        for key in ("canyon_time", "delta_time", "ecotone_time", "fjord_time", "granite_time",
                    "holocene_time", "isthmus_time", "jovian_time",
                    "pectra_blob_schedule_time"):
            if key in kona:
                assert ours[key] == kona[key], (f.name, key)
        g, kg = ours["genesis"], kona["genesis"]
        assert g["l1"] == {"hash": kg["l1"]["hash"], "number": kg["l1"]["number"]}
        assert g["l2"] == {"hash": kg["l2"]["hash"], "number": kg["l2"]["number"]}
        assert g["l2_time"] == kg["l2_time"]
        sc, ksc = g["system_config"], kg["system_config"]
        assert sc["batcherAddr"] == ksc["batcherAddr"] and sc["gasLimit"] == ksc["gasLimit"]
        assert int(sc["overhead"], 16) == int(ksc["overhead"], 16)
        assert int(sc["scalar"], 16) == int(ksc["scalar"], 16)
        if "chain_op_config" in kona:
            assert ours["chain_op_config"] == kona["chain_op_config"]
        else:  # older kona fixtures: hex base fee params
            op = ours["chain_op_config"]
            assert op["eip1559Elasticity"] == int(kona["base_fee_params"]["elasticity_multiplier"], 16)
            assert op["eip1559Denominator"] == int(kona["base_fee_params"]["max_change_denominator"], 16)
            assert op["eip1559DenominatorCanyon"] == int(
                kona["canyon_base_fee_params"]["max_change_denominator"], 16
            )


def test_names_and_aliases() -> None:
    names = network_names()
    assert names == sorted(names)
    for n in ("op-mainnet", "op-sepolia", "base-mainnet", "base-sepolia", "zora-mainnet",
              "unichain-mainnet", "ink-sepolia"):
        assert n in names
    assert network_config("mainnet") == network_config("op-mainnet")
    assert network_config("sepolia") == network_config("op-sepolia")
    assert network_config("OP-Mainnet") == network_config("op-mainnet")
    assert network_chain_name("base-mainnet") == "Base"
    assert network_name_for_chain_id(8453) == "base-mainnet"
    assert network_name_for_chain_id(424242424242) is None
    assert network_name("mainnet/op") == "op-mainnet"


def test_unknown_network_is_a_typed_error() -> None:
    with pytest.raises(RollupConfigError, match="unknown network 'op-moonnet'"):
        network_config("op-moonnet")


def test_alt_da_chain_preset() -> None:
    # Redstone is an alt-DA chain in the registry dump.
    superchains = json.loads((REGISTRY / "superchain-configs.json").read_text())
    entry = next(c for s in superchains["superchains"] for c in s["chains"]
                 if c["l2_chain_id"] == 690)
    cfg = network_config("redstone-mainnet")
    assert cfg.alt_da is not None
    assert "0x" + cfg.alt_da.da_challenge_address.hex() == entry["alt_da"]["da_challenge_address"]
    assert cfg.alt_da.da_commitment_type == entry["alt_da"]["da_commitment_type"]
    assert cfg.alt_da.da_challenge_window == entry["alt_da"]["da_challenge_window"]
    assert cfg.alt_da.da_resolve_window == entry["alt_da"]["da_resolve_window"]
    assert RollupConfig.from_json(cfg.to_json()) == cfg


def test_load_inputs_maps_all_rollup_files() -> None:
    _, _, files = load_inputs(SHARED_VECTORS)
    assert set(files) == set(FILE_NETWORK.values())


def test_spec_vector_copies_equal_shared_files() -> None:
    shared = sorted((SHARED_VECTORS / "rollup-configs").glob("*.rollup.json"))
    assert [p.name for p in shared] == [p.name for p in rollup_files()]
    for p in shared:
        assert p.read_bytes() == (ROLLUP_DIR / p.name).read_bytes(), p.name
