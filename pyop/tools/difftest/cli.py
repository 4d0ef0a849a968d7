"""``pyop difftest``: the command-line face of the runner (see :mod:`pyop.tools.difftest`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyop.primitives import PyopError
from pyop.tools.difftest.runner import DEFAULT_OUT, RunOptions, run_target
from pyop.tools.difftest.target import REGISTRY


def target_names(arg: str) -> list[str]:
    """``all``, one name, or a comma-separated list."""
    names = sorted(REGISTRY) if arg == "all" else [x for x in arg.split(",") if x]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise PyopError(f"unknown target(s) {', '.join(unknown)}; see `pyop difftest --list`")
    return names


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", nargs="?", metavar="TARGET", help="a target (see --list), several comma-separated, or 'all'")
    p.add_argument("--list", action="store_true", help="print the targets, one a line, name first")
    p.add_argument("--n", type=int, default=2000, metavar="N", help="inputs per target (default 2000)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    p.add_argument("--corpus", type=Path, metavar="DIR", help="extra inputs to replay and mutate")
    p.add_argument("--minimize", action="store_true",
                   help="also shrink the first known divergence of each id (unexplained ones are always shrunk)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help=f"where divergence vectors go (default {DEFAULT_OUT})")
    p.add_argument("--no-write", action="store_true", help="do not write divergence vectors")
    p.add_argument("--pyop-fuzz", type=int, metavar="M", help="pyop-only byte fuzzing inputs (default N/4)")
    p.add_argument("--batch", type=int, default=256, metavar="B", help="inputs per Go round trip (default 256)")


def main(args: argparse.Namespace) -> int:
    if args.list:
        for name in sorted(REGISTRY):
            print(f"{name:<14} {REGISTRY[name].summary}")
        return 0
    if not args.target:
        raise PyopError("give a TARGET (or --list)")
    status = 0
    for name in target_names(args.target):
        opts = RunOptions(n=args.n, seed=args.seed, corpus=args.corpus, minimize=args.minimize,
                          out_dir=args.out, write=not args.no_write, batch=args.batch,
                          pyop_fuzz=args.pyop_fuzz,
                          progress=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
        s = run_target(name, opts)
        print(s.line(), flush=True)
        for line in s.figures():
            print(line, flush=True)
        for p in s.written:
            print(f"  wrote {p}", flush=True)
        if s.unexplained:
            status = 1
    return status
