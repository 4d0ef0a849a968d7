"""Fork predicates, activation blocks, per-fork protocol constants and ``check()``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from pyop.config import (
    MAINLINE_FORKS,
    MAX_FRAME_LEN,
    AltDAConfig,
    Fork,
    Genesis,
    RollupConfig,
    RollupConfigError,
    network_config,
)
from pyop.primitives import ZERO_ADDRESS, ZERO_HASH, BlockID, SystemConfig
from tests.conftest import SHARED_VECTORS


def base_config(**kw: Any) -> RollupConfig:
    """A valid pre-Regolith config with block time 2 and no forks scheduled."""
    fields: dict[str, Any] = dict(
        genesis=Genesis(
            l1=BlockID(b"\x01" * 32, 100),
            l2=BlockID(b"\x02" * 32, 0),
            l2_time=1000,
            system_config=SystemConfig(b"\x03" * 20, ZERO_HASH, b"\x00" * 31 + b"\x01", 30_000_000),
        ),
        block_time=2,
        max_sequencer_drift=600,
        seq_window_size=3600,
        channel_timeout=300,
        l1_chain_id=900,
        l2_chain_id=901,
        batch_inbox_address=b"\xff" + b"\x00" * 19,
        deposit_contract_address=b"\x04" * 20,
        l1_system_config_address=b"\x05" * 20,
    )
    fields.update(kw)
    return RollupConfig(**fields)


def all_forks_at(t: int | None, **kw: Any) -> RollupConfig:
    return base_config(**{**{f.json_key: t for f in Fork}, **kw})


# --- predicates ---------------------------------------------------------------------------


@pytest.mark.parametrize("fork", list(Fork))
def test_predicate_per_fork(fork: Fork) -> None:
    cfg = base_config(**{fork.json_key: 5000})
    pred = getattr(cfg, f"is_{fork.value}")
    assert pred(4998) is False
    assert pred(4999) is False
    assert pred(5000) is True
    assert pred(10**12) is True
    assert cfg.is_active(fork, 5000) and not cfg.is_active(fork, 4999)
    # other forks untouched
    for other in Fork:
        if other is not fork:
            assert getattr(cfg, f"is_{other.value}")(10**12) is False


@pytest.mark.parametrize("fork", list(Fork))
def test_unset_fork_is_never_active(fork: Fork) -> None:
    cfg = base_config()
    assert not cfg.is_active(fork, 0)
    assert not cfg.is_active(fork, 2**64 - 1)
    assert cfg.fork_time(fork) is None


@pytest.mark.parametrize("fork", list(Fork))
def test_activation_block_and_first_block_alias(fork: Fork) -> None:
    cfg = base_config(**{fork.json_key: 5000})
    act = getattr(cfg, f"is_{fork.value}_activation_block")
    first = getattr(cfg, f"is_first_{fork.value}_block")
    for ts, expected in [(4998, False), (5000, True), (5002, False), (6000, False)]:
        assert act(ts) is expected, ts
        assert first(ts) is expected, ts
        assert cfg.is_activation_block(fork, ts) is expected


def test_activation_block_with_unaligned_fork_time() -> None:
    # Fork at an odd time with 2 s blocks: the first block at or after it is the activation block.
    cfg = base_config(ecotone_time=1001)
    assert not cfg.is_ecotone_activation_block(1000)
    assert cfg.is_ecotone_activation_block(1002)
    assert not cfg.is_ecotone_activation_block(1004)


def test_activation_at_genesis_is_not_an_activation_block() -> None:
    # op-node IsXActivationBlock requires l2BlockTime >= BlockTime.
    cfg = all_forks_at(0)
    for fork in Fork:
        assert not cfg.is_activation_block(fork, 0)
        assert not cfg.is_activation_block(fork, 1)
        assert not cfg.is_activation_block(fork, 2)


def test_pectra_blob_schedule_by_l1_origin_time() -> None:
    assert not base_config().is_pectra_blob_schedule(2**63)
    cfg = base_config(pectra_blob_schedule_time=1742486400)
    assert not cfg.is_pectra_blob_schedule(1742486399)
    assert cfg.is_pectra_blob_schedule(1742486400)


def test_real_jovian_activation_blocks() -> None:
    # shared/vectors golden-values.json "jovian_intent_discrepancy.resolve_with":
    # OP Mainnet Jovian activation block L2 #144546212 (ts 1764691201);
    # OP Sepolia first block with ts >= 1763568001 is #35882731.
    op = network_config("op-mainnet")
    ts = op.timestamp_for_block(144546212)
    assert ts == 1764691201
    assert op.is_first_jovian_block(ts)
    assert not op.is_first_jovian_block(op.timestamp_for_block(144546211))
    assert not op.is_first_jovian_block(op.timestamp_for_block(144546213))
    sep = network_config("op-sepolia")
    assert sep.is_jovian_activation_block(sep.timestamp_for_block(35882731))
    assert not sep.is_jovian(sep.timestamp_for_block(35882730))


def test_payload_fixture_timestamps_and_forks() -> None:
    exp = json.loads((SHARED_VECTORS / "expected.json").read_text())
    payloads = exp["payloads (L1-info fields per fixture)"]
    assert payloads, "no payload expectations found"
    sep = network_config("op-sepolia")
    for name, p in payloads.items():
        assert sep.timestamp_for_block(p["l2_block"]) == p["timestamp"], name
        assert sep.is_holocene(p["timestamp"]) == ("eip1559Params" in p), name
        assert sep.is_ecotone(p["timestamp"]) and not sep.is_jovian(p["timestamp"])


# --- protocol constants ---------------------------------------------------------------------
# Values from specs/protocol/derivation.md "Protocol Parameters", fjord/derivation.md and
# granite/derivation.md "Protocol Parameter Changes".


def test_constants_pre_and_post_fjord_and_granite() -> None:
    cfg = base_config(
        regolith_time=0, canyon_time=0, delta_time=0, ecotone_time=0,
        fjord_time=10_000, granite_time=20_000, channel_timeout=300, max_sequencer_drift=600,
    )
    pre, fjord, granite = 9_999, 10_000, 20_000
    assert cfg.max_rlp_bytes_per_channel(pre) == 10_000_000
    assert cfg.max_rlp_bytes_per_channel(fjord) == 100_000_000
    assert cfg.max_channel_bank_size(pre) == 100_000_000
    assert cfg.max_channel_bank_size(fjord) == 1_000_000_000
    assert cfg.max_sequencer_drift_at(pre) == 600
    assert cfg.max_sequencer_drift_at(fjord) == 1800
    assert cfg.channel_timeout_at(fjord) == 300
    assert cfg.channel_timeout_at(granite - 1) == 300
    assert cfg.channel_timeout_at(granite) == 50
    for t in (pre, fjord, granite):
        assert cfg.max_span_batch_element_count(t) == 10_000_000
    assert MAX_FRAME_LEN == 1_000_000


def test_rollup_values_used_when_forks_unset() -> None:
    cfg = base_config(channel_timeout=120, max_sequencer_drift=300)
    assert cfg.channel_timeout_at(2**62) == 120
    assert cfg.max_sequencer_drift_at(2**62) == 300
    assert cfg.max_rlp_bytes_per_channel(2**62) == 10_000_000


# --- check() -----------------------------------------------------------------------------------


def test_valid_configs_pass_check() -> None:
    base_config().check()
    all_forks_at(0).check()
    all_forks_at(0, lagoon_time=None).check()


@pytest.mark.parametrize("i", range(1, len(MAINLINE_FORKS)))
def test_check_later_fork_requires_prior_fork(i: int) -> None:
    later, prior = MAINLINE_FORKS[i], MAINLINE_FORKS[i - 1]
    times = {f.json_key: 100 for f in MAINLINE_FORKS[: i + 1]}
    times[prior.json_key] = None
    with pytest.raises(RollupConfigError) as ei:
        base_config(**times).check()
    # the first violated pair names either this later fork or (if prior's own prior is set)
    # the missing prior; either way the message names a missing prior fork.
    assert "but prior fork" in str(ei.value) and "missing" in str(ei.value)
    assert ei.value.path == later.json_key


@pytest.mark.parametrize("i", range(1, len(MAINLINE_FORKS)))
def test_check_later_fork_not_before_prior(i: int) -> None:
    later, prior = MAINLINE_FORKS[i], MAINLINE_FORKS[i - 1]
    times = {f.json_key: 100 for f in MAINLINE_FORKS[: i + 1]}
    times[later.json_key] = 99
    with pytest.raises(RollupConfigError) as ei:
        base_config(**times).check()
    assert ei.value.path == later.json_key
    assert f"prior fork {prior.value} has higher offset 100" in str(ei.value)


def test_check_same_time_forks_ok_and_lagoon_needs_isthmus() -> None:
    times = {f.json_key: 100 for f in MAINLINE_FORKS[:8]}  # through Isthmus
    base_config(**times, lagoon_time=100).check()
    times_no_isthmus = {f.json_key: 100 for f in MAINLINE_FORKS[:7]}
    with pytest.raises(RollupConfigError) as ei:
        base_config(**times_no_isthmus, lagoon_time=100).check()
    assert ei.value.path == "lagoon_time"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"block_time": 0}, "block_time"),
        ({"channel_timeout": 0}, "channel_timeout"),
        ({"seq_window_size": 1}, "seq_window_size"),
        ({"max_sequencer_drift": 0}, "max_sequencer_drift"),
        ({"l1_chain_id": 0}, "l1_chain_id"),
        ({"l2_chain_id": 0}, "l2_chain_id"),
        ({"l2_chain_id": 900}, "l2_chain_id"),
        ({"batch_inbox_address": ZERO_ADDRESS}, "batch_inbox_address"),
        ({"deposit_contract_address": ZERO_ADDRESS}, "deposit_contract_address"),
        ({"alt_da": AltDAConfig("KeccakCommitment", 1, 1)}, "alt_da.da_challenge_contract_address"),
        ({"alt_da": AltDAConfig("GenericCommitment", 1, 1, b"\x01" * 20)},
         "alt_da.da_challenge_contract_address"),
        ({"alt_da": AltDAConfig("Other", 1, 1)}, "alt_da.da_commitment_type"),
    ],
)
def test_check_errors_name_the_field(change: dict[str, Any], path: str) -> None:
    with pytest.raises(RollupConfigError) as ei:
        base_config(**change).check()
    assert ei.value.path == path


@pytest.mark.parametrize(
    ("genesis_change", "sys_change", "path"),
    [
        ({"l1": BlockID(ZERO_HASH, 1)}, {}, "genesis.l1.hash"),
        ({"l2": BlockID(ZERO_HASH, 1)}, {}, "genesis.l2.hash"),
        ({"l2": BlockID(b"\x01" * 32, 0)}, {}, "genesis.l2.hash"),
        ({"l2_time": 0}, {}, "genesis.l2_time"),
        ({}, {"batcher_addr": ZERO_ADDRESS}, "genesis.system_config.batcherAddr"),
        ({}, {"scalar": ZERO_HASH}, "genesis.system_config.scalar"),
        ({}, {"gas_limit": 0}, "genesis.system_config.gasLimit"),
    ],
)
def test_check_genesis_errors(
    genesis_change: dict[str, Any], sys_change: dict[str, Any], path: str
) -> None:
    cfg = base_config()
    g = dataclasses.replace(
        cfg.genesis,
        system_config=dataclasses.replace(cfg.genesis.system_config, **sys_change),
        **genesis_change,
    )
    with pytest.raises(RollupConfigError) as ei:
        dataclasses.replace(cfg, genesis=g).check()
    assert ei.value.path == path


def test_zero_max_sequencer_drift_ok_when_fjord_at_genesis() -> None:
    all_forks_at(0, max_sequencer_drift=0, lagoon_time=None).check()


def test_alt_da_enabled() -> None:
    assert not base_config().alt_da_enabled()
    assert base_config(alt_da=AltDAConfig("GenericCommitment", 1, 1)).alt_da_enabled()
