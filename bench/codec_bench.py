"""Codec throughput, each figure beside its floor measured in the same run.

Run: ``make bench`` (or ``.venv/bin/python -m bench.codec_bench [--quick]``).

Floors are the plain library doing the same compression work on the same bytes (``zlib`` /
``brotli``), so the ratio shows what pyop's framing, RLP and batch decoding cost on top.
Absolute seconds depend on the machine; the ratios are the figures to compare.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.channel import decompress_channel, split_batch_data
from pyop.codec.channel_out import ChannelOut
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import parse_frames
from pyop.codec.span_batch import RawSpanBatch, SpanBatch, decode_span_batch_body
from pyop.codec.tx import decode_signed_tx

REPO = Path(__file__).resolve().parents[1]
BATCHER_TX = REPO / "spec_vectors" / "batcher" / "op-mainnet-batcher-tx-0xe69d9433.bin"
MAX_RLP = 100_000_000
OP_MAINNET_GENESIS_L2_TIME = 1686068903
CHAIN_ID = 10


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` runs (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def row(name: str, mb: float, t: float, floor_t: float | None = None) -> str:
    s = f"  {name:<58} {mb / t:9.1f} MB/s"
    if floor_t is not None:
        s += f"   floor {mb / floor_t:9.1f} MB/s   pyop/floor time x{t / floor_t:6.2f}"
    return s


def calldata_of(raw_tx: bytes) -> bytes:
    return decode_signed_tx(raw_tx).data


def bench_real_batcher_tx(repeat: int) -> None:
    raw = BATCHER_TX.read_bytes()
    calldata = calldata_of(raw)
    frames = parse_frames(calldata)
    channel = b"".join(f.data for f in frames)
    comp_mb = len(channel) / 1e6

    def pyop_decode() -> object:
        fr = parse_frames(calldata)
        dc = decompress_channel(b"".join(f.data for f in fr), max_rlp_bytes=MAX_RLP, allow_brotli=True)
        return [decode_batch(b) for b in split_batch_data(dc.data).batches]

    def floor_inflate() -> object:
        return zlib.decompressobj().decompress(channel)

    t = best_of(pyop_decode, repeat)
    tf = best_of(floor_inflate, repeat)
    print(f"real OP Mainnet batcher tx: {len(calldata)} bytes calldata, 1 frame, zlib channel")
    print(row("frames -> inflate -> span batch decode (compressed MB/s)", comp_mb, t, tf))

    dc = decompress_channel(channel, max_rlp_bytes=MAX_RLP, allow_brotli=True)
    body = split_batch_data(dc.data).batches[0]
    raw_span = decode_batch(body)
    assert isinstance(raw_span, RawSpanBatch)
    nblocks = raw_span.block_count

    def to_singular() -> object:
        span = decode_span_batch_body(body[1:]).derive(2, OP_MAINNET_GENESIS_L2_TIME, CHAIN_ID)
        return span

    ts = best_of(to_singular, repeat)
    print(f"  span batch decode + derive (full signed txs), {nblocks} blocks: "
          f"{nblocks / ts:,.0f} blocks/s, {sum(raw_span.block_tx_counts) / ts:,.0f} txs/s")

    def encode_span() -> object:
        return raw_span.encode()

    te = best_of(encode_span, repeat)
    print(f"  span batch re-encode: {nblocks / te:,.0f} blocks/s")


def random_tx(rng: random.Random) -> bytes:
    """A type-2 transaction with realistic field sizes (ERC-20 style calldata, random sig)."""
    import rlp

    to = rng.choice(_POPULAR) if rng.random() < 0.7 else rng.randbytes(20)
    data = bytes.fromhex("a9059cbb") + b"\x00" * 12 + rng.randbytes(20) + rng.randbytes(32)
    if rng.random() < 0.2:
        data += rng.randbytes(rng.randrange(32, 600))
    fields = [
        CHAIN_ID, rng.randrange(0, 5000), 1_000_000, rng.randrange(10**6, 10**10),
        rng.randrange(21000, 500000), to, rng.randrange(0, 10**18), data, [],
        rng.randrange(2), int.from_bytes(rng.randbytes(32), "big"), int.from_bytes(rng.randbytes(32), "big") >> 1,
    ]
    return b"\x02" + rlp.encode(fields)


_POPULAR = [bytes([i]) * 20 for i in range(1, 30)]


def generated_batches(n_blocks: int, txs_per_block: int, seed: int = 1) -> list[SingularBatch]:
    rng = random.Random(seed)
    out = []
    parent = rng.randbytes(32)
    for i in range(n_blocks):
        txs = tuple(random_tx(rng) for _ in range(txs_per_block))
        out.append(SingularBatch(parent, 19_000_000 + i // 6, b"\x11" * 32, 1_700_000_000 + 2 * i, txs))
        parent = rng.randbytes(32)
    return out


def bench_algo(algo: CompressionAlgo, encoded: list[bytes], repeat: int) -> None:
    def build() -> bytes:
        co = ChannelOut(max_rlp_bytes=MAX_RLP, compression=algo)
        for e in encoded:
            co.add_batch(e)
        co.close()
        return b"".join(f.data for f in co.output_all_frames(120_000))

    channel = build()
    stream = b"".join(_rlp_str(e) for e in encoded)
    raw_mb = len(stream) / 1e6
    if algo is CompressionAlgo.ZLIB:
        def floor_c() -> bytes:
            c = zlib.compressobj(9)
            return c.compress(stream) + c.flush()

        def floor_d() -> bytes:
            return zlib.decompressobj().decompress(channel)
    else:
        def floor_c() -> bytes:
            return brotli.compress(stream, quality=10, lgwin=22)

        def floor_d() -> bytes:
            return brotli.decompress(channel[1:])

    r = max(1, repeat // 3)
    tc, tcf = best_of(build, r), best_of(floor_c, r)
    name = algo.name.lower()
    print(f"  {name}: {len(stream):,} bytes -> {len(channel):,} bytes ({len(channel) / len(stream):.3f})")
    print(row(f"{name} compress: channel builder -> frames (input MB/s)", raw_mb, tc, tcf))

    def pyop_read() -> object:
        dc = decompress_channel(channel, max_rlp_bytes=MAX_RLP, allow_brotli=True)
        return [decode_batch(b) for b in split_batch_data(dc.data).batches]

    def pyop_inflate_only() -> object:
        return decompress_channel(channel, max_rlp_bytes=MAX_RLP, allow_brotli=True)

    td, ti, tdf = best_of(pyop_read, r), best_of(pyop_inflate_only, r), best_of(floor_d, r)
    print(row(f"{name} decompress only (output MB/s)", raw_mb, ti, tdf))
    print(row(f"{name} decompress + decode batches (output MB/s)", raw_mb, td, tdf))


def bench_generated_channel(repeat: int, n_blocks: int) -> None:
    batches = generated_batches(n_blocks, 20)
    encoded = [b.encode() for b in batches]
    print(f"generated channel: {n_blocks} singular batches x 20 type-2 txs")
    for algo in (CompressionAlgo.ZLIB, CompressionAlgo.BROTLI):
        bench_algo(algo, encoded, repeat)

    # span batch of the same blocks
    span = SpanBatch.from_singular_batches(batches, 1_600_000_000, CHAIN_ID)
    raw_span = span.to_raw()
    body = raw_span.encode()

    def span_encode() -> object:
        return SpanBatch.from_singular_batches(batches, 1_600_000_000, CHAIN_ID).to_raw().encode()

    def span_decode() -> object:
        return decode_span_batch_body(body[1:]).derive(2, 1_600_000_000, CHAIN_ID)

    r = max(1, repeat // 3)
    t1, t2 = best_of(span_encode, r), best_of(span_decode, r)
    print(f"  span batch ({n_blocks} blocks, {len(body):,} bytes): encode from singular "
          f"{n_blocks / t1:,.0f} blocks/s, decode+derive {n_blocks / t2:,.0f} blocks/s")


def _rlp_str(b: bytes) -> bytes:
    import rlp

    out: bytes = rlp.encode(b)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller channel")
    a = ap.parse_args()
    repeat = 3 if a.quick else 9
    print(f"pyop codec bench (python {os.sys.version.split()[0]}; median of {repeat})")
    bench_real_batcher_tx(repeat)
    bench_generated_channel(repeat, 200 if a.quick else 2000)


if __name__ == "__main__":
    main()
