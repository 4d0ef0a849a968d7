"""One channel being built and submitted (op-batcher/batcher/channel_builder.go ``ChannelBuilder``
and channel.go ``channel``).

Encoding is :mod:`pyop.codec`'s: a :class:`~pyop.codec.channel_out.ChannelOut` of singular
batches (with the shadow, ratio or none compressor) or a
:class:`~pyop.codec.channel_out.SpanChannelOut` holding span batches (delta/span-batches.md),
cut into frames of at most ``max_frame_size`` bytes. This module adds the batcher's
bookkeeping:

**When a channel is full** (stops taking blocks), as op-batcher decides:

- the compressor reached its size target, or ``MAX_RLP_BYTES_PER_CHANNEL`` would be passed;
- ``--max-channel-duration``: the L1 head reached the L1 origin of the last submitted channel
  plus that many blocks (``0`` disables it);
- the sequencing window: the L1 head reached ``origin + seq_window_size - sub_safety_margin``
  for the oldest L1 origin in the channel (derivation.md "Sequencing Window": a batch must be
  included within ``seq_window_size`` L1 blocks of its epoch);
- the channel timeout: once a frame is on L1 at block ``n``, the L1 head reached ``n +
  channel_timeout - sub_safety_margin`` (derivation.md "Channel Timeout": all frames within
  ``CHANNEL_TIMEOUT`` blocks of the first);
- 65535 frames (the uint16 frame number), or an explicit close (``admin_flushBatcher``,
  shutdown).

**Submission**: frames are kept from the first; a cursor marks the next to send. A failed tx
rewinds the cursor to its first frame, so the frames go again in order (Holocene's strict
frame order, holocene/derivation.md "Frame Queue"). A confirmed tx records its inclusion block;
if the first and last inclusion blocks are ``channel_timeout`` or more apart the channel timed
out on chain and its blocks must be sent again in a new channel.
"""

from __future__ import annotations

import logging

from pyop.batcher.blocks import L2Block
from pyop.batcher.channel_config import SPAN_BATCH_TYPE, ChannelConfig
from pyop.batcher.tx_data import FrameData, FrameID, TxData, TxID
from pyop.codec.batch import SingularBatch
from pyop.codec.channel_out import ChannelOut, MaxFrameIndexError, SpanChannelOut, TerminatedError
from pyop.codec.compression import (
    ChannelFullError,
    Compressor,
    NoneCompressor,
    RatioCompressor,
    ShadowCompressor,
)
from pyop.codec.frame import FRAME_OVERHEAD, ChannelID
from pyop.codec.span_batch import SpanBatch
from pyop.config import RollupConfig
from pyop.opservice.logs import kv
from pyop.primitives import BlockID

__all__ = [
    "Channel",
    "ChannelTimeoutCloseError",
    "MaxDurationReachedError",
    "SeqWindowCloseError",
    "new_channel_out",
]

MAX_FRAME_NUMBER = 0xFFFF
log = logging.getLogger("pyop.batcher.channel")


class MaxDurationReachedError(ChannelFullError):
    """Go ``ErrMaxDurationReached``: "max channel duration reached"."""


class ChannelTimeoutCloseError(ChannelFullError):
    """Go ``ErrChannelTimeoutClose``: "close to channel timeout"."""


class SeqWindowCloseError(ChannelFullError):
    """Go ``ErrSeqWindowClose``: "close to sequencer window timeout"."""


def new_channel_out(cfg: ChannelConfig, channel_id: ChannelID | None = None) -> ChannelOut | SpanChannelOut:
    """The codec channel out for ``cfg`` (Go ``NewChannelOut``); ``max_rlp_bytes`` is set per
    block by :class:`Channel`."""
    c = cfg.compressor
    if cfg.batch_type == SPAN_BATCH_TYPE:
        return SpanChannelOut(target_output_size=c.target_output_size, max_rlp_bytes=0,
                              compression=c.algo, channel_id=channel_id,
                              brotli_quality=c.brotli_quality)  # fmt: skip
    comp: Compressor
    if c.kind == "none":
        comp = NoneCompressor(c.target_output_size)
    elif c.kind == "shadow":
        comp = ShadowCompressor(c.target_output_size, c.algo, brotli_quality=c.brotli_quality)
    else:
        comp = RatioCompressor(c.target_output_size, c.approx_compr_ratio, c.algo,
                               brotli_quality=c.brotli_quality)  # fmt: skip
    return ChannelOut(max_rlp_bytes=0, compression=c.algo, compressor=comp, channel_id=channel_id)


class Channel:
    """See the module docstring. ``latest_l1_origin_block_num``: the L1 origin of the last
    submitted channel (for ``--max-channel-duration``)."""

    def __init__(self, cfg: ChannelConfig, rollup: RollupConfig, latest_l1_origin_block_num: int,
                 *, channel_id: ChannelID | None = None) -> None:  # fmt: skip
        self.cfg = cfg
        self.rollup = rollup
        self.co = new_channel_out(cfg, channel_id)
        self.blocks: list[L2Block] = []
        self.timeout = 0
        self._timeout_reason: type[ChannelFullError] = MaxDurationReachedError
        self.full_err: ChannelFullError | None = None
        self.latest_l1_origin = BlockID(b"\x00" * 32, 0)
        self.oldest_l1_origin = BlockID(b"\x00" * 32, 0)
        self.latest_l2 = BlockID(b"\x00" * 32, 0)
        self.oldest_l2 = BlockID(b"\x00" * 32, 0)
        self.frames: list[FrameData] = []
        self.frame_cursor = 0
        self.output_bytes = 0
        self.pending_txs: dict[TxID, TxData] = {}
        self.confirmed_txs: dict[TxID, BlockID] = {}
        self.min_inclusion_block = 2**64 - 1
        self.max_inclusion_block = 0
        # span batches: sealed ones (encoded) and the open one (its singular batches)
        self._sealed: list[bytes] = []
        self._span: list[SingularBatch] = []
        self._span_first_seq = 0
        self._update_duration_timeout(latest_l1_origin_block_num)

    @property
    def id(self) -> ChannelID:
        return self.co.id

    def __repr__(self) -> str:
        return f"Channel({self.id.hex()}, blocks={len(self.blocks)}, frames={len(self.frames)})"

    # ------------------------------------------------------------------ blocks

    def is_full(self) -> bool:
        return self.full_err is not None

    def _set_full(self, err: ChannelFullError) -> None:
        self.full_err = err

    def input_bytes(self) -> int:
        return self.co.input_bytes()

    def ready_bytes(self) -> int:
        return self.co.ready_bytes()

    def add_block(self, block: L2Block) -> None:
        """Add ``block``'s batch (Go ``ChannelBuilder.AddBlock``). Raises
        :class:`~pyop.codec.compression.ChannelFullError` (the block was not added) when the
        channel is or becomes full; a block that fits but fills it is added."""
        if self.full_err is not None:
            raise self.full_err
        batch = block.singular_batch()
        # MAX_RLP_BYTES_PER_CHANNEL by the batch's timestamp, as op-batcher
        # (ChainSpec.MaxRLPBytesPerChannel(batch.Timestamp)) [Changed in Fjord]
        self.co.max_rlp_bytes = self.rollup.max_rlp_bytes_per_channel(block.timestamp)
        try:
            if isinstance(self.co, SpanChannelOut):
                self._add_span(self.co, batch, block.sequence_number)
            else:
                self.co.add_batch(batch.encode())
        except ChannelFullError as e:
            self._set_full(e)
            raise
        self.blocks.append(block)
        self._update_sw_timeout(block.l1_origin.number)
        if block.l1_origin.number > self.latest_l1_origin.number:
            self.latest_l1_origin = block.l1_origin
        if self.oldest_l1_origin.number == 0 or block.l1_origin.number < self.oldest_l1_origin.number:
            self.oldest_l1_origin = block.l1_origin
        if block.number > self.latest_l2.number:
            self.latest_l2 = block.id
        if self.oldest_l2.number == 0 or block.number < self.oldest_l2.number:
            self.oldest_l2 = block.id
        full = self.co.full_err()
        if full is not None:
            self._set_full(full)

    def _add_span(self, co: SpanChannelOut, batch: SingularBatch, seq_num: int) -> None:
        """Append a block to the open span batch and re-encode the channel's batches (Go
        ``SpanChannelOut.addSingularBatch``; ``--max-blocks-per-span-batch`` seals the open span
        batch first when it is full)."""
        if self.cfg.max_blocks_per_span_batch and len(self._span) >= self.cfg.max_blocks_per_span_batch:
            self._sealed.append(self._encode_span())
            self._span = []
        if not self._span:
            self._span_first_seq = seq_num
        self._span.append(batch)
        try:
            co.set_batches([*self._sealed, self._encode_span()])
        except ChannelFullError:
            self._span.pop()
            raise

    def _encode_span(self) -> bytes:
        # origin_bits[0]: the first block starts a new epoch (sequence number 0), as op-node's
        # SpanBatch.AppendSingularBatch sets it
        return SpanBatch.from_singular_batches(
            self._span, self.rollup.genesis.l2_time, self.rollup.l2_chain_id,
            origin_changed_bit=self._span_first_seq == 0,
        ).encode()

    # ------------------------------------------------------------------ timeouts

    def _update_timeout(self, block_num: int, reason: type[ChannelFullError]) -> None:
        if self.timeout == 0 or self.timeout > block_num:
            self.timeout = block_num
            self._timeout_reason = reason

    def _update_duration_timeout(self, l1_block_num: int) -> None:
        if self.cfg.max_channel_duration == 0:
            return
        self._update_timeout(l1_block_num + self.cfg.max_channel_duration, MaxDurationReachedError)

    def _update_sw_timeout(self, l1_origin_num: int) -> None:
        self._update_timeout(l1_origin_num + self.cfg.seq_window_size - self.cfg.sub_safety_margin,
                             SeqWindowCloseError)  # fmt: skip

    def frame_published(self, l1_block_num: int) -> None:
        """A frame is on L1 at ``l1_block_num``: the rest must follow within the channel
        timeout (Go ``FramePublished``)."""
        self._update_timeout(l1_block_num + self.cfg.channel_timeout - self.cfg.sub_safety_margin,
                             ChannelTimeoutCloseError)  # fmt: skip

    def check_timeout(self, l1_block_num: int) -> None:
        """Close the channel if the L1 head reached its timeout (Go ``CheckTimeout``)."""
        if self.timeout and not self.is_full() and l1_block_num >= self.timeout:
            reason = {MaxDurationReachedError: "max channel duration reached",
                      ChannelTimeoutCloseError: "close to channel timeout",
                      SeqWindowCloseError: "close to sequencer window timeout"}[self._timeout_reason]  # fmt: skip
            self._set_full(self._timeout_reason(reason))

    def close(self) -> None:
        """Mark the channel full (Go ``Close``: ``ErrTerminated``)."""
        if not self.is_full():
            self._set_full(TerminatedError("channel terminated"))

    # ------------------------------------------------------------------ frames

    def _output_frame(self) -> bool:
        """Cut one frame; ``True`` if it was the last."""
        frame = self.co.output_frame(self.cfg.max_frame_size)
        if frame.frame_number == MAX_FRAME_NUMBER and not frame.is_last:
            self._set_full(MaxFrameIndexError("max frame index reached (uint16)"))
        data = frame.encode()
        self.frames.append(FrameData(data, FrameID(self.id, frame.frame_number)))
        self.output_bytes += len(data)
        return frame.is_last

    def output_frames(self) -> None:
        """Cut what can be cut (Go ``OutputFrames``): every remaining frame once full, else only
        whole frames of ready data."""
        if self.is_full():
            if not self.co.closed:
                self.co.close()
            while not self.co.done:
                self._output_frame()
            return
        while self.co.ready_bytes() + FRAME_OVERHEAD >= self.cfg.max_frame_size:
            if self._output_frame() or self.is_full():
                return

    def total_frames(self) -> int:
        return len(self.frames)

    def pending_frames(self) -> int:
        return len(self.frames) - self.frame_cursor

    def has_pending_frame(self) -> bool:
        return self.frame_cursor < len(self.frames)

    def next_frame(self) -> FrameData:
        f = self.frames[self.frame_cursor]
        self.frame_cursor += 1
        return f

    def rewind_frame_cursor(self, frame: FrameData) -> None:
        """Send again from ``frame`` (Go ``RewindFrameCursor``)."""
        n = frame.id.frame_number
        if n >= len(self.frames) or self.frames[n].id != frame.id:
            raise ValueError("cannot rewind to unknown frame")
        self.frame_cursor = min(self.frame_cursor, n)

    # ------------------------------------------------------------------ txs

    def has_tx_data(self) -> bool:
        """A tx can be sent: any pending frame for calldata or a full channel, else enough
        frames for a blob tx (Go ``HasTxData``)."""
        if self.is_full() or not self.cfg.use_blobs:
            return self.has_pending_frame()
        return self.pending_frames() >= self.cfg.max_frames_per_tx()

    def next_tx_data(self) -> TxData:
        """The frames of the next tx (Go ``NextTxData``)."""
        frames: list[FrameData] = []
        while len(frames) < self.cfg.max_frames_per_tx() and self.has_pending_frame():
            frames.append(self.next_frame())
        td = TxData(tuple(frames), self.cfg.use_blobs)
        self.pending_txs[td.id] = td
        return td

    def tx_failed(self, tx_id: TxID) -> None:
        """Go ``channel.TxFailed``: rewind to the tx's first frame."""
        td = self.pending_txs.pop(tx_id, None)
        if td is None:
            log.warning("unknown transaction marked as failed", extra=kv(id=str(tx_id)))
            return
        self.rewind_frame_cursor(td.frames[0])

    def tx_confirmed(self, tx_id: TxID, inclusion: BlockID) -> bool:
        """Go ``channel.TxConfirmed``: returns whether the channel timed out on chain."""
        if self.pending_txs.pop(tx_id, None) is None:
            log.warning("unknown transaction marked as confirmed", extra=kv(id=str(tx_id)))
            return False
        self.confirmed_txs[tx_id] = inclusion
        self.frame_published(inclusion.number)
        self.min_inclusion_block = min(self.min_inclusion_block, inclusion.number)
        self.max_inclusion_block = max(self.max_inclusion_block, inclusion.number)
        if self.is_fully_submitted():
            log.info("Channel is fully submitted", extra=kv(
                id=self.id.hex(), min_inclusion_block=self.min_inclusion_block,
                max_inclusion_block=self.max_inclusion_block))  # fmt: skip
        if self.is_timed_out():
            log.warning("Channel timed out", extra=kv(id=self.id.hex(),
                        min_inclusion_block=self.min_inclusion_block,
                        max_inclusion_block=self.max_inclusion_block))  # fmt: skip
            return True
        return False

    def is_timed_out(self) -> bool:
        """Go ``isTimedOut``: confirmed txs ``channel_timeout`` or more L1 blocks apart.

        Before Granite the rollup's (longer) channel timeout applied; using Granite's shorter
        one here can only make the batcher resubmit a channel that would still have been valid,
        never accept an invalid one (Go's comment)."""
        return bool(self.confirmed_txs) and \
            self.max_inclusion_block - self.min_inclusion_block >= self.cfg.channel_timeout

    def is_fully_submitted(self) -> bool:
        return self.is_full() and not self.pending_txs and self.pending_frames() == 0

    def none_submitted(self) -> bool:
        return not self.confirmed_txs and not self.pending_txs

    def max_inclusion(self) -> int:
        return self.max_inclusion_block
