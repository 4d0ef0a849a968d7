"""Byte-level mutations of real vectors: bit flips, truncations, splices, length-field edits,
insertions and deletions, and recompression of channel data (zlib <-> brotli, levels, cut
streams). Each mutation keeps the input a valid JSON hex string; nothing here knows which bytes
matter, so the targets combine these with field-aware edits of their own.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import brotli

from pyop.tools.difftest.gen import Rng


def bit_flip(rng: Rng, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    b = bytearray(data)
    for _ in range(rng.pick([1, 1, 2, 4])):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def set_byte(rng: Rng, data: bytes) -> bytes:
    if not data:
        return data
    b = bytearray(data)
    b[rng.randrange(len(b))] = rng.pick([0x00, 0x01, 0x7F, 0x80, 0xFF, rng.randrange(256)])
    return bytes(b)


def truncate(rng: Rng, data: bytes) -> bytes:
    if not data:
        return data
    return data[: rng.randrange(len(data))] if rng.chance(0.7) else data[: len(data) - rng.randrange(1, 4)]


def extend(rng: Rng, data: bytes) -> bytes:
    return data + rng.pick([b"\x00", b"\x01", rng.raw(rng.randrange(1, 16))])


def delete_range(rng: Rng, data: bytes) -> bytes:
    if len(data) < 2:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randrange(1, min(16, len(data) - i) + 1):]


def insert_range(rng: Rng, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.raw(rng.randrange(1, 8)) + data[i:]


def duplicate_range(rng: Rng, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.randrange(1, 64))
    return data[:j] + data[i:j] + data[j:]


def length_field(rng: Rng, data: bytes) -> bytes:
    """Treat 1, 2 or 4 bytes at a random offset as a big-endian length and nudge it."""
    if not data:
        return data
    w = rng.pick([1, 2, 4])
    i = rng.randrange(max(1, len(data) - w + 1))
    chunk = data[i : i + w]
    v = int.from_bytes(chunk, "big")
    hi = (1 << (8 * len(chunk))) - 1
    nv = rng.pick([v + 1, v - 1, v + 2, 0, hi, v * 2, v // 2]) & hi
    return data[:i] + nv.to_bytes(len(chunk), "big") + data[i + len(chunk):]


def splice(rng: Rng, data: bytes, donors: Sequence[bytes]) -> bytes:
    if not donors:
        return data
    other = rng.pick(donors)
    i = rng.randrange(len(data) + 1)
    j = rng.randrange(len(other) + 1)
    return data[:i] + other[j:] if rng.chance(0.5) else other[:j] + data[i:]


_OPS = (bit_flip, bit_flip, set_byte, truncate, extend, delete_range, insert_range,
        duplicate_range, length_field, length_field)  # fmt: skip


def mutate(rng: Rng, data: bytes, donors: Sequence[bytes] = (), rounds: int | None = None) -> bytes:
    """1-3 random byte mutations (a splice with a donor now and then)."""
    for _ in range(rounds if rounds is not None else rng.pick([1, 1, 1, 2, 3])):
        if donors and rng.chance(0.1):
            data = splice(rng, data, donors)
        else:
            data = rng.pick(_OPS)(rng, data)
    return data


# ---------------------------------------------------------------------------------------------
# Compression
# ---------------------------------------------------------------------------------------------


def compress(rng: Rng, payload: bytes, algo: str | None = None) -> bytes:
    """Channel data for ``payload`` (the rlp batches): zlib (any level, sometimes with the
    stream cut or its checksum damaged) or brotli (``0x01`` ++ stream)."""
    algo = algo or rng.pick(["zlib", "zlib", "brotli"])
    if algo == "zlib":
        c = zlib.compressobj(rng.pick([0, 1, 6, 9]), zlib.DEFLATED, rng.pick([15, 15, 9, 12]))
        out = c.compress(payload)
        r = rng.random()
        if r < 0.15:  # no end of stream (a valid channel may be cut short)
            out += c.flush(zlib.Z_SYNC_FLUSH)
        else:
            out += c.flush()
            if r < 0.25 and len(out) > 4:  # damaged adler32
                out = out[:-1] + bytes([out[-1] ^ 1])
        return out
    q = rng.pick([0, 1, 6, 11])
    data = b"\x01" + bytes(brotli.compress(payload, quality=q, lgwin=rng.pick([10, 16, 22, 24])))
    if rng.chance(0.1):
        data += rng.pick([b"\x00", rng.raw(4)])  # bytes after the end of the stream
    return data


def recompress(rng: Rng, channel: bytes) -> bytes:
    """Decompress real channel data (either algorithm) and compress it again differently."""
    payload = b""
    try:
        if channel[:1] == b"\x01":
            payload = brotli.Decompressor().process(channel[1:])
        else:
            payload = zlib.decompressobj().decompress(channel, 1 << 22)
    except (zlib.error, brotli.error):
        payload = channel
    return compress(rng, payload)
