"""Scenario tests: the sequencing window and the max sequencer drift.

Spec: specs/protocol/derivation.md "Batch Queue" (``batch.epoch_num + sequence_window_size <
inclusion_block_number`` -> drop; empty batches once the window of the epoch is fully read;
the drift rule with its exceptions), fjord/derivation.md (constant drift from Fjord).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

from tests.derivation.harness import (
    ChainBuilder,
    Executed,
    assert_truth,
    block_from_attributes,
    random_user_tx,
    run,
    truth_upto_origin,
)


def _expected_deposit_only(b: ChainBuilder, parent_exec: Executed, upto: int) -> list:  # type: ignore[type-arg]
    """The deposit-only chain the window rule produces on ``parent``: the true chain's L1
    origins (the empty-batch epoch rule picks the same origins as the harness sequencer with
    6 L2 blocks per L1 block) without sequenced txs."""
    out = []
    parent = parent_exec.ref
    for n in range(parent.number + 1, upto + 1):
        origin = b.header(b.l2[n].ref.l1_origin.number)
        a, _, _ = b.attributes_for(parent, origin, ())
        ref, _ = block_from_attributes(parent, a)
        out.append((ref, a))
        parent = ref
    return out


def test_window_expiry_without_batches_gives_deposit_only_chain() -> None:
    """No batcher at all: for each epoch e, empty batches are generated once the pipeline's
    origin reaches e + seq_window_size (8) and its data is read; deposits still appear."""
    b = ChainBuilder(fork="granite", seed=10, txs_per_block=(0, 0))
    b.deposit(3, value=42)
    b.build(20)
    res = run(b)
    last = truth_upto_origin(b, 20 - 8)
    assert res.reasons() == []
    assert_truth(res, last)  # empty true chain == deposit-only chain
    for e in res.blocks:
        assert e.derived_from == e.ref.l1_origin.number + 8
    assert len(res.decisions_of("EMPTY_BATCH_GENERATED")) == last
    dep_block = res.blocks[18 - 1]
    assert dep_block.ref.l1_origin.number == 3 and dep_block.ref.sequence_number == 0
    assert len(dep_block.attributes.transactions) == 2


def test_window_expiry_after_batcher_stops() -> None:
    """Batches for epochs 0-2 arrive; then the batcher stops. Later blocks are deposit-only
    (same L1 origins as the true chain, no sequenced txs)."""
    b = ChainBuilder(fork="holocene", seed=11, txs_per_block=(1, 2))
    b.submit(1, range(1, 6))
    b.submit(2, range(6, 12))
    b.submit(3, range(12, 18))
    b.deposit(4, value=9)
    b.build(16)
    res = run(b)
    assert res.reasons() == []
    got = res.blocks
    assert [e.ref for e in got[:17]] == [x.ref for x in b.l2[1:18]]
    last = truth_upto_origin(b, 16 - 8)
    want = _expected_deposit_only(b, got[16], last)
    assert [(e.ref, e.attributes) for e in got[17:]] == want
    assert len(got) == last
    first_e4 = next(e for e in got if e.ref.l1_origin.number == 4)
    assert len(first_e4.attributes.transactions) == 2  # L1 info + the user deposit


def test_batch_posted_after_window_is_past() -> None:
    """The batches of epoch 3 arrive in L1 block 12 > 3 + 8: by then the window rule has
    derived empty blocks for their slots (at origin 11), so they are for the past: dropped
    (pre-Holocene ``PAST_TIMESTAMP``; Holocene ``past``, skipped without flushing)."""
    for fork, reason in (("granite", "PAST_TIMESTAMP"), ("holocene", "PAST_BATCH")):
        b = ChainBuilder(fork=fork, seed=12)
        b.empty_l2 = set(range(18, 30))
        b.submit(2, range(1, 12))
        b.submit(3, range(12, 18))
        b.submit(12, range(18, 24))
        b.build(12)
        res = run(b)
        assert_truth(res, 29)
        assert res.reasons() == [reason] * 6
        ts0 = b.l2[18].ref.timestamp
        assert [d.numbers["timestamp"] for d in res.drops] == [ts0 + 2 * i for i in range(6)]
        assert all(d.l1_origin.number == 12 for d in res.drops)
        assert {e.derived_from for e in res.blocks[17:23]} == {11}


def test_old_epoch_batch_included_too_late() -> None:
    """A batch for the next slot claiming epoch 0, included in L1 block 9 (0 + 8 < 9), is
    dropped by the inclusion-window rule (checked before the epoch rules)."""
    b = ChainBuilder(fork="granite", seed=13)
    for i in range(8):
        b.submit(i + 1, range(max(1, 6 * i), 6 * i + 6))
    g0 = b.build(0).header(0).hash
    b.submit(9, [48], mutate=lambda bs: [replace(bs[0], epoch_num=0, epoch_hash=g0)])
    b.submit(9, range(48, 54))
    b.build(10)
    res = run(b)
    assert res.reasons() == ["INCLUDED_TOO_LATE"]
    d = res.drops[0]
    assert d.numbers["epoch"] == 0 and d.numbers["inclusion_block"] == 9
    assert d.numbers["seq_window_size"] == 8
    assert_truth(res, 53)


def _drift_builder(**kw: object) -> ChainBuilder:
    """Pre-Fjord drift 24 s; L1 block 3 comes 60 s late (at 96 s), so L2 blocks 25..47
    (50..94 s) are past origin 2's drift (24 + 24 = 48 s) and the sequencer keeps them empty."""
    b = ChainBuilder(fork="ecotone", seed=14, max_sequencer_drift=24, **kw)  # type: ignore[arg-type]
    b.time_gap(3, 60)
    return b


def test_drift_empty_blocks_accepted() -> None:
    b = _drift_builder()
    b.submit(2, range(1, 12))
    b.submit(3, range(12, 48))
    b.submit(4, range(48, 54))
    b.build(5)
    assert all(not b.l2[n].user_txs for n in range(25, 48))
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 53)
    assert res.blocks[47].ref.l1_origin.number == 3


def test_drift_exceeded_with_txs_dropped() -> None:
    """A sequenced tx in L2 block 30 (60 s > 24 + 24 s): the batch is dropped. Its slot is
    filled with an empty block once epoch 2's window expires (origin 10); the batches after it
    build on the true block 30 and are dropped for their parent hash."""
    b = _drift_builder()
    b.force_txs[30] = [random_user_tx(random.Random(5), 1)]
    b.submit(2, range(1, 12))
    b.submit(3, range(12, 48))
    b.submit(4, range(48, 54))
    b.build(12)
    res = run(b)
    counts = Counter(res.reasons())
    assert counts == {"SEQUENCER_DRIFT_EXCEEDED": 1, "WRONG_PARENT": 23}
    d = res.drops_of("SEQUENCER_DRIFT_EXCEEDED")[0]
    assert d.numbers["timestamp"] == b.l2[30].ref.timestamp
    assert d.numbers["max_timestamp"] == b.header(2).timestamp + 24
    got = res.blocks
    assert [e.ref for e in got[:29]] == [x.ref for x in b.l2[1:30]]
    want = _expected_deposit_only(b, got[28], truth_upto_origin(b, 12 - 8))
    assert [(e.ref, e.attributes) for e in got[29:]] == want


def test_fjord_constant_drift() -> None:
    """fjord/derivation.md "Constant Maximum Sequencer Drift": 1800 s from Fjord (the config's
    24 s is ignored). L1 block 2 comes 1850 s late (at 1874 s): origin 1 (12 s) has the drift
    limit 1812 s (L2 block 906); the true sequencer keeps blocks 907.. empty. Without a
    violation everything derives (blocks with txs far past 12 + 24 s are fine); a tx forced
    into block 912 (1824 s) makes the span batch invalid (pre-Holocene: as a whole)."""
    for violate in (False, True):
        b = ChainBuilder(fork="fjord", seed=15, max_sequencer_drift=24, txs_per_block=(1, 1))
        b.time_gap(2, 1850)
        assert b.l1_time(2) == b.l1_time(0) + 1874
        if violate:
            b.force_txs[912] = [random_user_tx(random.Random(6), 1)]
        b.submit(2, range(1, 936), span=True)
        b.build(3)
        assert b.l2[906].user_txs and not b.l2[907].user_txs
        res = run(b)
        if not violate:
            assert res.reasons() == []
            assert_truth(res, 935)
        else:
            assert res.reasons() == ["SEQUENCER_DRIFT_EXCEEDED"]
            d = res.drops[0]
            assert d.numbers["max_timestamp"] == b.header(1).timestamp + 1800
            assert d.numbers["timestamp"] == b.l2[912].ref.timestamp
            assert res.blocks == []


def test_concluding_flags_batcher_down_and_spans() -> None:
    """op-node ``Concluding`` on the pipeline's output (what the engine uses to move the safe
    head, ``tryUpdateLocalSafe``). Batches for blocks 1..11 arrive as one span batch, then the
    batcher is down and the sequencing window forces empty blocks.

    Holocene (op-node batch_stage.go): every block is concluding, the span's blocks and the
    forced empty ones, so the safe head follows each derived block while the batcher is down.
    Pre-Holocene (batch_queue.go ``len(nextSpan) == 0``): only the span's last block and every
    generated empty batch."""
    for fork in ("granite", "holocene"):
        b = ChainBuilder(fork=fork, seed=12, txs_per_block=(1, 1))
        b.submit(2, range(1, 12), span=True)
        b.build(16)
        res = run(b)
        flags = [item.concluding for item in res.items]
        assert len(flags) > 11 + 6, fork  # the span + at least one epoch of forced blocks
        # blocks 12.. are the forced ones: deposits only
        assert all(t[:1] == b"\x7e" for item in res.items[11:] for t in item.attributes.transactions)
        if fork == "holocene":
            assert flags == [True] * len(flags)
        else:
            assert flags == [False] * 10 + [True] * (len(flags) - 10)
