"""How the batcher builds channels (op-batcher/batcher/channel_config.go,
channel_config_provider.go).

Sizes (specs/protocol/derivation.md "Frame Format", ecotone/derivation.md "Blob encoding"): a
calldata tx carries one frame after the version byte, so a frame is at most
``--max-l1-tx-size-bytes - 1``; a blob carries ``MAX_BLOB_DATA_SIZE`` (130,044) bytes of which
the first is the version byte, so a blob frame is at most 130,043 bytes. The compressor target
is ``target_num_frames * (max_frame_size - FRAME_OVERHEAD)`` (Go ``MaxDataSize``).

DA ``auto`` (Go ``DynamicEthChannelConfig``): before a channel's first tx, compare the cost of
one calldata tx and one blob tx *per byte of data*; ``blob_cost * calldata_bytes >
calldata_cost * blob_bytes`` picks calldata. Calldata cost uses the EIP-7623 floor
(``21000 + 10 * tokens``, 4 tokens per byte), blob cost ``21000`` execution gas plus
``131072`` blob gas per blob at the blob base fee.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from pyop.batcher.errors import BatcherConfigError
from pyop.codec.blob import MAX_BLOB_DATA_SIZE
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import FRAME_OVERHEAD
from pyop.opservice.logs import kv
from pyop.txmgr.fees import GAS_PER_BLOB, GasPriceCaps

CompressorKind = Literal["shadow", "ratio", "none"]
COMPRESSOR_KINDS: tuple[str, ...] = ("ratio", "shadow", "none")
COMPRESSION_ALGOS: dict[str, tuple[CompressionAlgo, int]] = {
    "zlib": (CompressionAlgo.ZLIB, 0),
    "brotli": (CompressionAlgo.BROTLI, 10),
    "brotli-9": (CompressionAlgo.BROTLI, 9),
    "brotli-10": (CompressionAlgo.BROTLI, 10),
    "brotli-11": (CompressionAlgo.BROTLI, 11),
}
"""``--compression-algo`` values (Go ``derive.CompressionAlgos``): algorithm and Brotli quality
("brotli" is level 10, Go ``GetBrotliLevel``)."""
DA_TYPES = ("calldata", "blobs", "auto")
SINGULAR_BATCH_TYPE = 0
SPAN_BATCH_TYPE = 1
TX_GAS = 21_000
TOTAL_COST_FLOOR_PER_TOKEN = 10
"""EIP-7623 ``TOTAL_COST_FLOOR_PER_TOKEN``."""
CALLDATA_MAX_FRAME_SIZE_AUTO = 120_000
"""Go ``initChannelConfig``: the calldata side of DA ``auto`` uses 120,000-byte frames."""

log = logging.getLogger("pyop.batcher.channel_config")

__all__ = ["COMPRESSION_ALGOS", "COMPRESSOR_KINDS", "DA_TYPES", "ChannelConfig",
           "ChannelConfigProvider", "CompressorConfig", "DynamicEthChannelConfig",
           "StaticChannelConfig", "max_data_size"]  # fmt: skip


def max_data_size(num_frames: int, max_frame_size: int) -> int:
    """Compressed bytes that fit ``num_frames`` frames (Go ``MaxDataSize``)."""
    if max_frame_size < FRAME_OVERHEAD:
        raise BatcherConfigError(f"max frame size {max_frame_size} smaller than the frame overhead")
    return num_frames * (max_frame_size - FRAME_OVERHEAD)


@dataclass(frozen=True, slots=True)
class CompressorConfig:
    """Go ``compressor.Config``: the size target and how the channel is compressed."""

    target_output_size: int
    approx_compr_ratio: float
    kind: str
    algo: CompressionAlgo
    brotli_quality: int = 10


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """Go ``ChannelConfig``; block counts are L1 blocks."""

    seq_window_size: int
    channel_timeout: int
    max_channel_duration: int
    sub_safety_margin: int
    max_frame_size: int
    target_num_frames: int
    compressor: CompressorConfig
    batch_type: int = SINGULAR_BATCH_TYPE
    use_blobs: bool = False
    max_blocks_per_span_batch: int = 0

    def max_frames_per_tx(self) -> int:
        """One frame per calldata tx, ``target_num_frames`` blobs per blob tx."""
        return self.target_num_frames if self.use_blobs else 1

    def with_compressor(self) -> ChannelConfig:
        """The same config with the compressor target recomputed (Go
        ``ReinitCompressorConfig``)."""
        c = self.compressor
        return replace(self, compressor=replace(
            c, target_output_size=max_data_size(self.target_num_frames, self.max_frame_size)))

    def check(self) -> None:
        """Go ``ChannelConfig.Check``."""
        if self.channel_timeout < self.sub_safety_margin:
            raise BatcherConfigError(
                f"channel timeout is less than the safety margin: {self.channel_timeout} < "
                f"{self.sub_safety_margin} (--sub-safety-margin)")
        if self.max_frame_size < FRAME_OVERHEAD:
            raise BatcherConfigError(f"max frame size {self.max_frame_size} is less than the "
                                     f"minimum {FRAME_OVERHEAD}")  # fmt: skip
        if self.batch_type not in (SINGULAR_BATCH_TYPE, SPAN_BATCH_TYPE):
            raise BatcherConfigError(f"unrecognized batch type: {self.batch_type}")
        if self.target_num_frames < 1:
            raise BatcherConfigError(f"invalid number of frames {self.target_num_frames}")


class ChannelConfigProvider(Protocol):
    """Which config the next channel uses (Go ``ChannelConfigProvider``)."""

    async def channel_config(self) -> ChannelConfig: ...


class StaticChannelConfig:
    """Always the same config (calldata or blobs)."""

    def __init__(self, cfg: ChannelConfig) -> None:
        self.cfg = cfg

    async def channel_config(self) -> ChannelConfig:
        return self.cfg


def single_calldata_tx_cost(num_tokens: int, base_fee: int, tip_cap: int) -> int:
    """Go ``computeSingleCalldataTxCost``: EIP-7623 floor gas times the gas price."""
    return (TX_GAS + num_tokens * TOTAL_COST_FLOOR_PER_TOKEN) * (base_fee + tip_cap)


def single_blob_tx_cost(num_blobs: int, base_fee: int, tip_cap: int, blob_base_fee: int) -> int:
    """Go ``computeSingleBlobTxCost``: 21000 gas plus the blob gas."""
    return TX_GAS * (base_fee + tip_cap) + GAS_PER_BLOB * num_blobs * blob_base_fee


class DynamicEthChannelConfig:
    """DA ``auto`` (module docstring); starts on the blob config; on a price query error keeps
    the last choice."""

    def __init__(self, blob_cfg: ChannelConfig, calldata_cfg: ChannelConfig,
                 gas_pricer: Callable[[], Awaitable[GasPriceCaps]]) -> None:  # fmt: skip
        self.blob_cfg = blob_cfg
        self.calldata_cfg = calldata_cfg
        self.gas_pricer = gas_pricer
        self.last = blob_cfg

    def choose(self, caps: GasPriceCaps) -> ChannelConfig:
        """The cheaper config per byte at ``caps`` (Go ``ChannelConfig``)."""
        calldata_bytes = self.calldata_cfg.max_frame_size + 1  # +1 version byte
        tokens = calldata_bytes * 4  # assume non-zero bytes
        nblobs = self.blob_cfg.target_num_frames
        calldata_cost = single_calldata_tx_cost(tokens, caps.base_fee, caps.tip_cap)
        blob_cost = single_blob_tx_cost(nblobs, caps.base_fee, caps.tip_cap, caps.blob_base_fee)
        blob_bytes = MAX_BLOB_DATA_SIZE * nblobs
        use_calldata = blob_cost * calldata_bytes > calldata_cost * blob_bytes
        ratio = (blob_cost * calldata_bytes) / max(1, calldata_cost * blob_bytes)
        log.info("Using calldata channel config" if use_calldata else "Using blob channel config",
                 extra=kv(base_fee=caps.base_fee, blob_base_fee=caps.blob_base_fee,
                          tip_cap=caps.tip_cap, calldata_cost=calldata_cost,
                          blob_cost=blob_cost, cost_ratio=round(ratio, 4)))  # fmt: skip
        self.last = self.calldata_cfg if use_calldata else self.blob_cfg
        return self.last

    async def channel_config(self) -> ChannelConfig:
        try:
            caps = await self.gas_pricer()
        except Exception as e:
            log.warning("Error querying gas prices, returning last config", extra=kv(err=str(e)))
            return self.last
        return self.choose(caps)
