"""Helpers for the batcher unit tests: a chain of L2 blocks with real signed transactions, a
rollup config (OP Mainnet's, forks shifted where a test needs it), and decoding of what the
batcher produced with the *reading* side of pyop.codec (frames -> channel -> batches), which
op-node's derivation mirrors."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from eth_account import Account

from pyop.batcher.blocks import L2Block
from pyop.batcher.channel_config import ChannelConfig, CompressorConfig, max_data_size
from pyop.batcher.tx_data import TxData
from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.blob import decode_blob
from pyop.codec.channel import read_channel
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import Frame, parse_frames
from pyop.codec.span_batch import RawSpanBatch
from pyop.config import RollupConfig, network_config
from pyop.primitives import BlockID

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
L2_GENESIS = 1_750_000_000


def rollup(**changes: object) -> RollupConfig:
    """OP Mainnet's rollup config (every fork through Holocene active for these timestamps)."""
    return replace(network_config("op-mainnet"), **changes)  # type: ignore[arg-type]


def h(*parts: object) -> bytes:
    return hashlib.sha256(repr(parts).encode()).digest()


def _noise(seed: int, size: int) -> bytes:
    """Incompressible bytes (so channel sizes are realistic)."""
    out = b""
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return out[:size]


def signed_tx(nonce: int, size: int = 40, chain_id: int = 10) -> bytes:
    tx = {"type": 2, "chainId": chain_id, "nonce": nonce, "maxPriorityFeePerGas": 1000,
          "maxFeePerGas": 10**9, "gas": 100_000, "to": "0x" + "11" * 20, "value": nonce,
          "data": _noise(nonce, size)}  # fmt: skip
    return bytes(Account.sign_transaction(tx, KEY).raw_transaction)


def chain(n: int, *, start: int = 1, txs_per_block: int = 2, tx_size: int = 40,
          blocks_per_epoch: int = 3, l1_start: int = 100, l1_time0: int = L2_GENESIS,
          parent: bytes | None = None, ts0: int | None = None) -> list[L2Block]:  # fmt: skip
    """``n`` consecutive L2 blocks (2 s apart), a new L1 origin every ``blocks_per_epoch``."""
    out: list[L2Block] = []
    prev = parent or h("l2", start - 1)
    nonce = start * 1000
    for i in range(n):
        num = start + i
        epoch = (num - start) // blocks_per_epoch
        origin = BlockID(h("l1", l1_start + epoch), l1_start + epoch)
        txs = []
        for _ in range(txs_per_block):
            txs.append(signed_tx(nonce, tx_size))
            nonce += 1
        b = L2Block(num, h("l2", num), prev, (ts0 or L2_GENESIS) + 2 * num, origin,
                    (num - start) % blocks_per_epoch, tuple(txs), l1_time0 + 12 * epoch)  # fmt: skip
        out.append(b)
        prev = b.hash
    return out


def channel_config(*, blobs: bool = False, batch_type: int = 0, max_frame: int = 120_000 - 1,
                   frames: int = 1, kind: str = "shadow", algo: CompressionAlgo = CompressionAlgo.ZLIB,
                   duration: int = 0, seq_window: int = 3600, margin: int = 10,
                   timeout: int = 50) -> ChannelConfig:  # fmt: skip
    return ChannelConfig(seq_window_size=seq_window, channel_timeout=timeout,
                         max_channel_duration=duration, sub_safety_margin=margin,
                         max_frame_size=max_frame, target_num_frames=frames,
                         compressor=CompressorConfig(max_data_size(frames, max_frame), 0.6, kind, algo),
                         batch_type=batch_type, use_blobs=blobs)  # fmt: skip


def tx_frames(td: TxData) -> list[Frame]:
    """The frames a verifier reads from this tx's calldata or blobs (version byte checked)."""
    out: list[Frame] = []
    payloads = [decode_blob(b) for b in td.blobs()] if td.as_blob else [td.call_data()]
    for p in payloads:
        out += parse_frames(p)  # checks the derivation version byte 0x00
    return out


def channel_batches(frames: Sequence[Frame], cfg: RollupConfig) -> list[SingularBatch | RawSpanBatch]:
    """Reassemble one channel's frames (in order) and decode its batches."""
    assert frames and frames[-1].is_last and [f.frame_number for f in frames] == list(range(len(frames)))
    data = b"".join(f.data for f in frames)
    res = read_channel(data, max_rlp_bytes=100_000_000, allow_brotli=True)
    assert res.error is None, res.error
    return [decode_batch(b) for b in res.batches]


def singular_batches(batches: Sequence[SingularBatch | RawSpanBatch], cfg: RollupConfig) -> list[tuple[int, int, tuple[bytes, ...]]]:
    """``(timestamp, epoch number, txs)`` of each block the batches carry."""
    out: list[tuple[int, int, tuple[bytes, ...]]] = []
    for b in batches:
        if isinstance(b, SingularBatch):
            out.append((b.timestamp, b.epoch_num, b.transactions))
        else:
            span = b.derive(cfg.block_time, cfg.genesis.l2_time, cfg.l2_chain_id)
            out += [(e.timestamp, e.epoch_num, tuple(e.transactions)) for e in span.batches]
    return out


def expected(blocks: Sequence[L2Block]) -> list[tuple[int, int, tuple[bytes, ...]]]:
    return [(b.timestamp, b.l1_origin.number, b.transactions) for b in blocks]
