"""Channel Bank (pre-Holocene): buffer frames into channels, time out and prune channels, and
hand out channel data in first-seen order.

Spec: specs/protocol/derivation.md "Channel Bank" ("Pruning", "Timeouts", "Reading", "Loading
frames"), canyon/overview.md (from Canyon the bank reads the first *ready* channel rather than
only the head channel), fjord/derivation.md (``MAX_CHANNEL_BANK_SIZE``), granite/derivation.md
(channel timeout 50). Go: op-node/rollup/derive/channel_bank.go.

Timeouts and size limits use the current L1 origin's timestamp (the including block).
"""

from __future__ import annotations

from typing import Protocol

from pyop.codec.channel import Channel
from pyop.codec.frame import ChannelID, Frame
from pyop.config import RollupConfig
from pyop.derivation.drops import DecisionKind, DropReason, Explainer
from pyop.derivation.errors import EndOfSource, NotEnoughData
from pyop.primitives import L1BlockRef, SystemConfig

STAGE = "channel_bank"


class FrameProvider(Protocol):
    """What the channel stages pull from (the frame queue)."""

    @property
    def origin(self) -> L1BlockRef: ...

    def next_frame(self) -> Frame: ...

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None: ...


def channel_timed_out(cfg: RollupConfig, ch: Channel, origin: L1BlockRef) -> bool:
    """derivation.md "Timeouts": ``open_block + CHANNEL_TIMEOUT < current L1 block number``."""
    return ch.open_block_number + cfg.channel_timeout_at(origin.timestamp) < origin.number


class ChannelBank:
    """op-node ``ChannelBank``: channels by id plus a FIFO of ids (first-seen order)."""

    def __init__(self, cfg: RollupConfig, prev: FrameProvider, explainer: Explainer) -> None:
        self.cfg = cfg
        self.prev = prev
        self.ex = explainer
        self._channels: dict[ChannelID, Channel] = {}
        self._queue: list[ChannelID] = []

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def __len__(self) -> int:
        return len(self._queue)

    def _prune(self) -> None:
        """derivation.md "Pruning": drop the oldest channels while the total size exceeds
        ``MAX_CHANNEL_BANK_SIZE``."""
        origin = self.origin
        limit = self.cfg.max_channel_bank_size(origin.timestamp)
        total = sum(c.size for c in self._channels.values())
        while total > limit and self._queue:
            cid = self._queue.pop(0)
            ch = self._channels.pop(cid)
            self.ex.drop(
                STAGE, DropReason.CHANNEL_BANK_FULL, f"channel 0x{cid.hex()} pruned",
                {"total_size": total, "limit": limit, "channel_size": ch.size}, origin.id(),
            )  # fmt: skip
            total -= ch.size

    def ingest_frame(self, f: Frame) -> None:
        """derivation.md "Loading frames"."""
        origin = self.origin
        ch = self._channels.get(f.channel_id)
        if ch is None:
            ch = Channel(f.channel_id, origin)
            self._channels[f.channel_id] = ch
            self._queue.append(f.channel_id)
        if channel_timed_out(self.cfg, ch, origin):
            self.ex.drop(
                STAGE, DropReason.CHANNEL_TIMED_OUT,
                f"frame {f.frame_number} of timed-out channel 0x{f.channel_id.hex()} ignored",
                {"open_block": ch.open_block_number, "timeout": self.cfg.channel_timeout_at(origin.timestamp),
                 "origin": origin.number}, origin.id(),
            )  # fmt: skip
            return
        why = ch.add_frame(f, origin)
        if why is not None:
            self.ex.drop(
                STAGE, DropReason.FRAME_REJECTED,
                f"channel 0x{f.channel_id.hex()} frame {f.frame_number}: {why.value}",
                {"frame_number": f.frame_number}, origin.id(),
            )  # fmt: skip
            return
        self._prune()

    def read(self) -> bytes | None:
        """Channel data of the next readable channel, ``None`` after removing a timed-out head
        channel; raises :class:`EndOfSource` when nothing is ready (derivation.md "Reading")."""
        if not self._queue:
            raise EndOfSource("channel bank empty")
        origin = self.origin
        first = self._queue[0]
        ch = self._channels[first]
        if channel_timed_out(self.cfg, ch, origin):
            del self._channels[first]
            self._queue.pop(0)
            self.ex.drop(
                STAGE, DropReason.CHANNEL_TIMED_OUT, f"channel 0x{first.hex()} timed out",
                {"open_block": ch.open_block_number, "timeout": self.cfg.channel_timeout_at(origin.timestamp),
                 "origin": origin.number, "frames": len(ch)}, origin.id(),
            )  # fmt: skip
            return None
        if not self.cfg.is_canyon(origin.timestamp):
            data = self._try_read_at(0)
            if data is None:
                raise EndOfSource("head channel not ready")
            return data
        # [New in Canyon] read the first ready channel in the queue.
        for i in range(len(self._queue)):
            data = self._try_read_at(i)
            if data is not None:
                return data
        raise EndOfSource("no ready channel")

    def _try_read_at(self, i: int) -> bytes | None:
        cid = self._queue[i]
        ch = self._channels[cid]
        origin = self.origin
        if channel_timed_out(self.cfg, ch, origin) or not ch.is_ready():
            return None
        del self._channels[cid]
        del self._queue[i]
        self.ex.decide(
            STAGE, DecisionKind.CHANNEL_READ, f"channel 0x{cid.hex()} ready",
            {"frames": len(ch), "open_block": ch.open_block_number}, origin.id(),
        )  # fmt: skip
        return ch.reader_data()

    def next_data(self) -> bytes:
        """The next channel's data; ingest one frame when none is ready (op-node ``NextData``)."""
        try:
            data = self.read()
        except EndOfSource:
            pass
        else:
            if data is None:
                raise NotEnoughData("timed-out channel removed")
            return data
        frame = self.prev.next_frame()  # EndOfSource / NotEnoughData pass up
        self.ingest_frame(frame)
        raise NotEnoughData("frame ingested")

    def clear(self) -> None:
        self._channels.clear()
        self._queue.clear()

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.prev.reset(base, sys_cfg)
        self.clear()
