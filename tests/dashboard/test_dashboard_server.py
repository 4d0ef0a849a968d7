"""The dashboard's HTTP side: server-sent events (snapshot, then pushed changes), the fixture
explorer, and the source links, against an in-process server (no devnet)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from pyop.dashboard.server import make_app
from pyop.dashboard.state import DashboardState
from tests.conftest import SPEC_VECTORS

FIXTURE = SPEC_VECTORS / "derivation" / "differential" / "go-devnet-calldata-blobs.json.gz"


def with_client(state: DashboardState, body: Callable[[TestClient[Any, Any]], Awaitable[None]]) -> None:
    async def go() -> None:
        app, _h = make_app(state)
        async with TestClient(TestServer(app)) as client:
            await body(client)

    asyncio.run(go())


async def read_events(resp: Any, count: int) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    kind = None
    while len(out) < count:
        line = (await asyncio.wait_for(resp.content.readline(), 10)).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind:
            out.append((kind, json.loads(line[6:])))
            kind = None
    return out


def test_events_start_with_a_snapshot_then_push_changes() -> None:
    st = DashboardState({"l2BlockTime": 2})
    st.upsert_l2({"n": 1, "h": "0x01", "tx": 0, "dep": []})
    st.flush()

    async def body(client: TestClient[Any, Any]) -> None:
        resp = await client.get("/events")
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        [(kind, snap)] = await read_events(resp, 1)
        assert kind == "snapshot" and snap["config"]["l2BlockTime"] == 2
        assert [r["n"] for r in snap["l2"]] == [1]
        st.upsert_l2({"n": 2, "h": "0x02", "tx": 1, "dep": []})
        st.set_heads({"l2": {"unsafe": {"number": 2}}})
        st.flush()
        got = await read_events(resp, 2)
        assert [k for k, _ in got] == ["heads", "l2"]
        assert got[1][1]["rows"][0]["n"] == 2 and "ts" in got[1][1]
        resp.close()

    with_client(st, body)


def test_index_static_and_source_links() -> None:
    async def body(client: TestClient[Any, Any]) -> None:
        r = await client.get("/")
        assert r.status == 200 and 'data-head="safe"' in await r.text()
        assert (await client.get("/static/app.js")).status == 200
        r = await client.get("/src/pyop/derivation/batch_queue.py")
        assert r.status == 200 and "Batch Queue" in await r.text()
        for bad in ("/src/pyop/../README.md", "/src/etc/passwd", "/src/pyop/dashboard/static/app.js"):
            assert (await client.get(bad)).status == 404, bad
        r = await client.post("/api/scenario/stop-batcher", json={})
        assert r.status == 400 and "no devnet" in (await r.json())["error"]
        r = await client.get("/api/l2?from=1&to=999999")
        assert r.status == 400

    with_client(DashboardState({}), body)


def test_fixture_explorer_follows_a_block_from_l1_tx_to_attributes() -> None:
    async def body(client: TestClient[Any, Any]) -> None:
        r = await client.post("/api/fixture", data=FIXTURE.read_bytes())
        ov = await r.json()
        assert r.status == 200, ov
        assert ov["summary"].startswith("560 blocks derived, 0 differ")
        r = await client.get("/api/explore?fixture=1&block=281")
        tr = await r.json()
        assert r.status == 200, tr
        # block 281's batch came in through one batcher tx whose channel covers it
        assert tr["l1Txs"] and all(t["l1Block"] <= tr["derivedFrom"]["number"] for t in tr["l1Txs"])
        assert tr["batches"] and all(b["first"] <= 281 <= b["last"] for b in tr["batches"])
        assert tr["channels"][0]["complete"]
        assert tr["match"] is True and tr["reference"]["txs"] == len(tr["attributes"]["transactions"])
        assert any(e["reason"] in ("BATCH_ACCEPTED", "SPAN_BATCH_ACCEPTED") for e in tr["events"])
        r = await client.get("/api/explore?fixture=1&block=99999")
        assert r.status == 400 and "not derived" in (await r.json())["error"]

    with_client(DashboardState({}), body)
