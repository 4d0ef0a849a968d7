"""``pyop devnet up``'s foreground loop and deliberate faults: a process restarted under the same
name is adopted, one stopped on purpose (``DIR/faults.json``) is not taken for a crash, and a
real crash still is. Real child processes (``sleep``), no devnet."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from pyop.devnet.live_faults import _set_down, deliberately_down
from pyop.devnet.process import PidRegistry, start_process
from pyop.devnet.stack import DevnetInfo, Stack, _adopt_restarted


def _proc(reg: PidRegistry, d: Path, name: str):  # type: ignore[no-untyped-def]
    return start_process(name, [sys.executable, "-c", "import time; time.sleep(60)"],
                         log_path=d / f"{name}.log", registry=reg)  # fmt: skip


def _kill(p) -> None:  # type: ignore[no-untyped-def]
    os.kill(p.pid, signal.SIGKILL)
    assert p.popen is not None
    p.popen.wait(10)


def test_adopt_restarted_and_deliberately_down(tmp_path: Path) -> None:
    reg = PidRegistry(tmp_path)
    info = DevnetInfo(directory=tmp_path, l1_url="", l1_chain_id=1, l1_block_time=2, l1_managed=False,
                      l1_hardfork="prague", l2_chain_id=2, l2_block_time=2, l2_genesis_hash="",
                      l2_genesis_time=0, fork_times={}, altda=False, ports={}, addresses={}, keys={})  # fmt: skip
    geth, da, node = _proc(reg, tmp_path, "op-geth"), _proc(reg, tmp_path, "da-server"), _proc(reg, tmp_path, "node")
    st = Stack(info=info, registry=reg, op_geth=None, processes={"op-geth": geth, "da-server": da,  # type: ignore[arg-type]
                                                                 "node": node})
    try:
        # op-geth killed and restarted under the same name: adopted, not a crash
        _set_down(tmp_path, "op-geth", "killed by a test")
        _kill(geth)
        assert _adopt_restarted(st, ["op-geth"]) == []  # down on purpose, not restarted yet
        new = _proc(reg, tmp_path, "op-geth")
        assert _adopt_restarted(st, ["op-geth"]) == []
        assert st.processes["op-geth"].pid == new.pid
        _set_down(tmp_path, "op-geth", None)
        # the DA server stopped on purpose: waited for
        _set_down(tmp_path, "da-server", "stopped by a test")
        _kill(da)
        assert "da-server" in deliberately_down(tmp_path)
        assert _adopt_restarted(st, ["da-server"]) == []
        # a real crash is reported
        _kill(node)
        assert _adopt_restarted(st, ["node"]) == ["node"]
    finally:
        reg.stop_all(sigint_timeout=2.0)
