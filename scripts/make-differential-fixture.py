#!/usr/bin/env python
"""Make the differential derivation fixture: L2 blocks produced by the Go op-node + op-batcher on a
local devnet, captured with ``pyop capture`` and checked with ``pyop derive --fixture --check``.

Run from the repository root (about 15 minutes; needs the Go peers, scripts/build-peers.sh)::

    .venv/bin/python scripts/make-differential-fixture.py \
        -o spec_vectors/derivation/differential/go-devnet-calldata-blobs.json.gz

What it does (issue 3, "Differential"):

1. ``init_devnet`` with a 1 s L2 block time (2 s anvil L1), every fork through Holocene at
   genesis, Isthmus and Jovian scheduled a little after genesis (``--isthmus``/``--jovian``
   seconds), so both activation blocks (with their upgrade deposits) are inside the range.
2. ``start_stack(stack="go", batcher=False, proposer=False)``: op-geth and the Go op-node
   sequencer; then the Go op-batcher (``op_batcher_argv`` plus ``--batch-type`` and
   ``--compression-algo``) of the first ``--phases`` entry.
3. While the chain runs: L1 user deposits (``OptimismPortal.depositTransaction``; plain value
   transfers, one with calldata, one contract creation), SystemConfig updates by the owner
   (``setGasLimit`` twice, ``setGasConfigEcotone``), and L2 user transactions of every
   span-batch type (legacy EIP-155, EIP-2930, EIP-1559, and EIP-7702 after Isthmus) so batches
   carry real transactions.
4. At the L2 block of each further ``--phases`` entry the op-batcher is stopped (SIGINT) and
   restarted with that phase's DA type, batch type and compression. Default: calldata +
   singular batches + zlib from genesis, calldata + span batches + brotli from block 180,
   blobs + singular + zlib from 300, blobs + span + brotli from 420.
5. When the Go safe head passes ``--blocks``: ``pyop capture --from-l2 1 --to-l2 BLOCKS``
   (L1 from anvil, blobs through the beacon shim), then ``pyop derive --fixture --check``.
   With ``--karst SECONDS`` Karst activates mid-run too (the second fixture, README there).
6. The fixture is written gzip-compressed to ``-o`` and a JSON summary to stdout; every process
   started is stopped by PID (``PidRegistry.stop_all``) unless ``--keep``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pyop.config import Fork  # noqa: E402
from pyop.devnet.artifacts import load_artifact  # noqa: E402
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS  # noqa: E402
from pyop.devnet.process import PidRegistry, start_process, wait_for_http  # noqa: E402
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError  # noqa: E402
from pyop.devnet.stack import (  # noqa: E402
    DevnetInfo,
    Stack,
    find_peer,
    init_devnet,
    op_batcher_argv,
    start_stack,
)
from pyop.primitives import hex_to_int, to_hex  # noqa: E402

PYOP = str(REPO / ".venv" / "bin" / "pyop")
DEFAULT_PHASES = "0:calldata:0:zlib,180:calldata:1:brotli,300:blobs:0:zlib,420:blobs:1:brotli"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sync_status(info: DevnetInfo) -> dict[str, Any]:
    return dict(RpcClient(info.rollup_rpc_url, timeout=10.0).call("optimism_syncStatus"))


def heads(info: DevnetInfo) -> tuple[int, int]:
    st = sync_status(info)
    return int(st["unsafe_l2"]["number"]), int(st["safe_l2"]["number"])


def l1_send(info: DevnetInfo, role: str, to: str, data: bytes, value: int = 0) -> str:
    """An L1 transaction from a dev account anvil has unlocked; waits for a successful receipt."""
    l1 = RpcClient(info.l1_url, timeout=10.0)
    sender = info.keys[role]["address"]
    h = str(l1.call("eth_sendTransaction", {"from": sender, "to": to, "value": hex(value),
                                           "data": to_hex(data)}))  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        r = l1.call("eth_getTransactionReceipt", h)
        if r is not None:
            if r["status"] != "0x1":
                raise RuntimeError(f"L1 tx {h} ({role} -> {to}) failed")
            return f"{h} in L1 block {hex_to_int(r['blockNumber'])}"
        if time.monotonic() > deadline:
            raise RuntimeError(f"no receipt for L1 tx {h}")
        time.sleep(0.5)


class L2Sender:
    """L2 user transactions of every span-batch type, signed locally, sent to op-geth."""

    def __init__(self, info: DevnetInfo) -> None:
        self.info = info
        self.rpc = RpcClient(info.l2_rpc_url, timeout=10.0)
        self.key = info.key("user")
        self.addr = info.keys["user"]["address"]
        self.nonce: int | None = None
        self.i = 0
        self.sent: dict[str, int] = {}

    def send(self, isthmus_active: bool) -> None:
        if self.nonce is None:
            self.nonce = hex_to_int(self.rpc.call("eth_getTransactionCount", self.addr, "pending"))
        kinds = ["legacy", "2930", "1559", "create"] + (["7702"] if isthmus_active else [])
        kind = kinds[self.i % len(kinds)]
        self.i += 1
        to = to_checksum_address("0x" + bytes([0x11, self.i % 256]).hex() * 10)
        gas_price = 2 * 10**9
        base: dict[str, Any] = {"chainId": self.info.l2_chain_id, "nonce": self.nonce,
                                "value": 1000 + self.i}  # fmt: skip
        if kind == "legacy":
            tx = {**base, "to": to, "gas": 21_000, "gasPrice": gas_price}
        elif kind == "2930":
            tx = {**base, "type": 1, "to": to, "gas": 30_000, "gasPrice": gas_price,
                  "accessList": [{"address": to, "storageKeys": ["0x" + "00" * 31 + "01"]}]}  # fmt: skip
        elif kind == "create":
            # initcode returning a 1-byte runtime (0x00): PUSH1 1 PUSH1 0 RETURN after MSTORE8
            init = bytes.fromhex("6000600053" + "60016000f3")
            tx = {**base, "type": 2, "gas": 100_000, "maxFeePerGas": gas_price,
                  "maxPriorityFeePerGas": 10**6, "data": init, "to": b""}  # fmt: skip
        elif kind == "1559":
            tx = {**base, "type": 2, "to": to, "gas": 40_000, "maxFeePerGas": gas_price,
                  "maxPriorityFeePerGas": 10**6, "data": b"\x01\x02\x03"}  # fmt: skip
        else:
            auth = Account.sign_authorization(
                {"chainId": self.info.l2_chain_id, "address": to, "nonce": self.nonce + 1},
                self.key,
            )
            tx = {**base, "type": 4, "to": to, "gas": 100_000, "maxFeePerGas": gas_price,
                  "maxPriorityFeePerGas": 10**6, "authorizationList": [auth]}  # fmt: skip
        if tx.get("to") == b"":
            del tx["to"]
        raw = bytes(Account.sign_transaction(tx, self.key).raw_transaction)
        try:
            self.rpc.call("eth_sendRawTransaction", to_hex(raw))
        except RpcError as e:
            log(f"L2 {kind} tx rejected: {e}; resyncing the nonce")
            self.nonce = None
            return
        # A self-sponsored EIP-7702 authorization bumps the sender's nonce a second time.
        self.nonce += 2 if kind == "7702" else 1
        self.sent[kind] = self.sent.get(kind, 0) + 1


def parse_phases(text: str) -> list[tuple[int, str, int, str]]:
    """``"0:calldata:0:zlib,180:calldata:1:brotli,..."`` -> (from L2 block, DA type, batch
    type, compression algorithm) per op-batcher phase."""
    out = []
    for item in text.split(","):
        at, da, bt, algo = item.strip().split(":")
        if da not in ("calldata", "blobs") or bt not in ("0", "1"):
            raise SystemExit(f"bad phase {item!r}")
        out.append((int(at), da, int(bt), algo))
    if not out or out[0][0] != 0:
        raise SystemExit("the first phase must start at 0")
    return out


def batcher_argv(info: DevnetInfo, da: str, batch_type: int, algo: str) -> list[str]:
    binary = find_peer("op-batcher")
    assert binary is not None
    extra = [f"--batch-type={batch_type}", f"--compression-algo={algo}"]
    return [*op_batcher_argv(binary, info, da=da), *extra]


def restart_batcher(stack: Stack, phase: int, da: str, batch_type: int, algo: str) -> str:
    """Stop the running op-batcher (SIGINT: it flushes what it has) and start the next one."""
    info = stack.info
    old = stack.processes.pop("op-batcher")
    how = old.stop(sigint_timeout=30.0)
    stack.registry.remove("op-batcher")
    proc = start_process(
        "op-batcher", batcher_argv(info, da, batch_type, algo),
        log_path=info.logs_dir / f"op-batcher-{phase}-{da}-{batch_type}-{algo}.log",
        registry=stack.registry,
    )  # fmt: skip
    stack.processes["op-batcher"] = proc
    wait_for_http(info.url("batcherRpc"), timeout=30, process=proc)
    return f"old op-batcher stopped ({how}); new pid {proc.pid}"


def inbox_tx_types(fx_obj: dict[str, Any], inbox: str) -> dict[str, int]:
    from pyop.codec.tx import decode_signed_tx

    out: dict[str, int] = {}
    want = bytes.fromhex(inbox.removeprefix("0x").lower())
    for b in fx_obj["l1Blocks"]:
        for raw_hex in b["transactions"]:
            raw = bytes.fromhex(raw_hex[2:])
            t = raw[0] if raw and raw[0] < 0x7F else 0
            try:
                tx = decode_signed_tx(raw)
            except Exception:  # a summary only
                continue
            if tx.to == want:
                out[f"type{t}"] = out.get(f"type{t}", 0) + 1
    return out


def run(args: argparse.Namespace) -> int:
    directory = Path(args.dir or tempfile.mkdtemp(prefix="pyop-differential-")).resolve()
    offsets = dict(DEFAULT_FORK_OFFSETS)
    offsets[Fork.ISTHMUS] = args.isthmus
    offsets[Fork.JOVIAN] = args.jovian
    offsets[Fork.KARST] = args.karst
    registry = PidRegistry(directory)
    events: list[str] = []
    t_start = time.monotonic()
    try:
        info = init_devnet(directory, l2_block_time=args.l2_block_time, fork_offsets=offsets,
                           log=log)  # fmt: skip
        phases = parse_phases(args.phases)
        stack = start_stack(info, stack="go", da=phases[0][1], batcher=False, proposer=False,
                            log=log)  # fmt: skip
        _, da0, bt0, algo0 = phases[0]
        proc = start_process(
            "op-batcher", batcher_argv(info, da0, bt0, algo0),
            log_path=info.logs_dir / f"op-batcher-0-{da0}-{bt0}-{algo0}.log",
            registry=stack.registry,
        )  # fmt: skip
        stack.processes["op-batcher"] = proc
        wait_for_http(info.url("batcherRpc"), timeout=30, process=proc)
        log(f"op-batcher pid {proc.pid}: {da0}, batch type {bt0}, {algo0}")
        portal = info.addresses["OptimismPortalProxy"]
        sysconf = info.addresses["SystemConfigProxy"]
        op = load_artifact("OptimismPortal")
        sc = load_artifact("SystemConfig")
        isthmus_block = args.isthmus // args.l2_block_time
        blob_start = min([at for at, da, _, _ in phases if da == "blobs"] or [args.blocks // 2])
        recipient = to_checksum_address("0x" + bytes(range(0xA0, 0xB4)).hex())

        def deposit(role: str, value: int, data: bytes = b"", create: bool = False) -> str:
            to = "0x" + "00" * 20 if create else recipient
            call = op.encode_call("depositTransaction", to, value, 200_000, create, data)
            return l1_send(info, role, portal, call, value=value)

        # (L2 block at or after which to act, description, action)
        plan: list[tuple[int, str, Any]] = [
            (30, "deposit: user sends 1.5 ETH", lambda: deposit("user", 15 * 10**17)),
            (60, "SystemConfig.setGasLimit(45_000_000)",
             lambda: l1_send(info, "admin", sysconf, sc.encode_call("setGasLimit", 45_000_000))),
            (100, "deposit with calldata from admin",
             lambda: deposit("admin", 10**15, b"\xde\xad\xbe\xef" * 8)),
            (200, "SystemConfig.setGasConfigEcotone(2000, 700000)",
             lambda: l1_send(info, "admin", sysconf,
                             sc.encode_call("setGasConfigEcotone", 2000, 700_000))),
            *[(at, f"op-batcher phase {i}: {da}, batch type {bt}, {algo}",
               lambda i=i, da=da, bt=bt, algo=algo: restart_batcher(stack, i, da, bt, algo))
              for i, (at, da, bt, algo) in enumerate(phases) if i > 0],
            (blob_start + 30, "deposit: contract creation",
             lambda: deposit("user", 0, bytes.fromhex("6000600053" + "60016000f3"), create=True)),
            (blob_start + 60, "SystemConfig.setGasLimit(50_000_000)",
             lambda: l1_send(info, "admin", sysconf, sc.encode_call("setGasLimit", 50_000_000))),
            (args.blocks - 60, "deposit: user sends 0.25 ETH", lambda: deposit("user", 25 * 10**16)),
        ]  # fmt: skip
        plan.sort(key=lambda p: p[0])
        sender = L2Sender(info)
        last_tx_block = 0
        last_log = 0.0
        while True:
            dead = [n for n, p in stack.processes.items() if not p.alive()]
            if dead:
                raise RuntimeError(f"{dead} exited: " + stack.processes[dead[0]].log_tail(20))
            try:
                unsafe, safe = heads(info)
            except (RpcError, RpcTransportError, KeyError) as e:
                log(f"syncStatus: {e}")
                time.sleep(1)
                continue
            while plan and unsafe >= plan[0][0]:
                _at, what, action = plan.pop(0)
                res = action()
                events.append(f"L2 unsafe {unsafe}: {what}" + (f" ({res})" if res else ""))
                log(events[-1])
            if unsafe < args.blocks and unsafe >= last_tx_block + args.tx_every:
                sender.send(isthmus_active=unsafe > isthmus_block + 2)
                last_tx_block = unsafe
            if time.monotonic() - last_log > 30:
                log(f"unsafe {unsafe}, safe {safe}; L2 txs sent {sender.sent}")
                last_log = time.monotonic()
            if safe >= args.blocks and not plan:
                break
            time.sleep(0.5)
        # A few more L1 blocks so the capture's L1 margin holds the last batches comfortably.
        time.sleep(4 * info.l1_block_time)
        raw_path = directory / "fixture.json"
        capture = [PYOP, "capture", f"--l1={info.l1_url}", f"--l1.beacon={info.l1_beacon_url}",
                   f"--l2={info.l2_rpc_url}", f"--rollup-config={info.rollup_path}",
                   f"--rollup.l1-chain-config={info.l1_chain_config_path}",
                   "--from-l2=1", f"--to-l2={args.blocks}", "-o", str(raw_path)]  # fmt: skip
        log(" ".join(capture))
        subprocess.run(capture, check=True)
        stack_versions = {
            n: subprocess.run([str(find_peer(n)), "--version"], capture_output=True, text=True,
                              check=False).stdout.strip()
            for n in ("op-node", "op-batcher", "geth")
        }  # fmt: skip
    finally:
        if not args.keep:
            log(f"stopping: {registry.stop_all(sigint_timeout=20.0)}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(raw_path.read_bytes(), compresslevel=9, mtime=0))
    check = subprocess.run([PYOP, "derive", "--fixture", str(out), "--check"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           check=False)  # fmt: skip
    fx_obj = json.loads(raw_path.read_text())
    summary = {
        "devnet": str(directory),
        "output": str(out),
        "sizeBytes": out.stat().st_size,
        "rawSizeBytes": raw_path.stat().st_size,
        "l2Blocks": [1, args.blocks],
        "l1Blocks": len(fx_obj["l1Blocks"]),
        "inboxTxTypes": inbox_tx_types(fx_obj, fx_obj["rollupConfig"]["batch_inbox_address"]),
        "l2UserTxsSent": sender.sent,
        "events": events,
        "forkTimes": info.fork_times,
        "l2GenesisTime": info.l2_genesis_time,
        "versions": stack_versions,
        "checkExit": check.returncode,
        "check": check.stderr.strip().splitlines()[-5:],
        "seconds": round(time.monotonic() - t_start),
    }
    print(json.dumps(summary, indent=2))
    return check.returncode


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", required=True, help="fixture path (.json.gz)")
    p.add_argument("--dir", help="devnet directory (default: a new temporary directory)")
    p.add_argument("--blocks", type=int, default=560, help="last L2 block of the fixture")
    p.add_argument("--phases", default=DEFAULT_PHASES,
                   help="op-batcher phases FROM_L2:DA:BATCH_TYPE:COMPRESSION,... "
                        f"(default {DEFAULT_PHASES})")
    p.add_argument("--l2-block-time", type=int, default=1)
    p.add_argument("--isthmus", type=int, default=150, help="Isthmus, seconds after genesis")
    p.add_argument("--jovian", type=int, default=450, help="Jovian, seconds after genesis")
    p.add_argument("--karst", type=int, default=None,
                   help="Karst, seconds after genesis (default: not scheduled)")
    p.add_argument("--tx-every", type=int, default=3, help="an L2 user tx every N L2 blocks")
    p.add_argument("--keep", action="store_true", help="leave the devnet running")
    return run(p.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
