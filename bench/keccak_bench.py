"""keccak256 backends, side by side in one run: why pyop selects eth-hash's pysha3 backend.

Run: ``.venv/bin/python -m bench.keccak_bench [--quick]`` (see bench/README.md).

eth-hash's ``auto`` backend takes pycryptodome when it is installed; pyop installs both
pycryptodome and safe-pysha3 (eth-hash's ``pysha3`` extra, a C extension with cp311 manylinux
wheels on PyPI) and selects ``pysha3`` in ``pyop/__init__.py`` when it is importable, keeping
pycryptodome as the fallback. Figures (same process, same inputs, alternating):

- one ``keccak`` call on 32 and 200 bytes through ``eth_hash.auto.keccak`` with each backend;
- the derivation pipeline with the fixture executor on ``bench.derive_bench``'s Holocene fixture
  (1,000 blocks with ``--quick``, else 10,000) with each backend swapped in; both runs must
  derive the same attributes (the bench fails otherwise).
"""

from __future__ import annotations

import argparse
import time
import timeit
from collections.abc import Callable

from eth_hash.auto import keccak
from eth_hash.backends.pycryptodome import keccak256 as cryptodome_keccak256

from bench.derive_bench import Params, get_fixture, run_fixture_executor

EMPTY = bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def backends() -> dict[str, Callable[[bytes | bytearray], bytes]]:
    out: dict[str, Callable[[bytes | bytearray], bytes]] = {"pycryptodome": cryptodome_keccak256}
    try:
        from eth_hash.backends.pysha3 import keccak256 as pysha3_keccak256
    except ImportError:  # safe-pysha3 not installed: only the fallback can be measured
        pass
    else:
        out["pysha3"] = pysha3_keccak256
    for name, f in out.items():
        if f(b"") != EMPTY:
            raise SystemExit(f"FAIL: {name} keccak256(b'') is wrong")
    return out


def per_call(fn: Callable[[bytes | bytearray], bytes], size: int, n: int) -> float:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    keccak.hasher = fn  # type: ignore[assignment]
    return min(timeit.repeat(lambda: keccak(data), number=n, repeat=5)) / n


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the 1,000-block fixture")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args(argv)
    keccak(b"")  # bind eth-hash's first-run hasher, so that swapping ``hasher`` sticks
    chosen = keccak.hasher
    bs = backends()
    print(f"eth_hash.auto.keccak as imported with pyop: {chosen.__module__}")
    if "pysha3" not in bs:
        print("  safe-pysha3 is not installed: only pycryptodome measured")
    for size in (32, 200):
        t = {name: per_call(f, size, 100_000) for name, f in bs.items()}
        line = "  ".join(f"{name} {v * 1e6:5.2f} us" for name, v in t.items())
        ratio = f"  pycryptodome/pysha3 x{t['pycryptodome'] / t['pysha3']:.1f}" if "pysha3" in t else ""
        print(f"  keccak({size:3d} bytes): {line}{ratio}")

    fx, _ = get_fixture(Params(blocks=1_000 if a.quick else 10_000))
    best: dict[str, float] = {}
    results: dict[str, list[object]] = {}
    _, prepare = run_fixture_executor(fx, 1)  # a warm-up run (with pyop's choice)
    for _ in range(a.repeat):  # alternate, best of each
        for name, f in bs.items():
            keccak.hasher = f  # type: ignore[assignment]
            go = prepare()  # fresh sources (their caches hash nothing twice)
            t0 = time.perf_counter()
            derived = go()
            dt = time.perf_counter() - t0
            best[name] = min(best.get(name, dt), dt)
            results[name] = [d.attributes for d in derived]
    keccak.hasher = chosen
    first = next(iter(results.values()))
    if any(r != first for r in results.values()):
        raise SystemExit("FAIL: the backends derived different attributes")
    n = len(first)
    line = "  ".join(f"{name} {n / s:7,.0f} blocks/s" for name, s in best.items())
    ratio = f"  x{best['pycryptodome'] / best['pysha3']:.2f} faster with pysha3" if "pysha3" in best else ""
    print(f"  pipeline + fixture executor ({n:,} blocks): {line}{ratio}")


if __name__ == "__main__":
    main()
