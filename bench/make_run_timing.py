"""Time ``make run`` in a checkout: from the command to the dashboard URL line, and to the first
safe L2 head the dashboard serves (``/api/snapshot``, the numbers the page shows under
``data-head``); then Ctrl-C (SIGINT to make's process group, as a terminal sends it) and check
that every process the run registered is gone and ``git status`` is clean.

Cold: a fresh ``git clone`` (no ``.venv``, no ``node_modules``: pip and npm install from the
network). Warm: the same checkout again. op-geth comes from ``~/.cache/pyop/peers`` either way
(building it cold takes minutes; ``make geth`` reports it).

    .venv/bin/python -m bench.make_run_timing CHECKOUT [--runs 2]

Run it under ``heavy`` (it starts a devnet).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any


def _procs(devnet: Path) -> dict[str, int]:
    f = devnet / "pids.json"
    if not f.exists():
        return {}
    return {e["name"]: int(e["pid"]) for e in json.loads(f.read_text()).get("processes", [])}


def _pids(devnet: Path) -> list[int]:
    return list(_procs(devnet).values())


def _cpu_s(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_shares(devnet: Path, seconds: float) -> dict[str, float]:
    """CPU % of one core of each devnet process over ``seconds`` (the dashboard's collector
    beside the node, batcher, op-geth and anvil it reads)."""
    procs = _procs(devnet)
    a = {n: _cpu_s(p) for n, p in procs.items()}
    time.sleep(seconds)
    return {n: round(100 * (_cpu_s(p) - a[n]) / seconds, 1) for n, p in procs.items()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def one_run(checkout: Path, timeout: float = 1800) -> dict[str, Any]:
    t0 = time.monotonic()
    proc = subprocess.Popen(["make", "run"], cwd=checkout, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic() - t0, line.rstrip("\n")))

    threading.Thread(target=read, daemon=True).start()
    res: dict[str, Any] = {}
    url = None
    pids: list[int] = []
    try:
        while url is None:
            for t, line in lines:
                m = re.match(r"^dashboard (http://127\.0\.0\.1:\d+/)$", line)
                if m:
                    url, res["dashboardUrlS"] = m.group(1), round(t, 1)
            if proc.poll() is not None or time.monotonic() - t0 > timeout:
                raise RuntimeError("make run ended or timed out:\n" + "\n".join(x for _, x in lines))
            time.sleep(0.2)
        while True:
            with urllib.request.urlopen(url + "api/snapshot", timeout=10) as r:
                safe = ((json.load(r)["heads"].get("l2") or {}).get("safe") or {}).get("number", 0)
            if safe > 0:  # past genesis: the first block derived from a batch on L1
                res["firstSafeS"], res["firstSafe"] = round(time.monotonic() - t0, 1), safe
                break
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("no safe head")
            time.sleep(0.5)
        pids = _pids(checkout / "out" / "devnet")
        res["processes"] = len(pids)
        res["cpuPercent30s"] = cpu_shares(checkout / "out" / "devnet", 30)
    finally:
        t1 = time.monotonic()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(180)
        res["stopS"] = round(time.monotonic() - t1, 1)
    res["leftRunning"] = [p for p in pids if _alive(p)]
    res["leftRegistered"] = len(_pids(checkout / "out" / "devnet"))
    res["exit"] = proc.returncode
    st = subprocess.run(["git", "status", "--porcelain"], cwd=checkout, capture_output=True, text=True)
    res["gitStatus"] = st.stdout.strip() or "clean"
    res["progress"] = [f"{t:6.1f}s {x}" for t, x in lines if x.startswith(("[make run]", "[pyop run] ", "dashboard"))
                       and not x.startswith("[pyop run]     ")][:20]  # fmt: skip
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("checkout", type=Path)
    p.add_argument("--runs", type=int, default=2)
    args = p.parse_args()
    for i in range(args.runs):
        r = one_run(args.checkout.resolve())
        progress = r.pop("progress")
        print(f"run {i + 1}: {json.dumps(r)}")
        for line in progress:
            print("   ", line)


if __name__ == "__main__":
    main()
