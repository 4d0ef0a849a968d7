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


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def hexary_root(items: list[tuple[bytes, bytes]]) -> bytes:
    t = HexaryTrie({})
    for k, v in items:
        t[k] = v
    return bytes(t.root_hash)


def row(name: str, n: int, t: float, floor: float) -> str:
    return (
        f"  {name:<44} n={n:>6}  pyop {t * 1e3:8.1f} ms   trie pkg {floor * 1e3:8.1f} ms"
        f"   pyop/floor x{t / floor:5.2f}"
    )


def bench_raw(n: int, repeat: int, rnd: random.Random) -> str:
    items = [(rnd.randbytes(32), rnd.randbytes(100)) for _ in range(n)]
    assert trie_root(items) == hexary_root(items)
    return row(
        "raw trie, 32 B keys, 100 B values",
        n,
        median_time(lambda: trie_root(items), repeat),
        median_time(lambda: hexary_root(items), repeat),
    )


def bench_ordered(n: int, repeat: int, rnd: random.Random) -> str:
    values = [rnd.randbytes(110) for _ in range(n)]
    keyed = [(rlp.encode(i), v) for i, v in enumerate(values)]
    assert ordered_trie_root(values) == hexary_root(keyed)
    return row(
        "ordered trie (tx-root style), 110 B values",
        n,
        median_time(lambda: ordered_trie_root(values), repeat),
        median_time(lambda: hexary_root(keyed), repeat),
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
    return row(
        f"state root, {slots} storage slots/account",
        n,
        median_time(pyop, repeat),
        median_time(floor, repeat),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    args = ap.parse_args()
    rnd = random.Random(42)
    repeat = 3 if args.quick else 5
    scale = 1 if args.quick else 4
    print("trie root hashing (median wall time; same inputs, same roots)")
    print(bench_raw(1000 * scale, repeat, rnd))
    print(bench_ordered(500 * scale, repeat, rnd))
    print(bench_state(600 * scale, 3, repeat, rnd))


if __name__ == "__main__":
    main()
