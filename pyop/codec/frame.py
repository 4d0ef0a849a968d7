"""Channel frames and batcher transaction data.

Implements specs/protocol/derivation.md, sections "Batcher Transaction Format" and
"Frame Format"::

    batcher_tx_data = version_byte ++ rollup_payload       (version 0: frame ...)
    frame = channel_id ++ frame_number ++ frame_data_length ++ frame_data ++ is_last

    channel_id        = bytes16
    frame_number      = uint16   (big-endian)
    frame_data_length = uint32   (big-endian, capped to 1,000,000)
    frame_data        = bytes
    is_last           = bool     (one byte, 0 or 1; anything else makes the frame invalid)

The Go reference is op-node/rollup/derive/frame.go (``Frame``, ``ParseFrames``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pyop.codec.errors import FrameError

__all__ = [
    "CHANNEL_ID_LENGTH",
    "DERIVATION_VERSION_0",
    "FRAME_OVERHEAD",
    "MAX_FRAME_LEN",
    "ChannelID",
    "Frame",
    "decode_frame",
    "encode_frames",
    "parse_frames",
]

#: Batcher transaction version byte whose payload is one or more frames
#: (derivation.md "Batcher Transaction Format").
DERIVATION_VERSION_0 = 0

#: Cap on ``frame_data_length`` (derivation.md "Frame Format": "It is capped to 1,000,000 bytes").
MAX_FRAME_LEN = 1_000_000

#: Fixed frame overhead: 16 + 2 + 4 + 1 = 23 bytes (derivation.md "Frame Format").
FRAME_OVERHEAD = 23

#: ``channel_id = bytes16`` (derivation.md "Frame Format").
CHANNEL_ID_LENGTH = 16

#: A channel id: 16 opaque bytes.
ChannelID = bytes

_MAX_FRAME_NUMBER = 0xFFFF  # uint16


@dataclass(frozen=True, slots=True)
class Frame:
    """One channel frame (derivation.md "Frame Format").

    Construction checks the field ranges so every ``Frame`` can be encoded into a frame that
    a rollup node accepts: a 16-byte ``channel_id``, a uint16 ``frame_number`` and at most
    ``MAX_FRAME_LEN`` bytes of ``data``. A violation raises :class:`FrameError`.
    """

    channel_id: ChannelID
    frame_number: int
    data: bytes
    is_last: bool

    def __post_init__(self) -> None:
        if not isinstance(self.channel_id, bytes) or len(self.channel_id) != CHANNEL_ID_LENGTH:
            raise FrameError(f"channel_id must be {CHANNEL_ID_LENGTH} bytes")
        if (
            isinstance(self.frame_number, bool)
            or not isinstance(self.frame_number, int)
            or not 0 <= self.frame_number <= _MAX_FRAME_NUMBER
        ):
            raise FrameError(f"frame_number must be a uint16, got {self.frame_number!r}")
        if not isinstance(self.data, bytes):
            raise FrameError("frame data must be bytes")
        if len(self.data) > MAX_FRAME_LEN:
            raise FrameError(f"frame data length {len(self.data)} exceeds {MAX_FRAME_LEN}")
        if not isinstance(self.is_last, bool):
            raise FrameError("is_last must be a bool")

    def encode(self) -> bytes:
        """The frame's wire encoding (derivation.md "Frame Format")."""
        return b"".join(
            (
                self.channel_id,
                self.frame_number.to_bytes(2, "big"),
                len(self.data).to_bytes(4, "big"),
                self.data,
                b"\x01" if self.is_last else b"\x00",
            )
        )

    @property
    def encoded_len(self) -> int:
        """Length of :meth:`encode`: ``FRAME_OVERHEAD + len(data)``."""
        return FRAME_OVERHEAD + len(self.data)


def decode_frame(buf: bytes, offset: int = 0) -> tuple[Frame, int]:
    """Decode one frame from ``buf`` at ``offset``; return it and the offset just after it.

    derivation.md "Frame Format": ``frame_data_length`` above 1,000,000 and an ``is_last`` byte
    other than 0 or 1 make the frame invalid. Truncation is an error too. Every error is a
    :class:`FrameError` carrying the byte offset (into ``buf``) of the offending field.
    """
    n = len(buf)
    if offset < 0 or offset > n:
        raise FrameError("frame offset out of range", offset)
    pos = offset
    if n - pos < CHANNEL_ID_LENGTH:
        raise FrameError("truncated frame: reading channel_id", pos)
    channel_id = bytes(buf[pos : pos + CHANNEL_ID_LENGTH])
    pos += CHANNEL_ID_LENGTH
    if n - pos < 2:
        raise FrameError("truncated frame: reading frame_number", pos)
    frame_number = int.from_bytes(buf[pos : pos + 2], "big")
    pos += 2
    if n - pos < 4:
        raise FrameError("truncated frame: reading frame_data_length", pos)
    data_len = int.from_bytes(buf[pos : pos + 4], "big")
    if data_len > MAX_FRAME_LEN:
        raise FrameError(f"frame_data_length is too large: {data_len} > {MAX_FRAME_LEN}", pos)
    pos += 4
    if n - pos < data_len:
        raise FrameError(
            f"truncated frame: frame_data needs {data_len} bytes, {n - pos} left", pos
        )
    data = bytes(buf[pos : pos + data_len])
    pos += data_len
    if pos >= n:
        raise FrameError("truncated frame: reading is_last", pos)
    last_byte = buf[pos]
    if last_byte not in (0, 1):
        raise FrameError(f"invalid is_last byte {last_byte}", pos)
    pos += 1
    return Frame(channel_id, frame_number, data, last_byte == 1), pos


def parse_frames(data: bytes) -> list[Frame]:
    """All frames of one batcher transaction (derivation.md "Batcher Transaction Format").

    ``data`` is ``DERIVATION_VERSION_0 ++ frame ...`` with at least one frame. "All frames in
    a batcher transaction must be parseable. If any one frame fails to parse, the all frames in
    the transaction are rejected": any problem (empty data, unknown version byte, a malformed or
    truncated frame, bytes left over) raises :class:`FrameError` and no frame is returned.
    Offsets in errors are relative to the start of ``data`` (the version byte is offset 0).
    """
    if len(data) == 0:
        raise FrameError("batcher transaction data must not be empty", 0)
    if data[0] != DERIVATION_VERSION_0:
        raise FrameError(f"invalid derivation version byte {data[0]}", 0)
    frames: list[Frame] = []
    pos = 1
    while pos < len(data):
        frame, pos = decode_frame(data, pos)
        frames.append(frame)
    if not frames:
        raise FrameError("no frames in batcher transaction data", 1)
    return frames


def encode_frames(frames: Iterable[Frame]) -> bytes:
    """Batcher transaction data for ``frames``: ``DERIVATION_VERSION_0 ++ frame ...``.

    Raises :class:`FrameError` when ``frames`` is empty, since such data would be rejected.
    """
    parts = [bytes([DERIVATION_VERSION_0])]
    parts.extend(f.encode() for f in frames)
    if len(parts) == 1:
        raise FrameError("batcher transaction data needs at least one frame")
    return b"".join(parts)
