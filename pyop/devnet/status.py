"""``pyop devnet status``: the L1 and L2 heads of a devnet as a table.

L1 ``latest``/``safe``/``finalized`` come from the L1 RPC's ``eth_getBlockByNumber`` block tags
(anvil: safe and finalized lag by one and two epochs of ``--slots-in-an-epoch`` blocks). L2
``unsafe``/``safe``/``finalized`` come from the rollup node's ``optimism_syncStatus``
(``unsafe_l2``, ``safe_l2``, ``finalized_l2``; specs: op-node RPC, optimism_syncStatus); when no
rollup node answers, from op-geth's ``latest``/``safe``/``finalized`` tags instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pyop.devnet.process import PidRegistry
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.devnet.stack import DevnetInfo
from pyop.primitives import hex_to_int


@dataclass(frozen=True, slots=True)
class HeadRow:
    """One row of the status table (``number``/``hash`` None when unavailable)."""

    chain: str
    label: str
    number: int | None
    hash: str | None
    timestamp: int | None
    source: str


def short_hash(h: str | None) -> str:
    """``0x1234ab..cdef56`` (or ``-``)."""
    if not h:
        return "-"
    return f"{h[:8]}..{h[-6:]}"


def _block(client: RpcClient, tag: str) -> tuple[int, str, int] | None:
    try:
        b = client.call("eth_getBlockByNumber", tag, False)
    except (RpcError, RpcTransportError):
        return None
    if not b:
        return None
    return hex_to_int(b["number"]), str(b["hash"]), hex_to_int(b["timestamp"])


def l1_rows(l1_url: str) -> list[HeadRow]:
    c = RpcClient(l1_url, timeout=3.0)
    rows = []
    for tag in ("latest", "safe", "finalized"):
        rows.append(_row("L1", "head" if tag == "latest" else tag, _block(c, tag),
                         f"eth_getBlockByNumber {tag}"))  # fmt: skip
    return rows


def _row(chain: str, label: str, b: tuple[int, str, int] | None, source: str) -> HeadRow:
    if b is None:
        return HeadRow(chain, label, None, None, None, source)
    return HeadRow(chain, label, b[0], b[1], b[2], source)


def sync_status(rollup_url: str) -> dict[str, Any] | None:
    """``optimism_syncStatus`` of the rollup node, or None if it does not answer."""
    try:
        st = RpcClient(rollup_url, timeout=3.0).call("optimism_syncStatus")
    except (RpcError, RpcTransportError):
        return None
    return dict(st) if isinstance(st, dict) else None


def l2_rows(rollup_url: str, l2_url: str) -> list[HeadRow]:
    st = sync_status(rollup_url)
    if st is not None:
        rows = []
        for key, label in (("unsafe_l2", "unsafe"), ("safe_l2", "safe"),
                           ("finalized_l2", "finalized")):  # fmt: skip
            ref = st.get(key) or {}
            rows.append(HeadRow("L2", label, ref.get("number"), ref.get("hash"),
                                ref.get("timestamp"), f"optimism_syncStatus {key}"))  # fmt: skip
        return rows
    c = RpcClient(l2_url, timeout=3.0)
    rows = []
    for tag, label in (("latest", "unsafe"), ("safe", "safe"), ("finalized", "finalized")):
        rows.append(_row("L2", label, _block(c, tag), f"op-geth {tag} (no rollup node)"))
    return rows


def devnet_status(info: DevnetInfo) -> list[HeadRow]:
    """All six rows for a devnet."""
    return l1_rows(info.l1_url) + l2_rows(info.rollup_rpc_url, info.l2_rpc_url)


def format_table(rows: list[HeadRow], *, now: float | None = None) -> str:
    """A fixed-width text table: chain, label, number, short hash, age, source."""
    now = time.time() if now is None else now
    lines = [f"{'chain':<5} {'head':<9} {'number':>8}  {'hash':<16}  {'age':>6}  source"]
    for r in rows:
        num = "-" if r.number is None else str(r.number)
        age = "-" if r.timestamp is None else f"{max(0, int(now - r.timestamp))}s"
        lines.append(
            f"{r.chain:<5} {r.label:<9} {num:>8}  {short_hash(r.hash):<16}  {age:>6}  {r.source}"
        )
    return "\n".join(lines)


def process_lines(info: DevnetInfo) -> list[str]:
    """``name pid alive log`` for every registered process."""
    out = []
    for p in PidRegistry(info.directory).entries():
        out.append(f"{p.name:<18} pid {p.pid:<7} {'running' if p.alive() else 'STOPPED':<8} {p.log_path}")
    return out
