"""rollup.json loading/writing: round trips, strict errors naming the JSON path, presence."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.config import (
    AltDAConfig,
    ChainOpConfig,
    Genesis,
    RollupConfig,
    RollupConfigError,
    dump_rollup_config,
    dumps_rollup_config,
    load_rollup_config,
)
from pyop.config.kona import rollup_config_from_kona_json
from pyop.primitives import BlockID, PyopError, SystemConfig
from tests.conftest import SHARED_VECTORS, SPEC_VECTORS

ROLLUP_DIR = SPEC_VECTORS / "config" / "rollup-configs"


def rollup_files() -> list[Path]:
    files = sorted(ROLLUP_DIR.glob("*.rollup.json"))
    if not files:
        raise AssertionError(f"no rollup configs found under {ROLLUP_DIR}")
    return files


def op_mainnet_json() -> dict[str, Any]:
    obj: dict[str, Any] = json.loads((ROLLUP_DIR / "op-mainnet-10.rollup.json").read_text())
    return obj


def test_found_all_four_shared_rollup_configs() -> None:
    names = {p.name for p in rollup_files()}
    assert {
        "op-mainnet-10.rollup.json",
        "op-sepolia-11155420.rollup.json",
        "base-mainnet-8453.rollup.json",
        "base-sepolia-84532.rollup.json",
    } <= names


@pytest.mark.parametrize("path", rollup_files(), ids=lambda p: p.name)
def test_round_trip_shared_rollup_configs(path: Path) -> None:
    raw = json.loads(path.read_text())
    cfg = RollupConfig.from_json(raw)
    out = cfg.to_json()
    assert out == raw
    assert list(out) == list(raw), "top-level key order should follow op-node struct order"
    assert list(out["genesis"]["system_config"]) == list(raw["genesis"]["system_config"])
    # file helpers too
    cfg2 = load_rollup_config(path)
    assert cfg2 == cfg
    assert json.loads(dumps_rollup_config(cfg2)) == raw


def test_loaded_fields_op_mainnet() -> None:
    raw = op_mainnet_json()
    cfg = RollupConfig.from_json(raw)
    assert cfg.l2_chain_id == 10 and cfg.l1_chain_id == 1
    assert cfg.genesis.l2 == BlockID(bytes.fromhex(raw["genesis"]["l2"]["hash"][2:]), 105235063)
    assert cfg.genesis.system_config.gas_limit == 30_000_000
    assert cfg.genesis.system_config.batcher_addr.hex() == "6887246668a3b87f54deb3b94ba47a6f63f32985"
    assert cfg.regolith_time == 0 and cfg.karst_time == raw["karst_time"]
    assert cfg.lagoon_time is None and cfg.pectra_blob_schedule_time is None
    assert cfg.chain_op_config == ChainOpConfig(6, 50, 250)
    assert cfg.alt_da is None
    cfg.check()


def test_dump_and_load_file(tmp_path: Path) -> None:
    cfg = RollupConfig.from_json(op_mainnet_json())
    p = tmp_path / "rollup.json"
    dump_rollup_config(cfg, p)
    assert load_rollup_config(p) == cfg
    assert json.loads(p.read_text()) == op_mainnet_json()


def test_load_missing_file_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(RollupConfigError, match="cannot read"):
        load_rollup_config(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RollupConfigError, match="not JSON"):
        load_rollup_config(bad)


# --- unknown fields ---------------------------------------------------------------------


def _err(obj: object) -> RollupConfigError:
    with pytest.raises(RollupConfigError) as ei:
        RollupConfig.from_json(obj)
    assert isinstance(ei.value, PyopError)
    return ei.value


def test_unknown_top_level_field_is_named() -> None:
    raw = op_mainnet_json()
    raw["fancy_new_time"] = 5
    e = _err(raw)
    assert e.path == "fancy_new_time"
    assert "unknown field 'fancy_new_time'" in str(e)


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (("genesis",), "genesis.bogus"),
        (("genesis", "l1"), "genesis.l1.bogus"),
        (("genesis", "system_config"), "genesis.system_config.bogus"),
        (("chain_op_config",), "chain_op_config.bogus"),
    ],
)
def test_nested_unknown_field_is_named(where: tuple[str, ...], path: str) -> None:
    raw = op_mainnet_json()
    node = raw
    for k in where:
        node = node[k]
    node["bogus"] = 1
    e = _err(raw)
    assert e.path == path
    assert "bogus" in str(e)


def test_unknown_field_in_alt_da() -> None:
    raw = op_mainnet_json()
    raw["alt_da"] = {
        "da_challenge_contract_address": "0x" + "11" * 20,
        "da_commitment_type": "KeccakCommitment",
        "da_challenge_window": 10,
        "da_resolve_window": 20,
        "da_challenge_address": "0x" + "11" * 20,
    }
    e = _err(raw)
    assert e.path == "alt_da.da_challenge_address"
    assert "da_challenge_contract_address" in str(e)  # the hint


@pytest.mark.parametrize("legacy", ["plasma_config", "use_plasma", "channel_timeout_granite"])
def test_legacy_fields_rejected_with_hint(legacy: str) -> None:
    raw = op_mainnet_json()
    raw[legacy] = True
    e = _err(raw)
    assert e.path == legacy
    assert "op-node" in str(e)


# --- wrong types, bad hex, missing fields ------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "path", "needle"),
    [
        (lambda r: r.__setitem__("block_time", "2"), "block_time", "expected an integer"),
        (lambda r: r.__setitem__("block_time", True), "block_time", "boolean"),
        (lambda r: r.__setitem__("block_time", 2.0), "block_time", "expected an integer"),
        (lambda r: r.__setitem__("seq_window_size", -1), "seq_window_size", "out of range"),
        (lambda r: r.__setitem__("canyon_time", 2**64), "canyon_time", "out of range"),
        (lambda r: r.__setitem__("genesis", []), "genesis", "expected a JSON object"),
        (
            lambda r: r["genesis"]["system_config"].__setitem__("gasLimit", "30000000"),
            "genesis.system_config.gasLimit",
            "expected an integer",
        ),
        (
            lambda r: r["genesis"]["system_config"].pop("gasLimit"),
            "genesis.system_config.gasLimit",
            "missing",
        ),
        (
            lambda r: r["genesis"]["system_config"].__setitem__("overhead", "0xbc"),
            "genesis.system_config.overhead",
            "expected 32 bytes",
        ),
        (
            lambda r: r["genesis"]["l1"].__setitem__("hash", "0x" + "zz" * 32),
            "genesis.l1.hash",
            "not hex",
        ),
        (
            lambda r: r.__setitem__("batch_inbox_address", "ff" * 20),
            "batch_inbox_address",
            "0x prefix",
        ),
        (
            lambda r: r.__setitem__("batch_inbox_address", "0x" + "f" * 39),
            "batch_inbox_address",
            "odd",
        ),
        (lambda r: r.__setitem__("l2_chain_id", None), "l2_chain_id", "null"),
        (lambda r: r.pop("deposit_contract_address"), "deposit_contract_address", "missing"),
        (lambda r: r.pop("genesis"), "genesis", "missing"),
        (
            lambda r: r["chain_op_config"].pop("eip1559Denominator"),
            "chain_op_config.eip1559Denominator",
            "missing",
        ),
        (
            lambda r: r.__setitem__("keep_karst_upgrade_gas", 1),
            "keep_karst_upgrade_gas",
            "boolean",
        ),
        (
            lambda r: r["genesis"]["system_config"].__setitem__("daFootprintGasScalar", 70000),
            "genesis.system_config.daFootprintGasScalar",
            "out of range",
        ),
    ],
)
def test_type_and_value_errors_name_the_path(mutate: Any, path: str, needle: str) -> None:
    raw = op_mainnet_json()
    mutate(raw)
    e = _err(raw)
    assert e.path == path, str(e)
    assert needle in str(e)
    assert str(e).startswith(path + ":")


def test_top_level_not_an_object() -> None:
    e = _err([1, 2])
    assert "expected a JSON object" in str(e)


# --- presence / omitempty --------------------------------------------------------------


def test_optional_zero_values_present_stay_present() -> None:
    raw = op_mainnet_json()
    sc = raw["genesis"]["system_config"]
    sc["eip1559Params"] = "0x0000000000000000"
    sc["operatorFeeParams"] = "0x" + "00" * 32
    sc["minBaseFee"] = 0
    sc["daFootprintGasScalar"] = 0
    raw["keep_karst_upgrade_gas"] = False
    raw["protocol_versions_address"] = "0x" + "00" * 20
    assert RollupConfig.from_json(raw).to_json() == raw


def test_absent_optionals_stay_absent() -> None:
    raw = op_mainnet_json()
    for k in ("protocol_versions_address", "max_sequencer_drift", "chain_op_config", "karst_time"):
        del raw[k]
    cfg = RollupConfig.from_json(raw)
    assert cfg.max_sequencer_drift == 0 and cfg.karst_time is None and cfg.chain_op_config is None
    assert cfg.to_json() == raw


def test_null_optional_reads_as_absent() -> None:
    raw = op_mainnet_json()
    raw["lagoon_time"] = None
    raw["alt_da"] = None
    cfg = RollupConfig.from_json(raw)
    assert cfg.lagoon_time is None and cfg.alt_da is None
    assert cfg.to_json() == op_mainnet_json()


def test_nonzero_values_written_without_presence() -> None:
    base = RollupConfig.from_json(op_mainnet_json())
    sc = SystemConfig(
        batcher_addr=base.genesis.system_config.batcher_addr,
        overhead=base.genesis.system_config.overhead,
        scalar=base.genesis.system_config.scalar,
        gas_limit=1,
        eip1559_params=bytes.fromhex("000000fa00000006"),
        min_base_fee=7,
    )
    cfg = dataclasses.replace(
        base,
        genesis=dataclasses.replace(base.genesis, system_config=sc),
        keep_karst_upgrade_gas=True,
        present=frozenset(),
    )
    out: Any = cfg.to_json()
    assert out["genesis"]["system_config"]["eip1559Params"] == "0x000000fa00000006"
    assert out["genesis"]["system_config"]["minBaseFee"] == 7
    assert "operatorFeeParams" not in out["genesis"]["system_config"]
    assert out["keep_karst_upgrade_gas"] is True
    assert RollupConfig.from_json(out) == cfg


def test_alt_da_round_trip_and_generic_without_address() -> None:
    raw = op_mainnet_json()
    raw["alt_da"] = {
        "da_commitment_type": "GenericCommitment",
        "da_challenge_window": 0,
        "da_resolve_window": 0,
    }
    cfg = RollupConfig.from_json(raw)
    assert cfg.alt_da == AltDAConfig("GenericCommitment", 0, 0)
    assert cfg.to_json() == raw
    assert list(cfg.to_json()).index("alt_da") < list(cfg.to_json()).index("chain_op_config")


def test_alt_da_max_input_size() -> None:
    """op-node v1.19.6 ``rollup.AltDAConfig.MaxInputSize`` (``json:"da_max_input_size,omitempty"``,
    keccak commitments only, default ``altda.MaxInputSize`` = 130672 via
    ``MaxInputSizeOrDefault``); keys in the Go struct's order."""
    raw = op_mainnet_json()
    raw["alt_da"] = {
        "da_challenge_contract_address": "0x978e3286eb805934215a88694d80b09aded68d90",
        "da_commitment_type": "KeccakCommitment",
        "da_max_input_size": 65536,
        "da_challenge_window": 300,
        "da_resolve_window": 300,
    }
    cfg = RollupConfig.from_json(raw)
    assert cfg.alt_da is not None
    assert cfg.alt_da.da_max_input_size == 65536 and cfg.alt_da.max_input_size_or_default() == 65536
    out: Any = cfg.to_json()
    assert json.dumps(out["alt_da"]) == json.dumps(raw["alt_da"])  # same keys, same order
    cfg.check()
    del raw["alt_da"]["da_max_input_size"]
    cfg = RollupConfig.from_json(raw)
    assert cfg.alt_da is not None and cfg.alt_da.max_input_size_or_default() == 130672
    assert "da_max_input_size" not in cfg.to_json()["alt_da"]  # type: ignore[operator]


@pytest.mark.parametrize("alt,msg", [
    (AltDAConfig("GenericCommitment", 1, 1, da_max_input_size=1000), "must be omitted for generic"),
    (AltDAConfig("KeccakCommitment", 1, 1, b"\x01" * 20, da_max_input_size=0), "greater than zero"),
])  # fmt: skip
def test_alt_da_max_input_size_checks(alt: AltDAConfig, msg: str) -> None:
    """op-node ``validateAltDAConfig``."""
    cfg = dataclasses.replace(RollupConfig.from_json(op_mainnet_json()), alt_da=alt)
    with pytest.raises(RollupConfigError, match=msg) as e:
        cfg.check()
    assert e.value.path == "alt_da.da_max_input_size"


def test_uppercase_hex_is_normalised_to_lowercase() -> None:
    raw = op_mainnet_json()
    raw["batch_inbox_address"] = "0xFF00000000000000000000000000000000000010"
    assert RollupConfig.from_json(raw).to_json() == op_mainnet_json()


# --- hypothesis round trip --------------------------------------------------------------

u64 = st.integers(0, 2**64 - 1)
opt_u64 = st.none() | u64
h20 = st.binary(min_size=20, max_size=20)
h32 = st.binary(min_size=32, max_size=32)


@st.composite
def rollup_configs(draw: st.DrawFn) -> RollupConfig:
    sc = SystemConfig(
        batcher_addr=draw(h20),
        overhead=draw(h32),
        scalar=draw(h32),
        gas_limit=draw(u64),
        eip1559_params=draw(st.binary(min_size=8, max_size=8)),
        operator_fee_params=draw(h32),
        min_base_fee=draw(u64),
        da_footprint_gas_scalar=draw(st.integers(0, 0xFFFF)),
    )
    alt = draw(
        st.none()
        | st.builds(
            AltDAConfig,
            da_commitment_type=st.sampled_from(["KeccakCommitment", "GenericCommitment", "x"]),
            da_challenge_window=u64,
            da_resolve_window=u64,
            da_challenge_address=h20,
            da_max_input_size=opt_u64,
        )
    )
    op = draw(st.none() | st.builds(ChainOpConfig, u64, u64, opt_u64))
    present_pool = [
        "max_sequencer_drift",
        "protocol_versions_address",
        "keep_karst_upgrade_gas",
        "genesis.system_config.eip1559Params",
        "genesis.system_config.minBaseFee",
        "alt_da.da_challenge_contract_address",
    ]
    return RollupConfig(
        genesis=Genesis(BlockID(draw(h32), draw(u64)), BlockID(draw(h32), draw(u64)), draw(u64), sc),
        block_time=draw(u64),
        max_sequencer_drift=draw(u64),
        seq_window_size=draw(u64),
        channel_timeout=draw(u64),
        l1_chain_id=draw(st.integers(0, 2**80)),
        l2_chain_id=draw(st.integers(0, 2**80)),
        regolith_time=draw(opt_u64),
        canyon_time=draw(opt_u64),
        delta_time=draw(opt_u64),
        ecotone_time=draw(opt_u64),
        fjord_time=draw(opt_u64),
        granite_time=draw(opt_u64),
        holocene_time=draw(opt_u64),
        isthmus_time=draw(opt_u64),
        jovian_time=draw(opt_u64),
        karst_time=draw(opt_u64),
        lagoon_time=draw(opt_u64),
        batch_inbox_address=draw(h20),
        deposit_contract_address=draw(h20),
        l1_system_config_address=draw(h20),
        protocol_versions_address=draw(h20),
        alt_da=alt,
        chain_op_config=op,
        pectra_blob_schedule_time=draw(opt_u64),
        interop_message_expiry_window=draw(opt_u64),
        keep_karst_upgrade_gas=draw(st.booleans()),
        present=frozenset(draw(st.lists(st.sampled_from(present_pool), unique=True))),
    )


@settings(max_examples=150, deadline=None)
@given(rollup_configs())
def test_hypothesis_round_trip(cfg: RollupConfig) -> None:
    js = cfg.to_json()
    back = RollupConfig.from_json(json.loads(json.dumps(js)))
    assert back == cfg
    assert back.to_json() == js


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                    max_leaves=10))
def test_arbitrary_json_only_raises_typed_errors(obj: object) -> None:
    with contextlib.suppress(RollupConfigError):
        RollupConfig.from_json(obj)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_shared_config_only_raises_typed_errors(data: st.DataObject) -> None:
    raw = op_mainnet_json()
    keys = list(raw) + ["genesis.system_config." + k for k in raw["genesis"]["system_config"]]
    key = data.draw(st.sampled_from(keys))
    val = data.draw(st.none() | st.booleans() | st.integers(-5, 2**65) | st.text(max_size=70)
                    | st.just({}) | st.just([]))
    mutated = copy.deepcopy(raw)
    if key.startswith("genesis.system_config."):
        mutated["genesis"]["system_config"][key.rsplit(".", 1)[1]] = val
    else:
        mutated[key] = val
    try:
        RollupConfig.from_json(mutated)
    except RollupConfigError as e:
        assert e.path.startswith(key.split(".")[0])


# --- kona-format adapter ------------------------------------------------------------------


def payload_files() -> list[Path]:
    files = sorted((SHARED_VECTORS / "payloads").glob("op-sepolia-block-*.json"))
    if not files:
        raise AssertionError("no op-sepolia payload fixtures found")
    return files


@pytest.mark.parametrize("path", payload_files(), ids=lambda p: p.name)
def test_kona_rollup_config_converts(path: Path) -> None:
    kona = json.loads(path.read_text())["rollup_config"]
    with pytest.raises(RollupConfigError):
        RollupConfig.from_json(kona)  # not op-node format: kona-only keys are unknown here
    cfg = rollup_config_from_kona_json(kona)
    cfg.check()
    assert cfg.l2_chain_id == kona["l2_chain_id"] == 11155420
    assert cfg.genesis.l2_time == kona["genesis"]["l2_time"]
    assert int.from_bytes(cfg.genesis.system_config.overhead, "big") == int(
        kona["genesis"]["system_config"]["overhead"], 16
    )
    for key in ("canyon_time", "delta_time", "ecotone_time", "fjord_time", "granite_time",
                "holocene_time", "isthmus_time", "pectra_blob_schedule_time"):
        assert cfg.to_json().get(key) == kona.get(key), key
    # kona: a later fork implies the earlier ones, so a missing regolith_time acts as Canyon's.
    assert cfg.is_regolith(kona["canyon_time"])
    # round trip through op-node JSON
    assert RollupConfig.from_json(cfg.to_json()) == cfg


def test_kona_unsupported_granite_channel_timeout() -> None:
    kona = json.loads(payload_files()[-1].read_text())["rollup_config"]
    kona["granite_channel_timeout"] = 51
    with pytest.raises(RollupConfigError) as ei:
        rollup_config_from_kona_json(kona)
    assert ei.value.path == "granite_channel_timeout"
