"""Shared pieces of the pyop-node end-to-end tests (tests/node/test_node_e2e_*.py).

Each test module brings up one devnet (anvil L1 + OP contracts + op-geth + a sequencer + the Go
op-batcher, optionally the Go op-proposer) with :mod:`pyop.devnet.stack`, shares it between its
tests (module-scoped fixture) and always stops every process by PID in the fixture's teardown
(``PidRegistry.stop_all``), also those a test started (extra verifiers, restarted processes:
they are all registered in the devnet's ``pids.json``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pyop.config import Fork
from pyop.devnet.process import ManagedProcess, PidRegistry, wait_for_rpc
from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import (
    PEERS,
    StackError,
    init_devnet,
    require_peers,
    start_stack,
)
from pyop.primitives import hex_to_int
from tests.devnet.devnet_stack_harness import Devnet, wait_for


def require_go_peers() -> None:
    """Skip when the Go peers are not built (scripts/build-peers.sh; `make test` builds them
    first). Without op-geth there is no L2 engine for pyop node to drive."""
    try:
        require_peers([*PEERS])
    except StackError as e:
        pytest.skip(f"Go reference peers unavailable, so no live devnet: {e}")


def bring_up(
    tmp: Path,
    *,
    stack: str,
    fork_offsets: Mapping[Fork, int | None] | None = None,
    proposer: bool = True,
    l1_slots_per_epoch: int = 4,
    label: str = "",
    **init_kwargs: Any,
) -> Iterator[Devnet]:
    """The body of a module-scoped fixture: init + up (``stack`` = ``pyop`` or ``go``), wait for
    a first safe head, yield, then stop every process of the devnet. ``init_kwargs`` go to
    :func:`init_devnet` (``altda=True``, ``altda_windows``, ``seq_window_size``, ...)."""
    require_go_peers()
    directory = tmp / "devnet"
    registry = PidRegistry(directory)
    try:
        t0 = time.monotonic()
        info = init_devnet(directory, fork_offsets=fork_offsets, l1_slots_per_epoch=l1_slots_per_epoch,
                           log=lambda _m: None, **init_kwargs)  # fmt: skip
        init_s = time.monotonic() - t0
        t0 = time.monotonic()
        st = start_stack(info, stack=stack, proposer=proposer, log=lambda _m: None)
        up_s = time.monotonic() - t0
        dn = Devnet(info=info, stack=st, init_seconds=init_s, up_seconds=up_s)
        wait_for(lambda: int(dn.sync_status()["safe_l2"]["number"]) > 0, 90, "a first safe head")
        print(f"\n[{label or stack} devnet] init {init_s:.1f}s, up {up_s:.1f}s ({st.timings}), "
              f"first safe L2 head {time.monotonic() - t0:.1f}s after the start of up")  # fmt: skip
        yield dn
    finally:
        outcomes = registry.stop_all(sigint_timeout=20.0)
        print(f"\n[{label or stack} devnet] stopped: {outcomes}")
        assert PidRegistry(directory).entries() == []


@dataclass
class Heads:
    unsafe: dict[str, Any]
    safe: dict[str, Any]
    finalized: dict[str, Any]


def sync_status(url: str) -> dict[str, Any]:
    return dict(RpcClient(url, timeout=10.0).call("optimism_syncStatus"))


def heads(url: str) -> Heads:
    st = sync_status(url)
    return Heads(st["unsafe_l2"], st["safe_l2"], st["finalized_l2"])


def block_hash(client: RpcClient, number: int) -> str | None:
    blk = client.call("eth_getBlockByNumber", hex(number), False)
    return None if blk is None else str(blk["hash"])


def l1_number(dn: Devnet, tag: str = "latest") -> int:
    return hex_to_int(dn.l1.call("eth_getBlockByNumber", tag, False)["number"])


def reorg_l1_below_safe_origin(dn: Devnet, rollup_url: str, *, margin: int = 1) -> dict[str, int]:
    """An L1 reorg replacing the L1 blocks from ``margin`` below the L1 origin of
    ``rollup_url``'s safe head up to the L1 head, but none at or below the L1 ``finalized`` block
    (a reorg of finalized L1 data is not a real-world case). Waits (up to 60 s) for a moment
    where that fits.

    ``anvil_reorg [depth, [[rawTx, 0], ...]]`` (positional params): anvil drops the transactions
    of the replaced blocks, where a real L1 returns them to the mempool; without them the
    batcher's later nonces are stuck behind a gap. So they are re-included, in their order, in the
    first new block: the batches are then in a different L1 block, and those for L2 blocks whose
    L1 origin was replaced no longer apply. Returns the numbers involved."""
    deadline = time.monotonic() + 60
    while True:
        st = sync_status(rollup_url)
        safe_origin = int(st["safe_l2"]["l1origin"]["number"])
        fin = l1_number(dn, "finalized")
        head = l1_number(dn)
        depth = head - safe_origin + 1 + margin
        if 0 < depth <= head - fin and safe_origin > 0:
            raws: list[str] = []
            for n in range(head - depth + 1, head + 1):
                for h in dn.l1.call("eth_getBlockByNumber", hex(n), False)["transactions"]:
                    raws.append(dn.l1.call("eth_getRawTransactionByHash", h))
            before = dn.l1.call("eth_getBlockByNumber", hex(safe_origin), False)["hash"]
            if l1_number(dn) == head:  # no new L1 block meanwhile
                dn.l1.call("anvil_reorg", depth, [[r, 0] for r in raws])
                after = dn.l1.call("eth_getBlockByNumber", hex(safe_origin), False)["hash"]
                assert before != after, "anvil_reorg did not replace the safe head's L1 origin"
                return {"head": head, "depth": depth, "safe_origin": safe_origin, "l1_finalized": fin,
                        "safe_l2": int(st["safe_l2"]["number"]), "txs": len(raws)}  # fmt: skip
        if time.monotonic() > deadline:
            pytest.fail(f"no room for an L1 reorg below the safe origin {safe_origin}: head {head}, "
                        f"finalized {fin}")  # fmt: skip
        time.sleep(0.5)


def wait_rpc(url: str, proc: ManagedProcess, timeout: float = 60) -> None:
    wait_for_rpc(url, method="optimism_syncStatus", timeout=timeout, process=proc)


_ENGINE_HEADS = re.compile(r'msg="engine heads found".* unsafe=(\d+) safe=(\d+) finalized=(\d+)')


def engine_heads_logged(proc: ManagedProcess, since: int = 0) -> list[tuple[int, int, int]]:
    """``(unsafe, safe, finalized)`` of each ``engine heads found`` line of a pyop node log
    (from byte offset ``since``)."""
    text = proc.log_path.read_bytes()[since:].decode("utf-8", "replace")
    return [(int(a), int(b), int(c)) for a, b, c in _ENGINE_HEADS.findall(text)]


def log_size(proc: ManagedProcess) -> int:
    try:
        return proc.log_path.stat().st_size
    except OSError:
        return 0


def count_in_log(proc: ManagedProcess, needle: str, since: int = 0) -> int:
    return proc.log_path.read_bytes()[since:].decode("utf-8", "replace").count(needle)


def same_safe_hash(a_url: str, a_l2: RpcClient, b_url: str, b_l2: RpcClient, *, at_least: int,
                   timeout: float, what: str) -> int:  # fmt: skip
    """Wait until both rollup nodes have a safe head >= ``at_least`` and return the lower of the
    two safe numbers, after checking both chains have the same block hash there (and that it
    is each node's reported safe hash when that node's safe head is that block)."""

    def ready() -> int | None:
        sa, sb = sync_status(a_url)["safe_l2"], sync_status(b_url)["safe_l2"]
        n = min(int(sa["number"]), int(sb["number"]))
        return n if n >= at_least else None

    n = wait_for(ready, timeout, what)
    ha, hb = block_hash(a_l2, n), block_hash(b_l2, n)
    assert ha is not None and ha == hb, f"{what}: block {n} differs: {ha} vs {hb}"
    return n


def compare_safe_heads(go_rollup: str, go_l2: RpcClient, py_rollup: str, py_l2: RpcClient) -> int:
    """One poll of a differential check: at the lower of the two safe heads, the block hash is
    the same on both chains (and it is each node's reported safe hash where that node's safe head
    is that block). Returns that block number."""
    go, py = sync_status(go_rollup)["safe_l2"], sync_status(py_rollup)["safe_l2"]
    n = min(int(go["number"]), int(py["number"]))
    hg, hp = block_hash(go_l2, n), block_hash(py_l2, n)
    assert hg is not None and hg == hp, f"safe block {n} differs: Go {hg}, pyop {hp}"
    for st in (go, py):
        if int(st["number"]) == n:
            assert st["hash"] == hg, f"reported safe hash {st['hash']} is not block {n} {hg}"
    return n
