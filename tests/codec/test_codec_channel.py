"""Reading channels: the channel-bank frame rules, decompression and batch splitting
(specs/protocol/derivation.md "Channel Format", "Channel Bank"; fjord/derivation.md)."""

from __future__ import annotations

import json
import random
import zlib

import brotli
import pytest
import rlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyop.codec.channel import (
    CHANNEL_BANK_FRAME_OVERHEAD,
    Channel,
    CompressionAlgo,
    FrameDropReason,
    assemble_channels,
    decompress_channel,
    iter_batch_data,
    read_batch_data,
    read_channel,
    split_batch_data,
)
from pyop.codec.errors import ChannelError, CodecError
from pyop.codec.frame import Frame, parse_frames
from pyop.primitives import L1BlockRef
from tests.codec.test_codec_frame import EXPECTED_FILE, TX_FILE, batcher_calldata

BEDROCK_MAX = 10_000_000  # MAX_RLP_BYTES_PER_CHANNEL before Fjord (derivation.md)
FJORD_MAX = 100_000_000

A = b"\xaa" * 16
B = b"\xbb" * 16


def fr(cid: bytes, n: int, data: bytes = b"", last: bool = False) -> Frame:
    return Frame(cid, n, data, last)


def l1(n: int) -> L1BlockRef:
    return L1BlockRef(hash=n.to_bytes(32, "big"), number=n, parent_hash=b"\x00" * 32, timestamp=n)


def rlp_stream(batches: list[bytes]) -> bytes:
    """Independent rlp_batches encoding with pyrlp."""
    return b"".join(rlp.encode(b) for b in batches)


def zlib_channel(batches: list[bytes]) -> bytes:
    return zlib.compress(rlp_stream(batches), 9)


def brotli_channel(batches: list[bytes]) -> bytes:
    return b"\x01" + bytes(brotli.compress(rlp_stream(batches)))


# --- the real OP Mainnet channel --------------------------------------------------------------


def test_real_channel_decompresses_to_one_span_batch() -> None:
    exp = json.loads(EXPECTED_FILE.read_text())
    frames = parse_frames(batcher_calldata(TX_FILE))
    channels = assemble_channels(frames)
    assert len(channels) == 1
    ch = channels[0]
    assert ch.complete and ch.channel_id.hex() == exp["frames"][0]["channel_id"]
    dec = decompress_channel(ch.data, max_rlp_bytes=BEDROCK_MAX, allow_brotli=False)
    assert dec.compression is CompressionAlgo.ZLIB
    assert len(dec.data) == exp["decompressed_len"]
    assert dec.stream_error is None and not dec.capped
    # cross-check against Python's own zlib on the whole buffer (the channel is not cut short
    # inside the deflate data, only the end marker may be missing)
    assert dec.data == zlib.decompressobj().decompress(ch.data)
    batches = read_batch_data(dec.data)
    assert len(batches) == exp["num_batches"] == 1
    assert batches[0][0] == 1  # span batch type
    assert rlp.encode(batches[0]) == dec.data  # the single item covers the whole stream
    res = read_channel(ch.data, max_rlp_bytes=BEDROCK_MAX, allow_brotli=True)
    assert res.batches == (batches[0],) and res.error is None


def test_real_channel_capped_by_max_rlp_bytes() -> None:
    data = assemble_channels(parse_frames(batcher_calldata(TX_FILE)))[0].data
    exp_len = json.loads(EXPECTED_FILE.read_text())["decompressed_len"]
    for cap in (1, 100, exp_len - 1):
        dec = decompress_channel(data, max_rlp_bytes=cap, allow_brotli=False)
        assert len(dec.data) == cap and dec.capped
        res = split_batch_data(dec.data)
        assert res.batches == () and isinstance(res.error, ChannelError)
    dec = decompress_channel(data, max_rlp_bytes=exp_len, allow_brotli=False)
    assert len(read_batch_data(dec.data)) == 1  # "length(input) <= MAX_RLP_BYTES_PER_CHANNEL"


# --- Channel: frame insertion rules (derivation.md "Loading frames") ----------------------------


def test_channel_in_order_and_out_of_order() -> None:
    ch = Channel(A, l1(5))
    assert not ch.is_ready()
    assert ch.add_frame(fr(A, 2, b"c", True), l1(7)) is None
    assert ch.add_frame(fr(A, 0, b"a"), l1(6)) is None
    assert not ch.is_ready()
    with pytest.raises(ChannelError):
        ch.reader_data()
    assert ch.add_frame(fr(A, 1, b"b"), l1(6)) is None
    assert ch.is_ready() and ch.reader_data() == b"abc"
    assert ch.open_block_number == 5
    assert ch.highest_l1_inclusion_block == l1(7)
    assert ch.size == 3 * CHANNEL_BANK_FRAME_OVERHEAD + 3


def test_channel_drops() -> None:
    ch = Channel(A)
    assert ch.add_frame(fr(B, 0)) is FrameDropReason.WRONG_CHANNEL
    assert ch.add_frame(fr(A, 0, b"first")) is None
    assert ch.add_frame(fr(A, 0, b"second")) is FrameDropReason.DUPLICATE_FRAME
    assert ch.add_frame(fr(A, 3, b"end", True)) is None
    assert ch.add_frame(fr(A, 5, b"end2", True)) is FrameDropReason.DUPLICATE_CLOSE
    assert ch.add_frame(fr(A, 4)) is FrameDropReason.PAST_CLOSING_FRAME
    assert ch.add_frame(fr(A, 1, b"1")) is None
    assert ch.add_frame(fr(A, 2, b"2")) is None
    assert ch.reader_data() == b"first12end"  # the first frame 0 was kept


def test_closing_frame_prunes_higher_frames_and_size_quirk() -> None:
    ch = Channel(A)
    for n in (0, 1, 4, 5):
        assert ch.add_frame(fr(A, n, b"x" * (n + 1))) is None
    assert ch.size == 4 * CHANNEL_BANK_FRAME_OVERHEAD + (1 + 2 + 5 + 6)
    assert ch.add_frame(fr(A, 2, b"zz", True)) is None
    assert [f.frame_number for f in ch.frames()] == [0, 1, 2]
    assert ch.highest_frame_number == 2
    assert ch.is_ready() and ch.reader_data() == b"x" + b"xx" + b"zz"
    # op-node/kona subtract every buffered frame while pruning, then add the closing frame
    assert ch.size == CHANNEL_BANK_FRAME_OVERHEAD + 2


def test_channel_require_in_order_holocene() -> None:
    ch = Channel(A, require_in_order=True)
    assert ch.add_frame(fr(A, 1)) is FrameDropReason.OUT_OF_ORDER
    assert ch.add_frame(fr(A, 0, b"a")) is None
    assert ch.add_frame(fr(A, 2)) is FrameDropReason.OUT_OF_ORDER
    assert ch.add_frame(fr(A, 1, b"b", True)) is None
    assert ch.reader_data() == b"ab"


def test_assemble_channels_interleaved() -> None:
    frames = [
        fr(B, 1, b"B1", True),
        fr(A, 0, b"A0"),
        fr(B, 0, b"B0"),
        fr(A, 0, b"dup"),
        fr(b"\xcc" * 16, 1, b"C1"),
        fr(A, 1, b"A1", True),
    ]
    out = assemble_channels(frames)
    assert [c.channel_id for c in out] == [B, A, b"\xcc" * 16]
    b_ch, a_ch, c_ch = out
    assert b_ch.complete and b_ch.data == b"B0B1"
    assert [f.frame_number for f in b_ch.frames] == [0, 1]
    assert a_ch.complete and a_ch.data == b"A0A1"
    assert a_ch.dropped == ((fr(A, 0, b"dup"), FrameDropReason.DUPLICATE_FRAME),)
    assert not c_ch.complete and c_ch.data == b""


# --- decompression ----------------------------------------------------------------------------

batches_st = st.lists(
    st.binary(min_size=1, max_size=300).map(lambda b: bytes([b[0] % 2]) + b[1:]),
    min_size=1,
    max_size=8,
)


@given(batches_st)
@settings(max_examples=60)
def test_zlib_and_brotli_decode_independent_encodings(batches: list[bytes]) -> None:
    for data, algo in (
        (zlib_channel(batches), CompressionAlgo.ZLIB),
        (brotli_channel(batches), CompressionAlgo.BROTLI),
    ):
        dec = decompress_channel(data, max_rlp_bytes=FJORD_MAX, allow_brotli=True)
        assert dec.compression is algo and dec.complete and dec.stream_error is None
        assert dec.data == rlp_stream(batches)
        assert read_batch_data(dec.data) == batches
        assert list(iter_batch_data(dec.data)) == batches


def test_brotli_rejected_before_fjord() -> None:
    data = brotli_channel([b"\x00abc"])
    with pytest.raises(ChannelError):
        decompress_channel(data, max_rlp_bytes=BEDROCK_MAX, allow_brotli=False)


@pytest.mark.parametrize("first", [0x00, 0x02, 0x07, 0x09, 0x10, 0x21, 0x7E, 0xFE])
def test_unknown_channel_version_byte(first: int) -> None:
    with pytest.raises(ChannelError):
        decompress_channel(bytes([first]) + b"\x00" * 10, max_rlp_bytes=100, allow_brotli=True)


def test_empty_channel_and_bad_zlib_headers() -> None:
    with pytest.raises(ChannelError):
        decompress_channel(b"", max_rlp_bytes=100, allow_brotli=True)
    good = zlib_channel([b"\x00abc"])
    for bad in (
        good[:1],  # truncated header
        b"\x78\x00" + good[2:],  # header checksum (mod 31) wrong
        b"\x8f" + good[1:],  # low nibble 15: zlib format, but CM 15 is not deflate
        b"\x88\x1d" + good[2:],  # CINFO 8 > 7; 0x881d % 31 == 0
    ):
        assert (bad[0] << 8 | (bad[1] if len(bad) > 1 else 0)) % 31 != 0 or bad[0] >> 4 > 7 or (
            bad[0] & 0x0F != 8
        )
        with pytest.raises(ChannelError):
            decompress_channel(bad, max_rlp_bytes=100, allow_brotli=True)


def test_zlib_preset_dictionary_header() -> None:
    body = zlib.compress(rlp_stream([b"\x00hi"]))[2:]
    flg = next(f for f in range(256) if f & 0x20 and ((0x78 << 8) | f) % 31 == 0)
    # DICTID 1 = adler32 of the empty dictionary: Go's zlib reader accepts it
    ok = bytes([0x78, flg]) + (1).to_bytes(4, "big") + body
    dec = decompress_channel(ok, max_rlp_bytes=100, allow_brotli=False)
    assert read_batch_data(dec.data) == [b"\x00hi"]
    with pytest.raises(ChannelError):
        decompress_channel(
            bytes([0x78, flg]) + (2).to_bytes(4, "big") + body, max_rlp_bytes=100, allow_brotli=False
        )


@given(batches_st, st.data())
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_truncated_stream_keeps_complete_batches(batches: list[bytes], data: st.DataObject) -> None:
    for full in (zlib_channel(batches), brotli_channel(batches)):
        cut = data.draw(st.integers(1, len(full)))
        try:
            dec = decompress_channel(full[:cut], max_rlp_bytes=FJORD_MAX, allow_brotli=True)
        except ChannelError:
            assert cut < 2  # only a cut inside the zlib header stops the channel outright
            continue
        stream = rlp_stream(batches)
        assert stream.startswith(dec.data)
        got = read_batch_data(dec.data)
        assert got == batches[: len(got)]
        # every batch whose encoding lies fully inside the output is returned
        ends = []
        pos = 0
        for b in batches:
            pos += len(rlp.encode(b))
            ends.append(pos)
        assert len(got) == sum(1 for e in ends if e <= len(dec.data))


def test_zip_bomb_is_capped() -> None:
    bomb = zlib.compress(b"\x00" * 50_000_000, 9)
    dec = decompress_channel(bomb, max_rlp_bytes=1000, allow_brotli=False)
    assert dec.capped and dec.data == b"\x00" * 1000
    bbomb = b"\x01" + brotli.compress(b"\x00" * 50_000_000, quality=5)
    dec = decompress_channel(bbomb, max_rlp_bytes=1000, allow_brotli=True)
    assert dec.capped and dec.data == b"\x00" * 1000


def test_cap_keeps_batches_that_fit() -> None:
    batches = [b"\x00" + bytes([i]) * 70 for i in range(5)]  # each RLP item is 73 bytes
    data = zlib_channel(batches)
    for cap, n in ((72, 0), (73, 1), (145, 1), (146, 2), (365, 5), (10_000, 5)):
        dec = decompress_channel(data, max_rlp_bytes=cap, allow_brotli=False)
        assert read_batch_data(dec.data) == batches[:n], cap
    assert decompress_channel(data, max_rlp_bytes=0, allow_brotli=False).data == b""


def test_corruption_keeps_output_before_it() -> None:
    batches = [b"\x00" + bytes([i]) * 500 for i in range(40)]
    good = zlib_channel(batches)
    # a broken Adler-32 trailer: every batch is still there, the error is reported
    bad_sum = good[:-1] + bytes([good[-1] ^ 1])
    dec = decompress_channel(bad_sum, max_rlp_bytes=FJORD_MAX, allow_brotli=False)
    assert read_batch_data(dec.data) == batches
    assert dec.stream_error is not None and dec.stream_error.offset == len(good) - 1
    res = read_channel(bad_sum, max_rlp_bytes=FJORD_MAX, allow_brotli=False)
    assert res.batches == tuple(batches)
    assert res.error is not None and res.error.offset == dec.stream_error.offset
    # trailing bytes after a brotli stream are an error (as andybalholm/brotli says)
    bro = brotli_channel(batches)
    dec = decompress_channel(bro + b"junk", max_rlp_bytes=FJORD_MAX, allow_brotli=True)
    assert read_batch_data(dec.data) == batches and dec.stream_error is not None
    assert dec.stream_error.offset == len(bro)
    # corruption in the middle of a multi-chunk stream: output before it survives
    rnd = random.Random(7)
    big = [b"\x00" + bytes(rnd.choice(b"abcdefgh") for _ in range(20_000)) for _ in range(40)]
    good_big = zlib_channel(big)
    assert len(good_big) > 200_000
    broken = bytearray(good_big)
    broken[150_000:150_004] = b"\xff\xff\xff\xff"
    dec = decompress_channel(bytes(broken), max_rlp_bytes=FJORD_MAX, allow_brotli=False)
    assert dec.stream_error is not None  # at the latest, the Adler-32 check fails
    assert dec.stream_error.offset is not None and dec.stream_error.offset >= 150_000
    before = zlib.decompressobj().decompress(good_big[:150_000])
    assert len(before) > 100_000 and dec.data.startswith(before)
    got = read_batch_data(dec.data)
    n_before = len(read_batch_data(before))
    assert n_before >= 5 and got[:n_before] == big[:n_before]
    # ... but ignored after a zlib stream (Go's zlib reader stops at the checksum)
    dec = decompress_channel(good + b"junk", max_rlp_bytes=FJORD_MAX, allow_brotli=False)
    assert dec.stream_error is None and read_batch_data(dec.data) == batches


# --- splitting rlp_batches -----------------------------------------------------------------


def test_read_batch_data_rlp_rules() -> None:
    long_item = b"\x01" * 100
    stream = rlp.encode(b"\x00abc") + rlp.encode(b"\x05") + rlp.encode(long_item)
    assert read_batch_data(stream) == [b"\x00abc", b"\x05", long_item]
    for bad_tail, offset_in_tail in (
        (b"\xc0", 0),  # a list
        (b"\x81\x05", 0),  # non-canonical single byte
        (b"\xb8\x05abcde", 0),  # long form for a short string
        (b"\xb9\x00\x40" + b"x" * 64, 0),  # leading zero in the size
        (b"\x85abc", 0),  # truncated
        (b"\xb9\x01", 0),  # truncated size
    ):
        res = split_batch_data(stream + bad_tail)
        assert res.batches == (b"\x00abc", b"\x05", long_item)
        assert res.error is not None and res.error.offset == len(stream) + offset_in_tail
        it = iter_batch_data(stream + bad_tail)
        assert [next(it), next(it), next(it)] == [b"\x00abc", b"\x05", long_item]
        with pytest.raises(ChannelError):
            next(it)
    assert read_batch_data(b"") == []
    assert read_batch_data(b"\x80") == [b""]


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_arbitrary_bytes_raise_only_channel_errors(data: bytes) -> None:
    try:
        dec = decompress_channel(data, max_rlp_bytes=10_000, allow_brotli=True)
    except CodecError as e:
        assert isinstance(e, ChannelError)
    else:
        assert len(dec.data) <= 10_000
    res = split_batch_data(data)
    assert res.error is None or isinstance(res.error, ChannelError)
    assert isinstance(read_batch_data(data), list)


@given(st.binary(max_size=200))
@settings(max_examples=200)
def test_arbitrary_bytes_after_valid_headers(tail: bytes) -> None:
    for head in (b"\x78\xda", b"\x78\x9c", b"\x01"):
        try:
            read_channel(head + tail, max_rlp_bytes=10_000, allow_brotli=True)
        except CodecError as e:
            assert isinstance(e, ChannelError)
