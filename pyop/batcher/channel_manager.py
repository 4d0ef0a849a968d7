"""The batcher's state: loaded L2 blocks and the channels made of them
(op-batcher/batcher/channel_manager.go ``channelManager``).

Blocks are kept in order from the oldest not yet safe; ``block_cursor`` is the next block not
yet in a channel. Channels are kept in a queue in creation order and submitted strictly in that
order, each frame after the previous one (Holocene needs in-order frames and channels,
holocene/derivation.md). Nothing is moved between structures; cursors are rewound instead:

- a failed tx rewinds its channel's frame cursor (the frames go again);
- a channel that timed out on chain, or that is dropped because the DA type changed, rewinds
  ``block_cursor`` to its first block and drops it and every later channel; their blocks go
  into new channels;
- a block that does not extend the last one is an L2 reorg: the caller clears the state.

**Channel configuration** (DA ``auto``): before the first tx of a channel, the config provider
may switch between calldata and blobs; the channel is then rebuilt under the new config.

**Fork activations**: span batches are valid only for L1 origins from Delta (delta/
span-batches.md, "Activation"; op-node ``checkSpanBatchPrefix`` drops a span batch whose L1
origin is before Delta). With ``--batch-type=1`` pyop builds singular batches for blocks with a
pre-Delta L1 origin and closes the channel when the next block needs the other batch type, so no
channel mixes the two. (op-batcher v1.19.6 has no such rule: it sends span batches from the
start, which a pre-Delta chain drops.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from pyop.batcher.blocks import L2Block
from pyop.batcher.channel import Channel
from pyop.batcher.channel_config import (
    SINGULAR_BATCH_TYPE,
    SPAN_BATCH_TYPE,
    ChannelConfig,
    ChannelConfigProvider,
)
from pyop.batcher.errors import L2ReorgError
from pyop.batcher.tx_data import TxData, TxID, tx_id_string
from pyop.codec.compression import ChannelFullError
from pyop.config import RollupConfig
from pyop.opservice.logs import kv
from pyop.primitives import BlockID

ZERO32 = b"\x00" * 32
log = logging.getLogger("pyop.batcher.channel_manager")

__all__ = ["ChannelManager", "ForkActivationCloseError", "PubInfo"]


class ForkActivationCloseError(ChannelFullError):
    """The next block needs another batch type (Delta activation with span batches)."""


@dataclass(frozen=True, slots=True)
class PubInfo:
    """Go ``pubInfo``: ``force_publish`` closes the open channel (``admin_flushBatcher``);
    ``ignore_max_channel_duration`` skips the duration timeout check while loading a backlog."""

    force_publish: bool = False
    ignore_max_channel_duration: bool = False


class ChannelManager:
    """See the module docstring."""

    def __init__(self, rollup: RollupConfig, cfg_provider: ChannelConfigProvider,
                 default_cfg: ChannelConfig) -> None:  # fmt: skip
        self.rollup = rollup
        self.cfg_provider = cfg_provider
        self.default_cfg = default_cfg
        self.blocks: list[L2Block] = []
        self.block_cursor = 0
        self.l1_origin_last_submitted_channel = BlockID(ZERO32, 0)
        self.tip = ZERO32
        self.current: Channel | None = None
        self.channel_queue: list[Channel] = []
        self.tx_channels: dict[TxID, Channel] = {}
        #: every channel opened (id -> first and last L2 block), for metrics and tests
        self.channels_opened = 0
        self.channels_closed = 0

    # ------------------------------------------------------------------ state

    def clear(self, l1_origin_last_submitted_channel: BlockID) -> None:
        """Drop every block and channel (Go ``Clear``)."""
        self.blocks.clear()
        self.block_cursor = 0
        self.l1_origin_last_submitted_channel = l1_origin_last_submitted_channel
        self.tip = ZERO32
        self.current = None
        self.channel_queue = []
        self.tx_channels = {}

    def pending_blocks(self) -> int:
        return len(self.blocks) - self.block_cursor

    def add_l2_block(self, block: L2Block) -> None:
        """Append an unsafe block; :class:`L2ReorgError` if it does not extend the last one
        (Go ``AddL2Block``)."""
        if self.tip != ZERO32 and self.tip != block.parent_hash:
            raise L2ReorgError(f"block {block.number} does not extend existing chain "
                               f"(parent {block.parent_hash.hex()}, tip {self.tip.hex()})")  # fmt: skip
        self.blocks.append(block)
        self.tip = block.hash

    def last_stored_block(self) -> BlockID | None:
        return self.blocks[-1].id if self.blocks else None

    def prune_safe_blocks(self, n: int) -> None:
        """Drop the ``n`` oldest blocks, now safe (Go ``PruneSafeBlocks``)."""
        if n > len(self.blocks):
            raise ValueError("tried to prune more blocks than available")
        del self.blocks[:n]
        self.block_cursor = max(0, self.block_cursor - n)

    def prune_channels(self, n: int) -> None:
        """Drop the ``n`` oldest channels, fully derived (Go ``PruneChannels``)."""
        pruned = self.channel_queue[:n]
        self.channel_queue = self.channel_queue[n:]
        if self.current is not None and self.current in pruned:
            self.current = None
        for tid in [t for t, ch in self.tx_channels.items() if ch in pruned]:
            del self.tx_channels[tid]

    # ------------------------------------------------------------------ tx results

    def tx_failed(self, tx_id: TxID) -> None:
        ch = self.tx_channels.pop(tx_id, None)
        if ch is None:
            log.warning("transaction from unknown channel marked as failed", extra=kv(id=tx_id_string(tx_id)))
            return
        ch.tx_failed(tx_id)

    def tx_confirmed(self, tx_id: TxID, inclusion: BlockID) -> None:
        ch = self.tx_channels.pop(tx_id, None)
        if ch is None:
            log.warning("transaction from unknown channel marked as confirmed",
                        extra=kv(id=tx_id_string(tx_id)))  # fmt: skip
            return
        if ch.tx_confirmed(tx_id, inclusion):
            log.warning("channel timed out on chain", extra=kv(channel_id=ch.id.hex(), tx_id=tx_id_string(tx_id)))
            self.handle_channel_invalidated(ch)

    def _rewind_to_block(self, block: BlockID) -> None:
        idx = block.number - self.blocks[0].number
        if 0 <= idx < self.block_cursor and self.blocks[idx].hash == block.hash:
            self.block_cursor = idx
        else:
            raise ValueError(f"rewindToBlock: tried to rewind to nonexistent block {block.number}")

    def handle_channel_invalidated(self, ch: Channel) -> None:
        """Rewind to ``ch``'s first block and drop it and all later channels (Go
        ``handleChannelInvalidated``)."""
        if ch.blocks:
            self._rewind_to_block(ch.blocks[0].id)
        idx = self.channel_queue.index(ch) if ch in self.channel_queue else 0
        dropped = self.channel_queue[idx:]
        for c in dropped:
            log.warning("Dropped channel", extra=kv(
                id=c.id.hex(), none_submitted=c.none_submitted(),
                fully_submitted=c.is_fully_submitted(), timed_out=c.is_timed_out(),
                full_reason=str(c.full_err), oldest_l2=c.oldest_l2.number,
                newest_l2=c.latest_l2.number))  # fmt: skip
        for tid in [t for t, c in self.tx_channels.items() if c in dropped]:
            del self.tx_channels[tid]
        self.channel_queue = self.channel_queue[:idx]
        self.current = None

    # ------------------------------------------------------------------ tx data

    def _next_tx_data(self, ch: Channel | None) -> TxData | None:
        if ch is None or not ch.has_tx_data():
            return None
        td = ch.next_tx_data()
        if ch.latest_l1_origin.number > self.l1_origin_last_submitted_channel.number:
            self.l1_origin_last_submitted_channel = ch.latest_l1_origin
        self.tx_channels[td.id] = ch
        return td

    async def tx_data(self, l1_head: BlockID, pi: PubInfo = PubInfo()) -> TxData | None:
        """The frames of the next L1 tx, or ``None`` when there is nothing to send (Go
        ``TxData``, ``io.EOF``)."""
        ch = self._get_ready_channel(l1_head, pi)
        if ch is None:
            return None
        if not ch.none_submitted():
            return self._next_tx_data(ch)
        new_cfg = await self.cfg_provider.channel_config()
        if new_cfg.use_blobs == self.default_cfg.use_blobs:
            return self._next_tx_data(ch)
        log.info("Recomputing optimal ChannelConfig: changing DA type and requeing blocks...",
                 extra=kv(use_blobs_before=self.default_cfg.use_blobs, use_blobs_after=new_cfg.use_blobs))  # fmt: skip
        self.handle_channel_invalidated(ch)
        self.default_cfg = new_cfg
        return self._next_tx_data(self._get_ready_channel(l1_head, pi))

    def _get_ready_channel(self, l1_head: BlockID, pi: PubInfo) -> Channel | None:
        """Go ``getReadyChannel``."""
        cur = self.current
        if pi.force_publish and cur is not None and cur.total_frames() == 0:
            log.info("Force-closing channel and creating frames", extra=kv(channel_id=cur.id.hex()))
            cur.close()
            cur.output_frames()
            self._log_closed(cur)
        for ch in self.channel_queue:
            if ch.has_tx_data():
                return ch
        have_pending = self.pending_blocks() > 0
        if have_pending:
            self._ensure_channel_with_space(l1_head)
            self._process_blocks()
        cur = self.current
        if cur is None:
            return None
        if not have_pending and cur.is_full():
            return None
        if not pi.ignore_max_channel_duration:
            cur.check_timeout(l1_head.number)
        self._output_frames(cur)
        return cur if cur.has_tx_data() else None

    def _cfg_for(self, block: L2Block) -> ChannelConfig:
        """The default config, with singular batches for a pre-Delta L1 origin (module
        docstring)."""
        cfg = self.default_cfg
        # [New in Delta] span batches need an L1 origin from Delta
        if cfg.batch_type == SPAN_BATCH_TYPE and not self.rollup.is_delta(block.l1_origin_time):
            return replace(cfg, batch_type=SINGULAR_BATCH_TYPE)
        return cfg

    def _ensure_channel_with_space(self, l1_head: BlockID) -> None:
        if self.current is not None and not self.current.is_full():
            return
        cfg = self._cfg_for(self.blocks[self.block_cursor])
        ch = Channel(cfg, self.rollup, self.l1_origin_last_submitted_channel.number)
        self.current = ch
        self.channels_opened += 1
        log.info("Created channel", extra=kv(
            id=ch.id.hex(), l1Head=l1_head.number, blocks_pending=self.pending_blocks(),
            l1OriginLastSubmittedChannel=self.l1_origin_last_submitted_channel.number,
            batch_type=cfg.batch_type, compression_algo=cfg.compressor.algo.value,
            target_num_frames=cfg.target_num_frames, max_frame_size=cfg.max_frame_size,
            use_blobs=cfg.use_blobs))  # fmt: skip
        self.channel_queue.append(ch)

    def _process_blocks(self) -> None:
        """Add pending blocks to the current channel until it is full (Go ``processBlocks``)."""
        cur = self.current
        if cur is None:
            return
        added = 0
        for i in range(self.block_cursor, len(self.blocks)):
            block = self.blocks[i]
            if self._cfg_for(block).batch_type != cur.cfg.batch_type:
                cur.full_err = ForkActivationCloseError(
                    f"block {block.number} needs batch type {self._cfg_for(block).batch_type}")
                break
            try:
                cur.add_block(block)
            except ChannelFullError:
                break
            added += 1
            if cur.is_full():
                break
        self.block_cursor += added
        if added:
            log.debug("Added blocks to channel", extra=kv(blocks_added=added,
                      blocks_pending=self.pending_blocks(), channel_full=cur.is_full(),
                      input_bytes=cur.input_bytes(), ready_bytes=cur.ready_bytes()))  # fmt: skip

    def _output_frames(self, cur: Channel) -> None:
        was_done = cur.co.done
        cur.output_frames()
        if cur.is_full() and not was_done:
            self._log_closed(cur)

    def _log_closed(self, cur: Channel) -> None:
        self.channels_closed += 1
        inb, outb = cur.input_bytes(), cur.output_bytes
        log.info("Channel closed", extra=kv(
            id=cur.id.hex(), blocks_pending=self.pending_blocks(), num_frames=cur.total_frames(),
            input_bytes=inb, output_bytes=outb, oldest_l1_origin=cur.oldest_l1_origin.number,
            l1_origin=cur.latest_l1_origin.number, oldest_l2=cur.oldest_l2.number,
            latest_l2=cur.latest_l2.number, full_reason=str(cur.full_err),
            compr_ratio=round(outb / inb, 4) if inb else 0))  # fmt: skip
