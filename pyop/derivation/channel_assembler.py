"""Channel Assembler (Holocene): one staging channel at a time, frames strictly in order.

Spec: specs/protocol/holocene/derivation.md "Channel Bank" ("Pruning", "Timeout", "Reading &
Frame Loading"). Go: op-node/rollup/derive/channel_assembler.go; kona: channel_assembler.rs.
"""

from __future__ import annotations

from pyop.codec.channel import Channel
from pyop.config import RollupConfig
from pyop.derivation.channel_bank import FrameProvider, channel_timed_out
from pyop.derivation.drops import DecisionKind, DropReason, Explainer
from pyop.derivation.errors import CriticalError
from pyop.primitives import L1BlockRef, SystemConfig

STAGE = "channel_assembler"


class ChannelAssembler:
    """Builds the staging channel from in-order frames and hands out its data when complete."""

    def __init__(self, cfg: RollupConfig, prev: FrameProvider, explainer: Explainer) -> None:
        self.cfg = cfg
        self.prev = prev
        self.ex = explainer
        self.channel: Channel | None = None

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def next_data(self) -> bytes:
        """Pull frames until the staging channel is complete; return its data."""
        origin = self.origin
        if self.channel is not None and channel_timed_out(self.cfg, self.channel, origin):
            ch = self.channel
            self.ex.drop(
                STAGE, DropReason.CHANNEL_TIMED_OUT, f"staging channel 0x{ch.id.hex()} timed out",
                {"open_block": ch.open_block_number, "timeout": self.cfg.channel_timeout_at(origin.timestamp),
                 "origin": origin.number}, origin.id(),
            )  # fmt: skip
            self.channel = None
        if self.channel is not None and self.channel.is_ready():
            raise CriticalError("unexpected ready channel in the channel assembler")
        while True:
            frame = self.prev.next_frame()  # EndOfSource / NotEnoughData pass up
            origin = self.origin
            if frame.frame_number == 0:
                old = self.channel
                if old is not None and len(old) > 0:
                    self.ex.drop(
                        STAGE, DropReason.CHANNEL_REPLACED,
                        f"unclosed channel 0x{old.id.hex()} replaced by channel 0x{frame.channel_id.hex()}",
                        {"frames": len(old)}, origin.id(),
                    )  # fmt: skip
                self.channel = Channel(frame.channel_id, origin, require_in_order=True)
            if self.channel is None:
                self.ex.drop(
                    STAGE, DropReason.FRAME_WITHOUT_CHANNEL,
                    f"frame {frame.frame_number} of channel 0x{frame.channel_id.hex()}",
                    {"frame_number": frame.frame_number}, origin.id(),
                )  # fmt: skip
                continue
            why = self.channel.add_frame(frame, origin)
            if why is not None:
                self.ex.drop(
                    STAGE, DropReason.FRAME_REJECTED,
                    f"channel 0x{frame.channel_id.hex()} frame {frame.frame_number}: {why.value}",
                    {"frame_number": frame.frame_number}, origin.id(),
                )  # fmt: skip
                continue
            limit = self.cfg.max_rlp_bytes_per_channel(origin.timestamp)
            if self.channel.size > limit:
                self.ex.drop(
                    STAGE, DropReason.CHANNEL_TOO_LARGE, f"channel 0x{self.channel.id.hex()}",
                    {"size": self.channel.size, "limit": limit}, origin.id(),
                )  # fmt: skip
                self.channel = None
                continue
            if frame.is_last:
                break
        ch = self.channel
        if ch is None or not ch.is_ready():
            raise CriticalError("unexpected non-ready channel in the channel assembler")
        self.channel = None
        self.ex.decide(STAGE, DecisionKind.CHANNEL_READ, f"channel 0x{ch.id.hex()} complete",
                       {"frames": len(ch), "open_block": ch.open_block_number}, origin.id())  # fmt: skip
        return ch.reader_data()

    def flush_channel(self) -> None:
        """[Holocene] fast channel invalidation reaching down to the assembler (op-node
        ``ChannelAssembler.FlushChannel``: ``resetChannel``): the staging channel is dropped,
        so later frames of it find no channel."""
        ch = self.channel
        if ch is not None and len(ch) > 0:
            self.ex.drop(STAGE, DropReason.CHANNEL_FLUSHED,
                         f"staging channel 0x{ch.id.hex()} flushed", {"frames": len(ch)},
                         self.origin.id())  # fmt: skip
        self.channel = None

    def clear(self) -> None:
        self.channel = None

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.prev.reset(base, sys_cfg)
        self.clear()
