"""Channel Reader (Batch Decoding): channel data -> batches.

Spec: specs/protocol/derivation.md "Channel Reader (Batch Decoding)" and "Channel Format"
(decompress, read at most ``MAX_RLP_BYTES_PER_CHANNEL`` of RLP, decode batches one by one),
fjord/derivation.md "Brotli Channel Compression" (brotli accepted from Fjord, by the L1 origin
time), delta/span-batches.md "Activation" (span batches accepted from Delta, by the L1 origin
time in op-node's channel reader; the batch queue re-checks by the span batch's L1 origin).
Go: op-node/rollup/derive/channel_in_reader.go.

Error handling follows op-node: a channel that cannot be opened (bad compression header) or a
batch that does not decode drops the rest of the channel; a span batch before Delta, or one
whose transactions cannot be rebuilt, is dropped alone and reading goes on.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.channel import read_channel
from pyop.codec.errors import BatchError, ChannelError, CodecError
from pyop.codec.span_batch import RawSpanBatch
from pyop.config import RollupConfig
from pyop.derivation.drops import DecisionKind, DropReason, Explainer
from pyop.derivation.errors import NotEnoughData
from pyop.derivation.types import Batch
from pyop.primitives import L1BlockRef, SystemConfig

STAGE = "channel_reader"


class ChannelProvider(Protocol):
    """What the channel reader pulls from (channel bank / channel assembler)."""

    @property
    def origin(self) -> L1BlockRef: ...

    def next_data(self) -> bytes: ...

    def flush_channel(self) -> None: ...

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None: ...


class ChannelReader:
    """Reads the batches of one channel at a time."""

    def __init__(self, cfg: RollupConfig, prev: ChannelProvider, explainer: Explainer) -> None:
        self.cfg = cfg
        self.prev = prev
        self.ex = explainer
        self._batches: deque[bytes] | None = None
        self._tail_error: ChannelError | None = None

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def _open_channel(self) -> None:
        data = self.prev.next_data()  # EndOfSource / NotEnoughData pass up
        origin = self.origin
        try:
            res = read_channel(
                data,
                max_rlp_bytes=self.cfg.max_rlp_bytes_per_channel(origin.timestamp),
                allow_brotli=self.cfg.is_fjord(origin.timestamp),
            )
        except ChannelError as e:
            self.ex.drop(STAGE, DropReason.CHANNEL_DECOMPRESS_ERROR, str(e),
                         {"channel_len": len(data)}, origin.id())  # fmt: skip
            raise NotEnoughData("channel dropped") from None
        # op-node ChannelInReader.WriteChannel: the compressed length of every channel whose
        # batch reader could be opened (the node's channel_input_bytes metric)
        self.ex.decide(STAGE, DecisionKind.CHANNEL_OPENED, "channel opened",
                       {"compressed_bytes": len(data)}, origin.id())  # fmt: skip
        self._batches = deque(res.batches)
        self._tail_error = res.error

    def next_batch(self) -> Batch:
        """The next batch of the current channel (opening the next channel when needed)."""
        if self._batches is None:
            self._open_channel()
        batches = self._batches
        if batches is None:  # pragma: no cover - set by _open_channel
            raise NotEnoughData("no channel")
        origin = self.origin
        if not batches:
            if self._tail_error is not None:
                self.ex.drop(STAGE, DropReason.CHANNEL_DECOMPRESS_ERROR,
                             f"rest of channel unreadable: {self._tail_error}", {}, origin.id())  # fmt: skip
            self.next_channel()
            raise NotEnoughData("channel exhausted")
        raw = batches.popleft()
        try:
            batch = decode_batch(raw, max_span_elements=self.cfg.max_span_batch_element_count(origin.timestamp))
        except BatchError as e:
            self.ex.drop(STAGE, DropReason.BATCH_DECODE_ERROR, f"{e}; rest of channel dropped",
                         {"batch_len": len(raw)}, origin.id())  # fmt: skip
            self.next_channel()
            raise NotEnoughData("batch decode error") from None
        if isinstance(batch, SingularBatch):
            return batch
        return self._derive_span(batch, origin)

    def _derive_span(self, raw: RawSpanBatch, origin: L1BlockRef) -> Batch:
        if not self.cfg.is_delta(origin.timestamp):
            self.ex.drop(STAGE, DropReason.SPAN_BATCH_BEFORE_DELTA,
                         "span batch in an L1 block before Delta",
                         {"l1_time": origin.timestamp, "delta_time": str(self.cfg.delta_time)},
                         origin.id())  # fmt: skip
            raise NotEnoughData("span batch before Delta")
        try:
            return raw.derive(self.cfg.block_time, self.cfg.genesis.l2_time, self.cfg.l2_chain_id)
        except CodecError as e:
            self.ex.drop(STAGE, DropReason.SPAN_BATCH_DERIVE_ERROR, str(e), {}, origin.id())
            raise NotEnoughData("span batch derive error") from None

    def next_channel(self) -> None:
        self._batches = None
        self._tail_error = None

    def flush_channel(self) -> None:
        """Drop the rest of the current channel (Holocene fast channel invalidation), down to
        the channel assembler's staging channel (op-node ``ChannelInReader.FlushChannel`` ->
        ``prev.FlushChannel()``)."""
        if self._batches:
            self.ex.drop(STAGE, DropReason.CHANNEL_FLUSHED, "rest of the channel dropped",
                         {"batches_left": len(self._batches)}, self.origin.id())  # fmt: skip
        self.next_channel()
        self.prev.flush_channel()

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.prev.reset(base, sys_cfg)
        self.next_channel()
