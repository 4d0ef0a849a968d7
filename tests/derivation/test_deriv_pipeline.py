"""The wired pipeline (driver.py, pipeline.py, reset.py): reset origin, the Holocene stage swap,
invalid payload handling (Holocene deposit-only replacement). Uses the scenario harness's
independent chain builder (tests/derivation/harness.py) as the L1/L2 data."""

from __future__ import annotations

from typing import Any

import pytest

from pyop.derivation import DerivationPipeline, InvalidPayload, derive_range
from pyop.derivation.drops import DecisionKind, DropReason
from pyop.derivation.pipeline import BatchMux, ChannelMux
from pyop.derivation.reset import find_reset_target
from pyop.derivation.types import AttributesWithParent
from pyop.primitives import L2BlockRef
from pyop.sources.memory import MemoryL2Source
from tests.derivation.harness import ChainBuilder, Executor


def setup(fork: str, **kw: Any) -> tuple[ChainBuilder, MemoryL2Source, Executor]:
    b = ChainBuilder(fork=fork, **kw)
    b.build(2)
    b.submit(3, range(1, 12))
    b.build(6)
    b.submit(7, range(12, 30))
    b.build(9)
    l2 = MemoryL2Source()
    g = b.l2[0]
    l2.add(g.payload, g.ref, b.cfg.genesis.system_config)
    return b, l2, Executor([b], l2)


@pytest.mark.parametrize("fork", ["granite", "holocene"])
def test_derive_matches_true_chain(fork: str) -> None:
    b, l2, ex = setup(fork)
    p = DerivationPipeline(b.cfg, b.l1, l2, blobs=b.blobs)
    out = list(derive_range(p, b.l2[0].ref, ex, until_l2_number=29))
    assert [a.parent.number + 1 for a in out] == list(range(1, 30))
    assert all(e.ref == b.l2[e.ref.number].ref for e in ex.executed)
    assert p.stages.channels.holocene is (fork == "holocene")


def test_holocene_activation_swaps_stages() -> None:
    # Holocene activates at L1 block 5's time: the batch of L1 block 7 is read by the new stages.
    b, l2, ex = setup("granite", fork_times={"holocene": 12 * 5})
    p = DerivationPipeline(b.cfg, b.l1, l2, blobs=b.blobs)
    out = list(derive_range(p, b.l2[0].ref, ex, until_l2_number=29))
    assert len(out) == 29 and all(e.ref == b.l2[e.ref.number].ref for e in ex.executed)
    swaps = [d for d in p.decisions if d.kind is DecisionKind.STAGE_SWAP]
    assert [d.detail for d in swaps] == ["channel bank -> channel assembler", "batch queue -> batch stage"]
    assert isinstance(p.stages.channels, ChannelMux) and isinstance(p.stages.batches, BatchMux)
    # A reset to an origin before the activation swaps back.
    p.reset(b.l2[3].ref)
    assert not p.stages.channels.holocene and not p.stages.batches.holocene


def test_reset_target_walks_back_one_channel_timeout() -> None:
    b, l2, ex = setup("granite", channel_timeout=2)
    p = DerivationPipeline(b.cfg, b.l1, l2, blobs=b.blobs)
    list(derive_range(p, b.l2[0].ref, ex, until_l2_number=29))
    safe = l2.l2_block_ref_by_number(29)
    t = find_reset_target(b.cfg, b.l1, l2, safe)
    # Granite: channel timeout 50 > safe head origin: walks back until the L1 origin is the L1
    # genesis (op-node stops at the first block whose origin is not after L1 genesis).
    assert t.l1_origin.number == 0 and t.l2_block.l1_origin.number == 0
    assert l2.l2_block_ref_by_number(t.l2_block.number + 1).l1_origin.number == 1
    b2, l22, ex2 = setup("fjord", channel_timeout=2)
    p2 = DerivationPipeline(b2.cfg, b2.l1, l22, blobs=b2.blobs)
    list(derive_range(p2, b2.l2[0].ref, ex2, until_l2_number=29))
    safe2 = l22.l2_block_ref_by_number(29)
    t2 = find_reset_target(b2.cfg, b2.l1, l22, safe2)
    # Stops at the newest block whose L1 origin is at least 2 blocks older than the safe head's.
    assert t2.l2_block.l1_origin.number + 2 <= safe2.l1_origin.number
    child = l22.l2_block_ref_by_number(t2.l2_block.number + 1)
    assert child.l1_origin.number + 2 > safe2.l1_origin.number
    assert t2.l1_origin.number == t2.l2_block.l1_origin.number


class RejectingExecutor(Executor):
    """Rejects the first payload for L2 block ``reject`` that has user transactions."""

    def __init__(self, *a: Any, reject: int) -> None:
        super().__init__(*a)
        self.reject = reject
        self.rejected = 0

    def execute(self, item: Any) -> L2BlockRef:
        attrs: AttributesWithParent = item
        n = attrs.parent.number + 1
        has_user = any(t[0] != 0x7E for t in attrs.attributes.transactions)
        if n == self.reject and has_user and not self.rejected:
            self.rejected += 1
            raise InvalidPayload("test: INVALID")
        return super().execute(item)


def test_holocene_invalid_payload_deposit_only_replacement() -> None:
    b, l2, _ = setup("holocene", txs_per_block=(1, 2))
    ex = RejectingExecutor([b], l2, reject=5)
    p = DerivationPipeline(b.cfg, b.l1, l2, blobs=b.blobs)
    out = list(derive_range(p, b.l2[0].ref, ex, until_l2_number=12))
    five = out[4]
    assert five.deposits_only and all(t[0] == 0x7E for t in five.attributes.transactions)
    assert any(d.kind is DecisionKind.DEPOSIT_ONLY_REPLACEMENT for d in p.decisions)
    # The rest of that channel was flushed: blocks after 5 come from empty batches / later data.
    assert out[0].parent.number == 0 and len(out) >= 5


def test_pre_holocene_invalid_payload_drops_batch() -> None:
    b, l2, _ = setup("granite", txs_per_block=(1, 2))
    ex = RejectingExecutor([b], l2, reject=5)
    p = DerivationPipeline(b.cfg, b.l1, l2, blobs=b.blobs)
    list(derive_range(p, b.l2[0].ref, ex, until_l2_number=12, until_l1_number=9))
    assert any(d.reason is DropReason.INVALID_PAYLOAD for d in p.drops)
    assert ex.rejected == 1
    # Block 5's batch is gone: the chain stops at 4 until the sequencing window forces empty blocks.
    assert all(e.ref.number != 5 or e.attributes.transactions[-1][0] == 0x7E for e in ex.executed)


def test_deposits_only_replacement_keeps_the_concluding_flag() -> None:
    """op-node ``AttributesQueue.DepositsOnlyAttributes`` -> ``AttributesWithParent.
    WithDepositsOnly``: a copy of the rejected attributes with only the deposit txs; every
    other field, ``Concluding`` included, is kept (node audit item 13)."""
    b, _, _ = setup("holocene", txs_per_block=(1, 2))
    blk = b.l2[5]
    assert blk.user_txs, "the test needs a block with user txs"
    for concluding in (False, True):
        a = AttributesWithParent(blk.attributes, b.l2[4].ref, b.header(3).ref(), concluding,
                                 blk.ref.l1_origin)  # fmt: skip
        dep = a.deposit_only()
        assert dep.concluding is concluding
        assert dep.deposits_only and dep.parent == a.parent and dep.derived_from == a.derived_from
        assert dep.l1_origin == a.l1_origin
        want = tuple(t for t in blk.attributes.transactions if t[0] == 0x7E)
        assert len(want) < len(blk.attributes.transactions)
        assert dep.attributes.transactions == want
        # every other attributes field is the original's
        for f in ("timestamp", "prev_randao", "suggested_fee_recipient", "no_tx_pool", "gas_limit",
                  "withdrawals", "parent_beacon_block_root", "eip1559_params", "min_base_fee"):
            assert getattr(dep.attributes, f) == getattr(blk.attributes, f), f
