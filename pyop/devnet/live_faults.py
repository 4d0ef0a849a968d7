"""Real faults on a running devnet, for teaching and tests: each function does one thing to the
live processes or chains of ``DIR`` and returns what it did (the dashboard's scenario buttons
call these; so can a test or a Python prompt).

- :func:`stop_batcher` / :func:`start_batcher`: the batcher's admin RPC (``admin_stopBatcher``
  / ``admin_startBatcher``, served by op-batcher and ``pyop batcher`` with
  ``--rpc.enable-admin``). The sequencer keeps building unsafe blocks; nothing new reaches L1,
  so the safe head stalls until the sequencing window of the first unbatched epoch expires
  (specs/protocol/derivation.md "Batch Queue": empty batches are generated, and the sequencer's
  unsafe blocks are replaced by deposit-only blocks).
- :func:`l1_reorg`: ``anvil_reorg`` of the newest ``depth`` L1 blocks. Anvil drops the
  transactions of the replaced blocks (a real L1 puts them back in the mempool), so they are
  re-included, in order, in the first new block: batches and deposits land in a different L1
  block with a different hash, and everything derived from the old blocks must be re-derived
  (derivation.md "L1 Traversal" / "Resetting the Pipeline"). Blocks at or below L1 ``finalized``
  are never replaced.
- :func:`kill_op_geth` / :func:`restart_op_geth`: SIGKILL the sequencer's op-geth (no clean
  database shutdown) and start it again with the same command line; the rollup node must find
  its heads again (specs/protocol/derivation.md "Engine Queue", op-node's ``FindL2Heads``).
- :func:`stop_da_server` / :func:`start_da_server`: the alt-DA server of an ``--altda``
  devnet (specs/experimental/alt-da.md "Derivation": input unavailable, derivation waits).

A process stopped on purpose is written to ``DIR/faults.json`` until it is started again, so
``pyop devnet up``'s foreground loop (:func:`pyop.devnet.stack.run_foreground`) does not take
it for a crash; a process restarted under the same name is adopted by that loop.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from pyop.devnet.process import (
    ManagedProcess,
    PidRegistry,
    ProcessError,
    start_process,
    wait_for_http,
    wait_for_rpc,
)
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.devnet.stack import DevnetInfo, StackError
from pyop.primitives import hex_to_int

FAULTS_JSON = "faults.json"
OP_GETH = "op-geth"
DA_SERVER = "da-server"

__all__ = [
    "FAULTS_JSON",
    "FaultError",
    "deliberately_down",
    "kill_op_geth",
    "l1_reorg",
    "max_l1_reorg_depth",
    "restart_op_geth",
    "start_batcher",
    "start_da_server",
    "stop_batcher",
    "stop_da_server",
]


class FaultError(StackError):
    """A fault cannot be injected (wrong devnet kind, depth out of range, process missing)."""


# --------------------------------------------------------------------------- faults.json


def deliberately_down(directory: Path) -> dict[str, dict[str, Any]]:
    """``name -> {"since": unix time, "why": text}`` of processes stopped on purpose."""
    try:
        obj = json.loads((Path(directory) / FAULTS_JSON).read_text())
    except (OSError, ValueError):
        return {}
    down = obj.get("down") if isinstance(obj, dict) else None
    return dict(down) if isinstance(down, dict) else {}


def _set_down(directory: Path, name: str, why: str | None) -> None:
    down = deliberately_down(directory)
    if why is None:
        down.pop(name, None)
    else:
        down[name] = {"since": time.time(), "why": why}
    p = Path(directory) / FAULTS_JSON
    tmp = p.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"down": down}, indent=2) + "\n")
    tmp.replace(p)


# --------------------------------------------------------------------------- batcher


def _batcher_admin(info: DevnetInfo, method: str) -> None:
    try:
        RpcClient(info.url("batcherRpc"), timeout=30.0).call(method)
    except RpcTransportError as e:
        raise FaultError(f"the batcher's admin RPC at {info.url('batcherRpc')} does not answer "
                         f"({e}); is the devnet up with a batcher?") from None  # fmt: skip
    except RpcError as e:
        raise FaultError(f"{method}: {e.message}") from None


def stop_batcher(info: DevnetInfo) -> None:
    """``admin_stopBatcher``: the batcher stops posting (it keeps running)."""
    _batcher_admin(info, "admin_stopBatcher")


def start_batcher(info: DevnetInfo) -> None:
    """``admin_startBatcher``: the batcher posts again, from the rollup node's safe head."""
    _batcher_admin(info, "admin_startBatcher")


# --------------------------------------------------------------------------- L1 reorg


def _l1_number(l1: RpcClient, tag: str) -> int:
    return hex_to_int(l1.call("eth_getBlockByNumber", tag, False)["number"])


def max_l1_reorg_depth(info: DevnetInfo) -> int:
    """How many L1 blocks can be replaced now: those above L1 ``finalized``."""
    l1 = RpcClient(info.l1_url, timeout=10.0)
    return max(0, _l1_number(l1, "latest") - _l1_number(l1, "finalized"))


def l1_reorg(info: DevnetInfo, depth: int, *, attempts: int = 20) -> dict[str, Any]:
    """Replace the newest ``depth`` L1 blocks (module docstring). Returns ``head``, ``depth``,
    ``first`` (the first replaced number), ``old``/``new`` hashes of ``first`` and ``txs``
    (how many transactions were carried over)."""
    if depth < 1:
        raise FaultError(f"L1 reorg depth must be at least 1, not {depth}")
    l1 = RpcClient(info.l1_url, timeout=20.0)
    for _ in range(attempts):
        head = _l1_number(l1, "latest")
        fin = _l1_number(l1, "finalized")
        if depth > head - fin:
            raise FaultError(f"an L1 reorg of {depth} blocks would replace finalized L1 blocks "
                             f"(head {head}, finalized {fin}: at most {head - fin})")  # fmt: skip
        first = head - depth + 1
        raws: list[str] = []
        for n in range(first, head + 1):
            for h in l1.call("eth_getBlockByNumber", hex(n), False)["transactions"]:
                raws.append(str(l1.call("eth_getRawTransactionByHash", h)))
        old = str(l1.call("eth_getBlockByNumber", hex(first), False)["hash"])
        if _l1_number(l1, "latest") != head:  # a new block was mined meanwhile: again
            continue
        l1.call("anvil_reorg", depth, [[r, 0] for r in raws])
        new = str(l1.call("eth_getBlockByNumber", hex(first), False)["hash"])
        return {"head": head, "depth": depth, "first": first, "old": old, "new": new,
                "txs": len(raws), "finalized": fin}  # fmt: skip
    raise FaultError("the L1 head kept moving while the reorg was prepared; try again")


# --------------------------------------------------------------------------- processes


def _registered(info: DevnetInfo, name: str) -> ManagedProcess:
    p = PidRegistry(info.directory).get(name)
    if p is None:
        raise FaultError(f"no process {name!r} registered in {info.directory} (is the devnet up?)")
    return p


def kill_op_geth(info: DevnetInfo) -> int:
    """SIGKILL the sequencer's op-geth; returns its PID. It stays in the registry (with its
    command line) for :func:`restart_op_geth`."""
    p = _registered(info, OP_GETH)
    if not p.alive():
        raise FaultError("op-geth is not running")
    _set_down(info.directory, OP_GETH, "killed by pyop.devnet.live_faults.kill_op_geth")
    os.kill(p.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while p.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return p.pid


def restart_op_geth(info: DevnetInfo, *, timeout: float = 60.0) -> ManagedProcess:
    """Start op-geth again with the command line it was started with; wait for its RPC."""
    old = _registered(info, OP_GETH)
    if old.alive():
        raise FaultError(f"op-geth is still running (pid {old.pid})")
    reg = PidRegistry(info.directory)
    proc = start_process(OP_GETH, old.argv, log_path=old.log_path, registry=reg)
    try:
        wait_for_rpc(info.l2_rpc_url, timeout=timeout, process=proc)
    except ProcessError as e:
        raise FaultError(f"op-geth did not come back: {e}\n{proc.log_tail(10)}") from None
    _set_down(info.directory, OP_GETH, None)
    return proc


def stop_da_server(info: DevnetInfo) -> int:
    """Stop the alt-DA server (SIGINT); returns its PID."""
    if not info.altda:
        raise FaultError("this devnet has no alt-DA server (initialize it with --altda)")
    p = _registered(info, DA_SERVER)
    _set_down(info.directory, DA_SERVER, "stopped by pyop.devnet.live_faults.stop_da_server")
    p.stop(sigint_timeout=5.0)
    return p.pid


def start_da_server(info: DevnetInfo, *, timeout: float = 20.0) -> ManagedProcess:
    """Start the alt-DA server again with the same command line (its data is on disk)."""
    if not info.altda:
        raise FaultError("this devnet has no alt-DA server (initialize it with --altda)")
    old = _registered(info, DA_SERVER)
    if old.alive():
        raise FaultError(f"the DA server is still running (pid {old.pid})")
    proc = start_process(DA_SERVER, old.argv, log_path=old.log_path,
                         registry=PidRegistry(info.directory))  # fmt: skip
    try:
        wait_for_http(info.url("daServer") + "/health", timeout=timeout, process=proc)
    except ProcessError as e:
        raise FaultError(f"the DA server did not come back: {e}") from None
    _set_down(info.directory, DA_SERVER, None)
    return proc
