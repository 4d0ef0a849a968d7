"""Wiring of the derivation stages, and the Holocene stage swap.

Stages, bottom to top (specs/protocol/derivation.md "Pipeline stages")::

    L1Traversal -> L1Retrieval (+ data sources) -> FrameQueue
      -> ChannelMux (ChannelBank | ChannelAssembler [Holocene])
      -> ChannelReader
      -> BatchMux (BatchQueue | BatchStage [Holocene])
      -> AttributesQueue

Each stage holds only the stage below it. Reset and flush signals travel down the stack
(``reset`` calls the stage below first, then clears the stage's own state).

Holocene swap (holocene/derivation.md "Activation"): when the L1 origin moves to the first L1
block at or after the Holocene time, the frame queue, the channel bank and the batch queue are
emptied and the channel bank / batch queue are replaced by the channel assembler / batch stage.
On a reset the stages are chosen by the reset origin's time, so an L1 reorg back across the
activation swaps back (kona's multiplexed ``ChannelProvider`` / ``BatchProvider``; newer
op-node's ``ChannelMux`` / ``BatchMux``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyop.codec.batch import SingularBatch
from pyop.config import RollupConfig
from pyop.derivation.attributes import AttributesBuilder, L1BlobSchedule
from pyop.derivation.attributes_queue import AttributesQueue
from pyop.derivation.batch_queue import BatchQueue
from pyop.derivation.batch_stage import BatchStage
from pyop.derivation.batches import SafeBlockFetcher
from pyop.derivation.channel_assembler import ChannelAssembler
from pyop.derivation.channel_bank import ChannelBank, FrameProvider
from pyop.derivation.channel_reader import ChannelReader
from pyop.derivation.data_source import DataSourceFactory
from pyop.derivation.drops import DecisionKind, Explainer
from pyop.derivation.frame_queue import FrameQueue
from pyop.derivation.interfaces import AltDASource, BlobSource, L1Source, L2Source
from pyop.derivation.l1_retrieval import L1Retrieval
from pyop.derivation.l1_traversal import L1Traversal
from pyop.primitives import L1BlockRef, L2BlockRef, SystemConfig


class ChannelMux:
    """Channel bank before Holocene, channel assembler from Holocene (by L1 origin time)."""

    def __init__(self, cfg: RollupConfig, prev: FrameProvider, explainer: Explainer) -> None:
        self.cfg = cfg
        self.ex = explainer
        self.bank = ChannelBank(cfg, prev, explainer)
        self.assembler = ChannelAssembler(cfg, prev, explainer)
        self.holocene = False

    @property
    def active(self) -> ChannelBank | ChannelAssembler:
        return self.assembler if self.holocene else self.bank

    @property
    def origin(self) -> L1BlockRef:
        return self.active.origin

    def next_data(self) -> bytes:
        return self.active.next_data()

    def flush_channel(self) -> None:
        """op-node ``ChannelMux.FlushChannel``: only the Holocene assembler has a channel to
        flush (the pre-Holocene batch queue never flushes channels)."""
        if self.holocene:
            self.assembler.flush_channel()

    def transform(self, holocene: bool) -> None:
        """Switch implementation; the new one starts empty."""
        if holocene != self.holocene:
            self.bank.clear()
            self.assembler.clear()
            self.holocene = holocene
            self.ex.decide(
                "pipeline", DecisionKind.STAGE_SWAP,
                "channel bank -> channel assembler" if holocene else "channel assembler -> channel bank",
            )  # fmt: skip

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.transform(self.cfg.is_holocene(base.timestamp))
        self.bank.clear()
        self.assembler.clear()
        self.active.reset(base, sys_cfg)


class BatchMux:
    """Batch queue before Holocene, batch stage from Holocene (by L1 origin time)."""

    def __init__(
        self, cfg: RollupConfig, prev: ChannelReader, l2: SafeBlockFetcher, explainer: Explainer
    ) -> None:
        self.cfg = cfg
        self.ex = explainer
        self.queue = BatchQueue(cfg, prev, l2, explainer)
        self.stage = BatchStage(cfg, prev, l2, explainer)
        self.holocene = False

    @property
    def active(self) -> BatchQueue | BatchStage:
        return self.stage if self.holocene else self.queue

    @property
    def origin(self) -> L1BlockRef:
        return self.active.origin

    def next_batch(self, parent: L2BlockRef) -> tuple[SingularBatch, bool]:
        return self.active.next_batch(parent)

    def flush_channel(self) -> None:
        self.active.flush_channel()

    def transform(self, holocene: bool) -> None:
        """Switch implementation, carrying over the L1 block window (kona ``BatchProvider``);
        buffered batches and the span in progress are discarded."""
        if holocene == self.holocene:
            return
        old, new = self.active, (self.stage if holocene else self.queue)
        new.stage_origin = old.stage_origin
        new.l1_blocks = list(old.l1_blocks)
        new.next_span = []
        self.queue.batches = []
        self.holocene = holocene
        self.ex.decide(
            "pipeline", DecisionKind.STAGE_SWAP,
            "batch queue -> batch stage" if holocene else "batch stage -> batch queue",
        )  # fmt: skip

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.transform(self.cfg.is_holocene(base.timestamp))
        self.active.reset(base, sys_cfg)


@dataclass
class Stages:
    """The wired stages (exposed for tests and tools)."""

    traversal: L1Traversal
    retrieval: L1Retrieval
    frame_queue: FrameQueue
    channels: ChannelMux
    reader: ChannelReader
    batches: BatchMux
    attributes: AttributesQueue
    builder: AttributesBuilder

    def activate_holocene(self, active: bool) -> None:
        """holocene/derivation.md "Activation": discard frames, channels and batches and swap
        the channel and batch stages."""
        if active != self.channels.holocene or active != self.batches.holocene:
            self.frame_queue.clear()
            self.reader.next_channel()
            self.channels.transform(active)
            self.batches.transform(active)


def build_stages(
    cfg: RollupConfig,
    l1: L1Source,
    l2: L2Source,
    explainer: Explainer,
    *,
    blobs: BlobSource | None = None,
    altda: AltDASource | None = None,
    blob_schedule: L1BlobSchedule | None = None,
) -> Stages:
    """Wire the stages bottom-up (op-node ``NewDerivationPipeline``)."""
    traversal = L1Traversal(cfg, l1, explainer)
    sources = DataSourceFactory(cfg, l1, explainer, blobs=blobs, altda=altda)
    retrieval = L1Retrieval(traversal, sources)
    frame_queue = FrameQueue(cfg, retrieval, explainer)
    channels = ChannelMux(cfg, frame_queue, explainer)
    reader = ChannelReader(cfg, channels, explainer)
    batches = BatchMux(cfg, reader, l2, explainer)
    builder = AttributesBuilder(cfg, l1, l2, explainer=explainer, blob_schedule=blob_schedule)
    attributes = AttributesQueue(cfg, builder, batches)
    return Stages(traversal, retrieval, frame_queue, channels, reader, batches, attributes, builder)
