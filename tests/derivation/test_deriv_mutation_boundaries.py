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
