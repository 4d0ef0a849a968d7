"""Real vectors to mutate: batcher transactions, channels, batches, blobs, L1-info calldata,
L1 receipts and headers, read from the repository's ``spec_vectors/`` and the shared
``../shared/vectors/`` beside the checkout (both optional: a tree without them still fuzzes
with the structured generators; ``Seeds.count()`` says how many were found).

The richest source is ``spec_vectors/derivation/differential/go-devnet-calldata-blobs.json.gz``:
286 L1 blocks of a devnet run by the Go op-node and op-batcher (calldata and blob batcher txs,
zlib and brotli channels, singular and span batches, deposits, SystemConfig updates).
"""

from __future__ import annotations

import contextlib
import gzip
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pyop
from pyop.codec.blob import decode_blob
from pyop.codec.channel import assemble_channels, read_channel
from pyop.codec.frame import Frame, parse_frames
from pyop.codec.tx import decode_signed_tx
from pyop.primitives import PyopError
from pyop.protocol.deposits import decode_deposit_tx

REPO = Path(pyop.__file__).resolve().parents[1]
SPEC = REPO / "spec_vectors"
SHARED = REPO.parent / "shared" / "vectors"
DIFFERENTIAL = SPEC / "derivation" / "differential" / "go-devnet-calldata-blobs.json.gz"


def _hex_file(p: Path) -> bytes:
    t = p.read_text().strip()
    return bytes.fromhex(t[2:] if t.startswith("0x") else t)


@dataclass
class Seeds:
    """Real byte strings per kind (see the module docstring)."""

    calldata: list[bytes] = field(default_factory=list)
    channels: list[bytes] = field(default_factory=list)
    batches: list[bytes] = field(default_factory=list)
    blobs: list[bytes] = field(default_factory=list)
    blob_payloads: list[bytes] = field(default_factory=list)
    l1_info: list[bytes] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, Any]] = field(default_factory=list)

    def count(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.__dict__.items()}


def _frames_to_channels(frames: list[Frame], out: Seeds) -> None:
    for ch in assemble_channels(frames):
        if ch.complete and ch.data:
            out.channels.append(ch.data)


def _header_input(h: dict[str, Any]) -> dict[str, Any]:
    """An L1 header in the difftest input form (see the Go peer's ``l1Header``)."""

    def q(k: str) -> int | None:
        v = h.get(k)
        return None if v is None else int(v, 16) if isinstance(v, str) else int(v)

    return {
        "hash": h["hash"],
        "number": q("number"),
        "parentHash": h["parentHash"],
        "timestamp": q("timestamp"),
        "baseFee": hex(q("baseFeePerGas") or 0),
        "mixDigest": h.get("mixHash") or h.get("prevRandao") or "0x" + "00" * 32,
        "excessBlobGas": q("excessBlobGas"),
        "blobGasUsed": q("blobGasUsed"),
        "parentBeaconRoot": h.get("parentBeaconBlockRoot"),
        "requestsHash": h.get("requestsHash"),
    }


def _receipt_input(r: dict[str, Any], block_hash: str) -> dict[str, Any]:
    logs = []
    for i, lg in enumerate(r.get("logs", [])):
        li = lg.get("logIndex", i)
        logs.append({
            "address": lg["address"], "topics": list(lg.get("topics", [])), "data": lg.get("data", "0x"),
            "blockHash": block_hash, "logIndex": int(li, 16) if isinstance(li, str) else int(li),
        })  # fmt: skip
    st = r.get("status", "0x1")
    return {"status": int(st, 16) if isinstance(st, str) else int(st), "logs": logs}


def _load_differential(out: Seeds) -> None:
    if not DIFFERENTIAL.is_file():
        return
    with gzip.open(DIFFERENTIAL, "rt") as f:
        fx = json.load(f)
    inbox = bytes.fromhex(fx["rollupConfig"]["batch_inbox_address"][2:])
    frames: list[Frame] = []
    for blk in fx["l1Blocks"]:
        out.headers.append(_header_input(blk["header"]))
        for raw in blk.get("transactions", []):
            try:
                tx = decode_signed_tx(bytes.fromhex(raw[2:]))
            except PyopError:
                continue
            if tx.to == inbox and tx.data:
                out.calldata.append(tx.data)
                with contextlib.suppress(PyopError):
                    frames += parse_frames(tx.data)
        for raw in blk.get("blobs", []):
            blob = bytes.fromhex(raw[2:])
            out.blobs.append(blob)
            try:
                data = decode_blob(blob)
            except PyopError:
                continue
            out.blob_payloads.append(data)
            with contextlib.suppress(PyopError):
                frames += parse_frames(data)
        for r in blk.get("receipts", []):
            if r.get("logs"):
                out.receipts.append(_receipt_input(r, blk["header"]["hash"]))
    _frames_to_channels(frames, out)
    for p in fx.get("pyopL2Blocks", {}).values():
        txs = p.get("transactions") or []
        if txs:
            with contextlib.suppress(PyopError):
                out.l1_info.append(decode_deposit_tx(bytes.fromhex(txs[0][2:])).data)


def _load_files(out: Seeds) -> None:
    for base in (SPEC, SHARED):
        if not base.is_dir():
            continue
        for p in sorted(base.glob("batcher/*.bin")) + sorted(base.glob("span/*.bin")):
            data = p.read_bytes()
            try:
                tx = decode_signed_tx(data)
                out.calldata.append(tx.data)
                _frames_to_channels(parse_frames(tx.data), out)
            except PyopError:
                out.batches.append(b"\x01" + data)  # a span batch body
        for p in sorted(base.glob("blobs/blob*.txt")):
            try:
                data = _hex_file(p)
            except ValueError:
                continue
            if len(data) == 131072:
                out.blobs.append(data)
        for p in sorted(base.glob("l1info/*.hex")):
            out.l1_info.append(_hex_file(p))
        for p in sorted(base.glob("span-tx-fields/spanbatchoriginbits.txt")) + sorted(
            base.glob("span/span-tx-fields/spanbatchoriginbits.txt")
        ):
            for line in p.read_text().split():
                with contextlib.suppress(ValueError):
                    out.batches.append(b"\x01" + bytes.fromhex(line.removeprefix("0x")))
    for p in sorted(SPEC.glob("derivation/*/channel_reader/*.json")):
        for ch in json.loads(p.read_text()).get("inputs", {}).get("channels", []):
            out.channels.append(bytes.fromhex(ch[2:]))


@cache
def load_seeds() -> Seeds:
    """All seeds (loaded once per process)."""
    out = Seeds()
    _load_differential(out)
    _load_files(out)
    for ch in out.channels:
        try:
            res = read_channel(ch, max_rlp_bytes=100_000_000, allow_brotli=True)
        except PyopError:
            continue
        out.batches.extend(res.batches)
    # Keep memory and pick times bounded: the devnet has many near-identical items.
    out.batches = out.batches[:4000]
    return out
