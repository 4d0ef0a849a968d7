"""`pyop decode` end to end: the real vectors decode to the values in the shared expected.json /
golden-values.json, through the same CLI entry point users run."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyop.cli import main
from tests.conftest import SHARED_VECTORS, SPEC_VECTORS

BATCHER_TX = SPEC_VECTORS / "batcher" / "op-mainnet-batcher-tx-0xe69d9433.bin"
EXPECTED = json.loads((SHARED_VECTORS / "expected.json").read_text())
GOLDEN = json.loads((SHARED_VECTORS / "golden-values.json").read_text())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else {}), err


def test_calldata_real_batcher_tx_with_network(capsys: pytest.CaptureFixture[str]) -> None:
    exp = EXPECTED["batcher/op-mainnet-batcher-tx-0xe69d9433.bin"]
    code, doc, _ = run(capsys, "decode", "calldata", "--network", "op-mainnet", str(BATCHER_TX))
    assert code == 0
    assert [
        (f["channel_id"], f["frame_number"], f["data_length"], f["is_last"]) for f in doc["frames"]
    ] == [
        ("0x" + f["channel_id"], f["frame_number"], f["length"], bool(f["is_last"]))
        for f in exp["frames"]
    ]
    assert len(doc["channels"]) == 1
    ch = doc["channels"][0]
    assert ch["channel_id"] == "0x" + exp["frames"][0]["channel_id"]
    assert ch["compression"] == "zlib"
    assert ch["decompressed_size"] == exp["decompressed_len"]
    assert len(ch["batches"]) == exp["num_batches"]
    span = ch["batches"][0]
    es = exp["span"]
    assert span["type"] == "span"
    for k in ("rel_timestamp", "l1_origin_num", "parent_check", "l1_origin_check", "block_count",
              "total_txs"):
        assert span[k] == es[k], k
    assert [b["tx_count"] for b in span["blocks"]] == es["block_tx_counts"]
    assert [b["epoch_num"] for b in span["blocks"]] == es["l1_origin_per_block"]
    assert span["blocks"][0]["timestamp"] == es["first_timestamp"]
    assert span["blocks"][-1]["timestamp"] == es["last_timestamp"]
    # Absolute timestamps are L2 genesis + rel: consecutive blocks are block_time apart.
    ts = [b["timestamp"] for b in span["blocks"]]
    assert all(b - a == 2 for a, b in itertools.pairwise(ts))


def test_calldata_relative_timestamps_without_config(capsys: pytest.CaptureFixture[str]) -> None:
    es = EXPECTED["batcher/op-mainnet-batcher-tx-0xe69d9433.bin"]["span"]
    code, doc, _ = run(capsys, "decode", "calldata", str(BATCHER_TX))
    assert code == 0
    blocks = doc["channels"][0]["batches"][0]["blocks"]
    assert blocks[0]["timestamp"] == es["rel_timestamp"]
    op_mainnet_genesis_l2_time = 1686068903
    assert blocks[-1]["timestamp"] + op_mainnet_genesis_l2_time == es["last_timestamp"]


def test_calldata_txs_hashes_need_and_use_config(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "decode", "calldata", "--txs", str(BATCHER_TX))
    assert code == 1 and "chain id" in err and "Traceback" not in err
    code, doc, _ = run(capsys, "decode", "calldata", "--txs", "--network", "op-mainnet", str(BATCHER_TX))
    assert code == 0
    blocks = doc["channels"][0]["batches"][0]["blocks"]
    hashes = [h for b in blocks for h in b["txs"]]
    assert len(hashes) == EXPECTED["batcher/op-mainnet-batcher-tx-0xe69d9433.bin"]["span"]["total_txs"]
    assert len(set(hashes)) == len(hashes)
    assert all(len(h) == 66 and h.startswith("0x") for h in hashes)


def test_calldata_from_hex_stdin_and_bare_calldata(tmp_path: Path) -> None:
    """Hex text on stdin (with 0x and a newline) gives the same document as the raw file."""
    import rlp

    raw = BATCHER_TX.read_bytes()
    calldata = rlp.decode(raw[1:])[7]
    exe = [sys.executable, "-m", "pyop.cli", "decode", "calldata", "-"]
    a = subprocess.run(exe, input=("0x" + raw.hex() + "\n").encode(), capture_output=True, check=True)
    b = subprocess.run(exe, input=calldata.hex().encode(), capture_output=True, check=True)
    assert json.loads(a.stdout) == json.loads(b.stdout)
    f = tmp_path / "calldata.bin"
    f.write_bytes(calldata)
    c = subprocess.run([*exe[:-1], str(f)], capture_output=True, check=True)
    assert json.loads(c.stdout) == json.loads(a.stdout)


@pytest.mark.parametrize(
    "payload, fragment",
    [
        (b"\x00" + b"\x11" * 10, "offset"),  # truncated frame
        (b"\x05garbage", "0x05"),  # neither calldata nor a tx
        (b"\x00" + b"\x22" * 16 + b"\x00\x00" + b"\xff\xff\xff\xff" + b"x", "offset"),  # huge length
    ],
)
def test_bad_calldata_is_one_line_exit_1(tmp_path: Path, payload: bytes, fragment: str) -> None:
    f = tmp_path / "bad.bin"
    f.write_bytes(payload)
    r = subprocess.run(
        [sys.executable, "-m", "pyop.cli", "decode", "calldata", str(f)], capture_output=True
    )
    assert r.returncode == 1
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert fragment in err
    assert r.stdout == b""


def test_l1_info_golden_bedrock_and_ecotone(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("bedrock", "ecotone"):
        g = GOLDEN["l1_info_calldata"][fmt]
        code, doc, _ = run(capsys, "decode", "l1-info", g["calldata"])
        assert code == 0
        e = g["expected"]
        assert doc["number"] == e["number"]
        assert doc["time"] == e["time"]
        assert doc["base_fee"] == e["base_fee"]
        assert doc["block_hash"] == e["block_hash"]
        assert doc["sequence_number"] == e["sequence_number"]
        assert doc["batcher_addr"] == e["batcher_address"]
        if fmt == "bedrock":
            assert int(doc["l1_fee_overhead"], 16) == int(e["l1_fee_overhead"], 16)
            assert int(doc["l1_fee_scalar"], 16) == int(e["l1_fee_scalar"], 16)
        else:
            assert doc["blob_base_fee"] == e["blob_base_fee"]
            assert doc["blob_base_fee_scalar"] == e["blob_base_fee_scalar"]
            assert doc["base_fee_scalar"] == e["base_fee_scalar"]


def test_l1_info_from_whole_deposit_tx_of_op_sepolia_payload(capsys: pytest.CaptureFixture[str]) -> None:
    fixtures = sorted((SHARED_VECTORS / "payloads").glob("op-sepolia-block-*.json"))
    assert fixtures, "no payload vectors found"
    exp_all = EXPECTED["payloads (L1-info fields per fixture)"]
    for path in fixtures:
        key = "block-" + path.stem.rsplit("-", 1)[1]
        exp = exp_all[key]
        tx0 = json.loads(path.read_text())["executing_payload"]["transactions"][0]
        code, doc, _ = run(capsys, "decode", "l1-info", tx0)
        assert code == 0, path
        assert doc["number"] == exp["l1_origin_number"]
        assert doc["time"] == exp["l1_origin_time"]
        assert doc["block_hash"] == exp["l1_origin_hash"]
        assert doc["sequence_number"] == exp["sequence_number"]
        assert doc["base_fee"] == exp["l1_base_fee"]
        assert doc["blob_base_fee"] == exp["l1_blob_base_fee"]
        assert doc["tx_hash"] == exp["l1info_tx_hash"]
        assert doc["source_hash"] == exp["l1info_source_hash"]


def test_deposit_tx_upgrade_vectors(capsys: pytest.CaptureFixture[str]) -> None:
    exp_all = EXPECTED["upgrades/txs"]
    files = sorted((SHARED_VECTORS / "upgrades" / "txs").glob("*.hex"))
    assert files
    for f in files:
        exp = exp_all[f.name]
        code, doc, _ = run(capsys, "decode", "deposit-tx", str(f))
        assert code == 0, f
        assert doc["tx_hash"] == exp["tx_hash"]
        assert doc["source_hash"] == exp["source_hash"]
        assert doc["from"] == exp["from_"]
        assert doc["to"] == exp["to"]
        assert doc["gas"] == exp["gas"]
        assert len(bytes.fromhex(doc["data"][2:])) == exp["data_len"]
        assert doc["mint"] == 0 and doc["value"] == 0 and doc["is_system_tx"] is False


def test_bad_hex_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "decode", "deposit-tx", "0x7e01")
    assert code == 1 and "deposit" in err and err[-1] == "\n" and err.count("\n") == 1


def _singular_batches() -> list:
    from pyop.codec.batch import SingularBatch

    return [
        SingularBatch(bytes([i]) * 32, 100 + i, bytes([0x40 + i]) * 32, 1_700_000_000 + 2 * i,
                      tuple(b"\x02" + bytes([i, j]) * 10 for j in range(i)))
        for i in range(1, 5)
    ]


@pytest.mark.parametrize("algo", ["ZLIB", "BROTLI"])
def test_blob_and_channel_built_by_the_codec(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             algo: str) -> None:
    """A channel built by the batcher's channel builder, put in a blob, decodes back to the
    batches it was built from (`decode blob` and `decode channel`)."""
    from pyop.codec.blob import encode_blob
    from pyop.codec.channel_out import ChannelOut
    from pyop.codec.compression import CompressionAlgo
    from pyop.codec.frame import encode_frames

    batches = _singular_batches()
    co = ChannelOut(max_rlp_bytes=10_000_000, compression=CompressionAlgo[algo])
    for b in batches:
        co.add_batch(b.encode())
    co.close()
    frames = co.output_all_frames(400)
    assert len(frames) >= 1
    blob = tmp_path / "blob.bin"
    blob.write_bytes(encode_blob(encode_frames(frames)))
    code, doc, _ = run(capsys, "decode", "blob", str(blob), "--txs")
    assert code == 0
    assert [f["frame_number"] for f in doc["frames"]] == list(range(len(frames)))
    assert [f["is_last"] for f in doc["frames"]] == [False] * (len(frames) - 1) + [True]
    (ch,) = doc["channels"]
    assert ch["channel_id"] == "0x" + co.id.hex()
    assert ch["compression"] == algo.lower()
    got = ch["batches"]
    assert [g["type"] for g in got] == ["singular"] * len(batches)
    for g, b in zip(got, batches, strict=True):
        assert g["parent_hash"] == "0x" + b.parent_hash.hex()
        assert g["epoch_num"] == b.epoch_num and g["timestamp"] == b.timestamp
        assert g["epoch_hash"] == "0x" + b.epoch_hash.hex()
        assert g["tx_count"] == len(b.transactions)
        from eth_hash.auto import keccak

        assert g["txs"] == ["0x" + keccak(t).hex() for t in b.transactions]
    # the same channel as concatenated frame data, hex on a file
    chan = tmp_path / "channel.hex"
    chan.write_text("0x" + b"".join(f.data for f in frames).hex() + "\n")
    code, doc2, _ = run(capsys, "decode", "channel", str(chan), "--txs")
    assert code == 0
    assert "channel_id" not in doc2
    assert doc2["batches"] == got


def test_blob_of_wrong_size_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "short.bin"
    f.write_bytes(b"\x01" * 1000)
    code, _, err = run(capsys, "decode", "blob", str(f))
    assert code == 1 and "131072" in err


def test_blob_tx_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A type-3 transaction carries no batcher calldata: the tool says where the data is."""
    import rlp

    fields = [1, 0, 1, 2, 21000, b"\xff" * 20, 0, b"", [], 1, [b"\x01" + b"\x00" * 31], 0, 1, 1]
    f = tmp_path / "blobtx.bin"
    f.write_bytes(b"\x03" + rlp.encode(fields))
    code, _, err = run(capsys, "decode", "calldata", str(f))
    assert code == 1 and "blob" in err
