"""Frame Queue: batcher-transaction data -> frames.

Spec: specs/protocol/derivation.md "Frame Queue" (a batcher transaction's data is
``derivation_version ++ frame ...``; if any frame fails to parse, all frames of the transaction
are dropped), holocene/derivation.md "Frame Queue" (from Holocene, by the L1 origin time,
out-of-order frames are dropped at once). Go: op-node/rollup/derive/frame_queue.go.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from pyop.codec.errors import FrameError
from pyop.codec.frame import Frame, parse_frames
from pyop.config import RollupConfig
from pyop.derivation.drops import DropReason, Explainer
from pyop.derivation.errors import NotEnoughData
from pyop.primitives import L1BlockRef, SystemConfig

STAGE = "frame_queue"


class DataProvider(Protocol):
    """What the frame queue pulls from (L1 retrieval)."""

    @property
    def origin(self) -> L1BlockRef: ...

    def next_data(self) -> bytes: ...

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None: ...


def prune_frame_queue(frames: list[Frame]) -> tuple[list[Frame], list[tuple[Frame, str]]]:
    """Holocene frame-queue pruning (holocene/derivation.md "Frame Queue"; op-node
    ``pruneFrameQueue``): keep frames that are ordered, contiguous and start with frame 0 per
    channel. Returns ``(kept, [(dropped frame, why), ...])``.

    Walking pairs ``(current, next)``: same channel: ``next`` is dropped if ``current`` closed
    the channel or ``next`` is not ``current + 1``; different channel: a first frame ``next``
    drops an unclosed ``current`` (and re-checks the frame before it), a non-first ``next`` is
    dropped.
    """
    frames = list(frames)
    dropped: list[tuple[Frame, str]] = []
    i = 0
    while i < len(frames) - 1:
        cur, nxt = frames[i], frames[i + 1]
        if cur.channel_id == nxt.channel_id:
            if cur.is_last:
                dropped.append((nxt, "frame after the closing frame of its channel"))
                del frames[i + 1]
                continue
            if nxt.frame_number != cur.frame_number + 1:
                dropped.append((nxt, f"frame {nxt.frame_number} does not follow {cur.frame_number}"))
                del frames[i + 1]
                continue
        else:
            if nxt.frame_number == 0 and not cur.is_last:
                dropped.append((cur, "unclosed channel's frame replaced by a new channel's first frame"))
                del frames[i]
                if i > 0:
                    i -= 1
                continue
            if nxt.frame_number != 0:
                dropped.append((nxt, "non-first frame of a different channel"))
                del frames[i + 1]
                continue
        i += 1
    return frames, dropped


class FrameQueue:
    """Parses frames from each batcher transaction and hands them out one at a time."""

    def __init__(self, cfg: RollupConfig, prev: DataProvider, explainer: Explainer) -> None:
        self.cfg = cfg
        self.prev = prev
        self.ex = explainer
        self._frames: deque[Frame] = deque()

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def next_frame(self) -> Frame:
        """The next frame; :class:`EndOfSource` when L1 data of the origin is exhausted,
        :class:`NotEnoughData` when a transaction brought no (valid) frames."""
        if not self._frames:
            self._load_next_frames()
        if not self._frames:
            raise NotEnoughData("no frames in the last batcher transaction")
        return self._frames.popleft()

    def _load_next_frames(self) -> None:
        data = self.prev.next_data()
        origin = self.prev.origin
        try:
            frames = parse_frames(data)
        except FrameError as e:
            self.ex.drop(STAGE, DropReason.FRAME_INVALID, str(e), {"data_len": len(data)}, origin.id())
            return
        self._frames.extend(frames)
        if self.cfg.is_holocene(origin.timestamp):  # [New in Holocene]
            kept, dropped = prune_frame_queue(list(self._frames))
            for f, why in dropped:
                self.ex.drop(
                    STAGE, DropReason.FRAME_OUT_OF_ORDER, f"channel 0x{f.channel_id.hex()}: {why}",
                    {"frame_number": f.frame_number, "is_last": int(f.is_last)}, origin.id(),
                )  # fmt: skip
            self._frames = deque(kept)

    def clear(self) -> None:
        """Discard buffered frames (reset, Holocene activation)."""
        self._frames.clear()

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.prev.reset(base, sys_cfg)
        self.clear()
