"""The dashboard reads batcher transactions back into channels and L2 block ranges.

Channels here are built by hand with the ``rlp`` library, ``zlib`` and ``struct`` (not with
pyop's encoder), following specs/protocol/derivation.md "Frame Format", "Channel Format" and
"Batch Format"; the expected L2 numbers come from the timestamps the test chose.
"""

from __future__ import annotations

import struct
import zlib

import rlp

from pyop.config.rollup import RollupConfig
from pyop.dashboard.chaindata import ChannelTracker, l2_number_at, tx_payloads
from tests.conftest import SPEC_VECTORS

GENESIS_TIME = 1_700_000_000
BLOCK_TIME = 2


def _cfg() -> RollupConfig:
    import json

    path = next((SPEC_VECTORS / "config").rglob("*.json"))
    obj = json.loads(path.read_text())
    obj["genesis"]["l2_time"] = GENESIS_TIME
    obj["genesis"]["l2"]["number"] = 0
    obj["block_time"] = BLOCK_TIME
    return RollupConfig.from_json(obj)


def singular(ts: int, epoch: int) -> bytes:
    return b"\x00" + rlp.encode([b"\x11" * 32, epoch, b"\x22" * 32, ts, [b"\x02\x01"]])


def frame(cid: bytes, n: int, data: bytes, last: bool) -> bytes:
    return cid + struct.pack(">HI", n, len(data)) + data + (b"\x01" if last else b"\x00")


def test_channel_over_two_txs_maps_to_its_l2_blocks() -> None:
    cfg = _cfg()
    cid = bytes(range(16))
    timestamps = [GENESIS_TIME + BLOCK_TIME * k for k in (5, 6, 7)]
    data = zlib.compress(b"".join(rlp.encode(singular(t, 3)) for t in timestamps))
    half = len(data) // 2
    tr = ChannelTracker(cfg)
    frames, done, err = tr.add_payload(b"\x00" + frame(cid, 0, data[:half], False), "0xaa", 10)
    assert (len(frames), done, err) == (1, [], "")
    frames, done, err = tr.add_payload(b"\x00" + frame(cid, 1, data[half:], True), "0xbb", 11)
    assert err == "" and len(done) == 1
    ch = done[0]
    assert ch.compression == "zlib"
    assert ch.l2_range == (5, 7)
    assert [b.kind for b in ch.batches] == ["singular"] * 3
    assert ch.txs == ["0xaa", "0xbb"]
    assert l2_number_at(cfg, GENESIS_TIME + 20) == 10


def test_bad_payloads_are_reported_not_raised() -> None:
    tr = ChannelTracker(_cfg())
    assert tr.add_payload(b"", "0x1", 1)[2] == "empty payload"
    assert tr.add_payload(b"\x07abc", "0x1", 1)[2] == "unknown derivation version"
    assert tr.add_payload(b"\x00" + b"\x01" * 10, "0x1", 1)[2].startswith("not valid frames")
    cid = b"\x05" * 16
    _f, done, _e = tr.add_payload(b"\x00" + frame(cid, 0, b"not zlib at all", True), "0x2", 2)
    assert done and done[0].error and done[0].l2_range is None


def test_reorg_forgets_frames_of_replaced_blocks() -> None:
    tr = ChannelTracker(_cfg())
    cid = b"\x09" * 16
    tr.add_payload(b"\x00" + frame(cid, 0, b"abc", False), "0x1", 20)
    tr.forget_l1_from(20)
    assert cid not in tr.channels


def test_tx_payload_kinds() -> None:
    assert tx_payloads(2, b"\x00ab", []) == ("calldata", [b"\x00ab"])
    assert tx_payloads(2, b"\x01\x01\x7e" + b"\x00" * 32, []) == ("alt-da", [b"\x01\x7e" + b"\x00" * 32])
    kind, out = tx_payloads(3, b"", [b"\x00" * 131072])
    assert kind == "blob" and len(out) == 1
