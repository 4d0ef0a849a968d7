"""The direction of imports (ARCHITECTURE.md): a lower floor never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "pyop"

FLOORS: dict[str, int] = {
    "pyop.primitives": 0,
    "pyop.errors": 0,
    "pyop.ratelimit": 0,  # a token bucket (p2p block server, L1 RPC rate limit)
    "pyop.config": 0,
    "pyop.codec": 1,
    "pyop.protocol": 1,
    "pyop.sources": 1,
    "pyop.opservice": 1,
    "pyop.txmgr": 1,
    "pyop.derivation": 2,
    "pyop.engine": 3,
    "pyop.batcher": 3,
    "pyop.proposer": 3,
    "pyop.p2p": 3,
    "pyop.node": 4,
    "pyop.tools": 4,
    "pyop.devnet": 5,
    "pyop.dashboard": 6,  # reads devnets (RPC + files); the devnet starts it only by command line
    "pyop.cli": 7,
}


def floor_of(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for prefix, floor in FLOORS.items():
        matches = module == prefix or module.startswith(prefix + ".")
        if matches and (best is None or len(prefix) > best[0]):
            best = (len(prefix), floor)
    return None if best is None else best[1]


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n.startswith("pyop")]


def test_every_module_has_a_floor() -> None:
    mods = modules()
    assert len(mods) > 20
    missing = [m for m, _ in mods if m != "pyop" and floor_of(m) is None]
    assert missing == [], f"modules outside the floor map: {missing}"


@pytest.mark.parametrize("module,path", modules(), ids=lambda x: str(x) if isinstance(x, str) else "")
def test_no_upward_imports(module: str, path: Path) -> None:
    own = floor_of(module)
    if own is None:
        return
    bad = [imp for imp in imports_of(path) if (f := floor_of(imp)) is not None and f > own]
    assert bad == [], f"{module} (floor {own}) imports higher floors: {bad}"
