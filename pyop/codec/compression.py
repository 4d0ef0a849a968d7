"""Channel compression: the algorithms, the version byte, and streaming compressors.

Specs: specs/protocol/derivation.md "Channel Format" (zlib, RFC-1950, no dictionary) and
specs/protocol/fjord/derivation.md "Brotli Channel Compression"::

    channel_encoding = channel_version_byte ++ compress(rlp_batches)     (versioned, Fjord)

A channel is zlib (the legacy format, no version byte) when the low nibble of its first byte is
8 or 15 -- values reserved for the zlib CMF header byte; otherwise the first byte is a channel
version byte and the only valid one is ``0x01``: Brotli (RFC-7932, no custom dictionary).

The compressors here are the batcher side (Go: op-node/rollup/derive/channel_compressor.go
and op-batcher/compressor). Decompression lives in :mod:`pyop.codec.channel`.
"""

from __future__ import annotations

import enum
import zlib
from typing import Protocol

import brotli

from pyop.codec.errors import ChannelError

__all__ = [
    "CHANNEL_VERSION_BROTLI",
    "CLOSE_OVERHEAD_ZLIB",
    "DEFAULT_BROTLI_LGWIN",
    "DEFAULT_BROTLI_QUALITY",
    "SAFE_COMPRESSION_OVERHEAD",
    "ZLIB_CM8",
    "ZLIB_CM15",
    "ChannelCompressor",
    "ChannelFullError",
    "CompressionAlgo",
    "Compressor",
    "CompressorFullError",
    "NoneCompressor",
    "RatioCompressor",
    "ShadowCompressor",
    "compress_channel",
    "detect_compression",
]

#: Channel version byte of a Brotli channel (fjord/derivation.md "Brotli Channel Compression").
CHANNEL_VERSION_BROTLI = 0x01
#: zlib CMF low-nibble values that mark the legacy (zlib) channel format.
ZLIB_CM8 = 8
ZLIB_CM15 = 15

#: Brotli quality op-batcher uses by default (Go ``GetBrotliLevel``: "brotli" means level 10).
DEFAULT_BROTLI_QUALITY = 10
#: Brotli window: Go's andybalholm/brotli ``NewWriterLevel`` and kona's ``BrotliEncoderParams``
#: both leave it at the library default, lgwin 22.
DEFAULT_BROTLI_LGWIN = 22

#: Bytes a zlib writer adds on close after a sync flush (Go op-batcher ``CloseOverheadZlib``).
CLOSE_OVERHEAD_ZLIB = 9
#: Worst-case blow-up of incompressible data, the shadow compressor's starting bound
#: (Go op-batcher ``safeCompressionOverhead``: 2 header + 4 digest + 5 EOF + 8 * 5 block headers).
SAFE_COMPRESSION_OVERHEAD = 51


class CompressionAlgo(enum.Enum):
    """Channel compression algorithm (derivation.md "Channel Format"; Fjord adds Brotli)."""

    ZLIB = "zlib"
    BROTLI = "brotli"


class ChannelFullError(ChannelError):
    """A channel being built cannot take more data (Go op-batcher ``ChannelFullError``)."""


class CompressorFullError(ChannelFullError):
    """The compressor reached its target output size (Go ``derive.ErrCompressorFull``)."""


def detect_compression(first_byte: int, *, allow_brotli: bool) -> CompressionAlgo:
    """Compression of a channel from its first byte (fjord/derivation.md "Brotli Channel
    Compression"): zlib when ``first_byte & 0x0F`` is 8 or 15; Brotli when the byte is
    ``0x01`` and Fjord is active (``allow_brotli``); anything else is a :class:`ChannelError`.
    """
    if first_byte & 0x0F in (ZLIB_CM8, ZLIB_CM15):
        return CompressionAlgo.ZLIB
    if first_byte == CHANNEL_VERSION_BROTLI:
        if not allow_brotli:
            raise ChannelError("brotli-compressed channel before Fjord", 0)
        return CompressionAlgo.BROTLI
    raise ChannelError(f"unknown channel version byte 0x{first_byte:02x}", 0)


class _Stream(Protocol):
    def process(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...
    def finish(self) -> bytes: ...


class _ZlibStream:
    """zlib at best compression (Go: ``zlib.NewWriterLevel(w, zlib.BestCompression)``)."""

    def __init__(self) -> None:
        self._c = zlib.compressobj(zlib.Z_BEST_COMPRESSION)

    def process(self, data: bytes) -> bytes:
        return self._c.compress(data)

    def flush(self) -> bytes:
        return self._c.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._c.flush(zlib.Z_FINISH)


class _BrotliStream:
    def __init__(self, quality: int, lgwin: int) -> None:
        self._c = brotli.Compressor(quality=quality, lgwin=lgwin)

    def process(self, data: bytes) -> bytes:
        out: bytes = self._c.process(data)
        return out

    def flush(self) -> bytes:
        out: bytes = self._c.flush()
        return out

    def finish(self) -> bytes:
        out: bytes = self._c.finish()
        return out


class Compressor(Protocol):
    """What a channel out writes to (Go ``derive.Compressor``)."""

    def write(self, data: bytes) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def reset(self) -> None: ...
    def __len__(self) -> int: ...
    def read(self, n: int) -> bytes: ...
    def full_err(self) -> CompressorFullError | None: ...


class ChannelCompressor:
    """A streaming channel compressor with an output buffer (Go ``derive.ChannelCompressor``).

    ``len()`` is the number of compressed bytes buffered and ready to ``read``; a Brotli
    channel's buffer starts with the version byte ``0x01``. ``flush`` forces the compressed
    form of everything written so far into the buffer (worse ratio); ``close`` ends the stream.
    It is never full: :meth:`full_err` is always ``None``.
    """

    def __init__(
        self,
        algo: CompressionAlgo = CompressionAlgo.ZLIB,
        *,
        brotli_quality: int = DEFAULT_BROTLI_QUALITY,
        brotli_lgwin: int = DEFAULT_BROTLI_LGWIN,
    ) -> None:
        if not isinstance(algo, CompressionAlgo):
            raise ChannelError(f"unsupported compression algorithm {algo!r}")
        self.algo = algo
        self._brotli_quality = brotli_quality
        self._brotli_lgwin = brotli_lgwin
        self._buf = bytearray()
        self._stream: _Stream = self._new_stream()
        self._closed = False

    def _new_stream(self) -> _Stream:
        if self.algo is CompressionAlgo.BROTLI:
            self._buf.append(CHANNEL_VERSION_BROTLI)
            return _BrotliStream(self._brotli_quality, self._brotli_lgwin)
        return _ZlibStream()

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ChannelError("write to a closed compressor")
        self._buf += self._stream.process(data)

    def flush(self) -> None:
        if not self._closed:
            self._buf += self._stream.flush()

    def close(self) -> None:
        if not self._closed:
            self._buf += self._stream.finish()
            self._closed = True

    def reset(self) -> None:
        self._buf = bytearray()
        self._stream = self._new_stream()
        self._closed = False

    def __len__(self) -> int:
        return len(self._buf)

    def read(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def full_err(self) -> CompressorFullError | None:
        return None


class ShadowCompressor:
    """Size-bounded compressor with a flushed "shadow" copy (Go op-batcher ``ShadowCompressor``).

    Every write also goes to a shadow compressor; once the cheap upper bound
    (``SAFE_COMPRESSION_OVERHEAD`` + bytes written) passes ``target_output_size`` the shadow is
    sync-flushed and its length + ``CLOSE_OVERHEAD_ZLIB`` is the new bound. A write that would
    push the bound over the target is refused with :class:`CompressorFullError` (not written),
    except the very first write, so a single batch larger than the target still fits. The real
    output therefore stays at or below the target (the final frames are never over-full).
    """

    def __init__(
        self,
        target_output_size: int,
        algo: CompressionAlgo = CompressionAlgo.ZLIB,
        *,
        brotli_quality: int = DEFAULT_BROTLI_QUALITY,
        brotli_lgwin: int = DEFAULT_BROTLI_LGWIN,
    ) -> None:
        self.target_output_size = target_output_size
        self._main = ChannelCompressor(
            algo, brotli_quality=brotli_quality, brotli_lgwin=brotli_lgwin
        )
        self._shadow = ChannelCompressor(
            algo, brotli_quality=brotli_quality, brotli_lgwin=brotli_lgwin
        )
        self._full: CompressorFullError | None = None
        self._bound = SAFE_COMPRESSION_OVERHEAD

    def write(self, data: bytes) -> None:
        if self._full is not None:
            raise self._full
        self._shadow.write(data)
        new_bound = self._bound + len(data)
        if new_bound > self.target_output_size:
            self._shadow.flush()
            new_bound = len(self._shadow) + CLOSE_OVERHEAD_ZLIB
            if new_bound > self.target_output_size:
                self._full = CompressorFullError("compressor is full")
                if len(self._main) > 0:
                    raise self._full
        self._bound = new_bound
        self._main.write(data)

    def flush(self) -> None:
        self._main.flush()

    def close(self) -> None:
        self._main.close()

    def reset(self) -> None:
        self._main.reset()
        self._shadow.reset()
        self._full = None
        self._bound = SAFE_COMPRESSION_OVERHEAD

    def __len__(self) -> int:
        return len(self._main)

    def read(self, n: int) -> bytes:
        return self._main.read(n)

    def full_err(self) -> CompressorFullError | None:
        return self._full


class RatioCompressor:
    """Compressor that is full once ``input * ratio >= target`` (Go ``RatioCompressor``).

    ``full = input_bytes >= target_output_size / approx_compr_ratio``. Cheaper than the shadow
    estimate but may overshoot the target (an extra small frame).
    """

    def __init__(
        self,
        target_output_size: int,
        approx_compr_ratio: float,
        algo: CompressionAlgo = CompressionAlgo.ZLIB,
        *,
        brotli_quality: int = DEFAULT_BROTLI_QUALITY,
        brotli_lgwin: int = DEFAULT_BROTLI_LGWIN,
    ) -> None:
        if approx_compr_ratio <= 0:
            raise ChannelError("approx_compr_ratio must be positive")
        self.target_output_size = target_output_size
        self.approx_compr_ratio = approx_compr_ratio
        self._main = ChannelCompressor(
            algo, brotli_quality=brotli_quality, brotli_lgwin=brotli_lgwin
        )
        self._input = 0

    def input_threshold(self) -> int:
        return int(self.target_output_size / self.approx_compr_ratio)

    def write(self, data: bytes) -> None:
        full = self.full_err()
        if full is not None:
            raise full
        self._input += len(data)
        self._main.write(data)

    def flush(self) -> None:
        self._main.flush()

    def close(self) -> None:
        self._main.close()

    def reset(self) -> None:
        self._main.reset()
        self._input = 0

    def __len__(self) -> int:
        return len(self._main)

    def read(self, n: int) -> bytes:
        return self._main.read(n)

    def full_err(self) -> CompressorFullError | None:
        if self._input >= self.input_threshold():
            return CompressorFullError("compressor is full")
        return None


class NoneCompressor:
    """No compression, for tests (Go op-batcher ``NonCompressor``, ``--compressor=none``).

    zlib at level 0 (stored blocks: still a valid zlib channel), sync-flushed before every
    write so the buffered length is the exact output so far; full once that passes
    ``target_output_size``. Always zlib, whatever algorithm the channel was configured with,
    as in Go.
    """

    def __init__(self, target_output_size: int) -> None:
        self.target_output_size = target_output_size
        self._c = zlib.compressobj(0)
        self._buf = bytearray()
        self._closed = False
        self._full: CompressorFullError | None = None

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ChannelError("write to a closed compressor")
        self._buf += self._c.flush(zlib.Z_SYNC_FLUSH)
        self._buf += self._c.compress(data)
        if len(self._buf) > self.target_output_size:
            self._full = CompressorFullError("compressor is full")

    def flush(self) -> None:
        if not self._closed:
            self._buf += self._c.flush(zlib.Z_SYNC_FLUSH)

    def close(self) -> None:
        if not self._closed:
            self._buf += self._c.flush(zlib.Z_FINISH)
            self._closed = True

    def reset(self) -> None:
        self._c = zlib.compressobj(0)
        self._buf = bytearray()
        self._closed = False
        self._full = None

    def __len__(self) -> int:
        return len(self._buf)

    def read(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def full_err(self) -> CompressorFullError | None:
        return self._full


def compress_channel(
    rlp_batches: bytes,
    algo: CompressionAlgo = CompressionAlgo.ZLIB,
    *,
    brotli_quality: int = DEFAULT_BROTLI_QUALITY,
    brotli_lgwin: int = DEFAULT_BROTLI_LGWIN,
) -> bytes:
    """The whole ``channel_encoding`` of ``rlp_batches`` in one go (zlib, or ``0x01`` ++
    Brotli). Used for span-batch channels, which are re-compressed from scratch on every
    added block (Go ``SpanChannelOut.compress``)."""
    c = ChannelCompressor(algo, brotli_quality=brotli_quality, brotli_lgwin=brotli_lgwin)
    c.write(rlp_batches)
    c.close()
    return c.read(len(c))
