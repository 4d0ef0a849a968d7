"""Boundary tests for derivation rules that the mutation check (``scripts/mutation_check.py``)
found unpinned by the fast suite: each test fails on the mutant named in its docstring.

Expected values come from the specs (delta/span-batches.md "Span Batch Validation",
holocene/derivation.md "Batch Queue") and op-node v1.19.6 (``batch_stage.go``,
go-ethereum ``ValidateSignatureValues``), not from running pyop.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address

from pyop.codec.span_batch import SpanBatch, SpanBatchElement
from pyop.codec.tx import decode_signed_tx
from pyop.derivation import DerivationPipeline, derive_range
from pyop.derivation.batch_stage import BatchStage
from pyop.derivation.batches import BatchValidity, check_span_batch, check_span_batch_prefix
from pyop.derivation.data_source import SECP256K1_N, SenderError, recover_sender
from pyop.derivation.drops import DropReason, Explainer
from pyop.derivation.errors import CriticalError, ResetError
from pyop.primitives import L2BlockRef
from pyop.protocol.l1_types import Receipt
from pyop.sources.memory import MemoryL2Source
from tests.derivation.deriv_fakes import (
    GENESIS_TIME,
    INBOX,
    SYSCFG,
    FakeL2,
    FifoBatches,
    h,
    l1,
    l2,
    make_cfg,
)
from tests.derivation.harness import ChainBuilder, Executor

G = GENESIS_TIME


def _span(parent: L2BlockRef, elems: list[tuple[int, int]], origin_hash: bytes) -> SpanBatch:
    """A span batch of empty blocks ``(epoch, timestamp)`` on ``parent``."""
    return SpanBatch(parent.hash[:20], origin_hash[:20], G, 901,
                     tuple(SpanBatchElement(e, t, ()) for e, t in elems))  # fmt: skip


def test_span_prefix_start_epoch_older_than_parent_origin_is_dropped() -> None:
    """span-batches.md: ``start_epoch_num < prev_l2_block.l1_origin.number`` -> drop
    (op-node ``checkSpanBatchPrefix`` "epoch is too old"). Kills: that guard disabled (the
    Holocene stage would then get ACCEPT from the prefix check)."""
    cfg = make_cfg(all_until="holocene")
    safe = l2(10, l1(2), t=G + 26)  # L1 origin 2 (time G+24)
    span = _span(safe, [(1, G + 28), (2, G + 30)], l1(2).hash)
    v, _ = check_span_batch_prefix(cfg, [l1(2), l1(3)], safe, span, l1(3), FakeL2())
    assert v.validity is BatchValidity.DROP
    assert v.drop is not None and v.drop.reason is DropReason.EPOCH_TOO_OLD
    assert v.drop.numbers == {"epoch": 1, "parent_epoch": 2}
    # The same span starting in the parent's epoch passes the prefix.
    ok = _span(safe, [(2, G + 28), (2, G + 30)], l1(2).hash)
    assert check_span_batch_prefix(cfg, [l1(2), l1(3)], safe, ok, l1(3), FakeL2())[0].validity is BatchValidity.ACCEPT


def test_span_empty_block_past_drift_without_new_origin_must_adopt_next_origin() -> None:
    """span-batches.md (pre-Holocene full check): a block past the max sequencer drift with no
    txs is allowed only while the next L1 origin is later than it, unless the block itself
    advanced the origin. Block 1 has the same epoch as block 0 (origin not advanced) and the
    next origin l1(2) (time G+24) is not later than it (G+24): drop. Kills: ``origin_advanced``
    computed with ``>=`` (an equal epoch counted as advanced)."""
    cfg = make_cfg(all_until="granite", fjord_time=None, granite_time=None, max_sequencer_drift=4)
    safe = l2(10, l1(1), seq=4)  # time G+20, origin 1 (G+12): drift limit G+16
    span = _span(safe, [(1, G + 22), (1, G + 24)], l1(1).hash)
    v = check_span_batch(cfg, [l1(1), l1(2), l1(3)], safe, span, l1(3), FakeL2())
    assert v.validity is BatchValidity.DROP
    assert v.drop is not None and v.drop.reason is DropReason.SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN
    assert v.drop.numbers["block"] == 1
    # Block 1 moving to epoch 2 instead advances the origin: accepted.
    adv = _span(safe, [(1, G + 22), (2, G + 24)], l1(2).hash)
    assert check_span_batch(cfg, [l1(1), l1(2), l1(3)], safe, adv, l1(3), FakeL2()).validity is BatchValidity.ACCEPT


def _parent(origin_number: int) -> L2BlockRef:
    return L2BlockRef(h("p"), 20, h("pp"), G + 40, l1(origin_number).id(), 0)


def test_batch_stage_one_buffered_l1_block_is_critical() -> None:
    """op-node ``BatchStage.NextBatch``: past the origin-behind drain, fewer than 2 buffered L1
    blocks is a CriticalError ("unexpected low buffered origin count"). Kills: that guard
    disabled (the stage would go on and only report end of data)."""
    src = FifoBatches(l1(0))
    bs = BatchStage(make_cfg(all_until="holocene"), src, FakeL2(), Explainer())
    bs.reset(l1(0), SYSCFG)
    src.origin = bs.stage_origin = l1(2)
    bs.l1_blocks = [l1(2)]
    with pytest.raises(CriticalError):
        bs.next_batch(_parent(1))


def test_batch_stage_epoch_not_matching_safe_head_origin_resets() -> None:
    """op-node ``BatchStage.NextBatch``: if the first buffered L1 block is neither the safe
    head's origin nor the block after it, the pipeline must reset (ResetError). Kills: that
    guard disabled."""
    src = FifoBatches(l1(0))
    bs = BatchStage(make_cfg(all_until="holocene"), src, FakeL2(), Explainer())
    bs.reset(l1(0), SYSCFG)
    src.origin = l1(5)
    with pytest.raises(ResetError):
        bs.next_batch(_parent(3))


def _signed_inbox_tx() -> bytes:
    key = "0x" + "42" * 32
    tx = {"type": 2, "chainId": 900, "nonce": 0, "to": to_checksum_address(INBOX), "value": 0,
          "gas": 50_000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 1, "data": b"\x00"}  # fmt: skip
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def test_sender_signature_values_at_the_secp256k1_bounds() -> None:
    """go-ethereum ``ValidateSignatureValues`` (Homestead): ``0 < r < N`` and
    ``0 < s <= N/2`` (integer half). ``s = N//2 + 1`` and ``r = N`` are out of range before any
    recovery is tried. Kills: ``SECP256K1_N`` off by one (N+1 admits both)."""
    tx = decode_signed_tx(_signed_inbox_tx())
    assert SECP256K1_N == 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    recover_sender(tx, 900)  # the genuine signature recovers
    with pytest.raises(SenderError, match="out of range"):
        recover_sender(replace(tx, s=SECP256K1_N // 2 + 1), 900)
    with pytest.raises(SenderError, match="out of range"):
        recover_sender(replace(tx, r=SECP256K1_N), 900)


def test_derive_range_resets_to_the_given_safe_head_by_default() -> None:
    """``derive_range`` resets the pipeline to ``start_safe_head`` unless told not to: deriving
    again from an earlier safe head on the same pipeline re-derives the same blocks. Kills:
    ``reset`` defaulting to False (the pipeline would continue from its old state)."""
    b = ChainBuilder(fork="granite")
    b.build(2)
    b.submit(3, range(1, 12))
    b.build(6)
    l2src = MemoryL2Source()
    g = b.l2[0]
    l2src.add(g.payload, g.ref, b.cfg.genesis.system_config)
    ex = Executor([b], l2src)
    p = DerivationPipeline(b.cfg, b.l1, l2src, blobs=b.blobs)
    first = list(derive_range(p, b.l2[0].ref, ex, until_l2_number=11))
    assert [a.parent.number + 1 for a in first] == list(range(1, 12))
    again = list(derive_range(p, b.l2[4].ref, ex, until_l2_number=8))
    assert [a.parent.number + 1 for a in again] == [5, 6, 7, 8]
    assert [a.attributes for a in again] == [a.attributes for a in first[4:8]]


# ------------------------------------------------------------------ survivors of the merged run


@pytest.mark.parametrize("field_name", ["r", "s"])
def test_sender_signature_value_zero_is_out_of_range(field_name: str) -> None:
    """go-ethereum ``ValidateSignatureValues``: ``r`` and ``s`` must be strictly positive; a
    zero is refused before recovery (not left to the curve library). Kills: ``0 < r`` /
    ``0 < s`` relaxed to ``<=``."""
    tx = decode_signed_tx(_signed_inbox_tx())
    with pytest.raises(SenderError, match="out of range"):
        recover_sender(replace(tx, r=0) if field_name == "r" else replace(tx, s=0), 900)


def test_span_prefix_epoch_advance_with_exactly_two_l1_blocks_is_decided() -> None:
    """span-batches.md: a span batch whose first block advances the epoch uses the next
    buffered L1 block as its origin; with exactly two buffered L1 blocks that block is known,
    so the prefix check decides (op-node ``checkSpanBatchPrefix``: ``len(l1Blocks) < 2`` is
    undecided). Kills: ``< 2`` -> ``<= 2``."""
    cfg = make_cfg(all_until="holocene")
    safe = l2(10, l1(2), t=G + 34)  # L1 origin 2 (time G+24); L1 block 3 at G+36
    span = _span(safe, [(3, G + 36), (3, G + 38)], l1(3).hash)
    v, _ = check_span_batch_prefix(cfg, [l1(2), l1(3)], safe, span, l1(3), FakeL2())
    assert v.validity is BatchValidity.ACCEPT, v


def test_payload_l1_origin_of_genesis_and_of_a_block_without_txs() -> None:
    """op-node ``PayloadToBlockRef``: the genesis block's L1 origin is the rollup's genesis L1
    block (it has no L1-info deposit); any other block without transactions is an error
    ("missing L1 info deposit tx"), typed, not an IndexError. Kills: either guard disabled."""
    from pyop.derivation.batches import payload_l1_origin_number
    from pyop.protocol.l1_info import L1InfoError

    cfg = make_cfg(all_until="holocene")
    genesis = replace(_empty_payload(), block_number=cfg.genesis.l2.number, transactions=())
    assert payload_l1_origin_number(cfg, genesis) == cfg.genesis.l1.number
    with pytest.raises(L1InfoError):
        payload_l1_origin_number(cfg, replace(genesis, block_number=cfg.genesis.l2.number + 1))


def _empty_payload():  # type: ignore[no-untyped-def]
    from pyop.primitives import ExecutionPayload

    return ExecutionPayload(
        parent_hash=h("p"), fee_recipient=bytes(20), state_root=h("s"), receipts_root=h("r"),
        logs_bloom=bytes(256), prev_randao=h("x"), block_number=0, gas_limit=30_000_000, gas_used=0,
        timestamp=G, extra_data=b"", base_fee_per_gas=1, block_hash=h("b"), transactions=(),
    )  # fmt: skip


def test_channel_assembler_with_a_ready_channel_is_critical() -> None:
    """op-node ``ChannelAssembler.NextData``: a ready channel still staged at entry is an
    invariant violation ("unexpected ready channel"), a CriticalError. Kills: that guard
    disabled."""
    from pyop.codec.channel import Channel
    from pyop.derivation.channel_assembler import ChannelAssembler
    from tests.derivation.deriv_fakes import FifoFrames, frame

    cfg = make_cfg(all_until="holocene")
    ca = ChannelAssembler(cfg, FifoFrames(l1(1), []), Explainer())
    ch = Channel(b"\x01" * 16, l1(1), require_in_order=True)
    assert ch.add_frame(frame(b"\x01" * 16, 0, True, b"a"), l1(1)) is None and ch.is_ready()
    ca.channel = ch
    with pytest.raises(CriticalError, match="ready channel"):
        ca.next_data()


@pytest.mark.parametrize("field_name", ["r", "s"])
def test_sender_signature_value_one_is_in_range(field_name: str) -> None:
    """go-ethereum ``ValidateSignatureValues``: 1 is a valid ``r`` / ``s`` (the bound is
    ``0 <``); such a tx fails, if at all, in recovery, not in the range check. Kills: the lower
    bound raised to 1."""
    tx = decode_signed_tx(_signed_inbox_tx())
    try:
        recover_sender(replace(tx, r=1) if field_name == "r" else replace(tx, s=1), 900)
    except SenderError as e:
        assert "out of range" not in str(e)


def test_altda_challenge_origin_block_is_not_read_again() -> None:
    """op-alt-da ``DA.AdvanceChallengeOrigin``: a block at or below the challenge origin was
    already processed ("bn <= d.origin.Number: return nil"), so its receipts are not fetched
    again. Kills: ``<=`` -> ``<`` in the first check."""
    from tests.derivation.test_deriv_altda import RefL1, go_receipts, manager

    class CountingL1(RefL1):
        def __init__(self, head: int) -> None:
            super().__init__(head)
            self.receipt_reads: list[bytes] = []

        def receipts_by_hash(self, h: bytes) -> list[Receipt]:
            self.receipt_reads.append(h)
            return super().receipts_by_hash(h)

    m = manager(90, 90)
    src = CountingL1(1000)
    src.receipts[RefL1.ref(19).hash] = go_receipts()
    m.advance_challenge_origin(src, RefL1.ref(19).id())  # type: ignore[arg-type]
    assert len(src.receipt_reads) == 1
    m.advance_challenge_origin(src, RefL1.ref(19).id())  # type: ignore[arg-type]
    m.advance_challenge_origin(src, RefL1.ref(18).id())  # type: ignore[arg-type]
    assert len(src.receipt_reads) == 1


def test_altda_finalized_head_follows_each_new_l1_finality_signal() -> None:
    """op-alt-da ``updateFinalizedFromL1``: with nothing tracked the DA finalized head is the L1
    block ``challenge_window`` below the latest L1 finalized block; it is reused only when that
    number did not change. Kills: the cache condition's ``and`` -> ``or`` (any earlier head
    counted as current, so the head would never move again)."""
    from tests.derivation.test_deriv_altda import RefL1, manager

    m = manager(6, 6)
    src = RefL1(1000)
    m.finalize(RefL1.ref(100))
    m.advance_l1_origin(src, RefL1.ref(101).id())  # type: ignore[arg-type]
    assert m.finalized_head == RefL1.ref(94)
    m.finalize(RefL1.ref(110))
    m.advance_l1_origin(src, RefL1.ref(102).id())  # type: ignore[arg-type]
    assert m.finalized_head == RefL1.ref(104)
    calls = len(src.by_number_calls)
    m.advance_l1_origin(src, RefL1.ref(103).id())  # type: ignore[arg-type]
    assert m.finalized_head == RefL1.ref(104) and len(src.by_number_calls) == calls


def test_undecodable_l1_tx_carries_no_blobs_for_the_blob_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blob indices count the blobs of every earlier transaction of the L1 block (op-node
    ``dataAndHashesFromTxs``: ``blobIndex += len(tx.BlobHashes())``); a transaction pyop cannot
    decode (reported as UNDECODABLE_TX) has none, so the batcher's first blob after it is index
    0. Kills: the undecodable tx counted as one blob."""
    from pyop.codec.blob import encode_blob
    from pyop.codec.tx import BLOB_TX_TYPE, make_signed_tx
    from pyop.derivation.data_source import BlobDataSource
    from pyop.derivation.interfaces import IndexedBlobHash
    from tests.derivation.test_deriv_data_source import ADDR, CFG, FakeBlobs, FakeL1, drain

    _, blob_tx = make_signed_tx(BLOB_TX_TYPE, chain_id=900, nonce=0, gas=1, to=INBOX, value=0, data=b"",
                                v=0, r=1, s=1, max_priority_fee_per_gas=1, max_fee_per_gas=1,
                                max_fee_per_blob_gas=1, blob_versioned_hashes=(h("b0"),))  # fmt: skip
    monkeypatch.setattr("pyop.derivation.data_source.recover_sender", lambda tx, cid: ADDR)
    blobs = FakeBlobs({0: encode_blob(b"\x00first")})
    ex = Explainer()
    src = BlobDataSource(CFG, FakeL1({l1(1).hash: [b"\x05garbage", blob_tx]}), blobs, l1(1), ADDR, ex)  # type: ignore[arg-type]
    assert drain(src) == [b"\x00first"]
    assert blobs.requests == [[IndexedBlobHash(0, h("b0"))]]
    assert [d.reason for d in ex.drops] == [DropReason.UNDECODABLE_TX]


@pytest.mark.parametrize("holocene", [False, True])
def test_epoch_advanced_is_explained_once_per_epoch(holocene: bool) -> None:
    """``--explain`` records EPOCH_ADVANCED when the batch queue's epoch moves on (op-node
    ``BatchQueue.NextBatch`` drops ``l1Blocks`` up to the safe head's origin only when that
    origin is *past* the first buffered block), once per epoch, in increasing order; a step
    inside the same epoch records nothing. Kills: the ``>`` of that check relaxed to ``>=``
    (an "advance" explained on every step)."""
    from pyop.derivation.batch_queue import BatchQueue
    from pyop.derivation.drops import DecisionKind
    from tests.derivation.test_deriv_batch_stages import GENESIS, HOLO, PRE, run

    ex = Explainer()
    src = FifoBatches(l1(0))
    cfg = HOLO if holocene else PRE
    stage = BatchStage(cfg, src, FakeL2(), ex) if holocene else BatchQueue(cfg, src, FakeL2(), ex)
    stage.reset(l1(0), SYSCFG)
    out = run(stage, src, GENESIS, [l1(n) for n in range(1, 7)])
    assert [b.epoch_num for b in out] == [0] * 5 + [1] * 6 + [2] * 6  # as in test_deriv_batch_stages
    advanced = [d.numbers["epoch"] for d in ex.decisions if d.kind is DecisionKind.EPOCH_ADVANCED]
    assert len(advanced) == len(set(advanced)) <= 3, advanced


# ------------------------------------------------------------------ survivors of a second sample (seed 9)


def test_batch_queue_add_batch_without_an_l1_origin_is_critical() -> None:
    """op-node ``BatchQueue.AddBatch``: "cannot add batch ... no origin was prepared" is a
    critical error. Kills: that guard disabled."""
    from pyop.derivation.batch_queue import BatchQueue

    bq = BatchQueue(make_cfg(all_until="granite"), FifoBatches(l1(0)), FakeL2(), Explainer())
    with pytest.raises(CriticalError, match="no L1 origin"):
        bq.add_batch(_span(_parent(1), [(1, G + 42)], l1(1).hash), _parent(1))


def test_span_prefix_epoch_advance_into_the_first_delta_l1_block_is_accepted() -> None:
    """span-batches.md: a span batch is valid only if its L1 origin -- the *next* L1 block when
    its first block advances the epoch -- is at or after Delta. A span whose first block moves
    into the first Delta L1 block is accepted. Kills: the "advances the epoch" test
    ``start_epoch == epoch + 1`` off by one (the pre-Delta epoch taken as its origin)."""
    cfg = make_cfg(all_until="holocene", delta_time=l1(3).timestamp)
    safe = l2(10, l1(2), t=G + 34)
    span = _span(safe, [(3, G + 36), (3, G + 38)], l1(3).hash)
    v, _ = check_span_batch_prefix(cfg, [l1(2), l1(3)], safe, span, l1(3), FakeL2())
    assert v.validity is BatchValidity.ACCEPT, v


def test_blob_data_without_a_blob_source_is_critical(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batcher blob tx in an L1 block while no blob source (beacon) is configured cannot be
    derived: a CriticalError naming the block, not an AttributeError. Kills: that guard
    disabled."""
    from pyop.codec.tx import BLOB_TX_TYPE, make_signed_tx
    from pyop.derivation.data_source import BlobDataSource
    from tests.derivation.test_deriv_data_source import ADDR, CFG, FakeL1, drain

    _, blob_tx = make_signed_tx(BLOB_TX_TYPE, chain_id=900, nonce=0, gas=1, to=INBOX, value=0, data=b"",
                                v=0, r=1, s=1, max_priority_fee_per_gas=1, max_fee_per_gas=1,
                                max_fee_per_blob_gas=1, blob_versioned_hashes=(h("b0"),))  # fmt: skip
    monkeypatch.setattr("pyop.derivation.data_source.recover_sender", lambda tx, cid: ADDR)
    src = BlobDataSource(CFG, FakeL1({l1(1).hash: [blob_tx]}), None, l1(1), ADDR, Explainer())  # type: ignore[arg-type]
    with pytest.raises(CriticalError, match="no blob source"):
        drain(src)


def test_data_source_at_exactly_the_ecotone_time_reads_blobs() -> None:
    """ecotone/derivation.md: from the Ecotone timestamp on (``>=``) batcher data is read
    from blobs and calldata; the L1 block at exactly that time uses the blob source. Kills:
    ``>=`` -> ``>``."""
    from pyop.derivation.data_source import BlobDataSource, CalldataSource, DataSourceFactory
    from tests.derivation.test_deriv_data_source import FakeL1

    cfg = make_cfg(all_until="holocene", ecotone_time=l1(2).timestamp)
    f = DataSourceFactory(cfg, FakeL1({}), Explainer())  # type: ignore[arg-type]
    assert isinstance(f.open_data(l1(2), INBOX), BlobDataSource)
    assert isinstance(f.open_data(l1(1), INBOX), CalldataSource)
