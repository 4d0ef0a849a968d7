"""What a batcher transaction carries, read back with :mod:`pyop.codec` for the dashboard.

specs/protocol/derivation.md "Batcher Transaction Format": the data of a batcher transaction
(calldata, each blob of a type-3 transaction decoded per ecotone/derivation.md "Blob Encoding",
or for alt-DA the input behind a ``0x01`` commitment, experimental/alt-da.md) is
``derivation_version (0x00) ++ frame ...``; frames with the same ``channel_id`` form a channel
("Channel Format"); a complete channel decompresses to batches ("Batch Format"; span batches:
delta/span-batches.md). The dashboard links each batcher transaction to its channels and each
complete channel to the L2 blocks its batches cover: L2 block number =
``(timestamp - genesis.l2_time) / block_time + genesis.l2.number``.

This is a reading aid, not derivation: the channel tracker here keeps every frame it sees and
does not apply the channel bank's timeout / ordering rules (pyop.derivation does; the
derivation explorer shows its decisions).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.blob import decode_blob
from pyop.codec.channel import read_channel
from pyop.codec.errors import CodecError
from pyop.codec.frame import Frame, parse_frames
from pyop.codec.span_batch import RawSpanBatch
from pyop.config import MAX_RLP_BYTES_PER_CHANNEL_FJORD
from pyop.config.rollup import RollupConfig
from pyop.primitives import PyopError

DERIVATION_VERSION_0 = 0x00
TX_DATA_VERSION_ALTDA = 0x01

__all__ = [
    "BatchSummary",
    "ChannelInfo",
    "ChannelTracker",
    "FrameRef",
    "l2_number_at",
    "summarize_channel",
    "tx_payloads",
]


def l2_number_at(cfg: RollupConfig, timestamp: int) -> int:
    """The L2 block number with ``timestamp`` (one block every ``block_time`` from genesis)."""
    return (timestamp - cfg.genesis.l2_time) // cfg.block_time + cfg.genesis.l2.number


def tx_payloads(tx_type: int, calldata: bytes, blobs: list[bytes]) -> tuple[str, list[bytes]]:
    """``(kind, payloads)``: ``kind`` is ``blob``, ``calldata`` or ``alt-da`` (a commitment:
    the payload is the commitment, resolve it with the DA server); blobs are decoded."""
    if tx_type == 3:
        out = []
        for b in blobs:
            try:
                out.append(decode_blob(b))
            except CodecError:
                out.append(b"")
        return "blob", out
    if calldata[:1] == bytes([TX_DATA_VERSION_ALTDA]):
        return "alt-da", [calldata[1:]]
    return "calldata", [calldata]


@dataclass(frozen=True, slots=True)
class FrameRef:
    """One frame as seen on L1: where it came from and its place in the channel."""

    channel_id: bytes
    number: int
    is_last: bool
    size: int
    tx: str
    l1_block: int


@dataclass(frozen=True, slots=True)
class BatchSummary:
    kind: str  # "singular" | "span"
    first: int
    last: int
    blocks: int
    txs: int
    epochs: tuple[int, int]


@dataclass(slots=True)
class ChannelInfo:
    """A channel as assembled by the tracker."""

    id: bytes
    frames: dict[int, FrameRef] = field(default_factory=dict)
    data: dict[int, bytes] = field(default_factory=dict)
    complete: bool = False
    compression: str = ""
    batches: list[BatchSummary] = field(default_factory=list)
    error: str = ""

    @property
    def l2_range(self) -> tuple[int, int] | None:
        if not self.batches:
            return None
        return min(b.first for b in self.batches), max(b.last for b in self.batches)

    @property
    def txs(self) -> list[str]:
        seen: dict[str, None] = {}
        for n in sorted(self.frames):
            seen.setdefault(self.frames[n].tx, None)
        return list(seen)

    def to_json(self) -> dict[str, object]:
        rng = self.l2_range
        return {
            "id": "0x" + self.id.hex(),
            "frames": [[f.number, f.size, f.is_last, f.tx, f.l1_block]
                       for f in (self.frames[n] for n in sorted(self.frames))],
            "complete": self.complete,
            "compression": self.compression,
            "batches": [{"kind": b.kind, "first": b.first, "last": b.last, "blocks": b.blocks,
                         "txs": b.txs, "epochs": list(b.epochs)} for b in self.batches],
            "l2": list(rng) if rng else None,
            "error": self.error,
        }


def summarize_channel(cfg: RollupConfig, data: bytes) -> tuple[str, list[BatchSummary], str]:
    """Decompress channel ``data`` and summarize its batches: ``(compression, batches, error)``."""
    try:
        res = read_channel(data, max_rlp_bytes=MAX_RLP_BYTES_PER_CHANNEL_FJORD, allow_brotli=True)
    except (CodecError, PyopError) as e:
        return "", [], f"channel does not decompress: {e}"
    out: list[BatchSummary] = []
    err = "" if res.error is None else str(res.error)
    for raw in res.batches:
        try:
            b = decode_batch(raw)
            if isinstance(b, SingularBatch):
                n = l2_number_at(cfg, b.timestamp)
                out.append(BatchSummary("singular", n, n, 1, len(b.transactions),
                                        (b.epoch_num, b.epoch_num)))  # fmt: skip
            elif isinstance(b, RawSpanBatch):
                span = b.derive(cfg.block_time, cfg.genesis.l2_time, cfg.l2_chain_id)
                first = l2_number_at(cfg, span.first_timestamp())
                out.append(BatchSummary("span", first, first + span.block_count() - 1,
                                        span.block_count(), span.tx_count(),
                                        (span.start_epoch_num(), span.final_epoch_num())))  # fmt: skip
        except (CodecError, PyopError) as e:
            err = err or f"batch does not decode: {e}"
    return res.compression.name.lower(), out, err


class ChannelTracker:
    """Frames -> channels, bounded to the newest ``max_channels`` channels."""

    def __init__(self, cfg: RollupConfig, *, max_channels: int = 2000) -> None:
        self.cfg = cfg
        self.max_channels = max_channels
        self.channels: OrderedDict[bytes, ChannelInfo] = OrderedDict()

    def add_payload(self, payload: bytes, tx: str, l1_block: int) -> tuple[list[FrameRef], list[ChannelInfo], str]:
        """Parse one batcher payload into frames and add them. Returns the frames, the
        channels completed by them, and an error text (payload not valid frames)."""
        if not payload or payload[0] != DERIVATION_VERSION_0:
            return [], [], "unknown derivation version" if payload else "empty payload"
        try:
            frames = parse_frames(payload)
        except (CodecError, PyopError) as e:
            return [], [], f"not valid frames: {e}"
        refs: list[FrameRef] = []
        done: list[ChannelInfo] = []
        for f in frames:
            ref, ch = self._add(f, tx, l1_block)
            refs.append(ref)
            if ch is not None:
                done.append(ch)
        return refs, done, ""

    def _add(self, f: Frame, tx: str, l1_block: int) -> tuple[FrameRef, ChannelInfo | None]:
        ch = self.channels.get(f.channel_id)
        if ch is None:
            ch = self.channels[f.channel_id] = ChannelInfo(f.channel_id)
            while len(self.channels) > self.max_channels:
                self.channels.popitem(last=False)
        ref = FrameRef(f.channel_id, f.frame_number, f.is_last, len(f.data), tx, l1_block)
        ch.frames[f.frame_number] = ref
        if not ch.complete:
            ch.data[f.frame_number] = f.data
        last = next((n for n, r in ch.frames.items() if r.is_last), None)
        if not ch.complete and last is not None and all(n in ch.data for n in range(last + 1)):
            ch.complete = True
            data = b"".join(ch.data[n] for n in range(last + 1))
            ch.data.clear()
            ch.compression, ch.batches, ch.error = summarize_channel(self.cfg, data)
            return ref, ch
        return ref, None

    def forget_l1_from(self, number: int) -> None:
        """Forget frames from L1 blocks ``>= number`` (an L1 reorg replaced them; the re-included
        transactions bring them back). A complete channel keeps its batch summary."""
        for cid in list(self.channels):
            ch = self.channels[cid]
            gone = [n for n, r in ch.frames.items() if r.l1_block >= number]
            for n in gone:
                del ch.frames[n]
                ch.data.pop(n, None)
            if not ch.frames:
                del self.channels[cid]
