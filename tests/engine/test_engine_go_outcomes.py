"""What each Engine API answer does, call site by call site, as op-node v1.19.6 decides
(shared/notes/audit-node-vs-op-node-v1.19.6.md section 3.2 D2/D3/D5/D6, sections 3.3/3.4; Go:
``engine_controller.go`` ``tryUpdateEngineInternal`` / ``startPayload`` / ``insertUnsafePayload``
/ ``tryBackupUnsafeReorg``, ``build_seal.go`` ``sealBuild``, ``build_invalid.go``
``onBuildInvalid``, ``sync/start.go`` ``FindL2Heads`` / ``L2HeadsForELSyncWithOffset``).

Expected outcomes are op-node's, read from the Go source; the engine is a scripted fake.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import pytest

from pyop.derivation.attributes import build_payload_attributes
from pyop.derivation.driver import InvalidPayload
from pyop.derivation.types import AttributesWithParent
from pyop.engine import EngineClient, EngineController, find_l2_heads
from pyop.engine.errors import (
    BuildInvalid,
    EngineResetError,
    EngineSyncingError,
    EngineSyncingResetError,
    SealExpiredError,
)
from pyop.engine.start import duration_to_blocks, offset_block_num
from pyop.errors import CriticalError, ResetError, TemporaryError
from pyop.primitives import ExecutionPayload, L1BlockRef, PayloadAttributes
from tests.derivation.deriv_fakes import SYSCFG, make_cfg
from tests.engine.fake_engine import FakeEngine, RpcFail, status, valid
from tests.engine.test_engine_consolidate import (
    ATTRS,
    CFG,
    CFG_G,
    PARENT,
    FakeL2,
    block_for,
    header,
    l2_chain,
)
from tests.engine.test_engine_controller import DERIVED_FROM, SECRET, MemL2, derived, engine, make

USER_TX = b"\x02\x01"
WITH_TX = dataclasses.replace(ATTRS, transactions=(*ATTRS.transactions, USER_TX))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def fail(code: int) -> Any:
    def f(p: list[Any]) -> Any:
        raise RpcFail(code, "refused")

    return f


def fcu(plain: Any = None, attrs: Any = None) -> Any:
    """forkchoiceUpdated answering ``plain`` without attributes and ``attrs`` with them."""

    def f(p: list[Any]) -> Any:
        h = attrs if p[1] is not None else plain
        if h is None:
            return valid("0x0000000000000001" if p[1] else None)
        return h(p)

    return f


# --------------------------------------------------------------------------- plain FCU (D2)


def test_forkchoice_syncing_resets_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """D2: SYNCING on a plain forkchoice update (op-geth restarted and lost blocks) -> reset,
    logged at WARN (was: a temporary error logged at DEBUG, retried forever)."""

    async def go() -> None:
        syncing = {"payloadStatus": status("SYNCING"), "payloadId": None}
        async with FakeEngine(engine(engine_forkchoiceUpdatedV3=lambda p: syncing)) as fake:
            ctl = make(fake)
            with pytest.raises(ResetError) as ei:
                await ctl.forkchoice_sync("consolidated block with L1")
            assert isinstance(ei.value, EngineSyncingResetError)
            assert not isinstance(ei.value, TemporaryError)
            await ctl.close()

    with caplog.at_level(logging.WARNING, logger="pyop.engine"):
        run(go())
    assert any(r.levelno == logging.WARNING and "SYNCING" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("code", "outcome"), [(-38002, ResetError), (-38001, TemporaryError),
                                               (-38003, TemporaryError), (-38005, TemporaryError),
                                               (-32601, TemporaryError), (-32602, TemporaryError)])  # fmt: skip
def test_plain_forkchoice_error_codes(code: int, outcome: type) -> None:
    """tryUpdateEngineInternal: -38002 -> reset, any other code -> temporary (was: -38005 /
    -32601 / -32602 halted the node)."""

    async def go() -> None:
        async with FakeEngine(engine(engine_forkchoiceUpdatedV3=fail(code))) as fake:
            ctl = make(fake)
            with pytest.raises(outcome) as ei:
                await ctl.forkchoice_sync()
            assert not isinstance(ei.value, CriticalError)
            await ctl.close()

    run(go())


@pytest.mark.parametrize("st", ["SYNCING", "INVALID", "ACCEPTED"])
def test_forkchoice_after_new_payload_not_valid_resets(st: str) -> None:
    """The forkchoice update that adopts a new block answered anything but VALID: reset (op-node
    ``finalizePayload`` -> the next ``tryUpdateEngine`` resets); was: temporary, the same block
    rebuilt."""

    async def go() -> None:
        ans = {"payloadStatus": status(st), "payloadId": None}
        async with FakeEngine(engine(engine_forkchoiceUpdatedV3=fcu(plain=lambda p: ans))) as fake:
            ctl = make(fake)
            with pytest.raises(EngineSyncingResetError):
                await ctl.build_payload(PARENT, ATTRS)
            assert ctl.unsafe == PARENT
            await ctl.close()

    run(go())


# --------------------------------------------------------------------------- build start (D5)


@pytest.mark.parametrize(("code", "outcome"), [
    (-38002, EngineResetError), (-38001, EngineResetError), (-38004, EngineResetError),
    (-38005, EngineResetError), (-38003, BuildInvalid), (-32601, TemporaryError),
    (-32602, TemporaryError), (-32000, TemporaryError),
])  # fmt: skip
def test_forkchoice_with_attributes_error_codes(code: int, outcome: type) -> None:
    """startPayload: -38002 and the other Engine API codes -> reset (pre-state), -38003 ->
    build invalid, generic JSON-RPC codes -> temporary (was: -38004/-38005/-32601/-32602 halted
    the node)."""

    async def go() -> None:
        async with FakeEngine(engine(engine_forkchoiceUpdatedV3=fcu(attrs=fail(code)))) as fake:
            ctl = make(fake)
            with pytest.raises(outcome) as ei:
                await ctl.start_building(PARENT, WITH_TX)
            assert not isinstance(ei.value, CriticalError)
            await ctl.close()

    run(go())


def test_forkchoice_with_attributes_statuses() -> None:
    async def go() -> None:
        for st, outcome in (("INVALID", BuildInvalid), ("INVALID_BLOCK_HASH", BuildInvalid),
                            ("SYNCING", EngineSyncingError), ("ACCEPTED", TemporaryError)):  # fmt: skip
            ans = {"payloadStatus": status(st), "payloadId": None}
            async with FakeEngine(engine(engine_forkchoiceUpdatedV3=fcu(attrs=lambda p, a=ans: a))) as fake:
                ctl = make(fake)
                with pytest.raises(outcome):
                    await ctl.start_building(PARENT, WITH_TX)
                await ctl.close()

    run(go())


# --------------------------------------------------------------------------- seal (D5)


@pytest.mark.parametrize("code", [-38001, -32601, -38005])
def test_get_payload_failure_is_seal_expired_retry(code: int) -> None:
    """sealBuild: every getPayload failure is ErrSealExpired: derived attributes are built again
    (the same attributes are retried), the sequencer starts over (was: -38001 did a full reset,
    -32601 / -38005 halted)."""

    async def go() -> None:
        async with FakeEngine(engine(engine_getPayloadV4=fail(code))) as fake:
            ctl = make(fake)
            with pytest.raises(SealExpiredError) as ei:
                await ctl.process_derived(derived())
            assert isinstance(ei.value, TemporaryError) and not isinstance(ei.value, ResetError)
            assert ctl.pending_safe == PARENT  # nothing moved: the caller retries the attributes
            await ctl.close()

    run(go())


@pytest.mark.parametrize("code", [-38005, -32602, -38004])
def test_new_payload_error_codes_are_temporary(code: int) -> None:
    async def go() -> None:
        async with FakeEngine(engine(engine_newPayloadV4=fail(code))) as fake:
            ctl = make(fake)
            with pytest.raises(TemporaryError) as ei:
                await ctl.process_derived(derived())
            assert not isinstance(ei.value, (ResetError, CriticalError))
            await ctl.close()

    run(go())


# --------------------------------------------------------------------------- backup unsafe (D3)


PRE_HOLOCENE = dataclasses.replace(make_cfg(all_until="granite"), chain_op_config=CFG.chain_op_config)
# attributes of a Granite chain: an Ecotone-format L1-info deposit, no EIP-1559 params
ATTRS_G = build_payload_attributes(PRE_HOLOCENE, SYSCFG, header(0), PARENT, seq_number=5)


def block_pre(a: PayloadAttributes, **kw: Any) -> ExecutionPayload:
    """The block an engine builds from Granite attributes ``a`` (empty extraData)."""
    base: dict[str, Any] = dict(
        transactions=a.transactions, timestamp=a.timestamp, prev_randao=a.prev_randao,
        gas_limit=a.gas_limit, extra_data=b"", withdrawals=a.withdrawals, withdrawals_root=None,
        fee_recipient=a.suggested_fee_recipient, parent_beacon_block_root=a.parent_beacon_block_root,
    )  # fmt: skip
    base.update(kw)
    return dataclasses.replace(block_for(ATTRS), **base)


def test_backup_unsafe_head_restored_before_holocene() -> None:
    """D3: pre-Holocene, a derived block replaced unsafe block 5 (unsafe head was 7); the next
    derived block of the batch is refused; op-node restores the old unsafe head 7 with a
    forkchoice update and sets pending-safe back to safe (was: the unsafe chain was lost)."""
    old5 = block_pre(ATTRS_G, transactions=(*ATTRS_G.transactions, USER_TX))  # the sequencer's block
    new5 = block_pre(ATTRS_G)  # derived (no user tx): mismatches old5
    old_head = dataclasses.replace(PARENT, number=7, hash=b"\x77" * 32)

    def fcu_h(p: list[Any]) -> Any:
        if p[1] is not None and p[1]["timestamp"] == hex(ATTRS.timestamp + 2):
            return {"payloadStatus": status("INVALID", "bad block 6"), "payloadId": None}
        return valid("0x0000000000000001" if p[1] else None)

    async def go() -> None:
        pre_isthmus = {"engine_getPayloadV3": lambda p: {"executionPayload": new5.to_json(), "blockValue": "0x0"},
                       "engine_newPayloadV3": lambda p: status("VALID")}  # fmt: skip
        async with FakeEngine(engine(engine_forkchoiceUpdatedV3=fcu_h, **pre_isthmus)) as fake:
            ctl = EngineController(PRE_HOLOCENE, EngineClient(fake.url, SECRET), l2=MemL2({5: old5}))
            for name in ("cross_unsafe", "pending_safe", "local_safe", "safe"):
                setattr(ctl, name, PARENT)
            ctl.unsafe = ctl.cross_unsafe = old_head
            ref5 = await ctl.process_derived(AttributesWithParent(ATTRS_G, PARENT, DERIVED_FROM, False))
            # (a mismatch: the derived block is built, which reorgs out 5..7)
            assert ref5.hash == new5.block_hash and ctl.unsafe == ref5
            assert ctl.backup_unsafe == old_head
            with_tx = dataclasses.replace(ATTRS_G, transactions=(*ATTRS_G.transactions, USER_TX))
            attrs6 = AttributesWithParent(dataclasses.replace(with_tx, timestamp=ATTRS.timestamp + 2), ref5,
                                          DERIVED_FROM, False)  # fmt: skip
            with pytest.raises(InvalidPayload, match="bad block 6"):
                await ctl.process_derived(attrs6)
            assert ctl.pending_safe == ctl.safe == PARENT
            n = len(fake.requests)
            assert await ctl.try_backup_unsafe_reorg() is True
            (restore,) = fake.requests[n:]
            assert restore.params[0]["headBlockHash"] == "0x" + old_head.hash.hex() and restore.params[1] is None
            assert ctl.unsafe == old_head and ctl.backup_unsafe is None
            assert await ctl.try_backup_unsafe_reorg() is False  # only once
            await ctl.close()

    run(go())


def test_no_backup_restore_from_holocene() -> None:
    """From Holocene the refused block gets a deposit-only replacement instead (pending-safe
    stays, no restore)."""

    async def go() -> None:
        invalid = lambda p: {"payloadStatus": status("INVALID", "x"), "payloadId": None}  # noqa: E731
        async with FakeEngine(engine(engine_forkchoiceUpdatedV3=fcu(attrs=invalid))) as fake:
            ctl = make(fake)
            ctl.backup_unsafe = dataclasses.replace(PARENT, number=9)
            with pytest.raises(InvalidPayload):
                await ctl.process_derived(dataclasses.replace(derived(), attributes=WITH_TX))
            assert await ctl.try_backup_unsafe_reorg() is False
            await ctl.close()

    run(go())


# --------------------------------------------------------------------------- FindL2Heads (D6)


def test_offset_helpers_match_go() -> None:
    # op-node sync.DurationToBlocks: ceil(offset / blockTime) over whole seconds
    assert duration_to_blocks(12 * 3600, 2) == 21600
    assert duration_to_blocks(5, 2) == 3 and duration_to_blocks(0, 2) == 0
    assert offset_block_num(10, 2, 100, 0) == 95
    assert offset_block_num(10**6, 2, 100, 3) == 3  # clamped at genesis
    assert offset_block_num(10, 2, 0, 0) == 0


def test_recovery_without_finality_keeps_offset_window_unsafe() -> None:
    """D6: finality still at genesis long after genesis (op-geth restored without forkchoice
    state): op-node v1.19.6 keeps safe = finalized = tip - offset, so the window is derived
    again (was: all three heads at the tip, never-derived blocks declared finalized)."""
    chain = l2_chain(200)  # 3 L2 blocks per L1 origin: the tip's origin is 66 > 14 * window 4
    l2 = FakeL2(chain, {"latest": 199})
    r = run(find_l2_heads(CFG_G, l2, None, offset_el_safe=20))  # 20 s = 10 blocks of 2 s
    assert (r.unsafe.number, r.safe.number, r.finalized.number) == (199, 189, 189)
    assert r.safe.hash == chain[189].hash
    r = run(find_l2_heads(CFG_G, l2, None))  # default 12 h: clamped at genesis
    assert (r.unsafe.number, r.safe.number, r.finalized.number) == (199, 0, 0)


def test_engine_rewound_below_safe_uses_offset() -> None:
    chain = l2_chain(21)
    r = run(find_l2_heads(CFG_G, FakeL2(chain, {"latest": 10, "safe": 15, "finalized": 3}), None, offset_el_safe=8))
    assert (r.unsafe.number, r.safe.number, r.finalized.number) == (10, 6, 6)


def test_controller_passes_offset() -> None:
    async def go() -> None:
        chain = l2_chain(200)
        async with FakeEngine(engine()) as fake:
            ctl = EngineController(CFG_G, EngineClient(fake.url, SECRET), l2=FakeL2(chain, {"latest": 199}),
                                   offset_el_safe=20)  # fmt: skip
            heads = await ctl.start()
            assert (heads.safe.number, ctl.safe.number, ctl.finalized.number) == (189, 189, 189)
            await ctl.close()

    run(go())


def test_derived_from_is_l1_ref() -> None:
    assert isinstance(DERIVED_FROM, L1BlockRef)
