"""Shrinking a divergent input to a minimal one (delta debugging over the JSON input).

The input is a JSON tree; candidates are produced bottom-up per location: a list loses halves,
then single elements; a hex string loses halves, quarters, ... single bytes, or has bytes
zeroed; an integer becomes 0, half, or one less. A candidate is kept when it still diverges
*in the same way* (``same``: the caller's signature, e.g. the known-divergence id and the
shapes of both results), so shrinking cannot wander off to a different bug. Every evaluation
costs one pyop call and one Go round trip; ``budget`` bounds them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

Path = tuple[str | int, ...]


def _get(tree: Any, path: Path) -> Any:
    for p in path:
        tree = tree[p]
    return tree


def _set(tree: Any, path: Path, value: Any) -> Any:
    out = copy.deepcopy(tree)
    if not path:
        return value
    parent = _get(out, path[:-1])
    parent[path[-1]] = value
    return out


def _locations(tree: Any, path: Path = ()) -> Iterator[Path]:
    """Every node, children before parents (so big subtrees are tried early at their root)."""
    if isinstance(tree, dict):
        yield path
        for k in list(tree):
            yield from _locations(tree[k], (*path, k))
    elif isinstance(tree, list):
        yield path
        for i in range(len(tree)):
            yield from _locations(tree[i], (*path, i))
    else:
        yield path


def _is_hex(v: Any) -> bool:
    return isinstance(v, str) and v.startswith("0x") and len(v) % 2 == 0 and len(v) > 2


def _candidates(v: Any) -> Iterator[Any]:
    if isinstance(v, dict):
        # Map entries (L2 blocks by number) may go; struct fields stay.
        for k in [k for k in v if k.isdigit()]:
            yield {kk: vv for kk, vv in v.items() if kk != k}
    elif isinstance(v, list):
        n = len(v)
        k = max(1, n // 2) if n else 0
        while k >= 1:
            for i in range(0, n, k):
                yield v[:i] + v[i + k :]
            k //= 2
    elif _is_hex(v):
        data = bytes.fromhex(v[2:])
        n = len(data)
        k = max(1, n // 2)
        while k >= 1:
            for i in range(0, n, k):
                yield "0x" + (data[:i] + data[i + k :]).hex()
            k //= 2
        k = max(1, n // 2)
        while k >= 1:
            for i in range(0, n, k):
                if any(data[i : i + k]):
                    yield "0x" + (data[:i] + bytes(len(data[i : i + k])) + data[i + k :]).hex()
            k //= 2
    elif isinstance(v, bool):
        return
    elif isinstance(v, int) and v != 0:
        yield 0
        if v > 2:
            yield v // 2
        yield v - 1


def shrink(inp: dict[str, Any], same: Callable[[dict[str, Any]], bool], budget: int = 3000) -> tuple[dict[str, Any], int]:
    """The smallest input found that still satisfies ``same``; and the evaluations used."""
    best = inp
    used = 0
    progress = True
    while progress and used < budget:
        progress = False
        for path in list(_locations(best)):
            try:
                node = _get(best, path)
            except (KeyError, IndexError, TypeError):
                continue
            if path and path[0] in ("cfg", "l1ChainConfig"):
                continue  # configs are kept whole (a partial config is a bad input; see runner)
            for cand in _candidates(node):
                if used >= budget:
                    return best, used
                trial = _set(best, path, cand)
                used += 1
                if same(trial):
                    best = trial
                    progress = True
                    break
    return best, used
