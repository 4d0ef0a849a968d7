"""The difftest loop: generate inputs, run pyop and the Go peer on each, compare, report.

Per target: the kept divergence vectors of that target (``spec_vectors/divergences/<target>/``)
and any ``--corpus`` inputs are replayed first, then generated inputs follow (20 % of them
mutations of the ``--corpus`` inputs when one is given, else 2 % mutations of the kept
vectors). Go works on batch ``k+1`` while pyop computes batch ``k`` (the two run on different
cores). A divergence is classified by ``known.py``:

- known (an audit id such as D6): counted and reported; the first one of each id per target is
  written as a vector (``<out>/<target>/<ID>.json``) if none is there yet;
- unexplained (including any pyop crash with an untyped exception, and any Go panic): the run
  stops, the input is shrunk (:mod:`~pyop.tools.difftest.shrink`) and written as
  ``<out>/<target>/new-<hash>.json`` with both results, and the exit status is non-zero.

After the differential phase, the pyop-only phase feeds the target's decoder arbitrary bytes
(no Go side): anything but pyop's typed errors is an unexplained divergence as well.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyop.primitives import PyopError
from pyop.tools.difftest.canon import dumps
from pyop.tools.difftest.gen import Rng
from pyop.tools.difftest.known import Known, classify, load_known
from pyop.tools.difftest.peer import GoPeer
from pyop.tools.difftest.seeds import SPEC, load_seeds
from pyop.tools.difftest.shrink import shrink
from pyop.tools.difftest.target import REGISTRY, Input, Result, Target
from pyop.tools.difftest.targets import __name__ as _targets  # noqa: F401 - registers the targets

DEFAULT_OUT = SPEC / "divergences"


class HarnessError(PyopError):
    """The generator produced an input the Go peer cannot parse (a bug in difftest itself)."""


@dataclass
class Divergence:
    target: str
    index: int
    input: Input
    pyop: Any
    pyop_info: dict[str, Any]
    go: Any
    go_info: dict[str, Any]
    known: str | None
    path: Path | None = None


@dataclass
class Summary:
    target: str
    inputs: int = 0
    divergences: int = 0
    known: Counter[str] = field(default_factory=Counter)
    unexplained: list[Divergence] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    pyop_s: float = 0.0
    go_s: float = 0.0
    go_n: int = 0
    wall_s: float = 0.0
    fuzz_inputs: int = 0
    fuzz_s: float = 0.0
    replayed: int = 0
    discarded: int = 0

    def line(self) -> str:
        """The summary line: ``TARGET: N inputs, D divergences (K known)``."""
        return f"{self.target}: {self.inputs} inputs, {self.divergences} divergences ({sum(self.known.values())} known)"

    def figures(self) -> list[str]:
        def rate(n: int, s: float) -> str:
            return f"{n / s:,.0f}/s" if s > 0 else "-"

        out = [f"  throughput: pyop {rate(self.inputs, self.pyop_s)}, go {rate(self.go_n, self.go_s)} "
               f"(inside op-node handlers), end to end {rate(self.inputs, self.wall_s)}"]  # fmt: skip
        if self.fuzz_inputs:
            out.append(f"  pyop-only byte fuzzing: {self.fuzz_inputs} inputs ({rate(self.fuzz_inputs, self.fuzz_s)}), "
                       f"{sum(1 for d in self.unexplained if d.go is None)} untyped exceptions")  # fmt: skip
        if self.replayed:
            out.append(f"  replayed {self.replayed} kept vectors / corpus inputs first"
                       + (f"; {self.discarded} corpus mutations the Go peer could not parse (or panicked on) were discarded" if self.discarded else ""))  # fmt: skip
        for k, c in sorted(self.known.items()):
            out.append(f"  known {k}: {c}")
        for d in self.unexplained:
            out.append(f"  UNEXPLAINED at input {d.index}: pyop {dumps(d.pyop)[:200]} / go {dumps(d.go)[:200]}"
                       + (f" -> {d.path}" if d.path else ""))  # fmt: skip
        return out


def run_pyop(t: Target, inp: Input) -> Result:
    """pyop's result; an exception that is not one of pyop's typed errors becomes a crash."""
    try:
        return t.pyop(inp)
    except Exception as e:
        return {"crash": type(e).__name__}, {"msg": str(e)[:2000], "traceback": traceback.format_exc()[-4000:]}


def go_result(resp: dict[str, Any]) -> Result:
    if "panic" in resp:
        return {"panic": True}, {"msg": resp["panic"], "stack": resp.get("stack", "")[-4000:]}
    if "bad_input" in resp:
        return {"bad_input": True}, {"msg": resp["bad_input"]}
    return resp["v"], resp.get("info") or {}


def _shape(v: Any) -> Any:
    if isinstance(v, dict):
        return sorted((k, v[k] if k in ("err", "crash", "panic", "encode", "validity") else _shape(v[k])) for k in v)
    if isinstance(v, list):
        return ["list"]
    return type(v).__name__


def load_inputs(directory: Path, target: str) -> list[Input]:
    """Inputs kept for ``target`` in ``directory``: vector files (``{"target", "input"}``) of
    that target, or bare input objects, one per ``*.json`` file (subdirectories too)."""
    out: list[Input] = []
    if not directory.is_dir():
        return out
    for p in sorted(directory.rglob("*.json")):
        if p.name == "KNOWN.json":
            continue
        try:
            obj = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(obj, dict) and "input" in obj and "target" in obj:
            if obj["target"] == target:
                out.append(obj["input"])
        elif isinstance(obj, dict) and p.parent.name == target:
            out.append(obj)
    return out


def _mutate_json(rng: Rng, inp: Input) -> Input:
    """A corpus input with one hex field or integer edited (generic, any target)."""
    from pyop.tools.difftest.mutate import mutate

    out: dict[str, Any] = json.loads(json.dumps(inp))
    spots: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            if k in ("cfg", "l1ChainConfig"):
                # Configs stay whole: e.g. a blob update fraction of 1 makes the blob fee's
                # fake_exponential loop ~excessBlobGas times (both sides would hang).
                continue
            if isinstance(v, dict | list):
                walk(v)
            elif (isinstance(v, str) and v.startswith("0x")) or (isinstance(v, int) and not isinstance(v, bool)):
                spots.append((node, k))

    walk(out)
    if spots:
        node, k = rng.pick(spots)
        v = node[k]
        if isinstance(v, str) and len(v) % 2 == 0:
            raw = bytes.fromhex(v[2:])
            if len(raw) in (8, 16, 20, 32):  # fixed-size fields (hashes, addresses) keep their size
                from pyop.tools.difftest.mutate import bit_flip

                node[k] = "0x" + bit_flip(rng, raw).hex()
            else:
                node[k] = "0x" + mutate(rng, raw).hex()
        elif isinstance(v, str):  # a hex quantity (an L1 base fee)
            node[k] = hex(max(0, rng.pick([0, 1, int(v, 16) + 1, int(v, 16) - 1])))
        else:
            node[k] = max(0, rng.pick([0, 1, v + 1, v - 1, v * 2, v // 2]))
    return out


def write_vector(out_dir: Path, d: Divergence, extra: dict[str, Any]) -> Path:
    name = d.known or "new-" + hashlib.sha256(dumps(d.input).encode()).hexdigest()[:10]
    path = out_dir / d.target / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "target": d.target,
        "known": d.known,
        "input": d.input,
        "pyop": {"v": d.pyop, "info": d.pyop_info},
        "go": {"v": d.go, "info": d.go_info},
        **extra,
    }
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return path


@dataclass
class RunOptions:
    n: int = 2000
    seed: int = 1
    corpus: Path | None = None
    minimize: bool = False
    out_dir: Path = DEFAULT_OUT
    write: bool = True
    batch: int = 256
    pyop_fuzz: int | None = None
    shrink_budget: int = 3000
    replay_kept: bool = True
    progress: Callable[[str], None] | None = None


def _chunks(n: int, size: int) -> Iterator[int]:
    while n > 0:
        k = min(size, n)
        yield k
        n -= k


def run_target(name: str, opts: RunOptions) -> Summary:
    """Run one target (see the module docstring)."""
    # Drops are results here, not news: keep the pipeline's per-drop log lines quiet.
    logging.getLogger("pyop").setLevel(logging.ERROR)
    cls = REGISTRY[name]
    seeds = load_seeds()
    rng = Rng(opts.seed)
    t = cls(Rng(opts.seed ^ 0x5EED), seeds)
    known = load_known()
    s = Summary(name)
    corpus: list[Input] = []
    if opts.replay_kept:
        corpus += load_inputs(opts.out_dir, name)
        if opts.out_dir != DEFAULT_OUT:
            corpus += load_inputs(DEFAULT_OUT, name)
    if opts.corpus is not None:
        corpus += load_inputs(opts.corpus, name)
    s.replayed = min(len(corpus), opts.n)
    written_ids: set[str] = set()
    t_start = time.perf_counter()
    with GoPeer(name) as peer:

        def one(inp: Input) -> tuple[Result, Result]:
            (g,) = peer.run([inp])
            return run_pyop(t, inp), go_result(g)

        def gen_batch(k: int, start: int) -> list[Input]:
            out = []
            for i in range(start, start + k):
                if i < len(corpus):
                    out.append(corpus[i])
                elif corpus and rng.chance(mutate_share):
                    m = _mutate_json(rng, rng.pick(corpus))
                    loose.add(id(m))
                    out.append(m)
                else:
                    out.append(t.generate(rng))
            return out

        # A --corpus is there to be explored (20 % of inputs mutate it); the kept vectors alone
        # get 2 % (they are few, mostly known divergences, and would crowd out the generators).
        mutate_share = 0.2 if opts.corpus is not None else 0.02
        # Corpus mutations edit fields without knowing their types: one the Go peer cannot
        # even parse (a hash of the wrong size, a uint16 that overflows) is discarded.
        loose: set[int] = set()
        index = 0
        pending: tuple[list[Input], list[dict[str, Any]], int] | None = None
        sizes = list(_chunks(opts.n, opts.batch))
        for bi in range(len(sizes) + 1):
            nxt: list[Input] | None = None
            if bi < len(sizes):
                nxt = gen_batch(sizes[bi], index)
                peer.send(nxt)  # Go works on it while pyop checks the previous batch
            found = _check_batch(t, s, pending, known, loose) if pending is not None else []
            pending = None
            if nxt is not None:
                pending = (nxt, peer.recv(len(nxt)), index)
                index += len(nxt)
            # Nothing is in flight now: shrinking may use the peer.
            if _handle(t, s, found, known, opts, one, written_ids):
                break
            if opts.progress and bi % 40 == 0 and bi:
                opts.progress(f"{name}: {s.inputs} inputs, {s.divergences} divergences")
        n_go, go_s = peer.stats()
        s.go_n, s.go_s = n_go, go_s
    s.wall_s = time.perf_counter() - t_start
    if cls.has_pyop_fuzz and not s.unexplained:
        _pyop_fuzz(t, s, rng, opts)
    return s


def _check_batch(t: Target, s: Summary, pending: tuple[list[Input], list[dict[str, Any]], int],
                 known: dict[str, Known], loose: set[int]) -> list[Divergence]:  # fmt: skip
    """Compare one batch; return its divergences (classified, not yet written)."""
    inputs, gos, base = pending
    found = []
    for j, (inp, g) in enumerate(zip(inputs, gos, strict=True)):
        go_v, go_info = go_result(g)
        if id(inp) in loose and isinstance(go_v, dict) and ("bad_input" in go_v or "panic" in go_v):
            # e.g. a header time moved before the L1's Cancun while it keeps excessBlobGas:
            # go-ethereum panics on such an impossible block; not a finding.
            s.discarded += 1
            continue
        if isinstance(go_v, dict) and "bad_input" in go_v:
            raise HarnessError(f"{t.name}: Go peer could not read input {base + j}: {go_info['msg']}\n{dumps(inp)[:2000]}")
        t0 = time.perf_counter()
        py_v, py_info = run_pyop(t, inp)
        s.pyop_s += time.perf_counter() - t0
        s.inputs += 1
        if dumps(py_v) == dumps(go_v):
            continue
        s.divergences += 1
        kid = None
        if not (isinstance(py_v, dict) and "crash" in py_v) and not (isinstance(go_v, dict) and "panic" in go_v):
            kid = classify(known, t.name, inp, py_v, py_info, go_v, go_info)
        found.append(Divergence(t.name, base + j, inp, py_v, py_info, go_v, go_info, kid))
        if kid is None:
            break  # stop at the first unexplained one
    return found


def _handle(t: Target, s: Summary, found: list[Divergence], known: dict[str, Known], opts: RunOptions,
            one: Callable[[Input], tuple[Result, Result]], written_ids: set[str]) -> bool:  # fmt: skip
    """Count, shrink and write the divergences of a batch; True to stop the run."""
    for d in found:
        kid = d.known
        if kid is not None:
            s.known[kid] += 1
            target_file = opts.out_dir / t.name / f"{kid}.json"
            if opts.write and kid not in written_ids and not target_file.exists():
                written_ids.add(kid)
                parts = [known[k] for k in kid.split("+")]  # "D11+N4": two at once
                extra: dict[str, Any] = {"reason": " | ".join(k.reason for k in parts),
                                         "status": " | ".join(k.status for k in parts),
                                         "found": {"seed": opts.seed, "index": d.index}}  # fmt: skip
                if opts.minimize:
                    d.input, d.pyop, d.pyop_info, d.go, d.go_info, used = _minimize(d, one, known, opts)
                    extra["shrink_evaluations"] = used
                d.path = write_vector(opts.out_dir, d, extra)
                s.written.append(d.path)
            continue
        # Unexplained: shrink, write, stop.
        extra2: dict[str, Any] = {"found": {"seed": opts.seed, "index": d.index}}
        d.input, d.pyop, d.pyop_info, d.go, d.go_info, used = _minimize(d, one, known, opts)
        extra2["shrink_evaluations"] = used
        if opts.write:
            d.path = write_vector(opts.out_dir, d, extra2)
            s.written.append(d.path)
        s.unexplained.append(d)
        return True
    return False


def _minimize(d: Divergence, one: Callable[[Input], tuple[Result, Result]], known: dict[str, Known],
              opts: RunOptions) -> tuple[Input, Any, dict[str, Any], Any, dict[str, Any], int]:  # fmt: skip
    sig = (d.known, dumps(_shape(d.pyop)), dumps(_shape(d.go)))
    last: dict[str, Any] = {}

    def same(inp: Input) -> bool:
        (pv, pi), (gv, gi) = one(inp)
        if isinstance(gv, dict) and "bad_input" in gv:
            return False
        if dumps(pv) == dumps(gv):
            return False
        kid = None
        if not (isinstance(pv, dict) and "crash" in pv) and not (isinstance(gv, dict) and "panic" in gv):
            kid = classify(known, d.target, inp, pv, pi, gv, gi)
        ok = (kid, dumps(_shape(pv)), dumps(_shape(gv))) == sig
        if ok:
            last.update(v=(pv, pi, gv, gi))
        return ok

    small, used = shrink(d.input, same, opts.shrink_budget)
    if "v" in last and small is not d.input:
        pv, pi, gv, gi = last["v"]
        (pv, pi), (gv, gi) = one(small)
        return small, pv, pi, gv, gi, used
    return d.input, d.pyop, d.pyop_info, d.go, d.go_info, used


def _pyop_fuzz(t: Target, s: Summary, rng: Rng, opts: RunOptions) -> None:
    n = opts.pyop_fuzz if opts.pyop_fuzz is not None else max(100, opts.n // 4)
    t0 = time.perf_counter()
    for i in range(n):
        desc, call = t.fuzz_pyop(rng)
        try:
            call()
        except PyopError:
            pass
        except Exception as e:
            d = Divergence(t.name, i, {"pyop_only": desc}, {"crash": type(e).__name__},
                           {"msg": str(e)[:2000], "traceback": traceback.format_exc()[-4000:]}, None, {}, None)  # fmt: skip
            s.divergences += 1
            if opts.write:
                d.path = write_vector(opts.out_dir, d, {"found": {"seed": opts.seed, "pyop_fuzz_index": i}})
                s.written.append(d.path)
            s.unexplained.append(d)
            break
        s.fuzz_inputs += 1
    s.fuzz_s = time.perf_counter() - t0
