"""A misbehaving batcher: posts batcher transactions of our choosing to a devnet's batch inbox.

The sequencer (the Go op-node or ``pyop node``) builds the unsafe chain; :class:`FaultyBatcher`
reads those blocks from the L2 EL, turns them into singular or span batches
(:mod:`pyop.codec.batch`, :mod:`pyop.codec.span_batch`), compresses them into channels
(:func:`pyop.codec.channel_out.compress_batches`), cuts frames (:class:`pyop.codec.frame.Frame`)
and posts them as calldata of L1 transactions signed with the batcher key -- *or* anything else:
garbage, frames in the wrong order, the same frame twice, a batch on the wrong parent, a batch
for a later block, a span batch overlapping the safe chain, a batch held back past its
sequencing window. Stop the real op-batcher (``admin_stopBatcher``) while this one posts.

Spec of what is posted: specs/protocol/derivation.md "Batch Submission Wire Format" (version
byte 0 followed by frames), "Frame Format", "Channel Format", "Batch Format";
delta/span-batches.md "Span Batch Format". The L1 transactions are EIP-1559 (type 2) unless a
caller asks for another type (e.g. type 4, to probe which transaction types a node reads).

It keeps a *cursor*: the next L2 block number for which no valid batch was posted yet.
:meth:`FaultyBatcher.post_valid` posts valid batches from the cursor on and advances it; every
other method leaves the cursor alone, so a fault never loses a block: the next valid post
fills the gap. :class:`Posted` records say which L1 block each transaction landed in.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address

from pyop.codec.batch import SingularBatch
from pyop.codec.channel_out import compress_batches
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import CHANNEL_ID_LENGTH, FRAME_OVERHEAD, Frame
from pyop.codec.span_batch import SpanBatch
from pyop.codec.tx import DEPOSIT_TX_TYPE
from pyop.config.rollup import RollupConfig, load_rollup_config
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.primitives import ExecutionPayload, PyopError, hex_to_int, to_hex
from pyop.protocol.l1_info import L1BlockInfo, decode_l1_info_tx
from pyop.sources.blockjson import block_tx_list, payload_from_block_json, raw_tx_from_json

DERIVATION_VERSION_0 = 0
"""The batcher transaction version byte (derivation.md "Batcher Transaction Format")."""

MAX_CALLDATA_PER_TX = 120_000
"""Calldata bytes per L1 transaction (op-batcher's default ``--max-l1-tx-size`` is 120,000)."""

Batchable = SingularBatch | SpanBatch
Log = Callable[[str], None]


class FaultyBatcherError(PyopError):
    """The faulty batcher could not read the L2 chain or get a transaction included."""


@dataclass(frozen=True, slots=True)
class Posted:
    """One L1 transaction the faulty batcher sent, and where it landed."""

    label: str
    tx_hash: str
    l1_block: int
    l1_time: int
    tx_type: int
    sender: str
    l2_blocks: tuple[int, int] | None = None
    """The L2 block numbers ``(first, last)`` the posted batches are for, if any."""
    note: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "label": self.label, "txHash": self.tx_hash, "l1Block": self.l1_block,
            "l1Time": self.l1_time, "txType": self.tx_type, "sender": self.sender,
        }  # fmt: skip
        if self.l2_blocks is not None:
            out["l2Blocks"] = list(self.l2_blocks)
        if self.note:
            out["note"] = self.note
        return out


# --------------------------------------------------------------------------- pure encoders


def new_channel_id() -> bytes:
    """A random 16-byte channel id (what op-batcher uses)."""
    return os.urandom(CHANNEL_ID_LENGTH)


def channel_data(batches: Sequence[Batchable | bytes], algo: CompressionAlgo = CompressionAlgo.ZLIB) -> bytes:
    """The compressed channel of ``batches`` (each a batch or already-typed batch bytes, e.g.
    a deliberately undecodable ``b"\\x05..."``): derivation.md "Channel Format"."""
    return compress_batches([b if isinstance(b, bytes) else b.encode() for b in batches], algo)


def cut_frames(data: bytes, *, channel_id: bytes | None = None, count: int = 1) -> list[Frame]:
    """``data`` cut into ``count`` frames (as even as possible; the last one closes the channel).
    ``count`` may exceed ``len(data)``: the extra frames are empty."""
    if count < 1:
        raise FaultyBatcherError("a channel needs at least one frame")
    cid = channel_id if channel_id is not None else new_channel_id()
    step = -(-len(data) // count) if data else 0
    out = []
    for i in range(count):
        chunk = data[i * step : (i + 1) * step] if step else b""
        out.append(Frame(cid, i, chunk, i == count - 1))
    return out


def frames_for_size(data: bytes, *, channel_id: bytes | None = None,
                    max_calldata: int = MAX_CALLDATA_PER_TX) -> list[Frame]:  # fmt: skip
    """``data`` cut into as few frames as fit one per transaction of ``max_calldata`` bytes."""
    per = max_calldata - 1 - FRAME_OVERHEAD
    return cut_frames(data, channel_id=channel_id, count=max(1, -(-len(data) // per)))


def batcher_calldata(frames: Sequence[Frame]) -> bytes:
    """Version byte 0 followed by the encoded frames (derivation.md "Batcher Transaction
    Format")."""
    return bytes([DERIVATION_VERSION_0]) + b"".join(f.encode() for f in frames)


def non_deposit_txs(p: ExecutionPayload) -> tuple[bytes, ...]:
    """The transactions a batch carries for an L2 block: all but the deposits (derivation.md
    "Batch Format": deposits come from L1, not from batches)."""
    return tuple(t for t in p.transactions if not (t and t[0] == DEPOSIT_TX_TYPE))


def l1_info_of(p: ExecutionPayload) -> L1BlockInfo:
    """The L1-info deposit (first transaction) of a non-genesis L2 block."""
    if not p.transactions:
        raise FaultyBatcherError(f"L2 block {p.block_number} has no L1-info deposit")
    return decode_l1_info_tx(p.transactions[0])[1]


def batch_of(p: ExecutionPayload) -> SingularBatch:
    """The singular batch that reproduces L2 block ``p`` (op-batcher ``BlockToSingularBatch``)."""
    info = l1_info_of(p)
    return SingularBatch(
        parent_hash=p.parent_hash,
        epoch_num=info.number,
        epoch_hash=info.block_hash,
        timestamp=p.timestamp,
        transactions=non_deposit_txs(p),
    )


# --------------------------------------------------------------------------- the batcher


@dataclass
class FaultyBatcher:
    """Posts batcher transactions to ``cfg.batch_inbox_address`` on the L1 at ``l1_url``.

    ``l2_url``: the sequencer's L2 EL (blocks to batch); ``rollup_url``: its rollup node
    (``optimism_syncStatus``, for the safe head). ``batcher_key``: the SystemConfig batcher's
    private key (``0x`` hex).
    """

    cfg: RollupConfig
    l1_url: str
    l2_url: str
    rollup_url: str
    batcher_key: str
    log: Log = field(default=lambda _msg: None)
    poll: float = 0.25
    l1_block_time: int = 2
    """The anvil L1's normal block time (restored by :meth:`set_l1_block_time` users)."""
    cursor: int = 0
    posted: list[Posted] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.l1 = RpcClient(self.l1_url, timeout=20.0)
        self.l2 = RpcClient(self.l2_url, timeout=20.0)
        self.rollup = RpcClient(self.rollup_url, timeout=20.0)
        self.address = Account.from_key(self.batcher_key).address

    @classmethod
    def for_devnet(cls, info: Any, *, log: Log | None = None) -> FaultyBatcher:
        """For a :class:`pyop.devnet.stack.DevnetInfo` (its rollup.json, URLs and batcher key)."""
        return cls(
            cfg=load_rollup_config(Path(info.rollup_path)),
            l1_url=info.l1_url, l2_url=info.l2_rpc_url, rollup_url=info.rollup_rpc_url,
            batcher_key=info.key("batcher"), log=log or (lambda _msg: None),
            l1_block_time=int(info.l1_block_time or 2),
        )  # fmt: skip

    # ------------------------------------------------------------------ reading the chains

    def sync_status(self) -> dict[str, Any]:
        return dict(self.rollup.call("optimism_syncStatus"))

    def heads(self) -> tuple[int, int]:
        """``(unsafe, safe)`` L2 head numbers of the rollup node."""
        st = self.sync_status()
        return int(st["unsafe_l2"]["number"]), int(st["safe_l2"]["number"])

    def payload(self, n: int, wait: float = 30.0) -> ExecutionPayload:
        """L2 block ``n`` of the EL's canonical chain, with raw transactions (waiting up to
        ``wait`` seconds for the sequencer to build it)."""
        deadline = time.monotonic() + wait
        while True:
            obj = self.l2.call("eth_getBlockByNumber", hex(n), True)
            if isinstance(obj, dict):
                break
            if time.monotonic() > deadline:
                raise FaultyBatcherError(f"L2 block {n} not found")
            time.sleep(self.poll)
        raw = [raw_tx_from_json(t) for t in block_tx_list(obj)]
        return payload_from_block_json(obj, raw)

    def batch(self, n: int) -> SingularBatch:
        """The valid singular batch of L2 block ``n`` (from the current canonical chain)."""
        return batch_of(self.payload(n))

    def batches(self, first: int, last: int) -> list[SingularBatch]:
        """Valid singular batches of L2 blocks ``first..last`` (inclusive)."""
        return [self.batch(n) for n in range(first, last + 1)]

    def span(self, first: int, last: int, *, txs: dict[int, tuple[bytes, ...]] | None = None) -> SpanBatch:
        """The span batch of L2 blocks ``first..last``; ``txs`` replaces the transactions of
        some blocks (by number) to make a batch that does not match the chain."""
        ps = [self.payload(n) for n in range(first, last + 1)]
        bs = [batch_of(p) for p in ps]
        if txs:
            bs = [SingularBatch(b.parent_hash, b.epoch_num, b.epoch_hash, b.timestamp,
                                txs.get(p.block_number, b.transactions))
                  for p, b in zip(ps, bs, strict=True)]  # fmt: skip
        first_seq = l1_info_of(ps[0]).sequence_number
        return SpanBatch.from_singular_batches(
            bs, self.cfg.genesis.l2_time, self.cfg.l2_chain_id, origin_changed_bit=first_seq == 0
        )

    def wait_unsafe(self, n: int, timeout: float = 120.0) -> None:
        """Until the unsafe head is at least ``n``."""
        self._wait(lambda: self.heads()[0] >= n, f"unsafe head {n}", timeout)

    def wait_safe(self, n: int, timeout: float = 120.0) -> None:
        """Until the rollup node's safe head is at least ``n``."""
        self._wait(lambda: self.heads()[1] >= n, f"safe head {n}", timeout)

    def l1_head(self) -> tuple[int, int]:
        """``(number, timestamp)`` of the L1 head."""
        b = self.l1.call("eth_getBlockByNumber", "latest", False)
        return hex_to_int(b["number"]), hex_to_int(b["timestamp"])

    def wait_l1_blocks(self, k: int, timeout: float | None = None) -> int:
        """Until ``k`` more L1 blocks exist; returns the new L1 head number."""
        target = self.l1_head()[0] + k
        self._wait(lambda: self.l1_head()[0] >= target, f"L1 block {target}",
                   timeout if timeout is not None else 10.0 + 5.0 * k)  # fmt: skip
        return target

    def wait_l1_time(self, t: int, timeout: float = 600.0) -> int:
        """Until an L1 block with timestamp ``>= t`` exists; returns its number."""
        self._wait(lambda: self.l1_head()[1] >= t, f"L1 time {t}", timeout)
        return self.l1_head()[0]

    def set_l1_block_time(self, seconds: int) -> None:
        """Change anvil's interval-mining period (``evm_setIntervalMining``)."""
        self.l1.call("evm_setIntervalMining", seconds)
        self.log(f"L1 block time set to {seconds}s")

    def _wait(self, cond: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if cond():
                    return
            except (RpcError, RpcTransportError, KeyError, TypeError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise FaultyBatcherError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(self.poll)

    # ------------------------------------------------------------------ posting

    def _fees(self) -> tuple[int, int]:
        base = hex_to_int(self.l1.call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"])
        tip = 10**9
        return 2 * base + tip, tip

    def sign(
        self, calldata: bytes, *, key: str | None = None, tx_type: int = 2, nonce: int | None = None,
        to: str | None = None,
    ) -> tuple[bytes, str, int]:  # fmt: skip
        """A signed L1 transaction carrying ``calldata`` to the batch inbox (or ``to``):
        ``(raw, sender, nonce)``. ``tx_type`` 2 (EIP-1559) or 4 (EIP-7702, with one
        authorization of the sender to the zero address)."""
        k = key or self.batcher_key
        acct = Account.from_key(k)
        if nonce is None:
            nonce = hex_to_int(self.l1.call("eth_getTransactionCount", acct.address, "pending"))
        dest = to_checksum_address(to or to_hex(self.cfg.batch_inbox_address))
        gas = hex_to_int(self.l1.call("eth_estimateGas",
                                      {"from": acct.address, "to": dest, "data": to_hex(calldata)}))  # fmt: skip
        max_fee, tip = self._fees()
        chain_id = self.cfg.l1_chain_id
        tx: dict[str, Any] = {
            "type": 2, "chainId": chain_id, "nonce": nonce, "to": dest, "value": 0,
            "data": calldata, "gas": gas + gas // 5 + 30_000, "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
        }  # fmt: skip
        if tx_type == 4:
            auth = Account.sign_authorization(
                {"chainId": chain_id, "address": "0x" + "00" * 20, "nonce": nonce + 1}, k
            )
            tx["type"] = 4
            tx["authorizationList"] = [auth]
        elif tx_type != 2:
            raise FaultyBatcherError(f"unsupported L1 tx type {tx_type}")
        raw = bytes(Account.sign_transaction(tx, k).raw_transaction)
        return raw, acct.address, nonce

    def send(
        self, calldata: bytes, *, label: str, key: str | None = None, tx_type: int = 2,
        l2_blocks: tuple[int, int] | None = None, note: str = "",
    ) -> Posted:  # fmt: skip
        """One batcher transaction; waits until it is included (successfully)."""
        return self.send_together([calldata], label=label, key=key, tx_type=tx_type,
                                  l2_blocks=l2_blocks, note=note)[0]  # fmt: skip

    def send_together(
        self, calldatas: Sequence[bytes], *, label: str, key: str | None = None, tx_type: int = 2,
        l2_blocks: tuple[int, int] | None = None, note: str = "",
    ) -> list[Posted]:  # fmt: skip
        """Several transactions from one sender sent back to back (consecutive nonces, so the
        L1 includes them in order, normally in one block); waits for all receipts."""
        hashes: list[tuple[str, str]] = []
        nonce: int | None = None
        for data in calldatas:
            raw, sender, nonce = self.sign(data, key=key, tx_type=tx_type,
                                           nonce=None if nonce is None else nonce + 1)  # fmt: skip
            h = str(self.l1.call("eth_sendRawTransaction", to_hex(raw)))
            hashes.append((h, sender))
        out = []
        for i, (h, sender) in enumerate(hashes):
            r = self._receipt(h)
            blk = hex_to_int(r["blockNumber"])
            t = hex_to_int(self.l1.call("eth_getBlockByNumber", hex(blk), False)["timestamp"])
            p = Posted(label if len(hashes) == 1 else f"{label} [{i + 1}/{len(hashes)}]", h, blk,
                       t, tx_type, sender, l2_blocks, note)  # fmt: skip
            self.posted.append(p)
            out.append(p)
            self.log(f"posted {p.label}: L1 block {blk}"
                     + (f", L2 blocks {l2_blocks[0]}..{l2_blocks[1]}" if l2_blocks else ""))  # fmt: skip
        return out

    def _receipt(self, h: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            r = self.l1.call("eth_getTransactionReceipt", h)
            if r is not None:
                if r.get("status") != "0x1":
                    raise FaultyBatcherError(f"L1 tx {h} failed")
                return dict(r)
            if time.monotonic() > deadline:
                raise FaultyBatcherError(f"no receipt for L1 tx {h} after {timeout:.0f}s")
            time.sleep(self.poll)

    def send_frames(self, frames: Sequence[Frame], *, label: str, one_tx: bool = True,
                    **kw: Any) -> list[Posted]:  # fmt: skip
        """``frames`` in one transaction (``one_tx``) or one transaction per frame, in order."""
        if one_tx:
            return [self.send(batcher_calldata(frames), label=label, **kw)]
        return self.send_together([batcher_calldata([f]) for f in frames], label=label, **kw)

    # ------------------------------------------------------------------ the cursor

    def sync_cursor(self) -> int:
        """Set the cursor to the rollup node's safe head + 1 (e.g. at the start, or after the
        sequencing window expired and the chain was rebuilt); returns it."""
        self.cursor = self.heads()[1] + 1
        return self.cursor

    def post_valid(
        self, upto: int | None = None, *, span: bool = False,
        algo: CompressionAlgo = CompressionAlgo.ZLIB, label: str = "valid", max_blocks: int = 60,
        frames: int | None = None,
    ) -> list[Posted]:  # fmt: skip
        """Valid batches for L2 blocks ``cursor..upto`` (default: the unsafe head, at most
        ``max_blocks``) in one channel (singular batches, or one span batch), then advance the
        cursor. Nothing is posted if the cursor is already past ``upto``."""
        last = upto if upto is not None else min(self.heads()[0], self.cursor + max_blocks - 1)
        if last < self.cursor:
            return []
        first = self.cursor
        items: list[Batchable] = [self.span(first, last)] if span else list(self.batches(first, last))
        data = channel_data(items, algo)
        fs = frames_for_size(data) if frames is None else cut_frames(data, count=frames)
        out = self.send_frames(fs, label=label, one_tx=len(fs) == 1 or frames is not None,
                               l2_blocks=(first, last))  # fmt: skip
        self.cursor = last + 1
        return out
