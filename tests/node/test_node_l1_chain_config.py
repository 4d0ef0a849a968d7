"""``pyop node`` and the L1 chain config (op-node ``NewL1ChainConfig``): built-in blob schedules
for the public L1s, ``--rollup.l1-chain-config`` for any other L1, and a refusal to start for an
unknown L1 without it (one log line, exit status 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pyop.config import dump_rollup_config
from pyop.config.l1_chains import BUILTIN_L1_BLOB_SCHEDULES
from pyop.devnet.l1_chain_config import write_l1_chain_config
from pyop.node.config import NodeConfigError
from pyop.node.service import node_l1_blob_schedule
from tests.derivation.deriv_fakes import make_cfg


def test_builtin_schedule_wins_over_flag(tmp_path: Path) -> None:
    path = write_l1_chain_config(tmp_path / "l1.json", 1, "prague")
    cfg = replace(make_cfg(all_until="holocene"), l1_chain_id=1)
    assert node_l1_blob_schedule(cfg, str(path)) is BUILTIN_L1_BLOB_SCHEDULES[1]
    assert node_l1_blob_schedule(cfg, "") is BUILTIN_L1_BLOB_SCHEDULES[1]


def test_unknown_l1_needs_the_flag(tmp_path: Path) -> None:
    cfg = make_cfg(all_until="holocene")  # L1 chain 900
    with pytest.raises(NodeConfigError, match="no built-in blob schedule"):
        node_l1_blob_schedule(cfg, "")
    path = write_l1_chain_config(tmp_path / "l1.json", 900, "prague")
    assert node_l1_blob_schedule(cfg, str(path)).fraction_at(0) == 5_007_716
    other = write_l1_chain_config(tmp_path / "other.json", 901, "prague")
    with pytest.raises(NodeConfigError, match="mismatch"):
        node_l1_blob_schedule(cfg, str(other))
    no_sched = tmp_path / "nosched.json"
    no_sched.write_text(json.dumps({"chainId": 900, "londonBlock": 0, "cancunTime": 0}))
    with pytest.raises(NodeConfigError, match="blob schedule"):
        node_l1_blob_schedule(cfg, str(no_sched))


def test_pyop_node_refuses_to_start_for_unknown_l1(tmp_path: Path) -> None:
    """The process exits 1 before opening any connection, with one ``pyop node failed`` line
    naming the missing L1 chain config (no traceback)."""
    rollup = tmp_path / "rollup.json"
    dump_rollup_config(make_cfg(all_until="holocene"), rollup)
    jwt = tmp_path / "jwt.txt"
    jwt.write_text("0x" + "11" * 32)
    res = subprocess.run(
        [sys.executable, "-m", "pyop.cli", "node", "--l1=http://127.0.0.1:9", "--l2=http://127.0.0.1:9",
         f"--l2.jwt-secret={jwt}", f"--rollup.config={rollup}", "--l1.beacon.ignore", "--rpc.port=0",
         "--rpc.addr=127.0.0.1"],  # (the default 0.0.0.0 adds a start-up notice line)
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 1
    lines = [x for x in (res.stdout + res.stderr).splitlines() if x.strip()]
    assert len(lines) == 1, lines
    assert "pyop node failed" in lines[0] and "--rollup.l1-chain-config" in lines[0]
    assert "Traceback" not in res.stderr


def test_pyop_node_refuses_a_lagoon_chain(tmp_path: Path) -> None:
    """op-node refuses a Lagoon schedule without an interop dependency set; pyop has no
    dependency sets, so it refuses every Lagoon chain (one line, exit 1) rather than derive the
    activation block without the interop wrappers a multi-chain set would add."""
    rollup = tmp_path / "rollup.json"
    dump_rollup_config(replace(make_cfg(all_until="jovian", lagoon_time=10**10), l1_chain_id=1), rollup)
    jwt = tmp_path / "jwt.txt"
    jwt.write_text("0x" + "11" * 32)
    res = subprocess.run(
        [sys.executable, "-m", "pyop.cli", "node", "--l1=http://127.0.0.1:9", "--l2=http://127.0.0.1:9",
         f"--l2.jwt-secret={jwt}", f"--rollup.config={rollup}", "--l1.beacon.ignore", "--rpc.port=0",
         "--rpc.addr=127.0.0.1"],  # (the default 0.0.0.0 adds a start-up notice line)
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 1
    lines = [x for x in (res.stdout + res.stderr).splitlines() if x.strip()]
    assert len(lines) == 1 and "dependency set" in lines[0], lines
