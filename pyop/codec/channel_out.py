"""Writing channels: the batcher's channel out and channel builder.

Specs: specs/protocol/derivation.md "Channel Format" (``rlp_batches`` compressed as a stream,
``MAX_RLP_BYTES_PER_CHANNEL``) and "Frame Format" (frames cut from the compressed stream);
fjord/derivation.md "Brotli Channel Compression". Go reference:
op-node/rollup/derive/channel_out.go (``SingularChannelOut``), span_channel_out.go
(``SpanChannelOut``), op-batcher/batcher/channel_builder.go and op-batcher/compressor.

A channel's uncompressed content is the concatenation of the RLP byte-string encodings of its
batches (each batch: ``batch type ++ payload``; Go ``rlp.Encode(w, NewBatchData(batch))``).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Literal

from pyop.codec.compression import (
    DEFAULT_BROTLI_LGWIN,
    DEFAULT_BROTLI_QUALITY,
    ChannelCompressor,
    ChannelFullError,
    CompressionAlgo,
    Compressor,
    CompressorFullError,
    RatioCompressor,
    ShadowCompressor,
    compress_channel,
)
from pyop.codec.errors import ChannelError
from pyop.codec.frame import CHANNEL_ID_LENGTH, FRAME_OVERHEAD, MAX_FRAME_LEN, ChannelID, Frame

__all__ = [
    "ChannelBuilder",
    "ChannelFullError",
    "ChannelOut",
    "ChannelOutClosedError",
    "CompressorFullError",
    "FrameSizeError",
    "MaxFrameIndexError",
    "SpanChannelOut",
    "TerminatedError",
    "TooManyRLPBytesError",
    "compress_batches",
    "encode_batch_stream",
    "encode_rlp_string",
    "max_data_size",
    "random_channel_id",
]

_MAX_FRAME_NUMBER = 0xFFFF


class TooManyRLPBytesError(ChannelFullError):
    """Adding the batch would take the channel over ``MAX_RLP_BYTES_PER_CHANNEL``
    (Go ``derive.ErrTooManyRLPBytes``)."""


class ChannelOutClosedError(ChannelError):
    """The channel out is closed (Go ``derive.ErrChannelOutAlreadyClosed``)."""


class FrameSizeError(ChannelError):
    """``max_size`` cannot hold the frame overhead plus one data byte."""


class MaxFrameIndexError(ChannelFullError):
    """The channel used every uint16 frame number (Go op-batcher ``ErrMaxFrameIndex``)."""


class TerminatedError(ChannelFullError):
    """The channel was closed on request (Go op-batcher ``ErrTerminated``)."""


def random_channel_id() -> ChannelID:
    """A fresh random channel id (derivation.md "Frame Format": "suggested to be random")."""
    return os.urandom(CHANNEL_ID_LENGTH)


def encode_rlp_string(data: bytes) -> bytes:
    """RLP encoding of a byte string (the wrapping of one batch in ``rlp_batches``)."""
    n = len(data)
    if n == 1 and data[0] < 0x80:
        return bytes(data)
    if n < 56:
        return bytes((0x80 + n,)) + data
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(size),)) + size + data


def encode_batch_stream(batches: Iterable[bytes]) -> bytes:
    """``rlp_batches``: the RLP string encodings of the typed batches, concatenated
    (derivation.md "Channel Format")."""
    return b"".join(encode_rlp_string(b) for b in batches)


def compress_batches(
    batches: Iterable[bytes],
    algo: CompressionAlgo = CompressionAlgo.ZLIB,
    *,
    brotli_quality: int = DEFAULT_BROTLI_QUALITY,
    brotli_lgwin: int = DEFAULT_BROTLI_LGWIN,
) -> bytes:
    """The full channel encoding (the concatenated frame data) of ``batches`` in one go."""
    return compress_channel(
        encode_batch_stream(batches),
        algo,
        brotli_quality=brotli_quality,
        brotli_lgwin=brotli_lgwin,
    )


def max_data_size(num_frames: int, max_frame_size: int) -> int:
    """Compressed bytes that fit in ``num_frames`` frames of ``max_frame_size`` bytes each,
    frame overhead excluded (Go op-batcher ``MaxDataSize``)."""
    if max_frame_size < FRAME_OVERHEAD + 1:
        raise FrameSizeError(f"max frame size {max_frame_size} below {FRAME_OVERHEAD + 1}")
    return num_frames * (max_frame_size - FRAME_OVERHEAD)


class _FrameCutter(ABC):
    """Shared frame output of a channel out over a compressed buffer."""

    def __init__(self, channel_id: ChannelID | None) -> None:
        if channel_id is not None and len(channel_id) != CHANNEL_ID_LENGTH:
            raise ChannelError(f"channel id must be {CHANNEL_ID_LENGTH} bytes")
        self.id: ChannelID = channel_id if channel_id is not None else random_channel_id()
        self.closed = False
        #: Number of the next frame to emit.
        self.next_frame_number = 0
        #: True once the closing frame was emitted.
        self.done = False

    @abstractmethod
    def _compressed(self) -> Compressor:
        """The compressor holding this channel's compressed data."""

    @abstractmethod
    def ready_bytes(self) -> int:
        """Number of compressed bytes ready to be cut into frames."""

    def output_frame(self, max_size: int) -> Frame:
        """Cut the next frame of at most ``max_size`` encoded bytes (frame overhead included)
        from the ready compressed data (Go ``ChannelOut.OutputFrame``).

        The frame is the closing one (``is_last``) when the channel is closed and all the
        remaining data fits. Before that, with nothing ready, the frame is empty (as in Go).
        Raises :class:`FrameSizeError` when ``max_size < FRAME_OVERHEAD + 1``, and
        :class:`ChannelError` after the closing frame or past frame number 65535.
        """
        if max_size < FRAME_OVERHEAD + 1:
            raise FrameSizeError(
                f"max frame size {max_size} cannot hold the {FRAME_OVERHEAD}-byte overhead "
                "and any data"
            )
        if self.done:
            raise ChannelError("channel out already emitted its closing frame")
        if self.next_frame_number > _MAX_FRAME_NUMBER:
            raise MaxFrameIndexError("channel out ran out of frame numbers")
        ready = self.ready_bytes()
        room = min(max_size - FRAME_OVERHEAD, MAX_FRAME_LEN)
        is_last = False
        if room >= ready:
            room = ready
            is_last = self.closed
        data = self._compressed().read(room)
        frame = Frame(self.id, self.next_frame_number, data, is_last)
        self.next_frame_number += 1
        self.done = is_last
        return frame

    def output_all_frames(self, max_size: int) -> list[Frame]:
        """Close if needed, then cut every remaining frame (the last one ``is_last``)."""
        if not self.closed:
            self.close()
        frames: list[Frame] = []
        while not self.done:
            frames.append(self.output_frame(max_size))
        return frames

    @abstractmethod
    def close(self) -> None:
        """Close the channel: no more input; flush the compressor."""


class ChannelOut(_FrameCutter):
    """A channel of typed batches compressed as a stream (Go ``SingularChannelOut``).

    ``add_batch`` takes one batch already encoded as ``batch type ++ payload``, wraps it as an
    RLP string and writes it to the compressor. The sum of the RLP-wrapped sizes may not
    exceed ``max_rlp_bytes`` (derivation.md "Channel Format": ``MAX_RLP_BYTES_PER_CHANNEL``,
    10,000,000 before Fjord and 100,000,000 from Fjord -- pass the value for the time the
    channel will be included). ``compressor`` defaults to a plain (never full) compressor for
    ``compression``; pass a :class:`~pyop.codec.compression.ShadowCompressor` or
    :class:`~pyop.codec.compression.RatioCompressor` for a size target.
    """

    def __init__(
        self,
        *,
        max_rlp_bytes: int,
        compression: CompressionAlgo = CompressionAlgo.ZLIB,
        compressor: Compressor | None = None,
        channel_id: ChannelID | None = None,
        brotli_quality: int = DEFAULT_BROTLI_QUALITY,
    ) -> None:
        super().__init__(channel_id)
        self.max_rlp_bytes = max_rlp_bytes
        self.compression = compression
        self._compressor: Compressor = (
            compressor
            if compressor is not None
            else ChannelCompressor(compression, brotli_quality=brotli_quality)
        )
        self._rlp_length = 0

    def _compressed(self) -> Compressor:
        return self._compressor

    def reset(self, channel_id: ChannelID | None = None) -> None:
        """Start over as an empty channel with a new (random unless given) id."""
        super().__init__(channel_id)
        self._rlp_length = 0
        self._compressor.reset()

    def add_batch(self, batch_bytes: bytes) -> None:
        """Append one typed batch. All or nothing: on error nothing is written.

        Raises :class:`ChannelOutClosedError` if closed, :class:`TooManyRLPBytesError` if the
        channel would exceed ``max_rlp_bytes``, :class:`CompressorFullError` if the size-target
        compressor refuses it.
        """
        if self.closed:
            raise ChannelOutClosedError("channel out already closed")
        encoded = encode_rlp_string(batch_bytes)
        if self._rlp_length + len(encoded) > self.max_rlp_bytes:
            raise TooManyRLPBytesError(
                f"could not add {len(encoded)} bytes to channel of {self._rlp_length} bytes, "
                f"max is {self.max_rlp_bytes}"
            )
        self._compressor.write(encoded)
        self._rlp_length += len(encoded)

    def input_bytes(self) -> int:
        """Total RLP-encoded input bytes (the uncompressed channel size)."""
        return self._rlp_length

    def ready_bytes(self) -> int:
        """Compressed bytes that can be cut into frames now (``flush``/``close`` add more)."""
        return len(self._compressor)

    def flush(self) -> None:
        """Move everything written so far into the ready buffer (costs compression ratio)."""
        self._compressor.flush()

    def full_err(self) -> CompressorFullError | None:
        """The compressor's full error, if it reached its target."""
        return self._compressor.full_err()

    def close(self) -> None:
        """End the compressed stream; later ``add_batch`` calls fail."""
        if self.closed:
            raise ChannelOutClosedError("channel out already closed")
        self.closed = True
        self._compressor.close()


class SpanChannelOut(_FrameCutter):
    """A channel whose content is re-compressed whole on every update (Go ``SpanChannelOut``).

    A span batch grows with each L2 block and is re-encoded each time, so the caller passes
    the channel's complete list of typed batches on each :meth:`set_batches` (normally the
    one span batch; sealed span batches first when the caller limits blocks per span batch).
    Go's rules: the RLP size may not exceed ``max_rlp_bytes``; the data is compressed only
    when it could reach ``target_output_size``; once compressed output reaches the target the
    channel is full, and unless this was the channel's first content (or the target was hit
    exactly) the update is reverted and :class:`CompressorFullError` raised -- the caller
    must then leave that block for the next channel. No frames are ready before the channel
    is full or closed.
    """

    def __init__(
        self,
        *,
        target_output_size: int,
        max_rlp_bytes: int,
        compression: CompressionAlgo = CompressionAlgo.ZLIB,
        channel_id: ChannelID | None = None,
        brotli_quality: int = DEFAULT_BROTLI_QUALITY,
    ) -> None:
        super().__init__(channel_id)
        self.target_output_size = target_output_size
        self.max_rlp_bytes = max_rlp_bytes
        self.compression = compression
        self._compressor = ChannelCompressor(compression, brotli_quality=brotli_quality)
        self._rlp = b""
        self._last_compressed_rlp_size = 0
        self._full: CompressorFullError | None = None

    def _compressed(self) -> Compressor:
        return self._compressor

    def reset(self, channel_id: ChannelID | None = None) -> None:
        """Start over as an empty channel with a new (random unless given) id."""
        super().__init__(channel_id)
        self._compressor.reset()
        self._rlp = b""
        self._last_compressed_rlp_size = 0
        self._full = None

    def _compress(self) -> None:
        self._compressor.reset()
        self._compressor.write(self._rlp)
        self._last_compressed_rlp_size = len(self._rlp)
        self._compressor.close()
        if self._full is None and len(self._compressor) >= self.target_output_size:
            self._full = CompressorFullError("compressor is full")

    def set_batches(self, batches: Sequence[bytes]) -> None:
        """Make the channel content ``batches`` (typed batch bytes), replacing what was there.

        Raises :class:`ChannelOutClosedError`, :class:`TooManyRLPBytesError` (content kept as
        before) or :class:`CompressorFullError` (already full, or full now and reverted to
        the previous content).
        """
        if self.closed:
            raise ChannelOutClosedError("channel out already closed")
        if self._full is not None:
            raise self._full
        new_rlp = encode_batch_stream(batches)
        if len(new_rlp) > self.max_rlp_bytes:
            raise TooManyRLPBytesError(
                f"could not take {len(new_rlp)} bytes as replacement of channel of "
                f"{len(self._rlp)} bytes, max is {self.max_rlp_bytes}"
            )
        previous, self._rlp = self._rlp, new_rlp
        growth = len(new_rlp) - self._last_compressed_rlp_size
        if len(self._compressor) + growth < self.target_output_size:
            return
        self._compress()
        if self._full is not None:
            if previous == b"":
                return  # the channel's first content must fit, however large
            if len(self._compressor) == self.target_output_size:
                return
            self._rlp = previous
            self._compress()
            raise self._full

    def input_bytes(self) -> int:
        """Total RLP-encoded input bytes of the current content."""
        return len(self._rlp)

    def ready_bytes(self) -> int:
        """Compressed bytes ready for frames: none until the channel is full or closed."""
        if self.closed or self._full is not None:
            return len(self._compressor)
        return 0

    def flush(self) -> None:
        """No-op: the span channel out manages compression itself."""

    def full_err(self) -> CompressorFullError | None:
        return self._full

    def close(self) -> None:
        """Close the channel, compressing the current content unless already full."""
        if self.closed:
            raise ChannelOutClosedError("channel out already closed")
        self.closed = True
        if self._full is None:
            self._compress()


class ChannelBuilder:
    """Builds one channel of singular batches for the batcher (Go op-batcher ``ChannelBuilder``,
    without its L1 timeout bookkeeping).

    The size target is ``target_num_frames * (target_frame_size - FRAME_OVERHEAD)`` compressed
    bytes (Go ``MaxDataSize``; ``target_frame_size`` is a whole frame, overhead included). Two
    estimators as in op-batcher: ``"shadow"`` (default; a sync-flushed shadow compressor
    bounds the output, which then never exceeds the target, except that the first batch is
    always taken) and ``"ratio"`` (full once ``input * approx_compr_ratio >= target``; cheap,
    may overshoot by a small extra frame).
    """

    def __init__(
        self,
        *,
        target_frame_size: int,
        max_rlp_bytes: int,
        target_num_frames: int = 1,
        compression: CompressionAlgo = CompressionAlgo.ZLIB,
        estimator: Literal["shadow", "ratio"] = "shadow",
        approx_compr_ratio: float = 0.6,
        channel_id: ChannelID | None = None,
        brotli_quality: int = DEFAULT_BROTLI_QUALITY,
    ) -> None:
        if target_num_frames < 1:
            raise ChannelError("target_num_frames must be at least 1")
        self.target_frame_size = target_frame_size
        self.target_num_frames = target_num_frames
        self.target_output_size = max_data_size(target_num_frames, target_frame_size)
        compressor: Compressor
        if estimator == "shadow":
            compressor = ShadowCompressor(
                self.target_output_size, compression, brotli_quality=brotli_quality
            )
        elif estimator == "ratio":
            compressor = RatioCompressor(
                self.target_output_size,
                approx_compr_ratio,
                compression,
                brotli_quality=brotli_quality,
            )
        else:
            raise ChannelError(f"unknown estimator {estimator!r}")
        self.channel_out = ChannelOut(
            max_rlp_bytes=max_rlp_bytes,
            compression=compression,
            compressor=compressor,
            channel_id=channel_id,
        )
        self._full: ChannelFullError | None = None
        self.num_batches = 0
        self.total_frames = 0

    @property
    def id(self) -> ChannelID:
        return self.channel_out.id

    @property
    def full_reason(self) -> ChannelFullError | None:
        """Why the channel is full (``None`` while it is not)."""
        return self._full

    def is_full(self) -> bool:
        """Whether the channel takes no more batches."""
        return self._full is not None

    def add_batch_bytes(self, batch_bytes: bytes) -> None:
        """Add one typed batch (Go ``ChannelBuilder.AddBlock``).

        Raises :class:`ChannelFullError` (the batch was not added) when the channel is full or
        the batch does not fit; a batch that fits but fills the channel is added and the
        channel is marked full.
        """
        if self._full is not None:
            raise self._full
        try:
            self.channel_out.add_batch(batch_bytes)
        except ChannelFullError as e:
            self._full = e
            raise
        self.num_batches += 1
        full = self.channel_out.full_err()
        if full is not None:
            self._full = full

    def input_bytes(self) -> int:
        return self.channel_out.input_bytes()

    def ready_bytes(self) -> int:
        return self.channel_out.ready_bytes()

    def close(self) -> None:
        """Mark the channel full (terminated): the next :meth:`output_frames` ends it."""
        if self._full is None:
            self._full = TerminatedError("channel terminated")

    def output_frames(self) -> list[Frame]:
        """New frames (Go ``ChannelBuilder.OutputFrames``).

        While not full, only whole frames of ready compressed data (``ready + overhead >=
        target_frame_size``); once full, the channel out is closed and every remaining frame
        is returned, the last with ``is_last``. Frames cut are at most ``target_frame_size``.
        """
        co = self.channel_out
        frames: list[Frame] = []
        if self._full is not None:
            if co.done:
                return frames
            if not co.closed:
                co.close()
            while not co.done:
                frames.append(co.output_frame(self.target_frame_size))
        else:
            while co.ready_bytes() + FRAME_OVERHEAD >= self.target_frame_size:
                frames.append(co.output_frame(self.target_frame_size))
                if co.next_frame_number > _MAX_FRAME_NUMBER:
                    self._full = MaxFrameIndexError("maximum frame index reached")
                    break
        self.total_frames += len(frames)
        return frames
