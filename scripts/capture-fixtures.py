#!/usr/bin/env python
"""Capture Go-produced derivation fixtures that exercise the off-happy-path rules (issue 8,
"Tests that would have caught these").

Each scenario starts a fresh devnet (anvil L1, L1 contracts, op-geth, the Go op-node v1.19.6
sequencer; ``pyop.devnet.stack``), drives it, captures L2 blocks with ``pyop capture`` and
writes a gzip fixture into ``spec_vectors/derivation/differential/`` (run from the repository
root; needs the Go peers, ``scripts/build-peers.sh``; every process is stopped by PID)::

    .venv/bin/python scripts/capture-fixtures.py holocene -o spec_vectors/derivation/differential/go-devnet-holocene-activation.json.gz
    .venv/bin/python scripts/capture-fixtures.py faults   -o spec_vectors/derivation/differential/go-devnet-faults.json.gz
    .venv/bin/python scripts/capture-fixtures.py window   -o spec_vectors/derivation/differential/go-devnet-window-expiry.json.gz
    .venv/bin/python scripts/capture-fixtures.py blobfee  -o spec_vectors/derivation/differential/go-devnet-blob-fee.json.gz --after 60

Scenarios (L2 block time 2 s, L1 block time 2 s):

- ``holocene``: every fork through Granite at genesis, Holocene at ``--holocene`` seconds
  (Isthmus/Jovian unscheduled); the Go op-batcher posts span batches (calldata) throughout,
  with L2 user txs, a deposit and SystemConfig gas-limit updates before and after. Derivation
  runs the pre-Holocene ChannelBank/BatchQueue first, then swaps to the Holocene stages.
- ``faults``: Holocene at ``--holocene``, a short sequencing window, no Go op-batcher: our
  misbehaving batcher (:mod:`pyop.devnet.batcher_faults`) posts every step of
  :data:`pyop.devnet.batcher_faults.plans.STEPS` before and after Holocene (invalid, late, duplicate,
  out-of-order and overlapping batches / frames / channels), each followed by valid batches
  read from the Go sequencer's unsafe chain. Then the :data:`~pyop.devnet.batcher_faults.plans.FINDING_STEPS`
  (audit D4, D6, D7, D9), each captured into its own small fixture
  (``<out>-<step>.json.gz``) so that each fails only on its own finding. A manifest of what
  was posted where goes to ``<out>.manifest.json``.
- ``window``: Holocene at ``--holocene``, sequencing window ``--seq-window`` L1 blocks, the Go
  op-batcher with L2 user txs every block; the batcher is stopped (``admin_stopBatcher``) past
  the window twice (before and after Holocene, with an L1 deposit during each outage), the Go
  op-node derives forced empty (deposit-only) blocks and reorgs its unsafe chain, then the
  batcher resumes (``admin_startBatcher``).
- ``blobfee``: an anvil L1 started from a genesis with ``excessBlobGas`` ``--excess-blob-gas``
  (anvil 1.7.1 keeps it at 0 from its default genesis whatever the load), the default fork
  schedule (Holocene at genesis, Isthmus +180 s, Jovian +300 s), the Go op-batcher posting
  blobs, and an L1 blob load (:mod:`pyop.devnet.blob_load`:
  4 txs of 2 blobs per L1 block to another address for ``--load-blocks`` L1 blocks), so the L1
  ``excessBlobGas`` climbs and falls and the L1-info ``blobBaseFee`` goes well above 1.

At the end each fixture is checked with ``pyop derive --fixture F --check --explain``; the
drop reasons and decisions it printed are counted in the JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import gzip
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pyop.config import Fork  # noqa: E402
from pyop.config.rollup import load_rollup_config  # noqa: E402
from pyop.devnet.anvil import DEFAULT_L1_CHAIN_ID, anvil_argv, anvil_binary  # noqa: E402
from pyop.devnet.batcher_faults.batcher import FaultyBatcher  # noqa: E402
from pyop.devnet.batcher_faults.plans import FINDING_STEPS, STEPS, StepRecord, catch_up, run_step  # noqa: E402
from pyop.devnet.blob_load import BlobLoad  # noqa: E402
from pyop.devnet.keys import dev_key  # noqa: E402
from pyop.devnet.l1_chain_config import l1_chain_config  # noqa: E402
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS  # noqa: E402
from pyop.devnet.process import (  # noqa: E402
    PidRegistry,
    free_port,
    start_process,
    wait_for_http,
    wait_for_rpc,
)
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError  # noqa: E402
from pyop.devnet.stack import (  # noqa: E402
    DevnetInfo,
    Stack,
    find_peer,
    init_devnet,
    op_batcher_argv,
    start_stack,
)
from pyop.devnet.traffic import L2TxSender, deposit, system_config_call  # noqa: E402

PYOP = str(REPO / ".venv" / "bin" / "pyop")
L2_BLOCK_TIME = 2


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def heads(info: DevnetInfo) -> dict[str, Any]:
    return dict(RpcClient(info.rollup_rpc_url, timeout=10.0).call("optimism_syncStatus"))


def wait_for(cond: Any, what: str, timeout: float, stack: Stack | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if stack is not None:
            dead = [n for n, p in stack.processes.items() if not p.alive()]
            if dead:
                raise RuntimeError(f"{dead} exited: " + stack.processes[dead[0]].log_tail(20))
        try:
            if cond():
                return
        except (RpcError, RpcTransportError, KeyError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.5)


class Traffic(threading.Thread):
    """An L2 user tx every ``every`` seconds until stopped."""

    def __init__(self, info: DevnetInfo, every: float = 1.5) -> None:
        super().__init__(name="l2-traffic", daemon=True)
        self.sender = L2TxSender(info.l2_rpc_url, info.l2_chain_id, info.key("user"))
        self.every = every
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            with contextlib.suppress(RpcError, RpcTransportError):
                self.sender.send()

    def stop(self) -> None:
        self.halt.set()
        self.join(10)


def start_batcher(stack: Stack, da: str, *extra: str, tag: str = "") -> None:
    binary = find_peer("op-batcher")
    assert binary is not None
    info = stack.info
    proc = start_process("op-batcher", [*op_batcher_argv(binary, info, da=da), *extra],
                         log_path=info.logs_dir / f"op-batcher{tag}.log", registry=stack.registry)  # fmt: skip
    stack.processes["op-batcher"] = proc
    wait_for_http(info.url("batcherRpc"), timeout=30, process=proc)
    log(f"op-batcher pid {proc.pid}: {da} {' '.join(extra)}")


def set_seq_window_size(info: DevnetInfo, sws: int) -> None:
    """Rewrite the devnet's rollup.json with another sequencing window (before any rollup node
    reads it; the window is a rollup-config parameter only, derivation.md "Protocol
    Parameters")."""
    cfg = dataclasses.replace(load_rollup_config(info.rollup_path), seq_window_size=sws)
    cfg.check()
    info.rollup_path.write_text(json.dumps(cfg.to_json(), indent=2) + "\n")
    log(f"rollup.json: seq_window_size {sws}")


def start_l1_with_excess_blob_gas(directory: Path, excess: int, registry: PidRegistry) -> str:
    """An anvil L1 (chain 900, Prague, 2 s blocks, as ``init_devnet`` starts it) from a genesis
    whose ``excessBlobGas`` is ``excess``: anvil 1.7.1 started from its default genesis keeps
    ``excessBlobGas`` at 0 under any blob load, but from a non-zero genesis value it accounts
    blob usage (it grows under load above target and falls without). Returns its URL."""
    directory.mkdir(parents=True, exist_ok=True)
    alloc = {dev_key("dev", index=i).address: {"balance": hex(10_000 * 10**18)} for i in range(10)}
    genesis = {
        "config": l1_chain_config(DEFAULT_L1_CHAIN_ID, "prague"), "alloc": alloc,
        "timestamp": hex(int(time.time())), "gasLimit": hex(30_000_000), "baseFeePerGas": hex(10**9),
        "difficulty": "0x0", "excessBlobGas": hex(excess), "blobGasUsed": "0x0", "nonce": "0x0",
        "extraData": "0x", "mixHash": "0x" + "00" * 32, "coinbase": "0x" + "00" * 20,
        "number": "0x0", "parentHash": "0x" + "00" * 32,
    }  # fmt: skip
    path = directory / "l1-genesis.json"
    path.write_text(json.dumps(genesis, indent=1) + "\n")
    port = free_port("127.0.0.1")
    argv = anvil_argv(anvil_binary(), host="127.0.0.1", port=port, chain_id=DEFAULT_L1_CHAIN_ID,
                      block_time=2, slots_in_an_epoch=2, hardfork="prague")  # fmt: skip
    proc = start_process("anvil", [*argv, "--init", str(path)], log_path=directory / "anvil.log",
                         registry=registry)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for_rpc(url, timeout=30, process=proc)
    log(f"L1: anvil pid {proc.pid} at {url} from a genesis with excessBlobGas {excess}")
    return url


def batcher_admin(info: DevnetInfo, method: str) -> None:
    RpcClient(info.url("batcherRpc"), timeout=60.0).call(method)
    log(f"op-batcher {method}")


# --------------------------------------------------------------------------- scenarios


def scenario_holocene(info: DevnetInfo, stack: Stack, args: argparse.Namespace,
                      events: list[str], extra: dict[str, Any]) -> list[tuple[str, int, int]]:  # fmt: skip
    start_batcher(stack, "calldata", "--batch-type=1", "--compression-algo=zlib")
    traffic = Traffic(info)
    traffic.start()
    holo = info.fork_times["holocene"]
    assert holo is not None
    act = (holo - info.l2_genesis_time) // L2_BLOCK_TIME
    end = act + args.after
    plan = [
        (act // 3, "deposit 1 ETH", lambda: deposit(info, "user", 10**18)),
        (act // 2, "setGasLimit(40M)", lambda: system_config_call(info, "setGasLimit", 40_000_000)),
        (act + 10, "deposit 0.5 ETH", lambda: deposit(info, "user", 5 * 10**17)),
        (act + 20, "setGasLimit(35M)", lambda: system_config_call(info, "setGasLimit", 35_000_000)),
    ]
    try:
        while True:
            st = heads(info)
            unsafe, safe = int(st["unsafe_l2"]["number"]), int(st["safe_l2"]["number"])
            while plan and unsafe >= plan[0][0]:
                _, what, action = plan.pop(0)
                events.append(f"L2 unsafe {unsafe}: {what} (L1 block {action()})")
                log(events[-1])
            if safe >= end and not plan:
                break
            if any(not p.alive() for p in stack.processes.values()):
                raise RuntimeError("a process died")
            time.sleep(1)
    finally:
        traffic.stop()
    extra["holoceneActivationBlock"] = act
    extra["l2TxsSent"] = traffic.sender.sent
    return [("", 1, end)]


def scenario_faults(info: DevnetInfo, stack: Stack, args: argparse.Namespace,
                    events: list[str], extra: dict[str, Any]) -> list[tuple[str, int, int]]:  # fmt: skip
    fb = FaultyBatcher.for_devnet(info, log=log)
    traffic = Traffic(info, every=2.0)
    traffic.start()
    holo = info.fork_times["holocene"]
    assert holo is not None
    records: list[StepRecord] = []
    try:
        fb.wait_unsafe(4)
        catch_up(fb)
        pre = [s for s in STEPS if not s.holocene_only]
        # The channel-timeout step first: its channel must time out (50 L1 blocks from Granite)
        # before the Holocene stage swap discards the channel bank.
        pre.sort(key=lambda s: (s.name != "channel_timeout", s.name == "late_batch"))
        for s in pre:
            t = fb.l1_head()[1]
            if t + 30 >= holo:
                raise RuntimeError(f"Holocene ({holo}) comes too early for step {s.name} at L1 "
                                   f"time {t}: raise --holocene")  # fmt: skip
            log(f"step {s.name} (pre-Holocene), cursor {fb.cursor}")
            records.append(run_step(fb, s, holocene=False))
        log("waiting for Holocene to activate on L1 and in the Go pipeline")

        def swapped() -> bool:
            fb.post_valid(label="valid (waiting for Holocene)")
            st = fb.sync_status()
            return int(st["current_l1"]["timestamp"]) > holo + 4 and int(st["safe_l2"]["timestamp"]) > holo

        fb._wait(swapped, "Holocene", timeout=max(120.0, holo - time.time() + 120))
        fb.wait_safe(fb.cursor - 1)
        post = [s for s in STEPS if not s.pre_holocene_only]
        post.sort(key=lambda s: s.name == "late_batch")
        for s in post:
            log(f"step {s.name} (Holocene), cursor {fb.cursor}")
            records.append(run_step(fb, s, holocene=True))
        clean_end = fb.cursor - 1
        ranges: list[tuple[str, int, int]] = [("", 1, clean_end)]
        for s in FINDING_STEPS:
            fb.post_valid(label="valid")
            fb.wait_safe(fb.cursor - 1)
            start = fb.cursor
            log(f"finding step {s.name}, cursor {start}")
            records.append(run_step(fb, s, holocene=True))
            ranges.append((s.name, start, fb.cursor - 1))
        fb.post_valid(label="valid (end)")
        fb.wait_safe(fb.cursor - 1)
    finally:
        traffic.stop()
        extra["steps"] = [r.to_json() for r in records]
        extra["l2TxsSent"] = traffic.sender.sent
    return ranges


def _outage(info: DevnetInfo, stack: Stack, sws: int, events: list[str], tag: str) -> None:
    st = heads(info)
    safe0 = int(st["safe_l2"]["number"])
    batcher_admin(info, "admin_stopBatcher")
    time.sleep(6)  # let the stopping batcher's last transactions land
    st = heads(info)
    safe1, unsafe1 = int(st["safe_l2"]["number"]), int(st["unsafe_l2"]["number"])
    l2 = RpcClient(info.l2_rpc_url)
    before = {n: l2.call("eth_getBlockByNumber", hex(n), False)["hash"] for n in range(safe1 + 1, unsafe1 + 1)}
    events.append(f"{tag}: op-batcher stopped; safe {safe0} -> {safe1} after the stop, unsafe {unsafe1}")
    log(events[-1])
    time.sleep(8)
    blk = deposit(info, "user", 3 * 10**17)
    events.append(f"{tag}: deposit 0.3 ETH during the outage in L1 block {blk}")
    log(events[-1])

    def expired() -> bool:
        s = heads(info)
        return int(s["safe_l2"]["number"]) > safe1 + 4

    wait_for(expired, "the Go op-node to derive forced empty blocks", 120 + 6 * sws, stack)
    time.sleep(4 * info.l1_block_time)
    replaced = [n for n, h in before.items()
                if l2.call("eth_getBlockByNumber", hex(n), False)["hash"] != h]  # fmt: skip
    st = heads(info)
    events.append(f"{tag}: window expired: safe {int(st['safe_l2']['number'])}; unsafe blocks "
                  f"replaced by the reorg: {replaced[:1]}..{replaced[-1:]} ({len(replaced)})")  # fmt: skip
    log(events[-1])
    if not replaced:
        raise RuntimeError("no unsafe block was replaced: the outage did not cause a reorg")
    batcher_admin(info, "admin_startBatcher")
    target = int(heads(info)["unsafe_l2"]["number"])
    try:
        wait_for(lambda: int(heads(info)["safe_l2"]["number"]) >= target, f"safe head {target}", 90, stack)
        events.append(f"{tag}: op-batcher resumed; safe head reached {target}")
    except RuntimeError:
        # After an expiry the first batch must land in the very next L1 block (see
        # pyop.devnet.batcher_faults.plans.recover_after_window_expiry); give the batcher time.
        l1 = RpcClient(info.l1_url)
        l1.call("evm_setIntervalMining", 6)
        try:
            wait_for(lambda: int(heads(info)["safe_l2"]["number"]) >= target, f"safe head {target}", 240, stack)
        finally:
            l1.call("evm_setIntervalMining", info.l1_block_time)
        events.append(f"{tag}: op-batcher resumed; L1 block time raised to 6 s until the safe head "
                      f"reached {target}")  # fmt: skip
    log(events[-1])


def scenario_window(info: DevnetInfo, stack: Stack, args: argparse.Namespace,
                    events: list[str], extra: dict[str, Any]) -> list[tuple[str, int, int]]:  # fmt: skip
    start_batcher(stack, "calldata")
    traffic = Traffic(info, every=1.0)
    traffic.start()
    holo = info.fork_times["holocene"]
    assert holo is not None
    try:
        wait_for(lambda: int(heads(info)["safe_l2"]["number"]) >= 15, "safe head 15", 180, stack)
        _outage(info, stack, args.seq_window, events, "pre-Holocene outage")
        wait_for(lambda: int(heads(info)["safe_l2"]["timestamp"]) > holo + 20, "Holocene",
                 max(200.0, holo - time.time() + 200), stack)  # fmt: skip
        _outage(info, stack, args.seq_window, events, "Holocene outage")
        end = int(heads(info)["unsafe_l2"]["number"]) + 15
        wait_for(lambda: int(heads(info)["safe_l2"]["number"]) >= end, f"safe head {end}", 240, stack)
    finally:
        traffic.stop()
        extra["l2TxsSent"] = traffic.sender.sent
    return [("", 1, end)]


def scenario_blobfee(info: DevnetInfo, stack: Stack, args: argparse.Namespace,
                     events: list[str], extra: dict[str, Any]) -> list[tuple[str, int, int]]:  # fmt: skip
    start_batcher(stack, "blobs")
    traffic = Traffic(info, every=2.0)
    traffic.start()
    load = BlobLoad(info.l1_url, info.l1_chain_id, dev_key("load", index=7).private_key_hex,
                    blobs_per_tx=args.blobs_per_tx, txs_per_block=8 // args.blobs_per_tx)  # fmt: skip
    l1 = RpcClient(info.l1_url)
    try:
        wait_for(lambda: int(heads(info)["unsafe_l2"]["number"]) >= 10, "unsafe 10", 120, stack)
        start_l1 = int(l1.call("eth_blockNumber"), 16)
        load.start()
        events.append(f"blob load started at L1 block {start_l1}")
        log(events[-1])
        wait_for(lambda: int(l1.call("eth_blockNumber"), 16) >= start_l1 + args.load_blocks,
                 "the blob load", 30 + 3 * args.load_blocks, stack)  # fmt: skip
        load.stop()
        head = l1.call("eth_getBlockByNumber", "latest", False)
        events.append(f"blob load stopped at L1 block {int(head['number'], 16)}: {load.sent} txs, "
                      f"excessBlobGas {int(head['excessBlobGas'], 16)}, errors {len(load.errors)}")  # fmt: skip
        log(events[-1])
        if int(head["excessBlobGas"], 16) <= args.excess_blob_gas:
            # The load must have raised the excess (else the L1 does not account blob usage and
            # the fixture would not show a moving blob base fee): make no fixture.
            raise RuntimeError("the L1 did not raise excessBlobGas under blob load above target: "
                               "no blob-fee fixture can be made from this L1")  # fmt: skip
        end = int(heads(info)["unsafe_l2"]["number"]) + args.after
        wait_for(lambda: int(heads(info)["safe_l2"]["number"]) >= end, f"safe head {end}", 600, stack)
    finally:
        load.stop()
        traffic.stop()
        extra["l2TxsSent"] = traffic.sender.sent
        extra["blobLoadErrors"] = load.errors[:5]
    return [("", 1, end)]


SCENARIOS = {
    "holocene": scenario_holocene,
    "faults": scenario_faults,
    "window": scenario_window,
    "blobfee": scenario_blobfee,
}


# --------------------------------------------------------------------------- capture + check


def explain_counts(path: Path) -> tuple[int, dict[str, int], dict[str, int], str]:
    """Run ``pyop derive --fixture --check --explain``: exit code, drop-reason counts, decision
    counts and the last stderr lines."""
    r = subprocess.run([PYOP, "derive", "--fixture", str(path), "--check", "--explain"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)  # fmt: skip
    drops: collections.Counter[str] = collections.Counter()
    decisions: collections.Counter[str] = collections.Counter()
    for line in r.stderr.splitlines():
        m = re.match(r"(drop|decision): [^:]*: ([A-Z_0-9]+)", line)
        if m:
            (drops if m.group(1) == "drop" else decisions)[m.group(2)] += 1
    tail = "\n".join(ln for ln in r.stderr.splitlines()[-12:] if not ln.startswith(("drop:", "decision:")))
    return r.returncode, dict(drops), dict(decisions), tail


def capture(info: DevnetInfo, frm: int, to: int, out: Path) -> dict[str, Any]:
    raw = out.with_suffix("")  # .json
    cmd = [PYOP, "capture", f"--l1={info.l1_url}", f"--l1.beacon={info.l1_beacon_url}",
           f"--l2={info.l2_rpc_url}", f"--rollup-config={info.rollup_path}",
           f"--rollup.l1-chain-config={info.l1_chain_config_path}",
           f"--from-l2={frm}", f"--to-l2={to}", "-o", str(raw)]  # fmt: skip
    log(" ".join(cmd))
    subprocess.run(cmd, check=True)
    out.write_bytes(gzip.compress(raw.read_bytes(), compresslevel=9, mtime=0))
    obj = json.loads(raw.read_text())
    raw.unlink()
    code, drops, decisions, tail = explain_counts(out)
    l1 = [int(b["header"]["number"], 16) for b in obj["l1Blocks"]]
    return {"output": out.name, "l2Blocks": [frm, to], "l1Blocks": [min(l1), max(l1)],
            "sizeBytes": out.stat().st_size, "checkExit": code, "drops": drops,
            "decisions": decisions, "check": tail}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    directory = Path(args.dir or tempfile.mkdtemp(prefix=f"pyop-fixture-{args.scenario}-")).resolve()
    offsets = dict(DEFAULT_FORK_OFFSETS)
    sws = None
    if args.scenario in ("holocene", "faults", "window"):
        offsets[Fork.HOLOCENE] = args.holocene
        offsets[Fork.ISTHMUS] = None
        offsets[Fork.JOVIAN] = None
    if args.scenario in ("faults", "window"):
        sws = args.seq_window
    registry = PidRegistry(directory)
    l1_registry: PidRegistry | None = None
    events: list[str] = []
    extra: dict[str, Any] = {}
    t0 = time.monotonic()
    out = Path(args.output).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        l1_url = None
        if args.scenario == "blobfee":
            l1dir = directory.with_name(directory.name + "-l1")
            l1_registry = PidRegistry(l1dir)
            l1_url = start_l1_with_excess_blob_gas(l1dir, args.excess_blob_gas, l1_registry)
        info = init_devnet(directory, l1_url=l1_url, l2_block_time=L2_BLOCK_TIME, fork_offsets=offsets,
                           log=log)  # fmt: skip
        if sws is not None:
            set_seq_window_size(info, sws)
        stack = start_stack(info, stack="go", batcher=False, proposer=False, log=log)
        ranges = SCENARIOS[args.scenario](info, stack, args, events, extra)
        time.sleep(6 * info.l1_block_time)  # L1 margin after the last batches
        for name, frm, to in ranges:
            path = out if not name else out.with_name(out.name.replace(".json.gz", f"-{name}.json.gz"))
            results.append(capture(info, frm, to, path))
        versions = {n: subprocess.run([str(find_peer(n)), "--version"], capture_output=True,
                                      text=True, check=False).stdout.strip()
                    for n in ("op-node", "op-batcher", "geth")}  # fmt: skip
    finally:
        if not args.keep:
            log(f"stopping: {registry.stop_all(sigint_timeout=20.0)}")
            if l1_registry is not None:
                log(f"stopping the L1: {l1_registry.stop_all(sigint_timeout=10.0)}")
    summary = {
        "scenario": args.scenario, "devnet": str(directory), "fixtures": results,
        "events": events, "forkTimes": info.fork_times, "l2GenesisTime": info.l2_genesis_time,
        "seqWindowSize": sws, "versions": versions, "seconds": round(time.monotonic() - t0),
        **extra,
    }  # fmt: skip
    if args.scenario == "faults":
        manifest = out.with_name(out.name.replace(".json.gz", ".manifest.json"))
        manifest.write_text(json.dumps({k: v for k, v in summary.items() if k != "devnet"}, indent=1) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("-o", "--output", required=True, help="fixture path (.json.gz)")
    p.add_argument("--dir", help="devnet directory (default: a new temporary directory)")
    p.add_argument("--keep", action="store_true", help="leave the devnet running")
    p.add_argument("--holocene", type=int, default=None,
                   help="Holocene, seconds after L2 genesis (default per scenario)")  # fmt: skip
    p.add_argument("--after", type=int, default=40, help="L2 blocks to run after the last event")
    p.add_argument("--seq-window", type=int, default=10, help="sequencing window (L1 blocks)")
    p.add_argument("--load-blocks", type=int, default=100, help="L1 blocks under blob load")
    p.add_argument("--blobs-per-tx", type=int, default=2, help="blob load: 8 blobs per L1 block in all")
    p.add_argument("--excess-blob-gas", type=int, default=10_000_000,
                   help="blobfee: the L1 genesis excessBlobGas (anvil needs a non-zero start)")  # fmt: skip
    args = p.parse_args()
    if args.holocene is None:
        args.holocene = {"holocene": 120, "faults": 300, "window": 200}.get(args.scenario, 0)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
