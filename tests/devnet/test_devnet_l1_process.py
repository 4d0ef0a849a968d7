"""Devnet process management: start with a log file, readiness waits, stop by PID with
SIGINT -> SIGTERM -> SIGKILL escalation, and the ``pids.json`` registry."""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import pytest

from pyop.devnet.anvil import AnvilError, anvil_binary, set_time_lapse, start_anvil
from pyop.devnet.process import (
    ManagedProcess,
    PidRegistry,
    ProcessError,
    free_port,
    pid_alive,
    process_start_time,
    start_process,
    stop_pid,
    wait_for_http,
    wait_for_rpc,
)

# A child that prints "ready" and then sleeps, ignoring the signals named in argv[1].
_CHILD = """
import signal, sys, time
for name in sys.argv[1].split(",") if sys.argv[1] else []:
    signal.signal(getattr(signal, name), signal.SIG_IGN)
print("ready", flush=True)
time.sleep(120)
"""


def _start_child(tmp: Path, name: str, ignore: str, registry: PidRegistry | None = None) -> ManagedProcess:
    proc = start_process(
        name, [sys.executable, "-c", _CHILD, ignore], log_path=tmp / f"{name}.log",
        registry=registry,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while "ready" not in proc.log_path.read_text():
        assert time.monotonic() < deadline, proc.log_tail()
        time.sleep(0.02)
    return proc


@pytest.mark.parametrize(
    ("ignore", "outcome"),
    [("", "sigint"), ("SIGINT", "sigterm"), ("SIGINT,SIGTERM", "sigkill")],
)
def test_stop_escalates(tmp_path: Path, ignore: str, outcome: str) -> None:
    proc = _start_child(tmp_path, "child", ignore)
    assert proc.alive() and pid_alive(proc.pid)
    assert proc.start_time == process_start_time(proc.pid)
    assert proc.stop(sigint_timeout=0.5, sigterm_timeout=0.5) == outcome
    assert not proc.alive()
    assert proc.stop() == "not-running"


def test_stop_pid_of_a_non_child_view(tmp_path: Path) -> None:
    # The registry's view of a process has no Popen: stop_pid polls the PID.
    proc = _start_child(tmp_path, "child", "SIGINT")
    view = ManagedProcess.from_json(json.loads(json.dumps(proc.to_json())))
    assert view.popen is None and view.alive()
    assert view.stop(sigint_timeout=0.3, sigterm_timeout=5) == "sigterm"
    assert proc.popen is not None
    proc.popen.wait(5)
    assert not view.alive()


def test_reused_pid_is_not_signalled(tmp_path: Path) -> None:
    proc = _start_child(tmp_path, "child", "")
    try:
        assert proc.start_time is not None
        assert stop_pid(proc.pid, start_time=proc.start_time + 1) == "pid-reused"
        assert proc.alive()
    finally:
        assert proc.stop(sigint_timeout=2) == "sigint"


def test_registry_stop_all_newest_first(tmp_path: Path) -> None:
    reg = PidRegistry(tmp_path)
    assert reg.entries() == []
    a = _start_child(tmp_path, "a", "", reg)
    b = _start_child(tmp_path, "b", "SIGINT", reg)
    data = json.loads((tmp_path / "pids.json").read_text())
    assert [p["name"] for p in data["processes"]] == ["a", "b"]
    assert [p["pid"] for p in data["processes"]] == [a.pid, b.pid]
    assert reg.status() == {"a": True, "b": True}
    outcomes = PidRegistry(tmp_path).stop_all(sigint_timeout=0.5, sigterm_timeout=5)
    assert list(outcomes.items()) == [("b", "sigterm"), ("a", "sigint")]
    assert reg.entries() == []
    for p in (a, b):
        assert p.popen is not None
        p.popen.wait(5)
        assert not pid_alive(p.pid)


def test_wait_reports_an_early_exit_with_the_log(tmp_path: Path) -> None:
    proc = start_process(
        "dies", [sys.executable, "-c", "print('boom: bad flag'); raise SystemExit(3)"],
        log_path=tmp_path / "dies.log",
    )  # fmt: skip
    port = free_port()
    with pytest.raises(ProcessError, match="boom: bad flag"):
        wait_for_rpc(f"http://127.0.0.1:{port}", timeout=10, process=proc)
    with pytest.raises(ProcessError, match="did not answer"):
        wait_for_http(f"http://127.0.0.1:{port}/", timeout=0.3)
    with pytest.raises(ProcessError, match="cannot start"):
        start_process("nope", [str(tmp_path / "missing-binary")], log_path=tmp_path / "n.log")


def test_anvil_start_stop_by_pid_with_registry(tmp_path: Path) -> None:
    try:
        anvil_binary()
    except AnvilError as e:
        pytest.skip(f"{e} (the devnet tests need `npm install` (or `make deps`))")
    reg = PidRegistry(tmp_path)
    t0 = time.monotonic()
    anvil = start_anvil(tmp_path, block_time=None, chain_id=4242, registry=reg)
    elapsed = time.monotonic() - t0
    try:
        assert elapsed < 15
        assert reg.get("anvil") is not None and reg.get("anvil").pid == anvil.pid  # type: ignore[union-attr]
        assert int(wait_for_rpc(anvil.rpc_url, method="eth_chainId"), 16) == 4242
        assert anvil.log_path.is_file()
        assert "--chain-id" in anvil.process.argv and "127.0.0.1" in anvil.process.argv
        # A second anvil on the same port fails (it exits, or the first one answers with
        # another chain id) and is stopped.
        with pytest.raises((ProcessError, AnvilError)):
            start_anvil(tmp_path / "second", anvil.port, name="anvil2", ready_timeout=10)
    finally:
        assert reg.stop_all(sigint_timeout=5) == {"anvil": "sigint"}
    assert not pid_alive(anvil.pid)


def test_anvil_in_the_past_and_time_lapse(tmp_path: Path) -> None:
    """``genesis_timestamp`` puts anvil's chain in the past; :func:`set_time_lapse` then makes
    each block ``seconds_per_block`` later than its parent, mined every wall second, and ends
    again (bench.node_bench --timelapse builds its 10,000-block chain this way)."""
    try:
        anvil_binary()
    except AnvilError as e:
        pytest.skip(f"{e} (the devnet tests need `npm install` (or `make deps`))")
    reg = PidRegistry(tmp_path)
    genesis = int(time.time()) - 20_000
    anvil = start_anvil(tmp_path, block_time=2, chain_id=4243, registry=reg, genesis_timestamp=genesis)
    rpc = anvil.rpc()

    def head() -> tuple[int, int]:
        b = rpc.call("eth_getBlockByNumber", "latest", False)
        return int(b["number"], 16), int(b["timestamp"], 16)

    try:
        assert int(rpc.call("eth_getBlockByNumber", "0x0", False)["timestamp"], 16) == genesis
        set_time_lapse(rpc, seconds_per_block=12, mine_every=1)
        n0, _ = head()
        deadline = time.monotonic() + 20
        while head()[0] < n0 + 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        n, _ = head()
        assert n >= n0 + 3, "anvil did not mine once a second"
        stamps = [int(rpc.call("eth_getBlockByNumber", hex(i), False)["timestamp"], 16) for i in range(n0 + 1, n + 1)]
        assert {b - a for a, b in itertools.pairwise(stamps)} == {12}
        assert stamps[-1] < time.time() - 10_000  # still in the past
        set_time_lapse(rpc, seconds_per_block=None, mine_every=1)
        while head()[0] < n + 2 and time.monotonic() < deadline + 10:
            time.sleep(0.2)
        n2, t2 = head()
        t1 = int(rpc.call("eth_getBlockByNumber", hex(n2 - 1), False)["timestamp"], 16)
        assert 0 < t2 - t1 < 12  # back on anvil's own (past) clock
        with pytest.raises(AnvilError, match="positive"):
            set_time_lapse(rpc, seconds_per_block=0, mine_every=1)
    finally:
        reg.stop_all(sigint_timeout=5)


def test_free_port_below_the_ephemeral_range_and_never_handed_out_twice() -> None:
    """Ports for devnet services come from below the kernel's ephemeral range (an outgoing
    connection or another process's bind(0) cannot take them before the service binds) and are
    reserved across processes: two processes asking at once never get the same port (a parallel
    test run once saw a libp2p listener answer on a devnet's batcher RPC port)."""
    import subprocess

    from pyop.devnet.process import port_window

    win = port_window()
    if win is None:
        pytest.skip("this kernel's ephemeral port range leaves no room below it")
    child = subprocess.Popen([sys.executable, "-c", "from pyop.devnet.process import free_port; "
                              "print(' '.join(str(free_port()) for _ in range(80)))"],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    mine = [free_port() for _ in range(80)]
    out, _ = child.communicate(timeout=60)
    theirs = [int(x) for x in out.split()]
    assert len(set(mine)) == 80 and len(set(theirs)) == 80
    assert not set(mine) & set(theirs)
    assert all(win[0] <= p < win[1] for p in mine + theirs), (win, mine)
