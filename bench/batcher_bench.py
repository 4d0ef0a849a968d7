"""pyop batcher against the Go op-batcher on the same L2 blocks, in one run.

Run: ``.venv/bin/python -m bench.batcher_bench [--quick] [--blocks N] [--da calldata|blobs]``
(see bench/README.md). Needs the Go peers (scripts/build-peers.sh) and anvil (npm install);
every process is stopped by PID at the end.

1. A devnet (anvil L1, Go op-node sequencer, 1 s L2 blocks, every fork through Jovian at
   genesis, a sequencing window of 2,000 L1 blocks) builds ``--blocks`` L2 blocks while a sender
   adds user transactions (about 2 per block, 100-600 bytes of incompressible calldata each).
   Then the sequencer is stopped (``admin_stopSequencer``): the L2 chain is fixed.
2. The Go op-batcher batches it: started with the same flags pyop gets, until the op-node's safe
   head reaches the unsafe head. Its batcher transactions on L1 are read back (calldata bytes,
   blobs, gas used, blob gas used) and its CPU time is read from ``/proc/<pid>/stat`` before it is
   stopped.
3. The L1 is rolled back to where it was before the Go batcher's first tx
   (``anvil_rollback``); the op-node notices the L1 reorg and resets its safe head. pyop
   batcher then batches the same blocks the same way.

Figures: L1 bytes per L2 block (calldata bytes, or blob data bytes counted as 131,072 per blob),
L1 execution gas and blob gas per L2 block, and CPU seconds per 1,000 L2 blocks (the whole
process: start-up, polling, loading blocks, channel building, compression, signing, KZG
commitments and proofs for blobs). Both batchers use the same flags (span batches, zlib, shadow
compressor, a 10-L1-block max channel duration that only closes the last channel, one
confirmation).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address

from pyop.config import Fork
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS
from pyop.devnet.process import ManagedProcess, PidRegistry, start_process, wait_for_http
from pyop.devnet.roles import Roles
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.devnet.stack import (
    DevnetInfo,
    StackError,
    init_devnet,
    op_batcher_argv,
    pyop_batcher_argv,
    require_peers,
    start_stack,
)
from pyop.primitives import hex_to_int

BLOB_BYTES = 131_072


def _quiet(_m: str) -> None:
    pass


class Sender(threading.Thread):
    """User transactions on L2, every ``interval`` seconds (as tests/batcher's sender)."""

    def __init__(self, url: str, key: str, chain_id: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.rpc = RpcClient(url, timeout=5.0)
        self.acct = Account.from_key(key)
        self.chain_id, self.interval = chain_id, interval
        self.stop_ev = threading.Event()
        self.sent = 0

    def run(self) -> None:
        nonce: int | None = None
        i = 0
        while not self.stop_ev.wait(self.interval):
            try:
                if nonce is None:
                    nonce = hex_to_int(self.rpc.call("eth_getTransactionCount", self.acct.address, "pending"))
                size = 100 + (i * 97) % 500
                data = b"".join(hashlib.sha256(f"{i}:{j}".encode()).digest() for j in range(size // 32 + 1))
                tx = {"chainId": self.chain_id, "nonce": nonce, "gas": 100_000 + 40 * size,
                      "to": to_checksum_address(hashlib.sha256(bytes([i % 9])).digest()[:20]), "value": i,
                      "data": data[:size], "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**6}  # fmt: skip
                raw = Account.sign_transaction(tx, self.acct.key).raw_transaction
                self.rpc.call("eth_sendRawTransaction", "0x" + bytes(raw).hex())
                nonce += 1
                self.sent += 1
                i += 1
            except (RpcError, RpcTransportError, OSError, ValueError):
                nonce = None


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    kind: str
    l2_from: int
    l2_to: int
    txs: int
    calldata_bytes: int
    blobs: int
    gas_used: int
    blob_gas: int
    cpu: float
    wall: float

    @property
    def blocks(self) -> int:
        return self.l2_to - self.l2_from + 1

    @property
    def l1_bytes(self) -> int:
        return self.calldata_bytes + self.blobs * BLOB_BYTES


def batcher_txs(l1: RpcClient, inbox: str, batcher: str, lo: int, hi: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for n in range(lo, hi + 1):
        for tx in l1.call("eth_getBlockByNumber", hex(n), True)["transactions"]:
            if (tx.get("to") or "").lower() == inbox and tx["from"].lower() == batcher:
                out.append((tx, l1.call("eth_getTransactionReceipt", tx["hash"])))
    return out


def run_batcher(info: DevnetInfo, kind: str, flags: list[str], da: str, target: int, reg: PidRegistry,
                timeout: float) -> tuple[ManagedProcess, float, float]:  # fmt: skip
    """Start one batcher; return it, its CPU seconds and wall seconds when the safe head reached
    ``target``."""
    if kind == "go":
        argv = op_batcher_argv(require_peers(["op-batcher"])["op-batcher"], info, da=da) + flags
    else:
        argv = pyop_batcher_argv(info, da=da, extra=flags)
    name = "op-batcher" if kind == "go" else "pyop-batcher"
    t0 = time.monotonic()
    p = start_process(name, argv, log_path=info.logs_dir / f"bench-{name}.log", registry=reg)
    wait_for_http(info.url("batcherRpc"), timeout=60, process=p)
    rollup = RpcClient(info.rollup_rpc_url, timeout=10.0)
    deadline = time.monotonic() + timeout
    while int(rollup.call("optimism_syncStatus")["safe_l2"]["number"]) < target:
        if not p.alive():
            raise StackError(f"{name} exited:\n{p.log_tail(20)}")
        if time.monotonic() > deadline:
            raise StackError(f"{name} did not get the safe head to {target} within {timeout:.0f}s")
        time.sleep(0.5)
    wall = time.monotonic() - t0
    cpu = cpu_seconds(p.pid)
    p.stop(sigint_timeout=20.0)
    reg.remove(name)
    return p, cpu, wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blocks", type=int, default=240, help="L2 blocks to batch (default 240)")
    ap.add_argument("--quick", action="store_true", help="60 blocks")
    ap.add_argument("--da", choices=("calldata", "blobs"), default="calldata")
    ap.add_argument("--tx-interval", type=float, default=0.5, help="seconds between L2 txs")
    ap.add_argument("--keep", metavar="DIR", help="devnet directory to keep (default: a temp dir)")
    args = ap.parse_args(argv)
    n = 60 if args.quick else args.blocks
    try:
        require_peers(["geth", "op-node", "op-batcher"])
    except StackError as e:
        print(f"batcher_bench: {e}", file=sys.stderr)
        return 1
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pyop-batcher-bench-"))
    directory = tmp / "devnet"
    reg = PidRegistry(directory)
    # --max-channel-duration: both batchers load the fixed chain within seconds, so channels
    # close when full; the duration only closes the last, partial one (with 0 it would wait for
    # the sequencing-window timeout, ~2,000 L1 blocks here)
    flags = ["--batch-type=1", "--compression-algo=zlib", "--max-channel-duration=10",
             "--max-pending-tx=4", "--sub-safety-margin=6", "--poll-interval=1s",
             "--throttle.unsafe-da-bytes-lower-threshold=0"]  # fmt: skip
    try:
        offsets = {**DEFAULT_FORK_OFFSETS, Fork.ISTHMUS: 0, Fork.JOVIAN: 0}
        info = init_devnet(directory, l2_block_time=1, seq_window_size=2000, fork_offsets=offsets,
                           log=_quiet)  # fmt: skip
        start_stack(info, batcher=False, proposer=False, roles=Roles(), log=_quiet)
        sender = Sender(info.l2_rpc_url, info.key("user"), info.l2_chain_id, args.tx_interval)
        sender.start()
        rollup = RpcClient(info.rollup_rpc_url, timeout=10.0)
        print(f"building {n} L2 blocks (1 s each) with user txs ...", flush=True)
        while int(rollup.call("optimism_syncStatus")["unsafe_l2"]["number"]) < n:
            time.sleep(1)
        sender.stop_ev.set()
        sender.join(10)
        rollup.call("admin_stopSequencer")
        time.sleep(2)
        unsafe = int(rollup.call("optimism_syncStatus")["unsafe_l2"]["number"])
        l1 = RpcClient(info.l1_url, timeout=10.0)
        import json

        inbox = json.loads(info.rollup_path.read_text())["batch_inbox_address"].lower()
        batcher = str(info.keys["batcher"]["address"]).lower()
        results: list[Result] = []
        for kind in ("go", "pyop"):
            h0 = hex_to_int(l1.call("eth_blockNumber"))
            safe0 = int(rollup.call("optimism_syncStatus")["safe_l2"]["number"])
            print(f"{kind}: batching L2 {safe0 + 1}..{unsafe} from L1 block {h0} ...", flush=True)
            # the pyop batcher gets op-batcher's flags; it refuses --throttle.*: drop it for pyop
            fl = flags if kind == "go" else [f for f in flags if not f.startswith("--throttle")]
            _p, cpu, wall = run_batcher(info, kind, fl, args.da, unsafe, reg, timeout=600)
            h1 = hex_to_int(l1.call("eth_blockNumber"))
            txs = batcher_txs(l1, inbox, batcher, h0 + 1, h1)
            results.append(Result(
                kind, safe0 + 1, unsafe, len(txs),
                sum((len(t["input"]) - 2) // 2 for t, _ in txs),
                sum(len(t.get("blobVersionedHashes") or []) for t, _ in txs),
                sum(hex_to_int(r["gasUsed"]) for _, r in txs),
                sum(hex_to_int(r.get("blobGasUsed") or 0) for _, r in txs), cpu, wall))  # fmt: skip
            if kind == "go":
                # back to the L1 before the Go batcher's txs: the op-node resets its safe head
                l1.call("anvil_rollback", hex_to_int(l1.call("eth_blockNumber")) - h0)
                deadline = time.monotonic() + 120
                while int(rollup.call("optimism_syncStatus")["safe_l2"]["number"]) >= unsafe:
                    if time.monotonic() > deadline:
                        raise StackError("the op-node did not reset its safe head after the L1 rollback")
                    time.sleep(0.5)
        report(results, args.da, sender.sent)
        return 0
    finally:
        outcomes = reg.stop_all(sigint_timeout=20.0)
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        print(f"stopped: {', '.join(f'{k} {v}' for k, v in outcomes.items())}")


def report(results: list[Result], da: str, sent: int) -> None:
    print(f"\npyop batcher vs Go op-batcher v1.19.6, DA {da}, span batches, zlib, shadow "
          f"compressor ({sent} user txs on L2)")
    hdr = (f"{'batcher':<8} {'L2 blocks':>11} {'L1 txs':>6} {'L1 bytes/blk':>12} {'gas/blk':>9} "
           f"{'blob gas/blk':>12} {'CPU s':>7} {'CPU s/1000 blk':>14} {'wall s':>7}")  # fmt: skip
    print(hdr)
    for r in results:
        print(f"{r.kind:<8} {r.l2_from:>5}..{r.l2_to:<5} {r.txs:>6} {r.l1_bytes / r.blocks:>12.1f} "
              f"{r.gas_used / r.blocks:>9.1f} {r.blob_gas / r.blocks:>12.1f} {r.cpu:>7.2f} "
              f"{1000 * r.cpu / r.blocks:>14.2f} {r.wall:>7.1f}")  # fmt: skip
    if len(results) == 2:
        go, py = results
        def ratio(a: float, b: float) -> str:
            return f"{a / b:.3f}" if b else "n/a"
        print(f"ratio pyop/go: L1 bytes per block {ratio(py.l1_bytes / py.blocks, go.l1_bytes / go.blocks)}, "
              f"gas per block {ratio(py.gas_used / py.blocks, go.gas_used / go.blocks)}, "
              f"CPU per block {ratio(py.cpu / py.blocks, go.cpu / go.blocks)}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
