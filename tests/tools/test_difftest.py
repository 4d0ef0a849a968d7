"""`pyop difftest`: every target runs a short fixed-seed budget against the Go op-node's own
functions (the Go peer interop/go/difftest, built by `make deps`) with no unexplained
divergence; kept divergence vectors replay as recorded; the harness itself (known-divergence
table, shrinker, crash handling, CLI) does what it says.

Known divergences (spec_vectors/divergences/KNOWN.json: the audit's D-ids with a fix in progress
on another branch, and the N-ids this fuzzer found) are reported, not failures; when a fix lands
on main the lead removes the entry and its vectors, and these tests then require agreement.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from pyop.tools.difftest.canon import b, dumps
from pyop.tools.difftest.known import KNOWN_FILE, MATCHERS, classify, load_known
from pyop.tools.difftest.peer import GoPeer, find_go_peer
from pyop.tools.difftest.runner import DEFAULT_OUT, RunOptions, go_result, run_pyop, run_target
from pyop.tools.difftest.shrink import shrink
from pyop.tools.difftest.target import REGISTRY

needs_go = pytest.mark.skipif(
    find_go_peer() is None,
    reason="Go difftest peer not built (run `make deps` or `scripts/build-peers.sh difftest`)",
)

TARGETS = sorted(REGISTRY)


def test_ten_targets_registered() -> None:
    assert TARGETS == ["attributes", "batch", "batch-stage", "blob", "channel", "check-batch",
                       "frames", "l1-info", "span-derive", "system-config"]  # fmt: skip


@needs_go
def test_go_peer_lists_the_same_targets() -> None:
    peer = find_go_peer()
    assert peer is not None
    out = subprocess.run([str(peer), "--list"], capture_output=True, text=True, check=True).stdout.split()
    assert out == TARGETS


@needs_go
@pytest.mark.parametrize("name", TARGETS)
def test_target_short_budget(name: str, tmp_path: Path) -> None:
    """~2,000 inputs per target, fixed seed: no unexplained divergence (pyop crash, Go panic or
    an unlisted difference), and the pyop-only byte fuzzing raises nothing but typed errors."""
    s = run_target(name, RunOptions(n=2000, seed=20260601, out_dir=tmp_path, pyop_fuzz=500))
    detail = "\n".join(s.figures())
    assert not s.unexplained, f"{s.line()}\n{detail}\nvectors: {[str(p) for p in s.written]}"
    assert s.inputs + s.discarded == 2000, s.line()
    assert s.go_n >= 2000
    if REGISTRY[name].has_pyop_fuzz:
        assert s.fuzz_inputs == 500


def _kept_vectors() -> list[Path]:
    return sorted(p for p in DEFAULT_OUT.rglob("*.json") if p.name != "KNOWN.json")


def test_kept_vectors_exist() -> None:
    assert len(_kept_vectors()) >= 1  # a loader that finds none fails


@needs_go
@pytest.mark.parametrize("path", _kept_vectors(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_kept_vector_replays(path: Path) -> None:
    """A kept vector still diverges as its known id says, or the two sides agree (the fix is
    merged: a warning asks to prune the id and its vectors)."""
    doc = json.loads(path.read_text())
    name = doc["target"]
    t = REGISTRY[name](__import__("pyop.tools.difftest.gen", fromlist=["Rng"]).Rng(1), _no_seeds())
    with GoPeer(name) as peer:
        (g,) = peer.run([doc["input"]])
    gv, gi = go_result(g)
    pv, pi = run_pyop(t, doc["input"])
    known = load_known()
    if dumps(pv) == dumps(gv):
        # Fixed (on main): fine; the entry and this vector are now stale and can be pruned.
        if doc["known"] in known:
            warnings.warn(f"{path}: pyop and op-node agree now; prune {doc['known']} from KNOWN.json "
                          "and its vectors", stacklevel=1)  # fmt: skip
        return
    kid = classify(known, name, doc["input"], pv, pi, gv, gi)
    assert kid is not None and kid == doc["known"], f"{path}: pyop {dumps(pv)[:300]} go {dumps(gv)[:300]}"


def _no_seeds() -> Any:
    from pyop.tools.difftest.seeds import Seeds

    return Seeds()


def test_known_file_and_matchers_agree() -> None:
    raw = json.loads(KNOWN_FILE.read_text())
    ids = {k for k in raw if not k.startswith("_")}
    assert ids == set(MATCHERS), f"ids without a matcher: {ids - set(MATCHERS)}; matchers without an entry: {set(MATCHERS) - ids}"
    for k, v in raw.items():
        if k.startswith("_"):
            continue
        assert v["reason"] and v["status"], k
        assert set(v["targets"]) <= set(REGISTRY), k


def test_shrink_finds_the_minimal_input() -> None:
    """Delta debugging keeps only what the predicate needs: one 0x42 byte and key 'n' > 2."""
    inp = {"data": "0x" + (bytes(range(30)) + b"\x42" + bytes(range(50, 90))).hex(), "n": 1000,
           "list": [1, 2, 3, 4, 5]}  # fmt: skip

    def same(x: dict[str, Any]) -> bool:
        return b"\x42" in bytes.fromhex(x["data"][2:]) and x["n"] > 2

    small, used = shrink(inp, same, budget=5000)
    assert small["data"] == "0x42"
    assert small["n"] == 3
    assert small["list"] == []
    assert 0 < used <= 5000


def test_canonical_bytes_rule() -> None:
    assert b(b"\x01\x02") == "0x0102"
    long = bytes(300)
    assert b(long).startswith("#300:") and len(b(long)) == len("#300:") + 64


@needs_go
def test_pyop_crash_is_an_unexplained_divergence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An untyped exception in pyop's side is never a result: the run stops, non-zero, and the
    shrunk input is written with the traceback."""
    base = REGISTRY["frames"]

    class Crashing(base):  # type: ignore[misc, valid-type]
        def pyop(self, inp: dict[str, Any]) -> Any:
            if len(inp["data"]) > 20:
                raise IndexError("boom")
            return super().pyop(inp)

    monkeypatch.setitem(REGISTRY, "frames", Crashing)
    s = run_target("frames", RunOptions(n=300, seed=3, out_dir=tmp_path, pyop_fuzz=0, shrink_budget=400, replay_kept=False))
    assert len(s.unexplained) == 1
    d = s.unexplained[0]
    assert d.pyop == {"crash": "IndexError"}
    assert d.path is not None and d.path.is_file()
    assert len(d.input["data"]) <= 24  # shrunk to just over the trigger
    assert "IndexError" in json.loads(d.path.read_text())["pyop"]["info"]["traceback"]


def test_cli_list_one_target_a_line() -> None:
    out = subprocess.run([sys.executable, "-m", "pyop.cli", "difftest", "--list"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    lines = out.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == TARGETS


@needs_go
def test_cli_summary_line_and_exit_status(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "pyop.cli", "difftest", "frames", "--n", "300", "--out", str(tmp_path)],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "frames: 300 inputs, 0 divergences (0 known)"
