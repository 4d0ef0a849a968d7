"""Frames and batcher transaction data (specs/protocol/derivation.md "Frame Format",
"Batcher Transaction Format")."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.errors import CodecError, FrameError
from pyop.codec.frame import (
    DERIVATION_VERSION_0,
    FRAME_OVERHEAD,
    MAX_FRAME_LEN,
    Frame,
    decode_frame,
    encode_frames,
    parse_frames,
)
from tests.conftest import SHARED_VECTORS, SPEC_VECTORS

TX_NAME = "op-mainnet-batcher-tx-0xe69d9433"
TX_FILE = SPEC_VECTORS / "batcher" / f"{TX_NAME}.bin"
EXPECTED_FILE = SPEC_VECTORS / "batcher" / f"{TX_NAME}.expected.json"


def batcher_calldata(path: Path) -> bytes:
    """Calldata of a raw EIP-2718 type-2 tx: field 7 of the RLP list after the type byte."""
    raw = path.read_bytes()
    assert raw[0] == 2, "expected a type-2 transaction"
    fields = rlp.decode(raw[1:])
    return bytes(fields[7])


def frame_bytes(cid: bytes, num: int, data: bytes, last: int) -> bytes:
    """Independent frame encoding with struct (big-endian uint16, uint32)."""
    return cid + struct.pack(">HI", num, len(data)) + data + bytes([last])


# --- the real OP Mainnet batcher transaction ---------------------------------------------


def test_vector_files_present_and_match_shared() -> None:
    assert TX_FILE.is_file() and EXPECTED_FILE.is_file()
    shared = SHARED_VECTORS / "batcher" / f"{TX_NAME}.bin"
    if shared.is_file():
        assert shared.read_bytes() == TX_FILE.read_bytes()
        exp_shared = json.loads((SHARED_VECTORS / "expected.json").read_text())[
            f"batcher/{TX_NAME}.bin"
        ]
        exp = json.loads(EXPECTED_FILE.read_text())
        for key, value in exp.items():
            assert exp_shared[key] == value, key


def test_real_batcher_tx_frames() -> None:
    exp = json.loads(EXPECTED_FILE.read_text())
    calldata = batcher_calldata(TX_FILE)
    assert len(calldata) == exp["calldata_len"]
    frames = parse_frames(calldata)
    assert len(exp["frames"]) >= 1
    assert len(frames) == len(exp["frames"])
    for got, want in zip(frames, exp["frames"], strict=True):
        assert got.channel_id.hex() == want["channel_id"]
        assert got.frame_number == want["frame_number"]
        assert len(got.data) == want["length"]
        assert got.is_last == bool(want["is_last"])
    # the whole calldata is the version byte and the frames, nothing else
    assert 1 + sum(f.encoded_len for f in frames) == len(calldata)
    assert encode_frames(frames) == calldata


# --- encoding ------------------------------------------------------------------------------


def test_encode_matches_independent_layout() -> None:
    cid = bytes(range(16))
    f = Frame(cid, 0x1234, b"abc", True)
    assert f.encode() == frame_bytes(cid, 0x1234, b"abc", 1)
    assert len(Frame(cid, 0, b"", False).encode()) == FRAME_OVERHEAD == 23


@pytest.mark.parametrize(
    "kwargs",
    [
        {"channel_id": b"\x00" * 15},
        {"channel_id": b"\x00" * 17},
        {"frame_number": -1},
        {"frame_number": 0x10000},
        {"data": b"\x00" * (MAX_FRAME_LEN + 1)},
    ],
)
def test_frame_construction_rejects_unencodable(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "channel_id": b"\x00" * 16,
        "frame_number": 0,
        "data": b"",
        "is_last": False,
    }
    args.update(kwargs)
    with pytest.raises(FrameError):
        Frame(**args)  # type: ignore[arg-type]


frames_st = st.builds(
    Frame,
    channel_id=st.binary(min_size=16, max_size=16),
    frame_number=st.integers(0, 0xFFFF),
    data=st.binary(max_size=300),
    is_last=st.booleans(),
)


@given(frames_st)
@settings(max_examples=200)
def test_frame_round_trip(f: Frame) -> None:
    enc = f.encode()
    assert enc == frame_bytes(f.channel_id, f.frame_number, f.data, int(f.is_last))
    got, end = decode_frame(enc)
    assert got == f and end == len(enc)
    # at an offset inside a larger buffer
    got2, end2 = decode_frame(b"xyz" + enc + b"tail", 3)
    assert got2 == f and end2 == 3 + len(enc)


@given(st.lists(frames_st, min_size=1, max_size=6))
@settings(max_examples=150)
def test_encode_parse_frames_round_trip(frames: list[Frame]) -> None:
    data = encode_frames(frames)
    assert data[0] == DERIVATION_VERSION_0
    assert data == b"\x00" + b"".join(
        frame_bytes(f.channel_id, f.frame_number, f.data, int(f.is_last)) for f in frames
    )
    assert parse_frames(data) == frames


# --- rejection -----------------------------------------------------------------------------

CID = b"\xaa" * 16
GOOD = frame_bytes(CID, 0, b"hello", 1)


def test_parse_rejects_empty_and_bad_version() -> None:
    with pytest.raises(FrameError) as e:
        parse_frames(b"")
    assert e.value.offset == 0
    with pytest.raises(FrameError):
        parse_frames(b"\x00")  # version byte but no frame
    for version in (1, 2, 0xFF):
        with pytest.raises(FrameError) as e:
            parse_frames(bytes([version]) + GOOD)
        assert e.value.offset == 0


def test_parse_rejects_too_long_frame_data() -> None:
    data = b"\x00" + GOOD + CID + struct.pack(">HI", 1, MAX_FRAME_LEN + 1)
    with pytest.raises(FrameError) as e:
        parse_frames(data)
    # offset of the frame_data_length field of the second frame
    assert e.value.offset == 1 + len(GOOD) + 16 + 2


def test_max_frame_len_is_accepted() -> None:
    big = frame_bytes(CID, 0, b"\x01" * MAX_FRAME_LEN, 0)
    frames = parse_frames(b"\x00" + big)
    assert len(frames[0].data) == MAX_FRAME_LEN


@pytest.mark.parametrize("bad", [2, 3, 0x80, 0xFF])
def test_parse_rejects_bad_is_last(bad: int) -> None:
    data = b"\x00" + GOOD + frame_bytes(CID, 1, b"xy", bad)
    with pytest.raises(FrameError) as e:
        parse_frames(data)
    assert e.value.offset == len(data) - 1


def test_parse_is_all_or_nothing_and_rejects_trailing_garbage() -> None:
    data = b"\x00" + GOOD + frame_bytes(CID, 1, b"", 0)
    assert len(parse_frames(data)) == 2
    with pytest.raises(FrameError) as e:
        parse_frames(data + b"\x00")
    assert e.value.offset == len(data)  # a new frame starts there and is truncated
    with pytest.raises(FrameError):
        parse_frames(data + CID)


def test_parse_rejects_every_truncation() -> None:
    data = b"\x00" + GOOD + frame_bytes(CID, 1, b"more data", 0)
    for cut in range(2, len(data)):
        if cut == 1 + len(GOOD):
            assert len(parse_frames(data[:cut])) == 1
            continue
        with pytest.raises(FrameError) as e:
            parse_frames(data[:cut])
        assert e.value.offset is not None and 0 < e.value.offset <= cut


@given(st.binary(max_size=200))
@settings(max_examples=300)
def test_arbitrary_bytes_raise_only_frame_errors(data: bytes) -> None:
    try:
        frames = parse_frames(data)
    except FrameError:
        return
    assert encode_frames(frames) == data


@given(st.binary(min_size=1, max_size=100), st.binary(max_size=100))
@settings(max_examples=200)
def test_arbitrary_frame_payloads_raise_only_frame_errors(head: bytes, tail: bytes) -> None:
    data = b"\x00" + CID + head + tail
    try:
        parse_frames(data)
    except CodecError as e:
        assert isinstance(e, FrameError)
