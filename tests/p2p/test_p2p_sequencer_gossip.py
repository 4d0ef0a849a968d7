"""When a sequencer hands its block to the gossip: op-node v1.19.6 ``Sequencer.onBuildSealed``
calls ``asyncGossip.Gossip(envelope)`` right after sealing ("Begin gossiping as soon as
possible") and only then ``ProcessPayload`` (newPayload + forkchoiceUpdated on its own EL).
pyop does the same (``EngineController.seal(before_insert=...)``,
``Sequencer.on_payload_sealed``; was: gossip only after its own EL had the block)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from pyop.engine.controller import SealedBlock
from pyop.engine.sequencer import Sequencer
from pyop.primitives import ExecutionPayload, L2BlockRef, PayloadAttributes
from tests.engine.fake_engine import FakeEngine
from tests.engine.test_engine_consolidate import ATTRS, PARENT
from tests.engine.test_engine_controller import BLOCK, engine, make
from tests.node.test_node_operator_controls import CFG, Attrs
from tests.node.test_node_sequencer import FakeL1, l1, l2_head


def test_controller_hands_the_sealed_block_over_before_new_payload() -> None:
    async def go() -> None:
        async with FakeEngine(engine()) as fake:
            ctl = make(fake)
            seen: list[tuple[ExecutionPayload, int, int]] = []
            job = await ctl.start_building(PARENT, ATTRS)
            await ctl.seal(job, before_insert=lambda p: seen.append(
                (p, len(fake.calls("engine_newPayloadV4")), len(fake.calls("engine_forkchoiceUpdatedV3")))))  # fmt: skip
            ((p, new_payloads, fcus),) = seen
            assert (new_payloads, fcus) == (0, 1)  # only the FCU that started the build
            assert p.block_hash == BLOCK.block_hash
            assert p.parent_beacon_block_root == ATTRS.parent_beacon_block_root  # the envelope's, for V3/V4 topics
            assert len(fake.calls("engine_newPayloadV4")) == 1
            await ctl.close()

    asyncio.run(go())


class _Engine:
    """Builds and seals at once; records the order of events."""

    def __init__(self, head: L2BlockRef, events: list[str], payload: ExecutionPayload) -> None:
        self.unsafe = self.safe = head
        self.events, self.payload = events, payload

    async def start_building(self, parent: L2BlockRef, attrs: PayloadAttributes) -> Any:
        return object()

    async def seal(self, job: Any, *, before_insert: Any = None, **_kw: Any) -> SealedBlock:
        self.events.append("sealed")
        if before_insert is not None:
            before_insert(self.payload)
        self.events.append("inserted")
        ref = dataclasses.replace(self.unsafe, number=self.unsafe.number + 1, hash=self.payload.block_hash)
        return SealedBlock(self.payload, ref, None)  # type: ignore[arg-type]


def test_sequencer_gossips_between_seal_and_insert() -> None:
    chain = [l1(n, 1000 + 12 * n) for n in range(10, 13)]
    head = l2_head(1100, chain[0])
    events: list[str] = []
    eng = _Engine(head, events, BLOCK)
    seq = Sequencer(CFG, eng, FakeL1(chain), Attrs(), l1_confs=0, clock=lambda: 1e10)  # type: ignore[arg-type]
    seq.on_payload_sealed(lambda p: events.append(f"gossip {p.block_number}"))

    def broken(_p: ExecutionPayload) -> None:
        raise RuntimeError("listener bug")

    seq.on_payload_sealed(broken)  # does not keep the block from our own chain
    seq.on_sealed(lambda s, o: events.append("on_sealed"))
    sealed = asyncio.run(seq.build_block())
    assert sealed is not None
    assert events == ["sealed", f"gossip {BLOCK.block_number}", "inserted", "on_sealed"]
