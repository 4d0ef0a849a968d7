"""Trie / state-root hashing: pyop's root-only builder beside the `trie` package (HexaryTrie,
py-evm's trie) as the floor, on the same data in the same run.

Run: ``.venv/bin/python -m bench.trie_bench [--quick]``.

Cases: a raw trie of random 32-byte keys and 100-byte values; an ordered (transactions-style)
trie keyed by rlp(i); and a genesis-like state root (accounts with storage tries), the hot path
of the devnet L2 genesis. Both sides get identical inputs and must produce the same root.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie

from pyop.protocol.trie import AccountState, ordered_trie_root, state_root, storage_root, trie_root


def _once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def paired(pyop: Callable[[], object], floor: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """pyop and the floor run alternately (a shared machine's load changes between runs):
    the median time of each and the median of the per-pair ratios pyop/floor."""
    pyop()
    floor()
    a, b = [], []
    for _ in range(repeat):
        a.append(_once(pyop))
        b.append(_once(floor))
    return statistics.median(a), statistics.median(b), statistics.median(x / y for x, y in zip(a, b, strict=True))


def hexary_root(items: list[tuple[bytes, bytes]]) -> bytes:
    t = HexaryTrie({})
    for k, v in items:
        t[k] = v
    return bytes(t.root_hash)


def row(name: str, n: int, times: tuple[float, float, float]) -> str:
    t, floor, ratio = times
    return (
        f"  {name:<44} n={n:>6}  pyop {t * 1e3:8.1f} ms   trie pkg {floor * 1e3:8.1f} ms"
        f"   pyop/floor x{ratio:5.2f} (trie pkg / pyop x{1 / ratio:5.1f})"
    )


def bench_raw(n: int, repeat: int, rnd: random.Random) -> str:
    items = [(rnd.randbytes(32), rnd.randbytes(100)) for _ in range(n)]
    assert trie_root(items) == hexary_root(items)
    return row(
        "raw trie, 32 B keys, 100 B values",
        n,
        paired(lambda: trie_root(items), lambda: hexary_root(items), repeat),
    )


def bench_ordered(n: int, repeat: int, rnd: random.Random) -> str:
    values = [rnd.randbytes(110) for _ in range(n)]
    keyed = [(rlp.encode(i), v) for i, v in enumerate(values)]
    assert ordered_trie_root(values) == hexary_root(keyed)
    return row(
        "ordered trie (tx-root style), 110 B values",
        n,
        paired(lambda: ordered_trie_root(values), lambda: hexary_root(keyed), repeat),
    )


def bench_state(n: int, slots: int, repeat: int, rnd: random.Random) -> str:
    accounts = []
    for _ in range(n):
        storage = {rnd.getrandbits(256): rnd.getrandbits(160) + 1 for _ in range(slots)}
        accounts.append((rnd.randbytes(20), rnd.getrandbits(64), storage, rnd.randbytes(2000)))

    def pyop() -> bytes:
        return state_root(
            {
                a: AccountState(0, bal, storage_root(st), keccak(code))
                for a, bal, st, code in accounts
            }
        )

    def floor() -> bytes:
        items = []
        for a, bal, st, code in accounts:
            sroot = hexary_root(
                [(keccak(k.to_bytes(32, "big")), rlp.encode(v)) for k, v in st.items()]
            )
            items.append((keccak(a), rlp.encode([0, bal, sroot, keccak(code)])))
        return hexary_root(items)

    assert pyop() == floor()
    return row(f"state root, {slots} storage slots/account", n, paired(pyop, floor, repeat))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    args = ap.parse_args()
    rnd = random.Random(42)
    repeat = 3 if args.quick else 7
    scale = 1 if args.quick else 4
    print("trie root hashing (pyop and the trie package alternately; medians; same inputs, same roots)")
    print(bench_raw(1000 * scale, repeat, rnd))
    print(bench_ordered(500 * scale, repeat, rnd))
    print(bench_state(600 * scale, 3, repeat, rnd))


if __name__ == "__main__":
    main()
