"""Writing channels: ChannelOut, SpanChannelOut, ChannelBuilder (the batcher side of
specs/protocol/derivation.md "Channel Format" and "Frame Format")."""

from __future__ import annotations

import random
import zlib

import brotli
import pytest
import rlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyop.codec.channel import (
    CompressionAlgo,
    assemble_channels,
    decompress_channel,
    read_batch_data,
    read_channel,
)
from pyop.codec.channel_out import (
    ChannelBuilder,
    ChannelFullError,
    ChannelOut,
    ChannelOutClosedError,
    CompressorFullError,
    FrameSizeError,
    SpanChannelOut,
    TerminatedError,
    TooManyRLPBytesError,
    compress_batches,
    encode_batch_stream,
    encode_rlp_string,
)
from pyop.codec.errors import ChannelError
from pyop.codec.frame import FRAME_OVERHEAD, Frame, encode_frames, parse_frames

FJORD_MAX = 100_000_000
CID = bytes(range(16))
ALGOS = [CompressionAlgo.ZLIB, CompressionAlgo.BROTLI]

batch_st = st.binary(min_size=1, max_size=400).map(lambda b: bytes([b[0] % 2]) + b[1:])


def read_back(frames: list[Frame]) -> list[bytes]:
    """frames -> batcher tx data -> frames -> channel -> decompress -> batches."""
    parsed = parse_frames(encode_frames(frames))
    channels = assemble_channels(parsed)
    assert len(channels) == 1 and channels[0].complete
    res = read_channel(channels[0].data, max_rlp_bytes=FJORD_MAX, allow_brotli=True)
    assert res.error is None
    return list(res.batches)


def noisy_batch(rnd: random.Random, n: int) -> bytes:
    return b"\x00" + bytes(rnd.choice(b"0123456789abcdef") for _ in range(n))


@given(st.lists(batch_st, max_size=10), st.sampled_from(ALGOS), st.integers(24, 400), st.data())
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_channel_out_round_trip(
    batches: list[bytes], algo: CompressionAlgo, max_size: int, data: st.DataObject
) -> None:
    co = ChannelOut(max_rlp_bytes=FJORD_MAX, compression=algo, channel_id=CID)
    frames: list[Frame] = []
    for b in batches:
        co.add_batch(b)
        if data.draw(st.booleans()):
            co.flush()
        while co.ready_bytes() > 0 and data.draw(st.booleans()):
            frames.append(co.output_frame(max_size))
    assert co.input_bytes() == sum(len(rlp.encode(b)) for b in batches)
    co.close()
    while not co.done:
        frames.append(co.output_frame(max_size))
    assert [f.frame_number for f in frames] == list(range(len(frames)))
    assert [f.is_last for f in frames] == [False] * (len(frames) - 1) + [True]
    assert all(f.channel_id == CID for f in frames)
    assert all(f.encoded_len <= max_size for f in frames)
    channel = b"".join(f.data for f in frames)
    if algo is CompressionAlgo.BROTLI:
        assert channel[0] == 0x01
    else:
        assert channel[0] & 0x0F == 8
        assert zlib.decompress(channel) == b"".join(rlp.encode(b) for b in batches)
    assert read_back(frames) == batches


@given(st.lists(batch_st, max_size=10), st.sampled_from(ALGOS))
@settings(max_examples=40)
def test_compress_batches_round_trip(batches: list[bytes], algo: CompressionAlgo) -> None:
    assert encode_batch_stream(batches) == b"".join(rlp.encode(b) for b in batches)
    data = compress_batches(batches, algo)
    dec = decompress_channel(data, max_rlp_bytes=FJORD_MAX, allow_brotli=True)
    assert dec.compression is algo and dec.complete
    assert read_batch_data(dec.data) == batches


@given(st.binary(max_size=70_000))
@settings(max_examples=60)
def test_encode_rlp_string_matches_pyrlp(b: bytes) -> None:
    assert encode_rlp_string(b) == rlp.encode(b)


def test_rlp_string_size_boundaries() -> None:
    for n in (0, 1, 55, 56, 255, 256, 65_535, 65_536):
        for fill in (b"\x00", b"\x90"):
            b = fill * n
            assert encode_rlp_string(b) == rlp.encode(b)


def test_output_frame_limits_and_numbering() -> None:
    co = ChannelOut(max_rlp_bytes=FJORD_MAX, channel_id=CID)
    co.add_batch(b"\x00" + bytes(range(256)) * 4)
    with pytest.raises(FrameSizeError):
        co.output_frame(FRAME_OVERHEAD)
    co.close()
    with pytest.raises(ChannelOutClosedError):
        co.add_batch(b"\x00")
    with pytest.raises(ChannelOutClosedError):
        co.close()
    total = co.ready_bytes()
    frames = co.output_all_frames(FRAME_OVERHEAD + 100)
    assert len(frames) == (total + 99) // 100
    assert [len(f.data) for f in frames[:-1]] == [100] * (len(frames) - 1)
    assert frames[-1].is_last and not any(f.is_last for f in frames[:-1])
    with pytest.raises(ChannelError):
        co.output_frame(1000)
    co.reset()
    assert co.id != CID and len(co.id) == 16 and co.input_bytes() == 0 and not co.closed


def test_empty_channel_closes_with_one_frame() -> None:
    for algo in ALGOS:
        co = ChannelOut(max_rlp_bytes=FJORD_MAX, compression=algo)
        co.close()
        frames = co.output_all_frames(FRAME_OVERHEAD + 1000)
        assert len(frames) == 1 and frames[0].is_last
        assert read_back(frames) == []


def test_random_channel_ids_differ() -> None:
    ids = {ChannelOut(max_rlp_bytes=10).id for _ in range(20)}
    assert len(ids) == 20 and all(len(i) == 16 for i in ids)


def test_max_rlp_bytes_enforced() -> None:
    co = ChannelOut(max_rlp_bytes=100, channel_id=CID)
    co.add_batch(b"\x00" * 51)  # 52 RLP bytes
    co.add_batch(b"\x00" * 46)  # 47 -> 99
    with pytest.raises(TooManyRLPBytesError) as e:
        co.add_batch(b"\x00\x01")  # 3 -> 102
    assert isinstance(e.value, ChannelFullError) and isinstance(e.value, ChannelError)
    co.add_batch(b"\x01")  # single byte below 0x80 is its own RLP: 1 -> 100
    assert co.input_bytes() == 100
    co.close()
    assert read_back(co.output_all_frames(1000)) == [b"\x00" * 51, b"\x00" * 46, b"\x01"]


# --- ChannelBuilder -------------------------------------------------------------------------


@pytest.mark.parametrize("algo", ALGOS)
def test_channel_builder_shadow_stays_under_target(algo: CompressionAlgo) -> None:
    rnd = random.Random(1)
    frame_size, num_frames = 2_000, 3
    target = num_frames * (frame_size - FRAME_OVERHEAD)
    cb = ChannelBuilder(
        target_frame_size=frame_size,
        target_num_frames=num_frames,
        max_rlp_bytes=FJORD_MAX,
        compression=algo,
        channel_id=CID,
    )
    added: list[bytes] = []
    frames: list[Frame] = []
    while True:
        b = noisy_batch(rnd, 700)
        try:
            cb.add_batch_bytes(b)
        except ChannelFullError:
            break
        added.append(b)
        frames += cb.output_frames()
        if cb.is_full():
            break
    assert cb.is_full() and len(added) > 2
    with pytest.raises(ChannelFullError):
        cb.add_batch_bytes(b"\x00")
    frames += cb.output_frames()
    assert cb.output_frames() == []
    assert sum(len(f.data) for f in frames) <= target
    assert all(f.encoded_len <= frame_size for f in frames)
    assert len(frames) <= num_frames
    assert read_back(frames) == added


def test_channel_builder_first_batch_always_fits() -> None:
    rnd = random.Random(2)
    cb = ChannelBuilder(target_frame_size=500, max_rlp_bytes=FJORD_MAX)
    big = b"\x00" + rnd.randbytes(5_000)
    cb.add_batch_bytes(big)
    assert cb.is_full() and isinstance(cb.full_reason, CompressorFullError)
    frames = cb.output_frames()
    assert len(frames) > 1 and all(f.encoded_len <= 500 for f in frames)
    assert read_back(frames) == [big]


def test_channel_builder_ratio_and_close() -> None:
    rnd = random.Random(3)
    cb = ChannelBuilder(
        target_frame_size=1_000,
        max_rlp_bytes=FJORD_MAX,
        estimator="ratio",
        approx_compr_ratio=0.5,
    )
    threshold = int((1_000 - FRAME_OVERHEAD) / 0.5)
    added = []
    while not cb.is_full():
        b = noisy_batch(rnd, 300)
        cb.add_batch_bytes(b)
        added.append(b)
    assert cb.input_bytes() >= threshold > cb.input_bytes() - len(rlp.encode(added[-1]))
    assert read_back(cb.output_frames()) == added

    cb2 = ChannelBuilder(target_frame_size=1_000, max_rlp_bytes=FJORD_MAX)
    cb2.add_batch_bytes(b"\x00abc")
    assert cb2.output_frames() == []  # nothing ready for a full frame yet
    cb2.close()
    assert isinstance(cb2.full_reason, TerminatedError)
    assert read_back(cb2.output_frames()) == [b"\x00abc"]


def test_channel_builder_max_rlp_bytes() -> None:
    cb = ChannelBuilder(target_frame_size=100_000, max_rlp_bytes=120)
    cb.add_batch_bytes(b"\x00" * 100)
    with pytest.raises(TooManyRLPBytesError):
        cb.add_batch_bytes(b"\x00" * 30)
    assert cb.is_full()
    assert read_back(cb.output_frames()) == [b"\x00" * 100]


# --- SpanChannelOut -------------------------------------------------------------------------


@pytest.mark.parametrize("algo", ALGOS)
def test_span_channel_out_reverts_the_block_that_overflows(algo: CompressionAlgo) -> None:
    rnd = random.Random(4)
    target = 3_000
    co = SpanChannelOut(
        target_output_size=target, max_rlp_bytes=FJORD_MAX, compression=algo, channel_id=CID
    )
    # stand-in for a growing span batch: type byte 1 + growing payload
    payload = b""
    accepted = b""
    with pytest.raises(CompressorFullError):
        for _ in range(1_000):
            payload += bytes(rnd.choice(b"0123456789") for _ in range(200))
            co.set_batches([b"\x01" + payload])
            accepted = payload
            assert co.ready_bytes() == 0 or co.full_err() is not None
    assert co.full_err() is not None
    assert co.input_bytes() == len(rlp.encode(b"\x01" + accepted))
    with pytest.raises(CompressorFullError):
        co.set_batches([b"\x01"])
    assert 0 < co.ready_bytes() < target
    frames = co.output_all_frames(1_000)
    assert read_back(frames) == [b"\x01" + accepted]


def test_span_channel_out_first_content_fits_and_limits() -> None:
    rnd = random.Random(5)
    co = SpanChannelOut(target_output_size=100, max_rlp_bytes=FJORD_MAX)
    first = b"\x01" + rnd.randbytes(1_000)
    co.set_batches([first])  # larger than the target, but the first block must fit
    assert co.full_err() is not None and co.ready_bytes() > 100
    assert read_back(co.output_all_frames(400)) == [first]

    co2 = SpanChannelOut(target_output_size=10_000, max_rlp_bytes=50)
    co2.set_batches([b"\x01" * 40])
    with pytest.raises(TooManyRLPBytesError):
        co2.set_batches([b"\x01" * 60])
    assert co2.input_bytes() == 41 and co2.ready_bytes() == 0
    co2.close()
    assert read_back(co2.output_all_frames(400)) == [b"\x01" * 40]
    with pytest.raises(ChannelOutClosedError):
        co2.set_batches([b"\x01"])


# Go op-batcher's brotli parameters (not consensus: any valid stream derives the same, but the
# batcher's output should be op-batcher's): op-node v1.19.6 rollup/derive/types.go
# ``GetBrotliLevel``: the default ``brotli`` algorithm is level 10; channel_compressor.go uses
# ``brotli.NewWriterLevel`` (andybalholm/brotli), whose window is its default ``lgwin`` 22.
GO_BROTLI_LEVEL = 10
GO_BROTLI_LGWIN = 22


def test_brotli_channel_uses_op_batcher_level_and_window() -> None:
    rng = random.Random(2)
    words = [b"w%d" % i for i in range(300)]
    batches = [b"\x00" + b" ".join(rng.choice(words) for _ in range(2000)) for _ in range(4)]
    stream = encode_batch_stream(batches)
    want = b"\x01" + brotli.compress(stream, quality=GO_BROTLI_LEVEL, lgwin=GO_BROTLI_LGWIN)
    assert compress_batches(batches, CompressionAlgo.BROTLI) == want
    co = ChannelOut(max_rlp_bytes=FJORD_MAX, compression=CompressionAlgo.BROTLI, channel_id=CID)
    for b in batches:
        co.add_batch(b)
    co.close()
    assert b"".join(f.data for f in co.output_all_frames(1_000_000)) == want
    # The input tells the parameters apart (so this test can fail): level 11 and window 24
    # give other bytes; the stream header's WBITS field (RFC 7932 9.1: bit 0 set, then 3 bits
    # n, WBITS = 17 + n) reads 22.
    assert brotli.compress(stream, quality=11, lgwin=GO_BROTLI_LGWIN) != want[1:]
    assert brotli.compress(stream, quality=GO_BROTLI_LEVEL, lgwin=24) != want[1:]
    assert want[1] & 1 == 1 and 17 + ((want[1] >> 1) & 7) == GO_BROTLI_LGWIN
