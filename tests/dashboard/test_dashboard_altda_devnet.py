"""The "DA server down" / "DA server up" scenarios on a real alt-DA devnet, in a real browser.

``pyop devnet run DIR --altda`` (what ``make run`` runs, with pyop's DA server and generic
commitments: the pyop batcher puts each frame on the DA server and posts the commitment, the pyop
node fetches the input back). Clicking "DA server down" stops the server: the page must narrate
the safe head waiting while unsafe grows (an input that cannot be fetched is a temporary error,
not a drop), and the chain must show it (safe stays, unsafe moves). "DA server up" starts it
again and safe must move. Ctrl-C (SIGINT to the run's process group) then stops everything.
A separate devnet from ``test_dashboard_devnet`` because alt-DA changes every batcher tx and L2
finality; kept short (about a minute of chain time).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pyop.devnet.process import PidRegistry, free_port, pid_alive
from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import StackError, load_devnet, require_peers
from tests.dashboard.browser import head, require_browser, shot, with_page
from tests.dashboard.test_dashboard_devnet import PYOP, _Lines, click, wait_step

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def altda_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_browser()
    try:
        require_peers(["geth"])
    except StackError as e:
        pytest.skip(f"op-geth is not built, so no devnet: {e}")
    d = tmp_path_factory.mktemp("dash-altda") / "devnet"
    proc = subprocess.Popen([*PYOP, "devnet", "run", str(d), "--altda", "--seq-window-size", "30",
                             "--dashboard.port", str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    out = _Lines(proc)
    pids: list[int] = []
    stopped = False
    try:
        m = out.wait_for(r"^dashboard (http://127\.0\.0\.1:\d+/)$", 300)
        pids = [p.pid for p in PidRegistry(d).entries()]
        assert "da-server" in {p.name for p in PidRegistry(d).entries()}
        yield {"dir": d, "url": m.group(1), "info": load_devnet(d)}
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(120)
        stopped = True
        assert PidRegistry(d).entries() == []
        assert not [p for p in pids if pid_alive(p)], "processes left running after Ctrl-C"
    finally:
        if not stopped:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(120)
            if (d / "pids.json").exists():
                subprocess.run([*PYOP, "devnet", "down", str(d)], capture_output=True, timeout=120)


def test_da_server_down_stalls_safe_then_up_resumes(altda_devnet: dict[str, Any]) -> None:
    info = altda_devnet["info"]
    rollup = RpcClient(info.rollup_rpc_url)

    def sync() -> tuple[int, int]:
        st = rollup.call("optimism_syncStatus")
        return int(st["unsafe_l2"]["number"]), int(st["safe_l2"]["number"])

    async def body(page: Any) -> None:
        await page.goto(altda_devnet["url"])
        deadline = time.monotonic() + 120
        while (await head(page, "safe") or 0) < 2:
            assert time.monotonic() < deadline, "no safe head on the alt-DA devnet"
            await page.wait_for_timeout(500)
        await click(page, "da-down")
        await wait_step(page, "da-down", "stopped", 30)
        text = await wait_step(page, "da-down", "safe-stalled", 90)
        assert "Safe head waits" in text
        u0, s0 = sync()
        await page.wait_for_timeout(8000)
        u1, s1 = sync()
        assert u1 > u0 and s1 <= s0 + 1, (u0, s0, u1, s1)  # the node's view: safe waits
        await shot(page, "devnet-altda-da-down")
        await click(page, "da-up")
        await wait_step(page, "da-up", "started", 30)
        await wait_step(page, "da-up", "safe-resumed", 120)
        assert sync()[1] >= s1 + 2

    with_page(body)
