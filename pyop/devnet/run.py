"""``pyop devnet run DIR`` (what ``make run`` does): a fresh devnet with the dashboard, in one
command, with a progress line per step; Ctrl-C (or SIGTERM) stops every process it started,
anvil included, and nothing is left running.

Steps: stop whatever an earlier run left registered in ``DIR`` and re-create ``DIR`` (only a
devnet directory or an empty one), ``init`` (anvil with ``--l1-block-time``, L1 contracts, L2
genesis with ``--seq-window-size``), ``up`` (op-geth, pyop node as sequencer, pyop batcher,
pyop proposer), the dashboard; then wait in the foreground
(:func:`pyop.devnet.stack.run_foreground`) and finally ``down``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from pyop.devnet.dashboard_process import start_dashboard
from pyop.devnet.process import PidRegistry
from pyop.devnet.roles import resolve_roles
from pyop.devnet.stack import (
    DEVNET_JSON,
    StackError,
    init_devnet,
    run_foreground,
    start_stack,
    stop_devnet,
)

__all__ = ["run_devnet"]


def _say(msg: str) -> None:
    print(f"[pyop run] {msg}", flush=True)


def _fresh(directory: Path) -> None:
    if directory.exists():
        if not (directory / DEVNET_JSON).exists() and any(directory.iterdir()):
            raise StackError(f"{directory} exists and is not a devnet directory; give another DIR")
        left = PidRegistry(directory).entries()
        if left:
            _say(f"stopping {len(left)} processes an earlier run left in {directory}")
            stop_devnet(directory)
        shutil.rmtree(directory)


def run_devnet(directory: Path, *, stack: str = "pyop", l1_block_time: int = 4,
               seq_window_size: int = 10, da: str = "calldata", altda: bool = False,
               dashboard_port: int | None = None) -> int:  # fmt: skip
    """See the module docstring. Returns the exit status."""
    directory = Path(directory).resolve()
    t0 = time.monotonic()
    _fresh(directory)
    roles = resolve_roles(stack)
    try:
        _say(f"1/3 init: anvil L1 ({l1_block_time} s blocks), OP contracts, L2 genesis "
             f"(sequencing window {seq_window_size} L1 blocks) in {directory}")  # fmt: skip
        info = init_devnet(directory, l1_block_time=l1_block_time, seq_window_size=seq_window_size,
                           altda=altda, log=lambda m: _say("    " + m))  # fmt: skip
        _say(f"2/3 up: op-geth, {roles.kind('node')} node (sequencer), {roles.kind('batcher')} "
             f"batcher, {roles.kind('proposer')} proposer")  # fmt: skip
        st = start_stack(info, stack=stack, da=da, roles=roles, log=lambda m: _say("    " + m))
        _say("3/3 dashboard")
        proc, url = start_dashboard(info, port=dashboard_port, registry=st.registry)
        st.processes[proc.name] = proc
    except BaseException:
        stop_devnet(directory)
        raise
    _say(f"ready in {time.monotonic() - t0:.1f}s")
    print(f"dashboard {url}", flush=True)
    _say(f"open {url} in a browser; Ctrl-C stops everything")
    try:
        status = run_foreground(st, log=lambda m: _say(m), anvil_note=False)
    finally:
        left = stop_devnet(directory)
        if left:
            _say("stopped " + ", ".join(f"{n} ({how})" for n, how in left.items()))
    return status
