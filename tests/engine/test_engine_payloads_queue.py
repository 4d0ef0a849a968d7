"""The unsafe-payload queue (op-node v1.19.6 ``payloads_queue.go`` and the engine controller's
``AddUnsafePayload`` / ``onForkchoiceUpdate`` / ``onInvalidPayload``; audit D12 / section 4
row 4) and the block-hash check of ``admin_postUnsafePayload`` (op-service
``ExecutionPayloadEnvelope.CheckBlockHash``) against real op-geth blocks."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from pyop.engine import EngineClient, EngineController
from pyop.engine.payload_hash import payload_block_hash
from pyop.engine.payloads_queue import (
    PAYLOAD_MEM_FIXED_COST,
    PayloadQueueError,
    PayloadsQueue,
    UnsafePayload,
    payload_mem_size,
)
from pyop.primitives import ExecutionPayload, L2BlockRef
from pyop.sources.blockjson import payload_from_engine_json
from tests.engine.fake_engine import FakeEngine, status, valid
from tests.engine.test_engine_consolidate import ATTRS, CFG, PARENT, block_for
from tests.engine.test_engine_controller import SECRET, MemL2

FIXTURE = Path(__file__).resolve().parents[2] / "spec_vectors/derivation/differential/go-devnet-calldata-blobs.json.gz"


def blk(n: int, parent: bytes, *, tag: bytes = b"", txs: int = 1) -> ExecutionPayload:
    return block_for(ATTRS, block_number=n, parent_hash=parent, block_hash=bytes([n]) * 31 + (tag or b"\x00"),
                     transactions=(*ATTRS.transactions, *([b"\x02" + b"x" * 10] * (txs - 1))))  # fmt: skip


def ref(p: ExecutionPayload) -> L2BlockRef:
    return L2BlockRef(p.block_hash, p.block_number, p.parent_hash, p.timestamp, PARENT.l1_origin, 0)


def test_queue_orders_by_number_refuses_duplicates_and_caps_memory() -> None:
    q = PayloadsQueue()
    a, b, c = blk(7, b"\x06" * 32), blk(5, PARENT.hash), blk(6, b"\x05" * 32)
    for p in (a, b, c):
        q.push(UnsafePayload(p))
    assert [q.pop().payload.block_number for _ in range(3)] == [5, 6, 7]  # type: ignore[union-attr]
    q.push(UnsafePayload(a))
    with pytest.raises(PayloadQueueError, match="duplicate"):
        q.push(UnsafePayload(a))
    # op-node payloadMemSize: 1000 + per tx (len + 24)
    assert payload_mem_size(UnsafePayload(a)) == PAYLOAD_MEM_FIXED_COST + sum(len(t) + 24 for t in a.transactions)
    size = payload_mem_size(UnsafePayload(a))
    small = PayloadsQueue(max_size=2 * size)
    small.push(UnsafePayload(blk(8, b"\x07" * 32)))
    small.push(UnsafePayload(blk(9, b"\x08" * 32)))
    small.push(UnsafePayload(blk(10, b"\x09" * 32)))  # over the cap: the lowest number goes
    assert [p.payload.block_number for p in (small.pop(), small.pop())] == [9, 10]  # type: ignore[union-attr]
    small.push(UnsafePayload(blk(11, b"\x0a" * 32)))
    small.push(UnsafePayload(blk(12, b"\x0b" * 32)))
    with pytest.raises(PayloadQueueError, match="oldest block number"):
        small.push(UnsafePayload(blk(3, b"\x02" * 32)))  # it would be dropped itself
    with pytest.raises(PayloadQueueError, match="larger than max queue size"):
        PayloadsQueue(max_size=10).push(UnsafePayload(a))


def test_drop_inapplicable_follows_op_node() -> None:
    unsafe = ref(blk(6, b"\x05" * 32))
    safe = dataclasses.replace(unsafe, number=4)
    q = PayloadsQueue()
    for p in (blk(4, b"\x03" * 32), blk(6, b"\x05" * 32, tag=b"\x01"), blk(7, b"\xee" * 32), blk(9, b"\x08" * 32)):
        q.push(UnsafePayload(p))
    dropped = [(d.payload.block_number, why) for d, why in q.drop_inapplicable(unsafe, safe)]
    assert dropped == [(4, "older than the safe head"), (6, "older than the unsafe head"),
                       (7, "does not build onto the unsafe head")]  # fmt: skip
    assert q.peek().payload.block_number == 9 and q.next_applicable(unsafe) is None  # type: ignore[union-attr]


def test_controller_inserts_in_order_fills_gap_later_and_drops_invalid() -> None:
    """Payloads 6 and 5 posted out of order apply once 5 builds on the unsafe head; 8 waits
    behind a gap; an INVALID payload is dropped (op-node ``onInvalidPayload``)."""
    p5 = blk(5, PARENT.hash)
    p6 = blk(6, p5.block_hash)
    p8 = blk(8, b"\x07" * 32)
    bad7 = blk(7, p6.block_hash, tag=b"\xbb")
    invalid = {bad7.block_hash}

    def new_payload(p: list[Any]) -> Any:
        return status("INVALID", "bad") if bytes.fromhex(p[0]["blockHash"][2:]) in invalid else status("VALID")

    async def go() -> None:
        async with FakeEngine({"engine_forkchoiceUpdatedV3": lambda p: valid(), "engine_newPayloadV4": new_payload}) as fake:
            ctl = EngineController(CFG, EngineClient(fake.url, SECRET), l2=MemL2({}))
            for name in ("unsafe", "cross_unsafe", "pending_safe", "local_safe", "safe"):
                setattr(ctl, name, PARENT)
            for p in (p6, p8, p5):
                ctl.add_unsafe_payload(p, p.parent_beacon_block_root)
            ctl.add_unsafe_payload(p5, None)  # duplicate: refused (logged), not queued twice
            assert len(ctl.unsafe_payloads) == 3
            assert await ctl.process_unsafe_payloads() == 2
            assert ctl.unsafe.hash == p6.block_hash and ctl.safe == PARENT
            assert len(ctl.unsafe_payloads) == 1  # 8 waits: 7 is missing
            ctl.add_unsafe_payload(bad7, None)
            assert await ctl.process_unsafe_payloads() == 0
            assert ctl.unsafe.hash == p6.block_hash and ctl.unsafe_payloads.peek().payload == p8  # type: ignore[union-attr]
            # op-node checkForGapInUnsafeQueue: the gap payload is inserted anyway
            n = len(fake.calls("engine_newPayloadV4"))
            assert await ctl.fill_unsafe_gap() is True
            assert fake.calls("engine_newPayloadV4")[n].params[0]["blockHash"] == "0x" + p8.block_hash.hex()
            await ctl.close()

    asyncio.run(go())


def _fixture_blocks() -> list[ExecutionPayload]:
    """Blocks as the Engine API carries them: before Isthmus an ``ExecutionPayloadV3`` has no
    ``withdrawalsRoot`` (the fixture keeps op-geth's block JSON, which shows the empty root)."""
    with gzip.open(FIXTURE) as f:
        data = json.loads(f.read())
    isthmus = int(data["rollupConfig"]["isthmus_time"])
    blocks = data["pyopL2Blocks"]
    nums = sorted(int(k) for k in blocks)
    out = []
    for n in nums[:: max(1, len(nums) // 40)]:
        p = payload_from_engine_json(blocks[str(n)])
        out.append(p if p.timestamp >= isthmus else dataclasses.replace(p, withdrawals_root=None))
    return out


def test_block_hash_of_real_op_geth_payloads() -> None:
    """Real op-geth blocks of the Go devnet fixture (pre-Isthmus, Isthmus and Jovian): the hash
    rebuilt from the payload is op-geth's; one changed field breaks it."""
    blocks = _fixture_blocks()
    assert len(blocks) >= 20
    assert any(b.withdrawals_root is not None for b in blocks)
    assert any(b.withdrawals_root is None for b in blocks)
    for b in blocks:
        assert payload_block_hash(b) == b.block_hash, b.block_number
    b = blocks[-1]
    assert payload_block_hash(dataclasses.replace(b, gas_used=b.gas_used + 1)) != b.block_hash
