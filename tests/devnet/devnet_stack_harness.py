"""Shared pieces of the live-devnet integration tests (tests/devnet/test_devnet_stack*.py).

Each test module brings up one devnet in a temporary directory with the functions
``pyop devnet init``/``up`` use, shares it between its tests (module-scoped fixture) and always
stops every process it started (``PidRegistry.stop_all`` in the fixture's teardown).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address

from pyop.config import Fork
from pyop.devnet.artifacts import load_artifact
from pyop.devnet.l1_deploy import eth_call
from pyop.devnet.process import ManagedProcess, PidRegistry, start_process, wait_for_http
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.devnet.stack import (
    PEERS,
    DevnetInfo,
    Stack,
    StackError,
    init_devnet,
    require_peers,
    start_stack,
)
from pyop.primitives import hex_to_int

T = TypeVar("T")
ETHER = 10**18


def require_go_peers() -> None:
    """Skip when the Go peers are not built (scripts/build-peers.sh; the Makefile's test target
    builds them first)."""
    try:
        require_peers(PEERS)
    except StackError as e:
        pytest.skip(f"Go reference peers unavailable, so no live devnet: {e}")


@dataclass
class Devnet:
    info: DevnetInfo
    stack: Stack
    init_seconds: float
    up_seconds: float

    @property
    def l1(self) -> RpcClient:
        return RpcClient(self.info.l1_url, timeout=10.0)

    @property
    def l2(self) -> RpcClient:
        return RpcClient(self.info.l2_rpc_url, timeout=10.0)

    @property
    def rollup(self) -> RpcClient:
        return RpcClient(self.info.rollup_rpc_url, timeout=10.0)

    def sync_status(self, rollup_url: str | None = None) -> dict[str, Any]:
        client = RpcClient(rollup_url, timeout=10.0) if rollup_url else self.rollup
        return dict(client.call("optimism_syncStatus"))

    def assert_alive(self) -> None:
        dead = [p for p in self.stack.processes.values() if not p.alive()]
        assert not dead, "; ".join(f"{p.name} died:\n{p.log_tail(20)}" for p in dead)


def bring_up(
    tmp: Path,
    *,
    da: str = "calldata",
    altda: bool = False,
    fork_offsets: Mapping[Fork, int | None] | None = None,
    fault_proofs: bool = False,
    **stack_options: Any,
) -> Iterator[Devnet]:
    """The body of a module-scoped fixture: init + up, yield, then stop everything.
    ``stack_options`` go to :func:`start_stack` (``stack=``, ``proposer=`` ...)."""
    require_go_peers()
    directory = tmp / "devnet"
    registry = PidRegistry(directory)
    try:
        t0 = time.monotonic()
        info = init_devnet(directory, fork_offsets=fork_offsets, altda=altda,
                           fault_proofs=fault_proofs, log=lambda _m: None)  # fmt: skip
        init_s = time.monotonic() - t0
        t0 = time.monotonic()
        stack = start_stack(info, da=da, log=lambda _m: None, **stack_options)
        up_s = time.monotonic() - t0
        dn = Devnet(info=info, stack=stack, init_seconds=init_s, up_seconds=up_s)
        wait_for(lambda: int(dn.sync_status()["safe_l2"]["number"]) > 0, 90, "a first safe head")
        safe_s = time.monotonic() - t0
        print(f"\n[devnet {da}{' alt-DA' if altda else ''}] init {init_s:.1f}s "
              f"({info.timings}), up {up_s:.1f}s ({stack.timings}), first safe L2 head "
              f"{safe_s:.1f}s after the start of up")  # fmt: skip
        yield dn
    finally:
        outcomes = registry.stop_all(sigint_timeout=20.0)
        print(f"\n[devnet] stopped: {outcomes}")
        assert PidRegistry(directory).entries() == []


def wait_for(pred: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5) -> T:
    """Poll ``pred`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_err: Exception | None = None
    while True:
        try:
            got = pred()
            if got:
                return got
        except (RpcError, RpcTransportError, KeyError, TypeError) as e:
            last_err = e
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_err})")
        time.sleep(interval)


def restart_pyop_proposer(dn: Devnet) -> ManagedProcess:
    """Stop the devnet's ``pyop proposer`` (SIGINT) and start the same command line again (log
    ``pyop-proposer-restart.log``); returns it once its ``/healthz`` answers."""
    proc = dn.stack.processes["pyop-proposer"]
    proc.stop(sigint_timeout=10)
    registry = PidRegistry(dn.info.directory)
    registry.remove(proc.name)
    new = start_process("pyop-proposer", proc.argv, log_path=dn.info.logs_dir / "pyop-proposer-restart.log",
                        registry=registry)  # fmt: skip
    dn.stack.processes["pyop-proposer"] = new
    wait_for_http(dn.info.url("proposerRpc") + "/healthz", timeout=60, process=new)
    return new


@dataclass(frozen=True)
class DisputeGame:
    """One game of the devnet's DisputeGameFactory, as the factory and the game report it."""

    game_type: int
    created: int  # the factory's creation timestamp
    address: str
    creator: str  # lower-case
    l2_block: int  # decoded from the game's extraData
    root: str  # the root claim, 0x-hex


def dispute_games(dn: Devnet) -> list[DisputeGame]:
    """Every game of the devnet's DisputeGameFactory, oldest first (``gameAtIndex``; each game's
    ``gameCreator``, ``extraData`` and ``rootClaim``)."""
    dgf, game = load_artifact("DisputeGameFactory"), load_artifact("FaultDisputeGame")
    factory = dn.info.addresses["DisputeGameFactoryProxy"]
    out = []
    (count,) = eth_call(dn.l1, factory, dgf, "gameCount")
    for i in range(int(count)):
        (t, ts, addr) = eth_call(dn.l1, factory, dgf, "gameAtIndex", i)
        (creator,) = eth_call(dn.l1, addr, game, "gameCreator")
        (extra,) = eth_call(dn.l1, addr, game, "extraData")
        (block,) = abi_decode(["uint256"], bytes(extra))
        (root,) = eth_call(dn.l1, addr, game, "rootClaim")
        out.append(DisputeGame(int(t), int(ts), str(addr), str(creator).lower(), int(block),
                               "0x" + bytes(root).hex()))  # fmt: skip
    return out


def fork_block_number(info: DevnetInfo, fork: str) -> int:
    t = info.fork_times[fork]
    assert t is not None
    return (t - info.l2_genesis_time) // info.l2_block_time


def batcher_txs(dn: Devnet, from_block: int, to_block: int) -> list[dict[str, Any]]:
    """L1 transactions from the batcher to the batch inbox in ``[from_block, to_block]``."""
    inbox = batch_inbox(dn)
    batcher = dn.info.keys["batcher"]["address"].lower()
    out = []
    for n in range(from_block, to_block + 1):
        blk = dn.l1.call("eth_getBlockByNumber", hex(n), True)
        for tx in blk["transactions"]:
            if (tx.get("to") or "").lower() == inbox.lower() and tx["from"].lower() == batcher:
                out.append(tx)
    return out


def batch_inbox(dn: Devnet) -> str:
    import json

    rollup = json.loads(dn.info.rollup_path.read_text())
    return to_checksum_address(rollup["batch_inbox_address"])


def safe_head_advances(dn: Devnet, *, blocks: int = 3, timeout: float = 60.0) -> tuple[int, int]:
    """Wait until the safe L2 head moved ``blocks`` past where it is now; return (before, after)."""
    before = int(dn.sync_status()["safe_l2"]["number"])
    def moved() -> int | None:
        n = int(dn.sync_status()["safe_l2"]["number"])
        return n if n >= before + blocks else None

    after = wait_for(moved, timeout, f"the safe head to pass {before + blocks}")
    return before, after


def l2_block(dn: Devnet, number: int, full: bool = False) -> dict[str, Any]:
    blk = dn.l2.call("eth_getBlockByNumber", hex(number), full)
    assert blk is not None, f"L2 block {number} missing"
    return dict(blk)


def l2oo_latest_block_number(dn: Devnet) -> int:
    art = load_artifact("L2OutputOracle")
    (n,) = eth_call(dn.l1, dn.info.addresses["L2OutputOracleProxy"], art, "latestBlockNumber")
    return int(n)


def l2oo_output_root_at(dn: Devnet, l2_block_number: int) -> tuple[bytes, int, int]:
    """``(outputRoot, timestamp, l2BlockNumber)`` of the first L2OutputOracle proposal at or
    after ``l2_block_number`` (``getL2OutputAfter``)."""
    art = load_artifact("L2OutputOracle")
    (out,) = eth_call(
        dn.l1, dn.info.addresses["L2OutputOracleProxy"], art, "getL2OutputAfter", l2_block_number
    )
    root, ts, num = out
    return bytes(root), int(ts), int(num)


def balance(client: RpcClient, address: str, tag: str = "latest") -> int:
    return hex_to_int(client.call("eth_getBalance", address, tag))
