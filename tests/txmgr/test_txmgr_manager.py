"""TxManager and TxQueue against the in-memory L1 of fake_l1.py (short intervals: each test
takes well under a second)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from pyop.codec.blob import encode_blob
from pyop.codec.tx import BLOB_TX_TYPE
from pyop.txmgr import (
    FeeLimitError,
    LocalSigner,
    NonceTooLowError,
    TxCandidate,
    TxManager,
    TxManagerConfig,
    TxManagerError,
    TxQueue,
)
from tests.txmgr.fake_l1 import FakeL1, auto_mine

T = TypeVar("T")
KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
INBOX = bytes.fromhex("ff00000000000000000000000000000000000901")
GWEI = 10**9

FAST = TxManagerConfig(
    num_confirmations=1, receipt_query_interval=0.01, resubmission_timeout=0.15,
    rebroadcast_interval=0.05, network_timeout=1.0, retry_interval=0.01,
    tx_not_in_mempool_timeout=2.0, fee_limit_threshold=10**30,
)  # fmt: skip


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, 20))  # type: ignore[arg-type]


def manager(l1: FakeL1, cfg: TxManagerConfig = FAST) -> TxManager:
    return TxManager(cfg, l1, LocalSigner(KEY), l1.chain_id_, name="test")


async def with_miner(l1: FakeL1, body: Callable[[], Awaitable[T]], interval: float = 0.01) -> T:
    miner = asyncio.create_task(auto_mine(l1, interval))
    try:
        return await body()
    finally:
        miner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await miner


def test_send_calldata_tx_waits_for_confirmations() -> None:
    l1 = FakeL1()
    mgr = manager(l1, FAST.with_(num_confirmations=3))

    async def body() -> None:
        r = await with_miner(l1, lambda: mgr.send(TxCandidate(to=INBOX, data=b"\x00hello")))
        assert r.status == 1
        # 3 confirmations: the tx block and two more
        assert l1.head() >= r.block_number + 2
        tx = next(t for t in l1.sent if t.hash == r.tx_hash)
        assert tx.to == INBOX and tx.data == b"\x00hello" and tx.nonce == 0
        assert tx.max_priority_fee_per_gas == GWEI  # min tip 1 gwei
        assert tx.max_fee_per_gas == GWEI + 2 * GWEI  # tip + 2 * base fee
        assert tx.gas == 21_000 + 16 * 6  # estimated (gas limit 0)

    run(body())


def test_given_gas_limit_is_checked_by_a_call_not_estimated() -> None:
    l1 = FakeL1()
    mgr = manager(l1)

    async def body() -> None:
        r = await with_miner(l1, lambda: mgr.send(TxCandidate(to=INBOX, data=b"\x01", gas_limit=50_000)))
        tx = next(t for t in l1.sent if t.hash == r.tx_hash)
        assert tx.gas == 50_000
        assert l1.calls and l1.calls[-1].gas == 50_000

    run(body())


def test_nonces_count_up_locally_and_reset_after_a_failure() -> None:
    l1 = FakeL1()
    mgr = manager(l1)

    async def body() -> None:
        async def three() -> list[int]:
            rs = [await mgr.send(TxCandidate(to=INBOX, data=bytes([i]))) for i in range(3)]
            return [next(t for t in l1.sent if t.hash == r.tx_hash).nonce for r in rs]

        assert await with_miner(l1, three) == [0, 1, 2]
        # a send that fails resets the nonce: the next one reads it from the L1 again
        l1.scripted_errors = ["some node error"] * (FAST.max_retries + 5)
        mgr2 = manager(l1, FAST.with_(tx_not_in_mempool_timeout=0.05, max_retries=0))
        mgr2._nonce = 41  # a stale local nonce
        with pytest.raises(TxManagerError):
            await mgr2.send(TxCandidate(to=INBOX, data=b"x"))
        assert mgr2._nonce is None
        l1.scripted_errors = []
        r = await with_miner(l1, lambda: mgr2.send(TxCandidate(to=INBOX, data=b"y")))
        assert next(t for t in l1.sent if t.hash == r.tx_hash).nonce == 3

    run(body())


def test_tx_stuck_under_raised_base_fee_is_bumped_and_mined() -> None:
    l1 = FakeL1()
    mgr = manager(l1)

    async def body() -> None:
        task = asyncio.create_task(mgr.send(TxCandidate(to=INBOX, data=b"\x00stuck")))
        await asyncio.sleep(0.02)
        first = l1.sent[0]
        assert first.max_fee_per_gas == 3 * GWEI
        l1.base_fee = 50 * GWEI  # the L1 base fee jumps above the tx's fee cap
        r = await with_miner(l1, lambda: task)
        mined = next(t for t in l1.sent if t.hash == r.tx_hash)
        assert mined.nonce == first.nonce and mined.hash != first.hash
        assert mined.max_fee_per_gas >= 50 * GWEI
        # Go updateFees, base fee up and tip flat: threshold tip (+10%), fee cap recomputed from
        # the new base fee
        assert mined.max_priority_fee_per_gas == GWEI * 11 // 10
        assert mined.max_fee_per_gas == GWEI * 11 // 10 + 2 * 50 * GWEI
        assert mgr.metrics.gas_bump.get() >= 1

    run(body())


def test_blob_tx_replacement_needs_a_100_percent_bump() -> None:
    l1 = FakeL1(blob_base_fee=1)
    mgr = manager(l1)
    blob = encode_blob(b"\x00" + b"frame data" * 100)

    async def body() -> None:
        task = asyncio.create_task(mgr.send(TxCandidate(to=INBOX, blobs=(blob, blob))))
        while not l1.sent:
            await asyncio.sleep(0.01)
        first = l1.sent[0]
        assert first.tx_type == BLOB_TX_TYPE and len(first.blob_versioned_hashes) == 2
        assert first.max_fee_per_blob_gas == GWEI  # 2 * 1 wei, raised to the 1 gwei minimum
        l1.blob_base_fee_ = 3 * GWEI  # blob gas price spikes: the tx is stuck
        r = await with_miner(l1, lambda: task)
        mined = next(t for t in l1.sent if t.hash == r.tx_hash)
        assert mined.tx_type == BLOB_TX_TYPE and mined.nonce == first.nonce
        # replaced at least once under the fake's 100% blob-pool rule (a 10% bump is refused)
        assert mined.max_fee_per_blob_gas is not None and mined.max_fee_per_blob_gas >= 3 * GWEI
        assert mined.max_priority_fee_per_gas >= 2 * first.max_priority_fee_per_gas

    run(body())


def test_bump_above_the_fee_limit_multiplier_is_refused() -> None:
    l1 = FakeL1()
    mgr = manager(l1, FAST.with_(fee_limit_threshold=None, fee_limit_multiplier=2,
                                 tx_send_timeout=0.6))  # fmt: skip

    async def body() -> None:
        task = asyncio.create_task(mgr.send(TxCandidate(to=INBOX, data=b"z")))
        await asyncio.sleep(0.02)
        l1.base_fee = 10**6 * GWEI  # never minable
        l1.tip = GWEI
        with pytest.raises(TxManagerError):
            await task
        # the manager never offered more than 2x the suggestion
        for tx in l1.sent:
            assert tx.max_fee_per_gas <= 2 * GWEI + 2 * 2 * 10**6 * GWEI

    run(body())
    with pytest.raises(FeeLimitError):
        from pyop.txmgr.fees import check_limits

        check_limits(GWEI, GWEI, 3 * GWEI, 3 * GWEI, 2, None)


def test_nonce_taken_by_another_tx_aborts_after_safe_abort_count() -> None:
    l1 = FakeL1()
    mgr = manager(l1, FAST.with_(safe_abort_nonce_too_low_count=3, rebroadcast_interval=0.02))

    async def body() -> None:
        task = asyncio.create_task(mgr.send(TxCandidate(to=INBOX, data=b"n")))
        while not l1.sent:
            await asyncio.sleep(0.005)
        l1.take_nonce_externally()  # someone else used our nonce: re-broadcasts get "nonce too low"
        with pytest.raises(NonceTooLowError):
            await task
        assert mgr._nonce is None

    run(body())


def test_confirmed_tx_removed_by_l1_reorg_is_resent() -> None:
    l1 = FakeL1()
    mgr = manager(l1)

    async def body() -> None:
        r1 = await with_miner(l1, lambda: mgr.send(TxCandidate(to=INBOX, data=b"a")))
        r2 = await with_miner(l1, lambda: mgr.send(TxCandidate(to=INBOX, data=b"b")))
        assert mgr.watched() == 2
        assert await mgr.check_reorgs() == []
        depth = l1.head() - r1.block_number + 1
        dropped = l1.reorg(depth)  # both txs gone from the chain and from the pool
        assert {t.hash for t in dropped} == {r1.tx_hash, r2.tx_hash}
        events = await mgr.check_reorgs()
        assert sorted(e.nonce for e in events) == [0, 1] and all(e.removed for e in events)
        assert all(e.new_receipt is None for e in events)

        async def resent() -> list:
            done: list = []
            while len(done) < 2:
                done += await mgr.check_reorgs()
                await asyncio.sleep(0.01)
            return done

        again = await with_miner(l1, resent)
        assert sorted(e.nonce for e in again) == [0, 1]
        for e in again:
            assert e.new_receipt is not None and e.new_receipt.block_hash != e.old_receipt.block_hash
        assert l1.account_nonce == 2  # the same nonces again: no gap for later txs
        r3 = await with_miner(l1, lambda: mgr.send(TxCandidate(to=INBOX, data=b"c")))
        assert next(t for t in l1.sent if t.hash == r3.tx_hash).nonce == 2

    run(body())


def test_confirmed_tx_moved_to_another_block_is_reported() -> None:
    l1 = FakeL1()
    mgr = manager(l1)

    async def body() -> None:
        r = await with_miner(l1, lambda: mgr.send(TxCandidate(to=INBOX, data=b"m")))
        l1.reorg(l1.head() - r.block_number + 1, return_to_pool=True)
        l1.mine()
        events = await mgr.check_reorgs()
        assert len(events) == 1 and not events[0].removed
        assert events[0].new_receipt is not None and events[0].new_receipt.block_hash != r.block_hash

    run(body())


def test_queue_keeps_order_and_max_pending() -> None:
    l1 = FakeL1()
    mgr = manager(l1)
    q: TxQueue[int] = TxQueue(mgr, max_pending=2)

    async def body() -> None:
        async def go() -> list:
            for i in range(5):
                await q.send(i, TxCandidate(to=INBOX, data=bytes([i])))
                assert q.pending() <= 2
            await q.wait()
            return [await q.receipts.get() for _ in range(5)]

        got = await with_miner(l1, go, interval=0.02)
        assert all(r.error is None for r in got)
        by_id = {r.id: r.receipt for r in got}
        nonces = [next(t for t in l1.sent if t.hash == by_id[i].tx_hash).nonce for i in range(5)]  # type: ignore[union-attr]
        assert nonces == [0, 1, 2, 3, 4]

    run(body())


def test_queue_failure_cancels_the_rest_of_the_group() -> None:
    l1 = FakeL1()
    mgr = manager(l1, FAST.with_(safe_abort_nonce_too_low_count=1, rebroadcast_interval=0.02))
    q: TxQueue[int] = TxQueue(mgr, max_pending=0)

    async def body() -> None:
        await q.send(0, TxCandidate(to=INBOX, data=b"0"))
        await q.send(1, TxCandidate(to=INBOX, data=b"1"))
        l1.take_nonce_externally()  # tx 0 can never be mined; tx 1 waits behind it
        got = [await q.receipts.get() for _ in range(2)]
        errs = {r.id: type(r.error).__name__ for r in got}
        assert errs[0] == "NonceTooLowError"
        assert errs[1] == "SendCancelledError"

    run(body())
