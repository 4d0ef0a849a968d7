"""Lagoon in the rollup config (derivation audit D9/D14): op-node v1.19.6 has ``lagoon_time``
(``rollup.Config.LagoonTime``, json ``lagoon_time``, after ``karst_time`` and
``keep_karst_upgrade_gas``) and no ``interop_time``; its feature toggles ``IsInterop`` and
``IsSDM`` are ``IsLagoon`` and ``IsInteropActivationBlock`` is the Lagoon activation block
(op-node/rollup/toggles.go)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pyop.config import RollupConfig, RollupConfigError, network_config
from pyop.config.forks import MAINLINE_FORKS, Fork
from pyop.config.kona import rollup_config_from_kona_json
from tests.derivation.deriv_fakes import GENESIS_TIME, make_cfg

OP_NODE_FORK_ORDER = ["regolith", "canyon", "delta", "ecotone", "fjord", "granite", "holocene",
                      "isthmus", "jovian", "karst", "lagoon"]  # op-core/forks/forks.go All (after bedrock)  # fmt: skip


def test_fork_names_and_order_are_op_nodes() -> None:
    assert [f.value for f in Fork] == OP_NODE_FORK_ORDER
    assert Fork.LAGOON.json_key == "lagoon_time"
    assert MAINLINE_FORKS[-1] is Fork.KARST  # pyop's ordering check runs through Karst


def test_lagoon_time_read_written_in_op_node_order() -> None:
    cfg = make_cfg(all_until="jovian", karst_time=GENESIS_TIME + 10, lagoon_time=GENESIS_TIME + 20)
    cfg = replace(cfg, keep_karst_upgrade_gas=True)
    obj = cfg.to_json()
    keys = list(obj)
    i = keys.index("karst_time")
    assert keys[i : i + 4] == ["karst_time", "keep_karst_upgrade_gas", "lagoon_time", "batch_inbox_address"]
    back = RollupConfig.from_json(json.loads(json.dumps(obj)))
    assert back == cfg and back.lagoon_time == GENESIS_TIME + 20
    back.check()


def test_interop_time_refused_with_the_new_name() -> None:
    obj = make_cfg(all_until="isthmus").to_json()
    obj["interop_time"] = 5
    with pytest.raises(RollupConfigError, match="lagoon_time"):
        RollupConfig.from_json(obj)


def test_interop_and_sdm_toggles_follow_lagoon() -> None:
    t = GENESIS_TIME + 20
    cfg = make_cfg(all_until="jovian", lagoon_time=t)
    for ts, active in ((t - 2, False), (t, True), (t + 2, True)):
        assert cfg.is_lagoon(ts) is active
        assert cfg.is_interop(ts) is active
        assert cfg.is_sdm(ts) is active
    assert cfg.is_interop_activation_block(t) and cfg.is_lagoon_activation_block(t)
    assert not cfg.is_interop_activation_block(t + 2)
    assert not make_cfg(all_until="jovian").is_interop(10**12)


def test_lagoon_needs_isthmus() -> None:
    with pytest.raises(RollupConfigError) as ei:
        make_cfg(all_until="holocene", lagoon_time=100).check()
    assert ei.value.path == "lagoon_time"
    make_cfg(all_until="isthmus", lagoon_time=100).check()


def test_pre_rename_sources_map_interop_time_to_lagoon() -> None:
    """The registry dump and kona configs predate op-node's Interop -> Lagoon rename."""
    rehearsal = network_config("rehearsal-0-bn-0-rehearsal-0-bn")
    assert rehearsal.lagoon_time == 1749150000
    rehearsal.check()
    kona = make_cfg(all_until="isthmus").to_json()
    kona["interop_time"] = 77
    assert rollup_config_from_kona_json(kona).lagoon_time == 77
