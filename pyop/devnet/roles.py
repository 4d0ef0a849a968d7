"""Which implementation runs each devnet role: the rollup node (sequencer), the batcher and the
proposer, each ``go`` (the Go op-node / op-batcher / op-proposer) or ``pyop`` (``pyop node`` /
``pyop batcher`` / ``pyop proposer``).

``pyop devnet up DIR --stack go|pyop`` sets all three; ``--node``, ``--batcher`` and
``--proposer`` override one role each (``--stack pyop --proposer go``). The choice is kept in
``DIR/roles.json`` so ``pyop devnet status`` can say which kind runs each role and under which
process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pyop.devnet.process import PidRegistry
from pyop.primitives import PyopError

ROLES = ("node", "batcher", "proposer")
KINDS = ("go", "pyop")
ROLES_JSON = "roles.json"
PROCESS_NAMES: dict[str, dict[str, str]] = {
    "node": {"go": "op-node", "pyop": "pyop-node"},
    "batcher": {"go": "op-batcher", "pyop": "pyop-batcher"},
    "proposer": {"go": "op-proposer", "pyop": "pyop-proposer"},
}
"""The process name (``DIR/pids.json``, ``DIR/logs/<name>.log``) of each role and kind."""

__all__ = ["KINDS", "PROCESS_NAMES", "ROLES", "RoleError", "Roles", "read_roles",
           "resolve_roles", "role_lines", "write_roles"]  # fmt: skip


class RoleError(PyopError):
    """An unknown or unavailable role kind."""


@dataclass(frozen=True, slots=True)
class Roles:
    """The kind of each role."""

    node: str = "go"
    batcher: str = "go"
    proposer: str = "go"

    def kind(self, role: str) -> str:
        return str(getattr(self, role))

    def process_name(self, role: str) -> str:
        return PROCESS_NAMES[role][self.kind(role)]

    def to_json(self) -> dict[str, str]:
        return {r: self.kind(r) for r in ROLES}


def resolve_roles(stack: str | None = None, *, node: str | None = None, batcher: str | None = None,
                  proposer: str | None = None) -> Roles:  # fmt: skip
    """The roles of ``--stack`` (default ``go``) with the per-role flags applied; refuses an
    unknown kind."""
    base = stack or "go"
    if base not in KINDS:
        raise RoleError(f"unknown stack {base!r} (choose from {', '.join(KINDS)})")
    chosen = {"node": node or base, "batcher": batcher or base, "proposer": proposer or base}
    for role, kind in chosen.items():
        if kind not in KINDS:
            raise RoleError(f"--{role} {kind!r}: choose from {', '.join(KINDS)}")
    return Roles(**chosen)


def write_roles(directory: Path, roles: Roles) -> None:
    p = Path(directory) / ROLES_JSON
    p.write_text(json.dumps(roles.to_json(), indent=2) + "\n")


def read_roles(directory: Path) -> Roles | None:
    """The roles ``pyop devnet up`` recorded, or ``None`` (never started, or an old devnet)."""
    try:
        obj = json.loads((Path(directory) / ROLES_JSON).read_text())
        return Roles(**{r: str(obj[r]) for r in ROLES})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def role_lines(directory: Path) -> list[str]:
    """``role  kind  process  state`` for ``pyop devnet status``."""
    roles = read_roles(directory)
    if roles is None:
        return []
    reg = PidRegistry(Path(directory))
    out = [f"{'role':<9} {'kind':<5} {'process':<14} state"]
    for role in ROLES:
        name = roles.process_name(role)
        p = reg.get(name)
        state = "not started" if p is None else (f"pid {p.pid} running" if p.alive() else "STOPPED")
        out.append(f"{role:<9} {roles.kind(role):<5} {name:<14} {state}")
    return out
