"""``pyop decode``: batcher data, blobs, channels, L1-info and deposit transactions -> JSON.

The spec readers' counterpart of op-node's ``batch_decoder``: every value printed is what the
wire format says, decoded by the same codec the node and batcher use.

JSON shapes (hashes and ids are 0x-hex strings, numbers JSON integers):

- frame: ``channel_id``, ``frame_number``, ``data_length``, ``is_last``
- channel: ``channel_id`` (when known), ``compression`` ("zlib" | "brotli"),
  ``decompressed_size``, ``batches``; ``error`` when the channel's batch stream is damaged
  after some batches (the batches before it are still listed, as the node would read them)
- singular batch: ``type`` "singular", ``parent_hash``, ``epoch_num``, ``epoch_hash``,
  ``timestamp``, ``tx_count`` (+ ``txs`` with ``--txs``)
- span batch: ``type`` "span", ``rel_timestamp``, ``l1_origin_num``, ``parent_check``,
  ``l1_origin_check``, ``block_count``, ``total_txs``, ``blocks`` (``timestamp``,
  ``epoch_num``, ``tx_count`` (+ ``txs``)).

Limits: the L1 inclusion time of the data is not known offline, so channels are read with the
most permissive rules (brotli allowed, the Fjord size limit of 100,000,000 bytes); the node
applies the per-fork limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.blob import BLOB_SIZE, decode_blob
from pyop.codec.channel import assemble_channels, read_channel
from pyop.codec.errors import CodecError, TxError
from pyop.codec.frame import DERIVATION_VERSION_0, Frame, parse_frames
from pyop.codec.span_batch import RawSpanBatch
from pyop.codec.tx import decode_signed_tx
from pyop.config import RollupConfig
from pyop.primitives import PyopError, to_hex
from pyop.protocol.deposits import DEPOSIT_TX_TYPE, DepositTx, decode_deposit_tx
from pyop.protocol.l1_info import L1BlockInfo, decode_l1_info

JSON = dict[str, Any]

MAX_RLP_BYTES_OFFLINE = 100_000_000
"""Fjord's MAX_RLP_BYTES_PER_CHANNEL (specs/protocol/fjord/derivation.md), used offline."""

DEFAULT_BLOCK_TIME = 2
"""Used for relative span-batch timestamps when no rollup config is given."""


class DecodeError(PyopError):
    """An input the decode tool cannot use (not batcher data, a blob tx without blobs, ...)."""


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """What the caller knows: a rollup config makes span timestamps absolute and allows tx hashes."""

    config: RollupConfig | None = None
    with_txs: bool = False
    block_time: int = DEFAULT_BLOCK_TIME


def frame_json(f: Frame) -> JSON:
    return {
        "channel_id": to_hex(f.channel_id),
        "frame_number": f.frame_number,
        "data_length": len(f.data),
        "is_last": f.is_last,
    }


def _tx_hashes(txs: tuple[bytes, ...] | list[bytes]) -> list[str]:
    return [to_hex(keccak(tx)) for tx in txs]


def singular_batch_json(b: SingularBatch, opts: DecodeOptions) -> JSON:
    out: JSON = {
        "type": "singular",
        "parent_hash": to_hex(b.parent_hash),
        "epoch_num": b.epoch_num,
        "epoch_hash": to_hex(b.epoch_hash),
        "timestamp": b.timestamp,
        "tx_count": len(b.transactions),
    }
    if opts.with_txs:
        out["txs"] = _tx_hashes(b.transactions)
    return out


def span_batch_json(raw: RawSpanBatch, opts: DecodeOptions) -> JSON:
    """A span batch; block timestamps are absolute with a config, else relative to L2 genesis."""
    cfg = opts.config
    if cfg is not None:
        span = raw.derive(cfg.block_time, cfg.genesis.l2_time, cfg.l2_chain_id)
    else:
        # Relative timestamps: genesis time 0. Chain id 0 is never used for hashing here.
        span = raw.derive(opts.block_time, 0, 0)
    blocks: list[JSON] = []
    full_txs: list[list[bytes]] | None = None
    if opts.with_txs:
        if cfg is None:
            raise DecodeError(
                "--txs on a span batch needs --network or --rollup-config: "
                "the L2 chain id is part of every signed transaction it carries"
            )
        full_txs = [list(el.transactions) for el in span.batches]
    for i, el in enumerate(span.batches):
        block: JSON = {
            "timestamp": el.timestamp,
            "epoch_num": el.epoch_num,
            "tx_count": len(el.transactions),
        }
        if full_txs is not None:
            block["txs"] = _tx_hashes(full_txs[i])
        blocks.append(block)
    return {
        "type": "span",
        "rel_timestamp": raw.rel_timestamp,
        "l1_origin_num": raw.l1_origin_num,
        "parent_check": to_hex(raw.parent_check),
        "l1_origin_check": to_hex(raw.l1_origin_check),
        "block_count": raw.block_count,
        "total_txs": sum(raw.block_tx_counts),
        "blocks": blocks,
    }


def batch_json(data: bytes, opts: DecodeOptions) -> JSON:
    b = decode_batch(data)
    if isinstance(b, SingularBatch):
        return singular_batch_json(b, opts)
    return span_batch_json(b, opts)


def channel_json(channel_data: bytes, opts: DecodeOptions, channel_id: bytes | None = None) -> JSON:
    """Decompress one channel and decode its batches (specs/protocol/derivation.md#channel-format)."""
    ch = read_channel(channel_data, max_rlp_bytes=MAX_RLP_BYTES_OFFLINE, allow_brotli=True)
    out: JSON = {}
    if channel_id is not None:
        out["channel_id"] = to_hex(channel_id)
    out["compression"] = ch.compression.name.lower()
    out["decompressed_size"] = ch.decompressed_len
    out["batches"] = [batch_json(b, opts) for b in ch.batches]
    if ch.error is not None:
        out["error"] = str(ch.error)
    return out


def frames_and_channels_json(frames: list[Frame], opts: DecodeOptions) -> JSON:
    """``{"frames": [...], "channels": [...]}``; incomplete channels are listed with their state."""
    channels: list[JSON] = []
    for ch in assemble_channels(frames):
        if ch.complete:
            channels.append(channel_json(ch.data, opts, ch.channel_id))
        else:
            channels.append(
                {
                    "channel_id": to_hex(ch.channel_id),
                    "complete": False,
                    "frames_present": [f.frame_number for f in ch.frames],
                    "batches": [],
                }
            )
    return {"frames": [frame_json(f) for f in frames], "channels": channels}


def batcher_calldata(data: bytes) -> bytes:
    """Batcher calldata as given, or the data field of a whole signed L1 transaction."""
    if not data:
        raise DecodeError("empty input")
    if data[0] == DERIVATION_VERSION_0:
        return data
    try:
        tx = decode_signed_tx(data)
    except TxError as e:
        raise DecodeError(
            f"input is neither batcher calldata (first byte {data[0]:#04x}, expected the "
            f"derivation version byte 0x00) nor a signed L1 transaction ({e})"
        ) from None
    if tx.tx_type == 3:
        raise DecodeError(
            "a blob transaction carries its batcher data in blobs: decode each blob with "
            "`pyop decode blob`"
        )
    if not tx.data:
        raise DecodeError("the transaction has no calldata")
    return tx.data


def decode_calldata(data: bytes, opts: DecodeOptions) -> JSON:
    return frames_and_channels_json(parse_frames(batcher_calldata(data)), opts)


def decode_blob_json(blob: bytes, opts: DecodeOptions) -> JSON:
    if len(blob) != BLOB_SIZE:
        raise DecodeError(f"a blob is {BLOB_SIZE} bytes; got {len(blob)}")
    return frames_and_channels_json(parse_frames(decode_blob(blob)), opts)


def l1_info_json(info: L1BlockInfo) -> JSON:
    """The L1-info fields under op-node's names, in snake_case."""
    return info.to_json()


def deposit_json(tx: DepositTx) -> JSON:
    return {
        "source_hash": to_hex(tx.source_hash),
        "from": to_hex(tx.from_),
        "to": to_hex(tx.to) if tx.to is not None else None,
        "mint": tx.mint,
        "value": tx.value,
        "gas": tx.gas,
        "is_system_tx": tx.is_system_tx,
        "data": to_hex(tx.data),
        "tx_hash": to_hex(tx.tx_hash()),
    }


def decode_l1_info_input(data: bytes) -> JSON:
    """L1-info calldata, or a whole L1-info deposit transaction (then its data is used)."""
    if data[:1] == bytes([DEPOSIT_TX_TYPE]):
        dep = decode_deposit_tx(data)
        out = l1_info_json(decode_l1_info(dep.data))
        out["tx_hash"] = to_hex(dep.tx_hash())
        out["source_hash"] = to_hex(dep.source_hash)
        return out
    return l1_info_json(decode_l1_info(data))


def decode_deposit_input(data: bytes) -> JSON:
    return deposit_json(decode_deposit_tx(data))


__all__ = [
    "CodecError",
    "DecodeError",
    "DecodeOptions",
    "channel_json",
    "decode_blob_json",
    "decode_calldata",
    "decode_deposit_input",
    "decode_l1_info_input",
]
