"""Devnet role selection (``pyop devnet up --stack/--node/--batcher/--proposer``) and what
``pyop devnet status`` says about it; no processes are started here."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyop.devnet.process import PidRegistry, start_process
from pyop.devnet.roles import (
    RoleError,
    Roles,
    read_roles,
    resolve_roles,
    role_lines,
    write_roles,
)
from pyop.devnet.stack import pyop_batcher_argv


def test_stack_is_a_shorthand_and_role_flags_override_it() -> None:
    assert resolve_roles() == Roles("go", "go", "go")
    assert resolve_roles("go", batcher="pyop") == Roles("go", "pyop", "go")
    assert resolve_roles("pyop", proposer="go") == Roles("pyop", "pyop", "go")
    assert Roles("pyop", "pyop", "go").process_name("batcher") == "pyop-batcher"
    assert Roles().process_name("node") == "op-node"


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(RoleError, match="unknown stack 'rust'"):
        resolve_roles("rust")
    with pytest.raises(RoleError, match="--batcher 'kona'"):
        resolve_roles("go", batcher="kona")


def test_stack_pyop_is_all_three_pyop() -> None:
    """With ``pyop proposer`` merged, ``--stack pyop`` runs every role as pyop."""
    assert resolve_roles("pyop") == Roles("pyop", "pyop", "pyop")
    assert Roles("pyop", "pyop", "pyop").process_name("proposer") == "pyop-proposer"


def test_status_names_the_kind_and_process_of_each_role(tmp_path: Path) -> None:
    write_roles(tmp_path, Roles("go", "pyop", "go"))
    assert read_roles(tmp_path) == Roles("go", "pyop", "go")
    reg = PidRegistry(tmp_path)
    p = start_process("pyop-batcher", ["sleep", "30"], log_path=tmp_path / "b.log", registry=reg)
    try:
        lines = role_lines(tmp_path)
        assert lines[0].split() == ["role", "kind", "process", "state"]
        assert lines[1].split()[:4] == ["node", "go", "op-node", "not"]
        assert lines[2].split()[:5] == ["batcher", "pyop", "pyop-batcher", "pid", str(p.pid)]
        assert lines[2].endswith("running")
    finally:
        p.stop()
        reg.remove("pyop-batcher")
    assert read_roles(tmp_path / "nowhere") is None and role_lines(tmp_path / "nowhere") == []


def test_pyop_batcher_gets_op_batchers_command_line() -> None:
    from pyop.devnet.stack import DevnetInfo

    info = DevnetInfo(directory=Path("/d"), l1_url="http://l1", l1_chain_id=900, l1_block_time=2,
                      l1_managed=True, l1_hardfork="prague", l2_chain_id=901, l2_block_time=2,
                      l2_genesis_hash="0x00", l2_genesis_time=0, fork_times={}, altda=False,
                      ports={"gethHttp": 1, "opNodeRpc": 2, "batcherRpc": 3, "beaconShim": 4},
                      addresses={}, keys={"batcher": {"privateKey": "0x" + "11" * 32}})  # fmt: skip
    argv = pyop_batcher_argv(info, da="blobs", extra=["--batch-type=1"], python="py")
    assert argv[:4] == ["py", "-m", "pyop.cli", "batcher"]
    assert "--data-availability-type=blobs" in argv and argv[-1] == "--batch-type=1"
    assert "--l1-eth-rpc=http://l1" in argv and "--rollup-rpc=http://127.0.0.1:2" in argv
    # every flag is one pyop batcher accepts
    from pyop.batcher.config import parse_batcher_args

    cfg, _ = parse_batcher_args(argv[4:], env={})
    assert cfg.data_availability_type == "blobs" and cfg.batch_type == 1
