"""The batcher's channel manager on in-memory blocks: what it sends must read back, with the
reading side of pyop.codec (as op-node derives it), as exactly the blocks it was given, in
order; and its rules for closing, rewinding and re-sending channels follow op-batcher's."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from pyop.batcher.channel import Channel
from pyop.batcher.channel_config import ChannelConfig, StaticChannelConfig
from pyop.batcher.channel_manager import ChannelManager, PubInfo
from pyop.batcher.errors import L2ReorgError
from pyop.batcher.tx_data import TxData
from pyop.codec.batch import SingularBatch
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import Frame
from pyop.codec.span_batch import RawSpanBatch
from pyop.primitives import BlockID
from tests.batcher.batcher_fakes import (
    chain,
    channel_batches,
    channel_config,
    expected,
    rollup,
    singular_batches,
    tx_frames,
)

HEAD = BlockID(b"\x11" * 32, 150)


def manager(cfg: ChannelConfig, **rollup_changes: object) -> ChannelManager:
    return ChannelManager(rollup(**rollup_changes), StaticChannelConfig(cfg), cfg)


NO_FORCE = PubInfo()


def drain(m: ChannelManager, head: BlockID = HEAD, pi: PubInfo = NO_FORCE) -> list[TxData]:
    async def go() -> list[TxData]:
        out = []
        while (td := await m.tx_data(head, pi)) is not None:
            out.append(td)
        return out

    return asyncio.run(go())


def frames_by_channel(tds: Sequence[TxData]) -> dict[bytes, list[Frame]]:
    out: dict[bytes, list[Frame]] = {}
    for td in tds:
        for f in tx_frames(td):
            out.setdefault(f.channel_id, []).append(f)
    return out


def read_back(tds: Sequence[TxData]) -> tuple[list[tuple[int, int, tuple[bytes, ...]]], list[SingularBatch | RawSpanBatch]]:
    cfg = rollup()
    blocks: list[tuple[int, int, tuple[bytes, ...]]] = []
    batches: list[SingularBatch | RawSpanBatch] = []
    for frames in frames_by_channel(tds).values():
        bs = channel_batches(frames, cfg)
        batches += bs
        blocks += singular_batches(bs, cfg)
    return blocks, batches


@pytest.mark.parametrize("batch_type", [0, 1], ids=["singular", "span"])
@pytest.mark.parametrize("algo", [CompressionAlgo.ZLIB, CompressionAlgo.BROTLI], ids=["zlib", "brotli"])
@pytest.mark.parametrize("kind", ["shadow", "ratio", "none"])
def test_calldata_channels_read_back_as_the_blocks(batch_type: int, algo: CompressionAlgo, kind: str) -> None:
    blocks = chain(30, txs_per_block=3, tx_size=300)
    m = manager(channel_config(batch_type=batch_type, algo=algo, kind=kind, max_frame=4_000))
    for b in blocks:
        m.add_l2_block(b)
    tds = drain(m, pi=PubInfo(force_publish=True))
    # leftovers after a size-full channel are only sent once that channel is closed too
    tds += drain(m, pi=PubInfo(force_publish=True))
    got, batches = read_back(tds)
    assert got == expected(blocks)
    assert all(len(td.frames) == 1 and not td.as_blob for td in tds)  # one frame per calldata tx
    assert all(len(td.call_data()) <= 4_000 + 1 for td in tds)  # --max-l1-tx-size-bytes
    want = RawSpanBatch if batch_type == 1 else SingularBatch
    assert batches and all(isinstance(b, want) for b in batches)
    if kind == "none":
        assert len(frames_by_channel(tds)) > 1  # no compression: the size target splits channels


def test_blob_channel_three_frames_per_tx() -> None:
    blocks = chain(60, txs_per_block=8, tx_size=1000)
    m = manager(channel_config(blobs=True, frames=3, max_frame=130_043))
    for b in blocks:
        m.add_l2_block(b)
    tds = drain(m)  # full channels go by themselves
    assert tds and all(len(td.frames) == 3 for td in tds)
    # the open channel already cut frames, so a flush (only for frameless channels, as in Go)
    # leaves it; the sequencing-window timeout closes it (its oldest origin + 3600 - 10)
    assert m.current is not None and m.current.total_frames() > 0
    tds += drain(m, head=BlockID(b"\x11" * 32, 5000))
    assert tds and all(td.as_blob for td in tds)
    assert all(len(td.frames) <= 3 for td in tds) and len(tds[0].frames) == 3
    got, _ = read_back(tds)
    assert got == expected(blocks)


def test_failed_tx_rewinds_to_its_first_frame_and_resends_in_order() -> None:
    blocks = chain(20, txs_per_block=4, tx_size=400)
    m = manager(channel_config(max_frame=1_500))
    for b in blocks:
        m.add_l2_block(b)
    first = drain(m, pi=PubInfo(force_publish=True))
    assert len(first) > 3
    m.tx_confirmed(first[0].id, BlockID(b"\x01" * 32, 151))
    m.tx_failed(first[1].id)  # tx 1 failed: frames from #1 on go again, in order
    for td in first[2:]:
        m.tx_failed(td.id)
    again = drain(m)
    assert [td.id for td in again] == [td.id for td in first[1:]]
    got, _ = read_back([first[0], *again])
    assert got == expected(blocks)


def test_channel_timed_out_on_chain_is_rebuilt_from_its_first_block() -> None:
    blocks = chain(12, txs_per_block=4, tx_size=400)
    m = manager(channel_config(max_frame=1_500, timeout=50))
    for b in blocks:
        m.add_l2_block(b)
    first = drain(m, pi=PubInfo(force_publish=True))
    ch_id = tx_frames(first[0])[0].channel_id
    m.tx_confirmed(first[0].id, BlockID(b"\x01" * 32, 151))
    m.tx_confirmed(first[1].id, BlockID(b"\x02" * 32, 151 + 50))  # 50 blocks later: timed out
    assert m.channel_queue == [] and m.block_cursor == 0
    again = drain(m, pi=PubInfo(force_publish=True))
    new_ids = {tx_frames(td)[0].channel_id for td in again}
    assert ch_id not in new_ids
    got, _ = read_back(again)
    assert got == expected(blocks)


def test_block_not_extending_the_tip_is_an_l2_reorg() -> None:
    m = manager(channel_config())
    a = chain(3)
    for b in a:
        m.add_l2_block(b)
    other = chain(1, start=4, parent=b"\x99" * 32)[0]
    with pytest.raises(L2ReorgError, match="does not extend existing chain"):
        m.add_l2_block(other)


def test_max_channel_duration_closes_the_channel() -> None:
    m = manager(channel_config(duration=5))
    m.clear(BlockID(b"\x05" * 32, 100))  # last submitted channel's L1 origin: 100
    for b in chain(3):
        m.add_l2_block(b)
    assert drain(m, head=BlockID(b"\x11" * 32, 104)) == []  # open: under 100 + 5
    assert m.current is not None and not m.current.is_full()
    tds = drain(m, head=BlockID(b"\x11" * 32, 105))
    assert len(tds) == 1 and "max channel duration reached" in str(m.channel_queue[0].full_err)


def test_sequencing_window_closes_the_channel_with_the_safety_margin() -> None:
    # seq window 20, margin 4: a block with L1 origin 100 must be sent by L1 block 116
    m = manager(channel_config(seq_window=20, margin=4, timeout=10))
    for b in chain(2, l1_start=100):
        m.add_l2_block(b)
    assert drain(m, head=BlockID(b"\x11" * 32, 115)) == []
    tds = drain(m, head=BlockID(b"\x11" * 32, 116))
    assert len(tds) == 1 and "sequencer window" in str(m.channel_queue[0].full_err)


def test_frame_on_chain_starts_the_channel_timeout() -> None:
    ch = Channel(channel_config(timeout=50, margin=10), rollup(), 0)
    for b in chain(2):
        ch.add_block(b)
    ch.frame_published(200)
    ch.check_timeout(239)
    assert not ch.is_full()
    ch.check_timeout(240)  # 200 + 50 - 10
    assert "close to channel timeout" in str(ch.full_err)


def test_span_batches_switch_to_singular_for_pre_delta_origins_and_close_at_delta() -> None:
    """A pre-Delta L1 origin cannot carry a span batch (op-node drops it): with --batch-type=1
    the blocks before Delta go as singular batches, in their own channel."""
    blocks = chain(12, blocks_per_epoch=3, l1_time0=5_000)  # origins at 5000, 5012, 5024, 5036
    m = manager(channel_config(batch_type=1), delta_time=5_024)
    for b in blocks:
        m.add_l2_block(b)
    tds = drain(m, pi=PubInfo(force_publish=True))
    tds += drain(m, pi=PubInfo(force_publish=True))
    per_channel = [channel_batches(fs, rollup()) for fs in frames_by_channel(tds).values()]
    assert [type(bs[0]).__name__ for bs in per_channel] == ["SingularBatch", "RawSpanBatch"]
    assert len(per_channel[0]) == 6  # blocks with origins 5000 and 5012
    assert "batch type" in str(m.channel_queue[0].full_err)
    got = singular_batches(per_channel[0], rollup()) + singular_batches(per_channel[1], rollup())
    assert got == expected(blocks)


def test_da_type_switch_requeues_the_unsent_channel() -> None:
    class Flip:
        def __init__(self, cfg: ChannelConfig) -> None:
            self.cfg = cfg

        async def channel_config(self) -> ChannelConfig:
            return self.cfg

    calldata = channel_config()
    blobs = channel_config(blobs=True, max_frame=130_043)
    prov = Flip(blobs)
    m = ChannelManager(rollup(), prov, calldata)
    blocks = chain(5)
    for b in blocks:
        m.add_l2_block(b)
    assert drain(m) == []  # opens a calldata channel (the blocks do not fill it)
    # flush: the calldata channel closes; before its first tx the provider says blobs, so its
    # blocks go back and a blob channel is built; a second flush closes that one
    assert drain(m, pi=PubInfo(force_publish=True)) == []
    assert m.current is not None and m.current.cfg.use_blobs and m.block_cursor == 5
    tds = drain(m, pi=PubInfo(force_publish=True))
    assert [td.as_blob for td in tds] == [True]
    got, _ = read_back(tds)
    assert got == expected(blocks)
    assert m.default_cfg.use_blobs


def test_da_auto_picks_the_cheaper_per_byte_like_op_batcher() -> None:
    """Go DynamicEthChannelConfig at base fee 1 gwei and tip 1 gwei: one 120,000-byte calldata
    tx costs (21000 + 10 * 4 * 120000) * 2 gwei = 9.642e15 wei for 120,000 bytes; one blob tx
    21000 * 2 gwei + 131072 * blob base fee for 130,044 bytes. Blobs are cheaper per byte while
    the blob base fee is below (9.642e15 * 130044 / 120000 - 4.2e13) / 131072 = 79.399 gwei."""
    from pyop.batcher.channel_config import DynamicEthChannelConfig
    from pyop.txmgr.fees import GasPriceCaps

    calldata = channel_config()
    blobs = channel_config(blobs=True, max_frame=130_043)

    async def never() -> GasPriceCaps:
        raise AssertionError

    d = DynamicEthChannelConfig(blobs, calldata, never)
    g = 10**9
    assert d.choose(GasPriceCaps(g, g, g, 1)) is blobs
    assert d.choose(GasPriceCaps(g, g, g, 79 * g)) is blobs
    assert d.choose(GasPriceCaps(g, g, g, 80 * g)) is calldata

    async def failing() -> GasPriceCaps:
        raise OSError("L1 down")

    d2 = DynamicEthChannelConfig(blobs, calldata, failing)
    d2.last = calldata
    assert asyncio.run(d2.channel_config()) is calldata  # keeps the last choice on errors
