"""The engine controller against a fake engine: what each engine answer does to the heads and
which typed error the caller sees (the real-engine scenario is test_engine_opgeth.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from pyop.derivation.driver import InvalidPayload
from pyop.derivation.types import AttributesWithParent
from pyop.engine import (
    EngineClient,
    EngineController,
    EngineResetError,
    PayloadRejected,
)
from pyop.engine.errors import EngineSyncingResetError
from pyop.errors import CriticalError, ResetError
from pyop.primitives import ExecutionPayload, L1BlockRef, L2BlockRef
from pyop.sources.interfaces import NotFound
from tests.engine.fake_engine import FakeEngine, RpcFail, status, valid
from tests.engine.test_engine_consolidate import ATTRS, CFG, PARENT, block_for

SECRET = b"\x07" * 32
BLOCK = block_for(ATTRS)
DERIVED_FROM = L1BlockRef(b"\x0d" * 32, 9, b"\x0c" * 32, 1234)


class MemL2:
    def __init__(self, blocks: dict[int, ExecutionPayload]) -> None:
        self.blocks = blocks

    async def payload_by_number(self, n: int | str) -> ExecutionPayload:
        if not isinstance(n, int) or n not in self.blocks:
            raise NotFound(str(n))
        return self.blocks[n]

    async def payload_by_hash(self, block_hash: bytes) -> ExecutionPayload:
        raise NotFound("x")

    async def ref_by_number(self, n: int | str) -> L2BlockRef:
        raise NotFound("x")

    async def ref_by_hash(self, block_hash: bytes) -> L2BlockRef:
        raise NotFound("x")


def derived(last: bool = True) -> AttributesWithParent:
    return AttributesWithParent(ATTRS, PARENT, DERIVED_FROM, last)


def make(fake: FakeEngine, blocks: dict[int, ExecutionPayload] | None = None) -> EngineController:
    ctl = EngineController(CFG, EngineClient(fake.url, SECRET), l2=MemL2(blocks or {}))
    for name in ("unsafe", "cross_unsafe", "pending_safe", "local_safe", "safe"):
        setattr(ctl, name, PARENT)
    return ctl


def engine(**over: Any) -> dict[str, Any]:
    h: dict[str, Any] = {
        "engine_forkchoiceUpdatedV3": lambda p: valid("0x0000000000000001" if p[1] else None),
        "engine_getPayloadV4": lambda p: {"executionPayload": BLOCK.to_json(), "blockValue": "0x0",
                                          "executionRequests": []},
        "engine_newPayloadV4": lambda p: status("VALID"),
    }
    h.update(over)
    return h


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_build_derived_block() -> None:
    async def go() -> None:
        async with FakeEngine(engine()) as fake:
            ctl = make(fake)
            seen: list[tuple[int, int]] = []
            ctl.on_safe_head(lambda r, l1: seen.append((r.number, l1.number)))
            ref = await ctl.process_derived(derived())
            assert ref.hash == BLOCK.block_hash and ref.number == 5 and ref.sequence_number == 5
            assert ctl.unsafe == ctl.safe == ctl.local_safe == ctl.pending_safe == ref
            assert seen == [(5, 9)]
            fcus = fake.calls("engine_forkchoiceUpdatedV3")
            assert fcus[0].params[0]["headBlockHash"] == "0x" + PARENT.hash.hex()
            assert fcus[0].params[1]["timestamp"] == hex(ATTRS.timestamp)
            assert fcus[1].params == [{"headBlockHash": "0x" + BLOCK.block_hash.hex(),
                                       "safeBlockHash": "0x" + BLOCK.block_hash.hex(),
                                       "finalizedBlockHash": "0x" + CFG.genesis.l2.hash.hex()}, None]  # fmt: skip
            np = fake.calls("engine_newPayloadV4")[0].params
            assert np[2] == "0x" + (ATTRS.parent_beacon_block_root or b"").hex()
            await ctl.close()

    run(go())


def test_sealed_block_is_remembered_by_the_engine_l2_reader() -> None:
    """The sequencer's next attributes read the sealed block's SystemConfig by hash: served from
    the reader's cache, with no eth_getBlockByHash (issue 15: an L2 round trip per block)."""

    async def go() -> None:
        async with FakeEngine(engine()) as fake:
            ctl = EngineController(CFG, EngineClient(fake.url, SECRET))  # its own EngineL2Reader
            for name in ("unsafe", "cross_unsafe", "pending_safe", "local_safe", "safe"):
                setattr(ctl, name, PARENT)
            await ctl.build_payload(PARENT, ATTRS)
            p = await ctl.l2.payload_by_hash(BLOCK.block_hash)
            assert p.block_hash == BLOCK.block_hash and p.transactions == BLOCK.transactions
            assert fake.calls("eth_getBlockByHash") == []
            await ctl.close()

    run(go())


def test_middle_of_span_advances_only_pending_safe() -> None:
    async def go() -> None:
        async with FakeEngine(engine()) as fake:
            ctl = make(fake)
            ref = await ctl.process_derived(derived(last=False))
            assert ctl.pending_safe == ref == ctl.unsafe and ctl.safe == PARENT
            await ctl.close()

    run(go())


def test_consolidation_promotes_without_building() -> None:
    async def go() -> None:
        async with FakeEngine(engine()) as fake:
            ctl = make(fake, {5: BLOCK})
            ctl.unsafe = dataclasses.replace(PARENT, number=7)  # the unsafe chain is ahead
            ref = await ctl.process_derived(derived())
            assert ref.hash == BLOCK.block_hash and ctl.safe == ref and ctl.consolidated == 1
            assert not fake.calls("engine_getPayloadV4") and not fake.calls("engine_newPayloadV4")
            (fcu,) = fake.calls("engine_forkchoiceUpdatedV3")
            assert fcu.params[0]["safeBlockHash"] == "0x" + BLOCK.block_hash.hex()
            assert fcu.params[0]["headBlockHash"] == "0x" + PARENT.hash.hex()  # head unchanged
            # the unsafe block is missing although the unsafe head is ahead: reset
            ctl2 = make(fake, {})
            ctl2.unsafe = dataclasses.replace(PARENT, number=7)
            with pytest.raises(EngineResetError):
                await ctl2.process_derived(derived())
            await ctl.close()
            await ctl2.close()

    run(go())


def test_invalid_derived_payload_raises_invalid_payload() -> None:
    def attrs_refused(p: list[Any]) -> Any:
        if p[1] is not None:
            raise RpcFail(-38003, "Invalid payload attributes")
        return valid()

    async def go() -> None:
        async with FakeEngine(engine(engine_newPayloadV4=lambda p: status("INVALID", "bad tx"))) as fake:
            ctl = make(fake)
            with pytest.raises(InvalidPayload, match="bad tx"):
                await ctl.process_derived(derived())
            assert ctl.unsafe == ctl.safe == ctl.pending_safe == PARENT  # nothing moved
            # the sequencer (not derivation) sees the engine's verdict itself
            with pytest.raises(PayloadRejected) as ei:
                await ctl.build_payload(PARENT, ATTRS)
            assert ei.value.status.validation_error == "bad tx"
            await ctl.close()
        async with FakeEngine(engine(engine_forkchoiceUpdatedV3=attrs_refused)) as fake:
            ctl = make(fake)
            # attributes with a batch transaction: the batch is refused (Holocene: replaced)
            with_tx = dataclasses.replace(
                derived(), attributes=dataclasses.replace(ATTRS, transactions=(*ATTRS.transactions, b"\x02\x01")))
            with pytest.raises(InvalidPayload, match="-38003"):
                await ctl.process_derived(with_tx)
            # op-node onBuildInvalid: deposit-only attributes cannot be invalid: critical
            with pytest.raises(CriticalError, match="only deposit transactions"):
                await ctl.process_derived(derived())
            await ctl.close()

    run(go())


def test_syncing_and_reset_conditions() -> None:
    async def go() -> None:
        syncing = {"payloadStatus": status("SYNCING"), "payloadId": None}
        async with FakeEngine(engine(engine_forkchoiceUpdatedV3=lambda p: syncing)) as fake:
            ctl = make(fake)
            # op-node v1.19.6: a plain forkchoice update answered SYNCING needs a reset
            with pytest.raises(EngineSyncingResetError) as ei:
                await ctl.forkchoice_sync()
            assert isinstance(ei.value, ResetError)
            # attributes that do not build on the pending safe head: reset
            other = dataclasses.replace(derived(), parent=dataclasses.replace(PARENT, hash=b"\x01" * 32))
            with pytest.raises(EngineResetError):
                await ctl.process_derived(other)
            # finalizing above the safe head is refused (ignored), nothing is sent
            n = len(fake.requests)
            await ctl.finalize(dataclasses.replace(PARENT, number=9))
            assert ctl.finalized.number == 0 and len(fake.requests) == n
            await ctl.close()

    run(go())
