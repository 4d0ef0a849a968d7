"""The dashboard's state stays bounded and pushes one event per kind per collector tick."""

from __future__ import annotations

import asyncio

from pyop.dashboard.state import QUEUE_SIZE, DashboardState


def row(n: int, h: str = "") -> dict[str, object]:
    return {"n": n, "h": h or f"0x{n:064x}", "tx": 0, "dep": []}


def test_rows_are_bounded_and_flushed_once_per_kind() -> None:
    async def go() -> None:
        st = DashboardState({}, max_l2=100, max_l1=10)
        sub = st.subscribe()
        for n in range(250):
            st.upsert_l2(row(n))
        for n in range(30):
            st.upsert_l1(row(n))
        st.flush()
        assert len(st.l2) == 100 and next(iter(st.l2)) == 150
        assert len(st.l1) == 10
        kinds = [sub.queue.get_nowait()[1] for _ in range(sub.queue.qsize())]
        assert kinds == ["l1", "l2"]
        st.flush()  # nothing changed: nothing sent
        assert sub.queue.empty()

    asyncio.run(go())


def test_reorg_drops_rows_and_sends_truncate() -> None:
    async def go() -> None:
        st = DashboardState({})
        for n in range(10):
            st.upsert_l2(row(n))
        st.flush()
        sub = st.subscribe()
        gone = st.drop_above("l2", 6)
        assert [r["n"] for r in gone] == [7, 8, 9]
        st.upsert_l2(row(7, "0xnew"))
        st.flush()
        got = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
        assert [k for _s, k, _d in got] == ["truncate", "l2"]
        assert got[0][2]["l2"] == 6
        assert st.l2[7]["h"] == "0xnew" and 8 not in st.l2

    asyncio.run(go())


def test_out_of_order_rows_stay_sorted() -> None:
    st = DashboardState({})
    for n in (5, 3, 9, 4):
        st.upsert_l1(row(n))
    assert list(st.l1) == [3, 4, 5, 9]
    assert st.top("l1")["n"] == 9  # type: ignore[index]
    assert [r["n"] for r in st.rows("l1", 4, 9)] == [4, 5, 9]


def test_a_page_that_cannot_keep_up_is_dropped() -> None:
    async def go() -> None:
        st = DashboardState({})
        slow = st.subscribe()
        for i in range(QUEUE_SIZE + 5):
            st.publish("heads", {"i": i})
        assert slow.stale and slow not in st.subscribers

    asyncio.run(go())


def test_heads_history_point_on_change() -> None:
    async def go() -> None:
        st = DashboardState({})
        sub = st.subscribe()
        h = {"l1": {"head": {"number": 5}}, "l2": {"unsafe": {"number": 9}, "safe": {"number": 7},
                                                   "finalized": {"number": 1}}}
        st.set_heads(h)
        st.set_heads(h)  # unchanged within 5 s: no new point
        assert len(st.history) == 1
        assert st.history[0][1:] == [9.0, 7.0, 1.0, 5.0]
        assert sub.queue.qsize() == 1

    asyncio.run(go())
