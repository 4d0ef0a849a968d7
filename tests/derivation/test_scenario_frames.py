"""Scenario tests: frame order, duplicates and channel timeouts, before and after Holocene and
Granite.

Spec: specs/protocol/derivation.md "Frame Queue", "Channel Bank" (loading frames, timeouts),
holocene/derivation.md "Frame Queue" / "Channel Bank" (strict ordering, one staging channel),
granite/derivation.md "Reduce Channel Timeout" (50 L1 blocks).
"""

from __future__ import annotations

from tests.derivation.harness import ChainBuilder, assert_truth, run


def test_frames_out_of_order_across_txs() -> None:
    """Frames 2, 0, 1 of a channel in three txs of L1 block 2, then the channel again (new id,
    one frame) in L1 block 3.

    Pre-Holocene the channel bank buffers out-of-order frames: the channel is read in block 2
    (the repost in block 3 is then for the past). Holocene: frame 2 arrives with no channel open
    and is dropped; 0 and 1 open a channel that never closes; the repost's first frame replaces
    it and is read in block 3.
    """
    for fork in ("granite", "holocene"):
        b = ChainBuilder(fork=fork, seed=20)
        ch = b.channel(range(1, 12), n_frames=3)
        for i in (2, 0, 1):
            b.post(2, ch, [i])
        b.submit(3, range(1, 12))
        b.build(4)
        res = run(b)
        assert_truth(res, 11)
        if fork == "granite":
            assert res.reasons() == ["PAST_TIMESTAMP"] * 11
            assert {e.derived_from for e in res.blocks} == {2}
        else:
            assert res.reasons() == ["FRAME_WITHOUT_CHANNEL", "CHANNEL_REPLACED"]
            assert res.drops[0].numbers["frame_number"] == 2
            assert res.drops[0].l1_origin.number == 2
            assert res.drops[1].l1_origin.number == 3
            assert {e.derived_from for e in res.blocks} == {3}


def test_duplicate_frames_in_one_tx() -> None:
    """Frames 0, 0, 1, 2 in one tx: pre-Holocene the channel bank rejects the duplicate frame;
    Holocene's frame queue drops it as out of order. Either way the channel is read."""
    for fork, reason in (("granite", "FRAME_REJECTED"), ("holocene", "FRAME_OUT_OF_ORDER")):
        b = ChainBuilder(fork=fork, seed=21)
        ch = b.channel(range(1, 12), n_frames=3)
        b.post(2, ch, [0, 0, 1, 2])
        b.build(3)
        res = run(b)
        assert_truth(res, 11)
        assert res.reasons() == [reason]
        assert res.drops[0].numbers["frame_number"] == 0
        assert res.drops[0].l1_origin.number == 2


def test_duplicate_first_frame_in_later_tx_holocene() -> None:
    """Holocene channel assembler: a (repeated) first frame while the staging channel is
    incomplete replaces it; the rest of the frames then complete the new staging channel."""
    b = ChainBuilder(fork="holocene", seed=22)
    ch = b.channel(range(1, 12), n_frames=3)
    b.post(2, ch, [0])
    b.post(2, ch, [0])
    b.post(2, ch, [1, 2])
    b.build(3)
    res = run(b)
    assert_truth(res, 11)
    assert res.reasons() == ["CHANNEL_REPLACED"]


def test_channel_timeout_before_and_after_granite() -> None:
    """Frame 0 in L1 block 2, frame 1 (closing) in L1 block 7. Pre-Granite (channel_timeout 4):
    2 + 4 < 7, the channel timed out; the blocks come from the window rule instead (here the
    true blocks are empty, so the chain is the same, derived from later L1 blocks). Granite
    (timeout 50): the channel is read in block 7."""
    for fork, timed_out in (("fjord", True), ("granite", False)):
        b = ChainBuilder(fork=fork, seed=23, txs_per_block=(0, 0), channel_timeout=4)
        ch = b.channel(range(1, 12), n_frames=2)
        b.post(2, ch, [0])
        b.post(7, ch, [1])
        b.build(9)
        res = run(b)
        if timed_out:
            assert res.reasons() == ["CHANNEL_TIMED_OUT"]
            d = res.drops[0]
            assert d.l1_origin.number == 7
            assert_truth(res, 11)  # epoch 0 expires at origin 8, epoch 1 at origin 9
            assert [e.derived_from for e in res.blocks] == [8] * 5 + [9] * 6
        else:
            assert res.reasons() == []
            assert_truth(res, 11)
            assert {e.derived_from for e in res.blocks} == {7}


def test_holocene_activation_discards_partial_channel() -> None:
    """holocene/derivation.md "Activation": when the L1 origin reaches the first L1 block at or
    after the Holocene time (L1 block 3, 36 s), buffered frames and channels are discarded:
    frame 0 from L1 block 2 is lost, frame 1 in block 3 has no channel. The batcher resends the
    channel in block 4."""
    b = ChainBuilder(fork="granite", fork_times={"holocene": 36}, seed=24)
    ch = b.channel(range(1, 12), n_frames=2)
    b.post(2, ch, [0])
    b.post(3, ch, [1])
    b.submit(4, range(1, 12))
    b.build(5)
    res = run(b)
    assert_truth(res, 11)
    assert res.reasons() == ["FRAME_WITHOUT_CHANNEL"]
    assert res.drops[0].l1_origin.number == 3 and res.drops[0].numbers["frame_number"] == 1
    assert len(res.decisions_of("STAGE_SWAP")) == 2  # channel bank and batch queue swapped
    assert {e.derived_from for e in res.blocks} == {4}
