"""Faults to inject into a running devnet (the differential devnet's scenarios): stop and
restart a process by its registered name, kill op-geth hard (SIGKILL: it loses the blocks it had
not flushed) and restart it on the same datadir, and an L1 reorg deeper than a node's safe head's
L1 origin with ``anvil_reorg``.

Every process is signalled by its own PID (:mod:`pyop.devnet.process`), never by name.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from pyop.devnet.geth import OpGethProcess, start_op_geth
from pyop.devnet.process import ManagedProcess, PidRegistry, pid_alive, start_process
from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import HOST, OP_GETH_EXTRA_FLAGS, StackError, require_peers
from pyop.primitives import hex_to_int


def l1_number(l1_url: str, tag: str = "latest") -> int:
    return hex_to_int(RpcClient(l1_url, timeout=10.0).call("eth_getBlockByNumber", tag, False)["number"])


def stop_registered(registry: PidRegistry, name: str, *, sigint_timeout: float = 20.0) -> ManagedProcess:
    """Stop the registered process ``name`` (SIGINT first) and return its record (to restart
    it with :func:`restart_registered`)."""
    proc = registry.get(name)
    if proc is None:
        raise StackError(f"no process {name!r} is registered in {registry.path}")
    proc.stop(sigint_timeout=sigint_timeout)
    return proc


def restart_registered(registry: PidRegistry, proc: ManagedProcess, *, cwd: Path | None = None) -> ManagedProcess:
    """Start ``proc``'s command line again under the same name and log file."""
    registry.remove(proc.name)
    return start_process(proc.name, proc.argv, log_path=proc.log_path, cwd=cwd, registry=registry)


def kill_hard(proc: ManagedProcess, *, timeout: float = 10.0) -> None:
    """SIGKILL by PID (no clean shutdown: op-geth loses what it had not written to disk)."""
    if not proc.alive():
        return
    os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while pid_alive(proc.pid):
        if proc.popen is not None:
            proc.popen.poll()
        if time.monotonic() > deadline:
            raise StackError(f"{proc.name} (pid {proc.pid}) survived SIGKILL")
        time.sleep(0.05)


def restart_op_geth(registry: PidRegistry, geth: OpGethProcess, network_id: int) -> OpGethProcess:
    """Start op-geth again on the same datadir and ports (after a stop or a kill)."""
    registry.remove(geth.process.name)
    bins = require_peers(["geth"])
    return start_op_geth(
        bins["geth"], geth.datadir, http_port=geth.http_port, authrpc_port=geth.authrpc_port,
        jwt_path=geth.jwt_path, log_path=geth.log_path, network_id=network_id, host=HOST,
        registry=registry, name=geth.process.name, extra_flags=OP_GETH_EXTRA_FLAGS,
    )  # fmt: skip


def reorg_l1_below_safe_origin(l1_url: str, rollup_url: str, *, margin: int = 1, timeout: float = 60.0) -> dict[str, Any]:
    """An L1 reorg replacing the L1 blocks from ``margin`` below the L1 origin of ``rollup_url``'s
    safe head up to the L1 head, but none at or below the L1 ``finalized`` block (a reorg of
    finalized L1 data is not a real-world case). Waits (up to ``timeout``) for a moment where
    that fits.

    ``anvil_reorg [depth, [[rawTx, 0], ...]]`` (positional params): anvil drops the transactions
    of the replaced blocks, where a real L1 returns them to the mempool; without them the
    batcher's later nonces are stuck behind a gap. So they are re-included, in their order, in the
    first new block: the batches are then in a different L1 block, and those for L2 blocks whose
    L1 origin was replaced no longer apply. Returns the numbers involved."""
    l1 = RpcClient(l1_url, timeout=10.0)
    rollup = RpcClient(rollup_url, timeout=10.0)
    deadline = time.monotonic() + timeout
    while True:
        st = rollup.call("optimism_syncStatus")
        safe_origin = int(st["safe_l2"]["l1origin"]["number"])
        fin = l1_number(l1_url, "finalized")
        head = l1_number(l1_url)
        depth = head - safe_origin + 1 + margin
        if 0 < depth <= head - fin and safe_origin > 0:
            raws: list[str] = []
            for n in range(head - depth + 1, head + 1):
                for h in l1.call("eth_getBlockByNumber", hex(n), False)["transactions"]:
                    raws.append(l1.call("eth_getRawTransactionByHash", h))
            before = l1.call("eth_getBlockByNumber", hex(safe_origin), False)["hash"]
            if l1_number(l1_url) == head:  # no new L1 block meanwhile
                l1.call("anvil_reorg", depth, [[r, 0] for r in raws])
                after = l1.call("eth_getBlockByNumber", hex(safe_origin), False)["hash"]
                if before == after:
                    raise StackError("anvil_reorg did not replace the safe head's L1 origin")
                return {"head": head, "depth": depth, "safe_origin": safe_origin, "l1_finalized": fin,
                        "safe_l2": int(st["safe_l2"]["number"]), "txs": len(raws)}  # fmt: skip
        if time.monotonic() > deadline:
            raise StackError(f"no room for an L1 reorg below the safe origin {safe_origin}: head {head}, "
                             f"finalized {fin}")  # fmt: skip
        time.sleep(0.5)


__all__ = [
    "kill_hard",
    "l1_number",
    "reorg_l1_below_safe_origin",
    "restart_op_geth",
    "restart_registered",
    "stop_registered",
]
