"""Reading channels: frame assembly, decompression and splitting into batch data.

Specs: specs/protocol/derivation.md "Channel Format", "Channel Bank" (frame insertion rules,
readiness) and "Channel Reader (Batch Decoding)"; specs/protocol/fjord/derivation.md "Brotli
Channel Compression". Go reference: op-node/rollup/derive/channel.go (``Channel``,
``BatchReader``).

Pipeline of this module, for one channel::

    frames --Channel / assemble_channels--> channel data (frame data concatenated)
           --decompress_channel-->          rlp_batches (capped at MAX_RLP_BYTES_PER_CHANNEL)
           --read_batch_data-->             [batch bytes, ...]  (each: batch type byte ++ payload)

Decoding the batch bytes (singular / span) is :mod:`pyop.codec.batch`'s job; the channel bank
(timeouts, size pruning) and Holocene's frame queue are the derivation pipeline's.
"""

from __future__ import annotations

import enum
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import brotli

from pyop.codec.compression import CHANNEL_VERSION_BROTLI, CompressionAlgo, detect_compression
from pyop.codec.errors import ChannelError
from pyop.codec.frame import ChannelID, Frame
from pyop.primitives import L1BlockRef

__all__ = [
    "CHANNEL_BANK_FRAME_OVERHEAD",
    "CHANNEL_VERSION_BROTLI",
    "AssembledChannel",
    "BatchDataResult",
    "Channel",
    "ChannelBatches",
    "CompressionAlgo",
    "DecompressedChannel",
    "FrameDropReason",
    "assemble_channels",
    "bank_frame_size",
    "decompress_channel",
    "iter_batch_data",
    "read_batch_data",
    "read_channel",
    "split_batch_data",
]

#: Per-frame overhead counted in a channel's size for channel-bank pruning
#: (derivation.md "Pruning": "with an additional frame-overhead of 200 bytes per frame").
CHANNEL_BANK_FRAME_OVERHEAD = 200


def bank_frame_size(frame: Frame) -> int:
    """Size of a frame for channel-bank accounting: ``len(data) + 200`` (derivation.md "Pruning")."""
    return len(frame.data) + CHANNEL_BANK_FRAME_OVERHEAD


# ---------------------------------------------------------------------------------------------
# Channel (frame insertion rules)
# ---------------------------------------------------------------------------------------------


class FrameDropReason(enum.Enum):
    """Why :meth:`Channel.add_frame` dropped a frame (derivation.md "Loading frames")."""

    #: The frame belongs to another channel.
    WRONG_CHANNEL = "wrong_channel"
    #: "Duplicate closes (new frame ``is_last == 1``, but the channel has already seen a
    #: closing frame ...) are dropped."
    DUPLICATE_CLOSE = "duplicate_close"
    #: "Duplicate frames (by frame number) ... are dropped."
    DUPLICATE_FRAME = "duplicate_frame"
    #: A frame numbered at or past the closing frame of a closed channel (Go ``AddFrame``).
    PAST_CLOSING_FRAME = "past_closing_frame"
    #: [New in Holocene] with in-order frames required, a frame whose number is not the next one.
    OUT_OF_ORDER = "out_of_order"


class Channel:
    """Frames of one channel as buffered by the channel bank (derivation.md "Channel Bank").

    Frames may arrive out of order (unless ``require_in_order``, Holocene's strict frame
    ordering). :meth:`add_frame` applies the insertion rules of derivation.md "Loading frames"
    in the order of Go's ``Channel.AddFrame``:

    1. a closing frame for an already closed channel is dropped (duplicate close);
    2. a frame number already buffered is dropped (duplicate frame; the first one is kept);
    3. in a closed channel, a frame numbered at or after the closing frame is dropped;
    4. with ``require_in_order``, a frame that is not number ``len(frames)`` is dropped.

    "If a frame is closing (``is_last == 1``) any existing higher-numbered frames are removed
    from the channel." The channel :meth:`is_ready` when closed with frames ``0..last`` all
    present (derivation.md "Reading").

    ``size`` follows op-node (and kona) exactly, including one quirk: when a closing frame
    prunes higher frames, the size of *every* buffered frame is subtracted, not only of the
    pruned ones, so afterwards ``size`` counts just the closing frame. It feeds the
    channel bank's ``MAX_CHANNEL_BANK_SIZE`` pruning, so matching the reference matters.
    """

    def __init__(
        self,
        channel_id: ChannelID,
        open_block: L1BlockRef | None = None,
        *,
        require_in_order: bool = False,
    ) -> None:
        self.id: ChannelID = channel_id
        #: L1 block in which the channel's first frame was seen (for the channel timeout).
        self.open_block = open_block
        self.require_in_order = require_in_order
        self.size = 0
        self.closed = False
        self.highest_frame_number = 0
        self.end_frame_number = 0
        self._inputs: dict[int, Frame] = {}
        self.highest_l1_inclusion_block: L1BlockRef | None = None

    def add_frame(
        self, frame: Frame, l1_inclusion_block: L1BlockRef | None = None
    ) -> FrameDropReason | None:
        """Buffer ``frame``; return ``None`` when added, else why it was dropped.

        Rules from derivation.md "Channel Bank" / "Loading frames" (see the class docstring).
        """
        if frame.channel_id != self.id:
            return FrameDropReason.WRONG_CHANNEL
        if frame.is_last and self.closed:
            return FrameDropReason.DUPLICATE_CLOSE
        if frame.frame_number in self._inputs:
            return FrameDropReason.DUPLICATE_FRAME
        if self.closed and frame.frame_number >= self.end_frame_number:
            return FrameDropReason.PAST_CLOSING_FRAME
        if self.require_in_order and frame.frame_number != len(self._inputs):
            return FrameDropReason.OUT_OF_ORDER

        if frame.is_last:
            self.end_frame_number = frame.frame_number
            self.closed = True
            if self.end_frame_number < self.highest_frame_number:
                # Prune frames numbered above the closing frame. Size bookkeeping mirrors
                # op-node's Channel.AddFrame: every frame's size is subtracted (see class doc).
                for number, pruned in list(self._inputs.items()):
                    if number >= self.end_frame_number:
                        del self._inputs[number]
                    self.size -= bank_frame_size(pruned)
                self.highest_frame_number = self.end_frame_number
        if frame.frame_number > self.highest_frame_number:
            self.highest_frame_number = frame.frame_number
        if l1_inclusion_block is not None and (
            self.highest_l1_inclusion_block is None
            or self.highest_l1_inclusion_block.number < l1_inclusion_block.number
        ):
            self.highest_l1_inclusion_block = l1_inclusion_block
        self._inputs[frame.frame_number] = frame
        self.size += bank_frame_size(frame)
        return None

    @property
    def open_block_number(self) -> int:
        """Number of the L1 block that opened the channel (0 when unknown)."""
        return 0 if self.open_block is None else self.open_block.number

    def __len__(self) -> int:
        return len(self._inputs)

    def frames(self) -> list[Frame]:
        """Buffered frames, sorted by frame number."""
        return [self._inputs[k] for k in sorted(self._inputs)]

    def is_ready(self) -> bool:
        """Closed, with a contiguous run of frames ``0..last`` (derivation.md "Reading")."""
        if not self.closed:
            return False
        if len(self._inputs) != self.end_frame_number + 1:
            return False
        return all(i in self._inputs for i in range(self.end_frame_number + 1))

    def reader_data(self) -> bytes:
        """The channel data: frame data of frames ``0..last`` concatenated.

        Raises :class:`ChannelError` if the channel is not :meth:`is_ready`.
        """
        if not self.is_ready():
            raise ChannelError("channel is not ready to be read")
        return b"".join(self._inputs[i].data for i in range(self.end_frame_number + 1))


@dataclass(frozen=True, slots=True)
class AssembledChannel:
    """One channel put together from frames by :func:`assemble_channels`.

    ``frames``: the frames kept (sorted by number); ``complete``: closed with frames
    ``0..last`` all present; ``data``: the concatenated frame data when complete, else ``b""``;
    ``dropped``: frames rejected by the channel rules, with the reason.
    """

    channel_id: ChannelID
    frames: tuple[Frame, ...]
    complete: bool
    data: bytes
    dropped: tuple[tuple[Frame, FrameDropReason], ...] = field(default=())


def assemble_channels(frames: Iterable[Frame]) -> list[AssembledChannel]:
    """Group frames into channels, in first-seen order, for offline tools (no timeouts,
    no size pruning, no Holocene ordering).

    Each channel applies the :class:`Channel` insertion rules (derivation.md "Loading
    frames"): the first frame with a given number is kept, later duplicates are dropped, and
    a closing frame prunes frames numbered above it.
    """
    channels: dict[ChannelID, Channel] = {}
    dropped: dict[ChannelID, list[tuple[Frame, FrameDropReason]]] = {}
    for frame in frames:
        ch = channels.get(frame.channel_id)
        if ch is None:
            ch = channels[frame.channel_id] = Channel(frame.channel_id)
            dropped[frame.channel_id] = []
        reason = ch.add_frame(frame)
        if reason is not None:
            dropped[frame.channel_id].append((frame, reason))
    out: list[AssembledChannel] = []
    for cid, ch in channels.items():
        ready = ch.is_ready()
        out.append(
            AssembledChannel(
                channel_id=cid,
                frames=tuple(ch.frames()),
                complete=ready,
                data=ch.reader_data() if ready else b"",
                dropped=tuple(dropped[cid]),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Decompression
# ---------------------------------------------------------------------------------------------

_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class DecompressedChannel:
    """Output of :func:`decompress_channel`.

    ``data`` holds at most ``max_rlp_bytes`` decompressed bytes. ``capped``: the limit was
    reached, so the stream was not read further; ``complete``: the compressed stream's end
    was reached; ``stream_error``: the compressed stream was found corrupt after ``data``
    (op-node would hand out ``data`` and then fail on the next read).
    """

    compression: CompressionAlgo
    data: bytes
    capped: bool = False
    complete: bool = False
    stream_error: ChannelError | None = None


class _Inflater(Protocol):
    finished: bool

    def feed(self, chunk: bytes, limit: int) -> bytes: ...


class _ZlibInflater:
    def __init__(self, zdict: bytes | None) -> None:
        self._d = zlib.decompressobj() if zdict is None else zlib.decompressobj(zdict=zdict)
        self.finished = False

    def feed(self, chunk: bytes, limit: int) -> bytes:
        out = self._d.decompress(chunk, limit)
        self.finished = self._d.eof
        return out


class _BrotliInflater:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()
        self.finished = False

    def feed(self, chunk: bytes, limit: int) -> bytes:
        out: bytes = self._d.process(chunk, output_buffer_limit=limit)
        self.finished = bool(self._d.is_finished())
        return out


_DECODE_ERRORS = (zlib.error, brotli.error)


def _run_inflater(
    make: Callable[[], _Inflater], data: bytes, cap: int, slow_from: int | None
) -> tuple[bytearray, int, bool, Exception | None]:
    """Feed ``data`` to a fresh inflater, in chunks (one byte at a time from ``slow_from``),
    until the output reaches ``cap``, the stream ends, the input runs out, or it fails.
    Returns ``(output, input consumed, finished, error)``.
    """
    inf = make()
    out = bytearray()
    pos = 0
    n = len(data)
    while len(out) < cap and not inf.finished and pos < n:
        step = 1 if slow_from is not None and pos >= slow_from else _CHUNK
        chunk = data[pos : pos + step]
        try:
            piece = inf.feed(chunk, cap - len(out))
        except _DECODE_ERRORS as e:
            return out, pos, inf.finished, e
        out += piece
        pos += len(chunk)
    return out, pos, inf.finished, None


def _inflate(
    make: Callable[[], _Inflater], data: bytes, cap: int, base_offset: int
) -> tuple[bytes, bool, bool, int, ChannelError | None]:
    """Streaming, capped decompression that keeps everything produced before a corruption.

    A failing chunk is re-run one byte at a time (from a fresh inflater: the run is
    deterministic) so the output before the bad byte survives and the error has an offset.
    Returns ``(data, capped, finished, input consumed, error)``.
    """
    out, pos, finished, err = _run_inflater(make, data, cap, None)
    if err is not None:
        # Chunks are fed whole, so the failure lies in the chunk starting at pos.
        out, pos, finished, err = _run_inflater(make, data, cap, pos)
    error = None
    if err is not None:
        error = ChannelError(f"corrupt compressed stream: {err}", base_offset + pos)
    capped = len(out) >= cap
    return bytes(out[:cap]), capped, finished, pos, error


def _zlib_zdict(data: bytes) -> bytes | None:
    """Check the RFC-1950 header as Go's ``zlib.NewReader`` does; return the preset dictionary
    to use (``None``: none). Go accepts FDICT only when DICTID is adler32 of its (empty)
    dictionary, i.e. 1; anything else is ``ErrDictionary``.
    """
    if len(data) < 2:
        raise ChannelError("truncated zlib header", len(data))
    cmf, flg = data[0], data[1]
    if cmf & 0x0F != 8 or cmf >> 4 > 7 or ((cmf << 8) | flg) % 31 != 0:
        raise ChannelError(f"invalid zlib header 0x{cmf:02x}{flg:02x}", 0)
    if flg & 0x20:
        if len(data) < 6:
            raise ChannelError("truncated zlib dictionary id", len(data))
        if int.from_bytes(data[2:6], "big") != 1:
            raise ChannelError("zlib stream needs a preset dictionary", 2)
        return b""
    return None


def decompress_channel(
    data: bytes, *, max_rlp_bytes: int, allow_brotli: bool
) -> DecompressedChannel:
    """Decompress channel data (derivation.md "Channel Format"; fjord/derivation.md "Brotli
    Channel Compression").

    The compression is told by the first byte (:func:`~pyop.codec.compression.detect_compression`):
    zlib if its low nibble is 8 or 15, Brotli if it is ``0x01`` and ``allow_brotli`` (Fjord
    active at the channel's L1 inclusion time). The stream is read incrementally: it may stop
    without an end marker (a valid channel can be cut short) and reading stops after
    ``max_rlp_bytes`` output bytes ("things proceed as though the channel contained only the
    first ``MAX_RLP_BYTES_PER_CHANNEL`` decompressed bytes"), which also defuses zip bombs.

    Raises :class:`ChannelError` for empty data, an unknown version byte, Brotli before Fjord
    and a bad zlib header (op-node fails in ``zlib.NewReader``). Corruption later in the
    stream is not raised: the bytes before it are returned with ``stream_error`` set.
    """
    if max_rlp_bytes < 0:
        raise ChannelError("max_rlp_bytes must not be negative")
    if len(data) == 0:
        raise ChannelError("empty channel data", 0)
    algo = detect_compression(data[0], allow_brotli=allow_brotli)
    make: Callable[[], _Inflater]
    if algo is CompressionAlgo.ZLIB:
        zdict = _zlib_zdict(data)

        def make() -> _Inflater:
            return _ZlibInflater(zdict)

        payload, base = data, 0
    else:
        make = _BrotliInflater
        payload, base = data[1:], 1
    if max_rlp_bytes == 0:
        return DecompressedChannel(algo, b"", capped=True)
    out, capped, finished, consumed, error = _inflate(make, payload, max_rlp_bytes, base)
    if (
        error is None
        and algo is CompressionAlgo.BROTLI
        and finished
        and consumed < len(payload)
        and not capped
    ):
        # andybalholm/brotli (op-node) reports input after the end of the stream as an error.
        error = ChannelError("excessive input after the brotli stream", base + consumed)
    return DecompressedChannel(algo, out, capped=capped, complete=finished, stream_error=error)


# ---------------------------------------------------------------------------------------------
# Splitting the decompressed stream into batches
# ---------------------------------------------------------------------------------------------


def _next_rlp_string(buf: bytes, pos: int) -> tuple[bytes, int]:
    """Read one RLP byte string at ``pos`` as go-ethereum's ``rlp.Stream.Bytes`` does
    (canonical sizes required; a list is an error). Returns ``(payload, next offset)``."""
    n = len(buf)
    b0 = buf[pos]
    if b0 < 0x80:
        return bytes((b0,)), pos + 1
    if b0 < 0xB8:
        size = b0 - 0x80
        start = pos + 1
        if size == 1 and start < n and buf[start] < 0x80:
            raise ChannelError("non-canonical rlp: single byte below 0x80 in a string", pos)
    elif b0 < 0xC0:
        len_len = b0 - 0xB7
        if pos + 1 + len_len > n:
            raise ChannelError("truncated rlp string header", pos)
        if buf[pos + 1] == 0:
            raise ChannelError("non-canonical rlp size: leading zero", pos)
        size = int.from_bytes(buf[pos + 1 : pos + 1 + len_len], "big")
        if size < 56:
            raise ChannelError("non-canonical rlp size: long form for a short string", pos)
        start = pos + 1 + len_len
    else:
        raise ChannelError("expected an rlp string (batch), found a list", pos)
    end = start + size
    if end > n:
        raise ChannelError(
            f"truncated rlp string: {size} bytes declared, {n - start} available", pos
        )
    return bytes(buf[start:end]), end


def iter_batch_data(decompressed: bytes) -> Iterator[bytes]:
    """Yield each batch's bytes (``batch type ++ payload``) from ``rlp_batches``.

    The decompressed channel is a sequence of RLP byte strings, one per batch
    (derivation.md "Channel Format"; Go reads it with ``rlp.Stream`` and ``BatchData.DecodeRLP``).
    A malformed or partial item (e.g. cut off by the ``MAX_RLP_BYTES_PER_CHANNEL`` limit)
    raises :class:`ChannelError` after the complete batches before it were yielded; the
    clean end of data just ends the iteration.
    """
    pos = 0
    n = len(decompressed)
    while pos < n:
        item, pos = _next_rlp_string(decompressed, pos)
        yield item


@dataclass(frozen=True, slots=True)
class BatchDataResult:
    """The batches read from ``rlp_batches`` and the error that stopped reading, if any."""

    batches: tuple[bytes, ...]
    error: ChannelError | None


def split_batch_data(decompressed: bytes) -> BatchDataResult:
    """Every complete batch of ``rlp_batches`` plus the error on the remainder (if any)."""
    batches: list[bytes] = []
    try:
        for item in iter_batch_data(decompressed):
            batches.append(item)
    except ChannelError as e:
        return BatchDataResult(tuple(batches), e)
    return BatchDataResult(tuple(batches), None)


def read_batch_data(decompressed: bytes) -> list[bytes]:
    """The complete batches of ``rlp_batches``; a malformed/partial tail is left out (as
    op-node stops reading the channel there). Use :func:`split_batch_data` for the error."""
    return list(split_batch_data(decompressed).batches)


@dataclass(frozen=True, slots=True)
class ChannelBatches:
    """A whole channel read: compression used, the batch bytes, and the error (decompression
    or RLP) that ended reading early, if any."""

    compression: CompressionAlgo
    batches: tuple[bytes, ...]
    error: ChannelError | None
    decompressed_len: int


def read_channel(data: bytes, *, max_rlp_bytes: int, allow_brotli: bool) -> ChannelBatches:
    """Channel data -> batches, as op-node's channel reader sees them (derivation.md
    "Channel Reader (Batch Decoding)").

    Raises :class:`ChannelError` when the channel cannot be opened at all (see
    :func:`decompress_channel`). Otherwise the result holds the batches read before the
    first error; ``error`` is the RLP error on the partial/malformed item, or, when the
    readable data was consumed cleanly, the stream corruption that followed it.
    """
    dec = decompress_channel(data, max_rlp_bytes=max_rlp_bytes, allow_brotli=allow_brotli)
    res = split_batch_data(dec.data)
    error = res.error if res.error is not None else dec.stream_error
    return ChannelBatches(dec.compression, res.batches, error, len(dec.data))

