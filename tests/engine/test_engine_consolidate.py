"""Consolidation (derivation.md "L1-consolidation: payload attributes matching") and start-up head
finding (op-node sync.FindL2Heads) with in-memory fakes."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from pyop.config import ChainOpConfig
from pyop.derivation.attributes import build_payload_attributes
from pyop.engine import attributes_match_block, find_l2_heads
from pyop.engine.start import FindHeadsError, WrongChainError
from pyop.primitives import (
    BlockID,
    ExecutionPayload,
    L1Header,
    L2BlockRef,
    PayloadAttributes,
    Withdrawal,
)
from pyop.sources.interfaces import NotFound
from tests.derivation.deriv_fakes import SYSCFG, h, make_cfg

CFG = make_cfg(all_until="jovian")
CFG = dataclasses.replace(CFG, chain_op_config=ChainOpConfig(6, 50, 250))
SYS = dataclasses.replace(SYSCFG, eip1559_params=(250).to_bytes(4, "big") + (6).to_bytes(4, "big"),
                          min_base_fee=1000)  # fmt: skip
G = CFG.genesis


def header(e: int) -> L1Header:
    return L1Header(h("l1", e), e, h("l1", e - 1), G.l2_time + 12 * e - 12, 7, h("randao", e),
                    excess_blob_gas=0, parent_beacon_root=h("beacon", e))  # fmt: skip


PARENT = L2BlockRef(h("l2", 4), 4, h("l2", 3), G.l2_time + 8, BlockID(h("l1", 0), 0), 4)
ATTRS = build_payload_attributes(CFG, SYS, header(0), PARENT, seq_number=5)


def block_for(a: PayloadAttributes, **kw: Any) -> ExecutionPayload:
    """The block an engine builds from ``a`` (header fields copied from the attributes,
    Jovian extraData v1 = 0x01 || denominator || elasticity || minBaseFee)."""
    assert a.eip1559_params is not None and a.min_base_fee is not None
    base: dict[str, Any] = dict(
        parent_hash=PARENT.hash, fee_recipient=a.suggested_fee_recipient, state_root=h("s"),
        receipts_root=h("r"), logs_bloom=bytes(256), prev_randao=a.prev_randao,
        block_number=5, gas_limit=a.gas_limit, gas_used=1, timestamp=a.timestamp,
        extra_data=b"\x01" + a.eip1559_params + a.min_base_fee.to_bytes(8, "big"),
        base_fee_per_gas=1000, block_hash=h("b"), transactions=a.transactions,
        withdrawals=a.withdrawals, blob_gas_used=0, excess_blob_gas=0,
        withdrawals_root=h("wr"), parent_beacon_block_root=a.parent_beacon_block_root,
    )  # fmt: skip
    base.update(kw)
    return ExecutionPayload(**base)


def test_identical_block_matches() -> None:
    assert attributes_match_block(CFG, ATTRS, PARENT.hash, block_for(ATTRS)) is None


@pytest.mark.parametrize(
    "change,field",
    [
        (dict(parent_hash=h("other")), "parent_hash"),
        (dict(timestamp=ATTRS.timestamp + 2), "timestamp"),
        (dict(prev_randao=h("x")), "prev_randao"),
        (dict(transactions=(*ATTRS.transactions, b"\x02\x01")), "transactions (count)"),
        (dict(gas_limit=ATTRS.gas_limit + 1), "gas_limit"),
        (dict(withdrawals=None), "withdrawals"),
        (dict(withdrawals=(Withdrawal(1, 2, b"\x01" * 20, 3),)), "withdrawals (count)"),
        (dict(parent_beacon_block_root=h("y")), "parent_beacon_block_root"),
        (dict(fee_recipient=b"\x09" * 20), "fee_recipient"),
        (dict(extra_data=b"\x01" + (250).to_bytes(4, "big") + (7).to_bytes(4, "big")
              + (1000).to_bytes(8, "big")), "eip1559_params (denominator/elasticity)"),
        (dict(extra_data=b"\x01" + SYS.eip1559_params + (999).to_bytes(8, "big")), "min_base_fee"),
        (dict(extra_data=b"\x00" + SYS.eip1559_params), "extra_data"),  # v0 after Jovian
        (dict(withdrawals_root=None), "withdrawals_root"),
    ],
)
def test_each_field_mismatch_is_named(change: dict[str, Any], field: str) -> None:
    mm = attributes_match_block(CFG, ATTRS, PARENT.hash, block_for(ATTRS, **change))
    assert mm is not None and mm.field == field
    assert mm.block == BlockID(h("b"), 5)
    assert f"{field} differs" in mm.describe() and mm.describe().startswith("L2 reorg: existing unsafe block 5")


def test_l1_info_difference_is_explained() -> None:
    other = build_payload_attributes(CFG, SYS, dataclasses.replace(header(0), base_fee=8), PARENT, seq_number=5)
    mm = attributes_match_block(CFG, ATTRS, PARENT.hash, block_for(other))
    assert mm is not None and mm.field == "transactions[0]"
    assert mm.detail == "L1-info deposit differs: base_fee 7!=8"


def test_zero_eip1559_params_stand_for_canyon_constants() -> None:
    a = dataclasses.replace(ATTRS, eip1559_params=bytes(8))
    # the engine writes the Canyon constants (denominator 250, elasticity 6) into extraData
    blk = block_for(ATTRS)
    assert attributes_match_block(CFG, a, PARENT.hash, blk) is None
    blk2 = block_for(ATTRS, extra_data=b"\x01" + (50).to_bytes(4, "big") + (6).to_bytes(4, "big")
                     + (1000).to_bytes(8, "big"))  # fmt: skip
    mm = attributes_match_block(CFG, a, PARENT.hash, blk2)
    assert mm is not None and mm.derived == "250/6" and mm.existing == "50/6"


# ------------------------------------------------------------------------ FindL2Heads


class FakeL2:
    def __init__(self, chain: list[L2BlockRef], labels: dict[str, int]) -> None:
        self.by_hash = {b.hash: b for b in chain}
        self.chain = chain
        self.labels = labels

    async def ref_by_number(self, n: int | str) -> L2BlockRef:
        if isinstance(n, str):
            if n not in self.labels:
                raise NotFound(n)
            n = self.labels[n]
        return self.chain[n]

    async def ref_by_hash(self, block_hash: bytes) -> L2BlockRef:
        if block_hash not in self.by_hash:
            raise NotFound("x")
        return self.by_hash[block_hash]

    async def payload_by_number(self, n: int | str) -> ExecutionPayload:
        raise NotImplementedError

    async def payload_by_hash(self, block_hash: bytes) -> ExecutionPayload:
        raise NotImplementedError


class FakeL1:
    def __init__(self, n: int, reorged_from: int | None = None) -> None:
        self.blocks = [self._h(e, reorged_from) for e in range(n)]

    @staticmethod
    def _h(e: int, r: int | None) -> L1Header:
        fork = "b" if r is not None and e >= r else ""
        pfork = "b" if r is not None and e - 1 >= r else ""
        return L1Header(h("l1", e, fork), e, h("l1", e - 1, pfork), G.l2_time + 6 * e, 7, h("m"))

    async def header_by_number(self, n: int) -> L1Header:
        if n >= len(self.blocks):
            raise NotFound("l1")
        return self.blocks[n]

    async def header_by_hash(self, block_hash: bytes) -> L1Header:
        for b in self.blocks:
            if b.hash == block_hash:
                return b
        raise NotFound("l1")


def l2_chain(n: int, *, bad_seq_at: int | None = None) -> list[L2BlockRef]:
    """Genesis + blocks 1..n-1, three L2 blocks per L1 origin (origin e = number // 3)."""
    out = [L2BlockRef(G.l2.hash, 0, bytes(32), G.l2_time, G.l1, 0)]
    for i in range(1, n):
        e = i // 3
        seq = i - 3 * e + (1 if i == bad_seq_at else 0)
        out.append(L2BlockRef(h("l2b", i), i, out[-1].hash, G.l2_time + 2 * i,
                              BlockID(h("l1", e, ""), e), seq))  # fmt: skip
    return out


CFG_G = dataclasses.replace(CFG, genesis=dataclasses.replace(G, l1=BlockID(h("l1", 0, ""), 0)))


def find(l2: FakeL2, l1: FakeL1 | None = None) -> tuple[int, int, int]:
    r = asyncio.run(find_l2_heads(CFG_G, l2, l1))
    return r.unsafe.number, r.safe.number, r.finalized.number


def test_find_heads_engine_only() -> None:
    chain = l2_chain(21)
    assert find(FakeL2(chain[:1], {"latest": 0})) == (0, 0, 0)  # fresh: genesis, no labels
    assert find(FakeL2(chain, {"latest": 20, "safe": 15, "finalized": 3})) == (20, 15, 3)
    # unsafe behind safe (engine rewound without a forkchoice update): op-node v1.19.6
    # L2HeadsForELSyncWithOffset: safe = finalized = unsafe - 12 h of blocks, clamped at genesis
    assert find(FakeL2(chain, {"latest": 10, "safe": 15, "finalized": 3})) == (10, 0, 0)
    with pytest.raises(FindHeadsError):
        find(FakeL2(l2_chain(21, bad_seq_at=17), {"latest": 20, "safe": 15}))


def test_find_heads_with_l1() -> None:
    chain = l2_chain(21)  # unsafe 20 has L1 origin 6; sequencing window 4
    # safe moves back to the parent of the highest block <= safe with sequence number 0 whose
    # origin is more than a window behind the highest canonical origin (6): block 3 (origin 1)
    assert find(FakeL2(chain, {"latest": 20, "safe": 15}), FakeL1(10)) == (20, 2, 0)
    # ... but never below the finalized head
    assert find(FakeL2(chain, {"latest": 20, "safe": 15, "finalized": 3}), FakeL1(10)) == (20, 3, 3)
    # L1 origins 5 and 6 reorged out on L1: unsafe falls back to block 14 (origin 4)
    assert find(FakeL2(chain, {"latest": 20, "safe": 15, "finalized": 3}), FakeL1(10, 5))[0] == 14
    # L1 behind the unsafe head's origin (not found yet): fine
    assert find(FakeL2(chain, {"latest": 20, "safe": 15}), FakeL1(5))[0] == 20


def test_find_heads_wrong_genesis() -> None:
    chain = l2_chain(5)
    chain[1] = dataclasses.replace(chain[1], parent_hash=h("not genesis"))
    fake = FakeL2(chain, {"latest": 4})
    fake.by_hash[h("not genesis")] = L2BlockRef(h("not genesis"), 0, bytes(32), G.l2_time, G.l1, 0)
    with pytest.raises(WrongChainError):
        find(fake)
