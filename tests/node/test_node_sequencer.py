"""Sequencer L1-origin selection and noTxPool rules, with the numbers (op-node
``origin_selector.go`` ``FindL1Origin`` and ``sequencer.go`` ``startBuildingBlock``;
specs/protocol/derivation.md max sequencer drift, fjord/derivation.md constant drift 1800)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from eth_hash.auto import keccak

from pyop.engine.sequencer import (
    OriginNotReady,
    Sequencer,
    SequencerError,
    SequencerNotRunning,
    no_tx_pool_reason,
    select_l1_origin,
)
from pyop.errors import ResetError
from pyop.primitives import ZERO_HASH, L1BlockRef, L1Header, L2BlockRef
from pyop.sources.interfaces import NotFound
from tests.derivation.harness import GENESIS_TIME, make_config

PRE_FJORD = make_config(fork="ecotone", max_sequencer_drift=600)  # block time 2
FJORD = make_config(fork="fjord", max_sequencer_drift=600)


def h(n: int, salt: bytes = b"") -> bytes:
    return keccak(b"l1-%d" % n + salt)


def l1(n: int, t: int, salt: bytes = b"") -> L1BlockRef:
    return L1BlockRef(h(n, salt), n, h(n - 1), t)


def l2_head(ts: int, origin: L1BlockRef, seq: int = 0) -> L2BlockRef:
    return L2BlockRef(keccak(b"l2-%d" % ts), 7, ZERO_HASH, ts, origin.id(), seq)


def test_next_origin_adopted_when_old_enough() -> None:
    cur, nxt = l1(10, 990), l1(11, 1002)
    c = select_l1_origin(PRE_FJORD, l2_head(1000, cur), cur, nxt)  # next L2 time 1002 >= 1002
    assert c.origin == nxt and c.rule == "next" and c.next_l2_time == 1002


def test_next_origin_too_new_keeps_current() -> None:
    cur, nxt = l1(10, 990), l1(11, 1003)
    c = select_l1_origin(PRE_FJORD, l2_head(1000, cur), cur, nxt)  # 1002 < 1003
    assert c.origin == cur and c.rule == "current" and c.drift == 12 and c.max_drift == 600


def test_unknown_next_within_drift_keeps_current() -> None:
    cur = l1(10, 402)
    c = select_l1_origin(PRE_FJORD, l2_head(1000, cur), cur, None)  # drift 1002-402 = 600 == max
    assert c.origin == cur and c.rule == "current" and c.drift == 600


def test_past_drift_without_next_origin_cannot_build() -> None:
    cur = l1(10, 400)  # drift 602 > 600
    with pytest.raises(OriginNotReady, match=r"max sequencer drift 600"):
        select_l1_origin(PRE_FJORD, l2_head(1000, cur), cur, None)


def test_past_drift_next_origin_in_future_keeps_current() -> None:
    cur, nxt = l1(10, 400), l1(11, 1010)  # 1002 < 1010: cannot adopt; build on current, no txs
    c = select_l1_origin(PRE_FJORD, l2_head(1000, cur), cur, nxt)
    assert c.origin == cur and c.rule == "current_past_drift"
    assert no_tx_pool_reason(PRE_FJORD, c.next_l2_time, c.origin) is not None


def test_fjord_constant_drift_1800() -> None:
    t0 = GENESIS_TIME + 1000
    cur = l1(10, t0 - 602 + 2)  # drift 602: past 600 but within Fjord's 1800
    c = select_l1_origin(FJORD, l2_head(t0, cur), cur, None)
    assert c.max_drift == 1800 and c.rule == "current"
    cur2 = l1(10, t0 + 2 - 1801)
    with pytest.raises(OriginNotReady):
        select_l1_origin(FJORD, l2_head(t0, cur2), cur2, None)


def test_no_tx_pool_drift_boundary() -> None:
    origin = l1(5, 1000)
    assert no_tx_pool_reason(PRE_FJORD, 1600, origin) is None  # 1600 == 1000 + 600
    why = no_tx_pool_reason(PRE_FJORD, 1601, origin)
    assert why is not None and "max sequencer drift" in why


def test_no_tx_pool_on_upgrade_activation_blocks() -> None:
    cfg = make_config(fork="holocene", fork_times={"isthmus": 10, "jovian": 20})
    origin = l1(5, GENESIS_TIME)
    assert no_tx_pool_reason(cfg, GENESIS_TIME + 10, origin) == "isthmus activation block"
    assert no_tx_pool_reason(cfg, GENESIS_TIME + 12, origin) is None
    assert no_tx_pool_reason(cfg, GENESIS_TIME + 20, origin) == "jovian activation block"
    holo = make_config(fork="granite", fork_times={"holocene": 10})
    assert no_tx_pool_reason(holo, GENESIS_TIME + 10, origin) is None  # Holocene: no upgrade txs


class FakeL1:
    def __init__(self, refs: list[L1BlockRef]) -> None:
        self.refs = {r.number: r for r in refs}
        self.by_number_calls: list[int] = []

    def _hdr(self, r: L1BlockRef) -> L1Header:
        return L1Header(r.hash, r.number, r.parent_hash, r.timestamp, 1, ZERO_HASH)

    async def header_by_number(self, n: int | str) -> L1Header:
        assert isinstance(n, int)
        self.by_number_calls.append(n)
        if n not in self.refs:
            raise NotFound(f"L1 block {n}")
        return self._hdr(self.refs[n])

    async def header_by_hash(self, block_hash: bytes) -> L1Header:
        for r in self.refs.values():
            if r.hash == block_hash:
                return self._hdr(r)
        raise NotFound("hash")


def _seq(l1src: FakeL1, head: L1BlockRef | None, confs: int, unsafe: L2BlockRef | None = None) -> Sequencer:
    engine = SimpleNamespace(unsafe=unsafe)
    return Sequencer(PRE_FJORD, engine, l1src, None, l1_confs=confs, l1_head=lambda: head,  # type: ignore[arg-type]
                     active=False)  # fmt: skip


def test_sequencer_conf_depth_hides_next_origin() -> None:
    chain = [l1(n, 1000 + 2 * n) for n in range(10, 15)]
    src = FakeL1(chain)
    head = l2_head(1100, chain[0])  # next L2 time 1102: every next block is old enough
    # head L1 = 13, confs 3: block 11 is usable only when 11 + 3 <= 13: not yet
    c = asyncio.run(_seq(src, chain[3], 3).find_l1_origin(head))
    assert c.origin == chain[0] and src.by_number_calls == []
    # head L1 = 14: 11 + 3 <= 14
    c = asyncio.run(_seq(src, chain[4], 3).find_l1_origin(head))
    assert c.origin == chain[1] and c.rule == "next"


def test_sequencer_reads_next_origin_once() -> None:
    """The next origin is read from L1 once and kept while it builds on the current origin
    (op-node ``L1OriginSelector``; issue 15: an L1 round trip per L2 block less), even when
    the L1 head moves; a next origin that does not build on the current one is a reset."""
    chain = [l1(n, 1000 + 2 * n) for n in range(10, 15)]
    src = FakeL1(chain)
    l1_head = [chain[4]]
    seq = Sequencer(PRE_FJORD, SimpleNamespace(unsafe=None), src, None, l1_confs=0,  # type: ignore[arg-type]
                    l1_head=lambda: l1_head[0], active=False)  # fmt: skip
    head = l2_head(1010, chain[0])  # next L2 time 1012 < 1022: block 11 is not adopted yet

    async def go() -> None:
        for i in range(3):
            l1_head[0] = l1(14 + i, 1028 + 2 * i)  # L1 moves on: still no second read
            c = await seq.find_l1_origin(head)
            assert c.origin == chain[0] and c.rule == "current"
        assert src.by_number_calls == [11]
        # a current origin whose kept next origin does not build on it reads L1 again
        other = L1BlockRef(h(10, b"other"), 10, h(9), 1020)  # block 10 replaced on L1
        src.refs[10] = other
        src.refs[11] = L1BlockRef(h(11, b"new"), 11, h(10, b"x"), 1022)
        with pytest.raises(ResetError, match=r"L1 reorg"):
            await seq.find_l1_origin(l2_head(1010, other))
        assert src.by_number_calls == [11, 11]

    asyncio.run(go())


def test_sequencer_detects_reorged_origin() -> None:
    cur = l1(10, 1020)
    other = L1BlockRef(h(11), 11, h(10, b"other"), 1022)  # does not build on cur
    src = FakeL1([cur, other])
    with pytest.raises(ResetError, match=r"L1 reorg"):
        asyncio.run(_seq(src, None, 0).find_l1_origin(l2_head(1100, cur)))


def test_admin_start_stop_errors() -> None:
    head = l2_head(1000, l1(1, 990))

    async def go() -> None:
        s = _seq(FakeL1([]), None, 0, unsafe=head)
        with pytest.raises(SequencerNotRunning, match=r"^sequencer not running$"):
            await s.stop()
        with pytest.raises(SequencerError, match=r"block hash does not match"):
            await s.start(b"\x01" * 32)
        await s.start(head.hash)
        assert s.active
        with pytest.raises(SequencerError, match=r"^sequencer already running$"):
            await s.start(head.hash)
        assert await s.stop() == head.hash
        assert not s.active

    asyncio.run(go())


