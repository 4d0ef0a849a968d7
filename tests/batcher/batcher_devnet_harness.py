"""Shared pieces of the pyop-batcher devnet tests (tests/batcher/test_batcher_devnet*.py).

A devnet where the Go op-node sequences and ``pyop batcher`` posts the batches (the Go
op-proposer is off: nothing here needs outputs), with two verifiers deriving from L1 only: the
Go op-node (the reference) and ``pyop node``. A background sender puts user transactions into
L2 blocks so batches carry real transactions. Everything is stopped by PID at the end
(``PidRegistry.stop_all``), also the processes a test restarted.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.blob import decode_blob
from pyop.codec.channel import read_channel
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import Frame, parse_frames
from pyop.config import Fork
from pyop.devnet.process import ManagedProcess, PidRegistry, start_process, wait_for_http
from pyop.devnet.roles import Roles
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.devnet.stack import (
    PEERS,
    StackError,
    Verifier,
    init_devnet,
    pyop_batcher_argv,
    require_peers,
    start_stack,
    start_verifier,
)
from pyop.primitives import hex_to_int
from tests.devnet.devnet_stack_harness import Devnet, batch_inbox, wait_for

BATCHER = "pyop-batcher"


def require_go_peers() -> None:
    try:
        require_peers([p for p in PEERS if p != "op-batcher"])
    except StackError as e:
        pytest.skip(f"Go reference peers unavailable, so no live devnet: {e}")


@dataclass
class BatcherDevnet:
    """The devnet, its verifiers and the current pyop batcher process."""

    dn: Devnet
    go: Verifier | None = None
    py: Verifier | None = None
    batcher_flags: list[str] = field(default_factory=list)
    spammer: L2Sender | None = None
    restarts: int = 0

    @property
    def registry(self) -> PidRegistry:
        return PidRegistry(self.dn.info.directory)

    @property
    def batcher(self) -> ManagedProcess:
        p = self.registry.get(BATCHER)
        assert p is not None, "pyop batcher is not registered"
        return p

    def batcher_log(self, since: int = 0) -> str:
        return self.batcher.log_path.read_bytes()[since:].decode("utf-8", "replace")

    def batcher_log_size(self) -> int:
        try:
            return self.batcher.log_path.stat().st_size
        except OSError:
            return 0

    def stop_batcher(self, *, kill: bool = False) -> None:
        p = self.batcher
        if kill:
            os.kill(p.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while p.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
        else:
            mark = self.batcher_log_size()
            p.stop(sigint_timeout=20.0)
            # a clean shutdown leaves no aiohttp session open (it warns "Unclosed client session")
            assert "Unclosed" not in self.batcher_log(mark), self.batcher_log(mark)[-2000:]
        assert not p.alive()

    def start_batcher(self, flags: Sequence[str], *, da: str = "calldata") -> ManagedProcess:
        """(Re)start pyop batcher with the devnet's op-batcher command line plus ``flags``."""
        info = self.dn.info
        self.registry.remove(BATCHER)
        da_url = info.url("daServer") if info.altda else None
        argv = pyop_batcher_argv(info, da="calldata" if info.altda else da, da_server_url=da_url,
                                 extra=flags)  # fmt: skip
        p = start_process(BATCHER, argv, log_path=info.logs_dir / f"{BATCHER}.log",
                          registry=self.registry)  # fmt: skip
        wait_for_http(info.url("batcherRpc"), timeout=60, process=p)
        self.dn.stack.processes[BATCHER] = p
        self.batcher_flags = list(flags)
        self.restarts += 1
        return p

    def restart_batcher(self, flags: Sequence[str], *, da: str = "calldata", kill: bool = False) -> ManagedProcess:
        self.stop_batcher(kill=kill)
        return self.start_batcher(flags, da=da)

    def admin(self, method: str) -> Any:
        return RpcClient(self.dn.info.url("batcherRpc"), timeout=180.0).call(method)

    def l1_head(self) -> int:
        return hex_to_int(self.dn.l1.call("eth_blockNumber"))

    def unsafe(self) -> int:
        return int(self.dn.sync_status()["unsafe_l2"]["number"])

    def verifiers(self) -> list[Verifier]:
        return [v for v in (self.go, self.py) if v is not None]

    def wait_verified(self, target: int, timeout: float, what: str = "") -> dict[str, str]:
        """Wait until every verifier's safe head is at or past ``target``; then each verifier's
        block ``target`` must be the sequencer's (same hash). Returns ``kind -> hash``."""
        seq_l2 = self.dn.l2
        out: dict[str, str] = {}
        for v in self.verifiers():
            vc = RpcClient(v.rollup_rpc_url, timeout=10.0)
            wait_for(lambda vc=vc: int(vc.call("optimism_syncStatus")["safe_l2"]["number"]) >= target,  # type: ignore[misc]
                     timeout, f"the {v.kind} verifier's safe head to reach {target} {what}")  # fmt: skip
            mine = RpcClient(v.op_geth.http_url, timeout=10.0).call("eth_getBlockByNumber", hex(target), False)
            theirs = seq_l2.call("eth_getBlockByNumber", hex(target), False)
            assert mine["hash"] == theirs["hash"], (
                f"{v.kind} verifier block {target} {mine['hash']} != sequencer's {theirs['hash']} {what}")
            out[v.kind] = mine["hash"]
        return out


def bring_up(tmp: Path, *, fork_offsets: Mapping[Fork, int | None] | None = None, altda: bool = False,
             batcher_flags: Sequence[str] = (), da: str = "calldata", seq_window_size: int | None = None,
             l1_block_time: int = 2, label: str = "") -> Iterator[BatcherDevnet]:  # fmt: skip
    """The body of a module-scoped fixture: init + up (Go sequencer, pyop batcher, no proposer),
    both verifiers, an L2 sender; yield; then stop everything."""
    require_go_peers()
    directory = tmp / "devnet"
    registry = PidRegistry(directory)
    sender: L2Sender | None = None
    try:
        t0 = time.monotonic()
        info = init_devnet(directory, fork_offsets=fork_offsets, altda=altda, l1_slots_per_epoch=4,
                           seq_window_size=seq_window_size, l1_block_time=l1_block_time,
                           log=lambda _m: None)  # fmt: skip
        init_s = time.monotonic() - t0
        t0 = time.monotonic()
        st = start_stack(info, da=da, proposer=False, log=lambda _m: None,
                         roles=Roles(node="go", batcher="pyop", proposer="go"),
                         batcher_extra=list(batcher_flags))  # fmt: skip
        up_s = time.monotonic() - t0
        dn = Devnet(info=info, stack=st, init_seconds=init_s, up_seconds=up_s)
        bd = BatcherDevnet(dn, batcher_flags=list(batcher_flags))
        bd.go = start_verifier(info, kind="go")
        bd.py = start_verifier(info, name="pyopverifier", kind="pyop")
        sender = L2Sender(info.l2_rpc_url, info.key("user"), info.l2_chain_id)
        sender.start()
        bd.spammer = sender
        print(f"\n[{label} devnet] init {init_s:.1f}s, up {up_s:.1f}s ({st.timings})")
        yield bd
    finally:
        if sender is not None:
            sender.stop()
        outcomes = registry.stop_all(sigint_timeout=20.0)
        print(f"\n[{label} devnet] stopped: {outcomes}")
        assert PidRegistry(directory).entries() == []


class L2Sender(threading.Thread):
    """Sends a signed L2 transaction every ``interval`` seconds (EIP-1559 with 100-600 bytes of
    data, every third one legacy: about 0.7 KB/s of batch data), re-reading the nonce after any error (an L2 reorg can drop
    pending txs)."""

    def __init__(self, l2_url: str, key: str, chain_id: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True, name="l2-sender")
        self.rpc = RpcClient(l2_url, timeout=5.0)
        self.acct = Account.from_key(key)
        self.chain_id = chain_id
        self.interval = interval
        self._halt = threading.Event()
        self.sent = 0
        self.errors = 0

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def run(self) -> None:
        nonce: int | None = None
        i = 0
        while not self._halt.wait(self.interval):
            try:
                if nonce is None:
                    nonce = hex_to_int(self.rpc.call("eth_getTransactionCount", self.acct.address, "pending"))
                size = 100 + (i * 97) % 500
                data = b"".join(hashlib.sha256(f"{i}:{j}".encode()).digest() for j in range(size // 32 + 1))
                tx: dict[str, Any] = {"chainId": self.chain_id, "nonce": nonce, "gas": 100_000 + 40 * size,
                                      "to": to_checksum_address(hashlib.sha256(b"to" + bytes([i % 7])).digest()[:20]),
                                      "value": i, "data": data[:size]}  # fmt: skip
                if i % 3 == 2:
                    tx["gasPrice"] = 2 * 10**9
                else:
                    tx.update(maxFeePerGas=2 * 10**9, maxPriorityFeePerGas=10**6)
                raw = Account.sign_transaction(tx, self.acct.key).raw_transaction
                self.rpc.call("eth_sendRawTransaction", "0x" + bytes(raw).hex())
                nonce += 1
                self.sent += 1
                i += 1
            except (RpcError, RpcTransportError, OSError, KeyError, ValueError):
                self.errors += 1
                nonce = None


# ----------------------------------------------------------------------------- L1 inspection


@dataclass
class PostedChannel:
    """One channel as posted to L1 by the batcher."""

    id: bytes
    frames: list[Frame] = field(default_factory=list)
    tx_types: set[int] = field(default_factory=set)
    l1_blocks: set[int] = field(default_factory=set)
    commitments: int = 0

    def complete(self) -> bool:
        nums = sorted(f.frame_number for f in self.frames)
        return bool(self.frames) and any(f.is_last for f in self.frames) and nums == list(range(len(nums)))

    def read(self) -> tuple[CompressionAlgo, list[str]]:
        """Compression and batch kinds (``singular``/``span``) of a complete channel."""
        frames = sorted(self.frames, key=lambda f: f.frame_number)
        res = read_channel(b"".join(f.data for f in frames), max_rlp_bytes=100_000_000, allow_brotli=True)
        assert res.error is None, res.error
        kinds = ["singular" if isinstance(decode_batch(b), SingularBatch) else "span" for b in res.batches]
        return res.compression, kinds


def posted_channels(dn: Devnet, from_l1: int, to_l1: int) -> dict[bytes, PostedChannel]:
    """The channels of batcher txs in L1 blocks ``from_l1..to_l1`` (calldata and blobs)."""
    inbox = batch_inbox(dn).lower()
    batcher = str(dn.info.keys["batcher"]["address"]).lower()
    out: dict[bytes, PostedChannel] = {}
    for n in range(from_l1, to_l1 + 1):
        blk = dn.l1.call("eth_getBlockByNumber", hex(n), True)
        for tx in blk["transactions"]:
            if (tx.get("to") or "").lower() != inbox or tx["from"].lower() != batcher:
                continue
            t = hex_to_int(tx["type"])
            if t == 3:
                blobs = dn.l1.call("anvil_getBlobsByTransactionHash", tx["hash"])
                payloads = [decode_blob(bytes.fromhex(b[2:])) for b in blobs]
            else:
                payloads = [bytes.fromhex(tx["input"][2:])]
            for p in payloads:
                if p[:1] == b"\x01":  # alt-DA commitment
                    ch = out.setdefault(b"altda", PostedChannel(b"altda"))
                    ch.commitments += 1
                    ch.tx_types.add(t)
                    ch.l1_blocks.add(n)
                    continue
                for f in parse_frames(p):
                    ch = out.setdefault(f.channel_id, PostedChannel(f.channel_id))
                    ch.frames.append(f)
                    ch.tx_types.add(t)
                    ch.l1_blocks.add(n)
    return out


def log_has(text: str, needle: str) -> int:
    return text.count(needle)


def metrics_text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        return str(r.read().decode())


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, default=str)
