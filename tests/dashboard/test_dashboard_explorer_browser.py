"""The derivation explorer in a real browser (headless Debian Chromium), no devnet: an
explorer-only dashboard, a ``pyop derive --fixture`` file (Go op-node devnet capture, 560 L2
blocks) uploaded through the page's file input, one of its blocks clicked, and the path L1 tx ->
frames -> channel -> batch -> payload attributes -> block shown with the pipeline's decisions
and their ``DropReason`` names. The screenshot is kept in ``out/screenshots/``."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from pyop.dashboard.server import make_app
from pyop.dashboard.state import DashboardState
from tests.dashboard.browser import require_browser, shot, with_page
from tests.dashboard.test_dashboard_server import FIXTURE


def test_fixture_file_explored_in_the_page() -> None:
    require_browser()

    async def body(page: Any) -> str:
        app, _h = make_app(DashboardState({"explorerOnly": True}))
        async with TestServer(app, host="127.0.0.1") as srv:
            await page.goto(str(srv.make_url("/")))
            await page.locator("#conn.ok").wait_for(timeout=20_000)
            await page.set_input_files("#exfile", str(FIXTURE))
            link = page.locator('#exfix a[data-fx="281"]')
            await link.wait_for(timeout=120_000)
            assert "560 blocks derived, 0 differ" in str(await page.locator("#exfix").text_content())
            await link.click()
            await page.locator("#expath").wait_for(timeout=60_000)
            text = str(await page.locator("#exout").text_content())
            await shot(page, "fixture-explorer")
            # the chain view is hidden in explorer-only mode
            assert not await page.locator(".chains").is_visible()
            await page.goto("about:blank")  # close the event stream, or the server waits for it
            return text

    text = with_page(body)
    assert "L2 block #281" in text and "matches the derived attributes" in text, text
    for step in ("L1 transactions", "frames", "channel", "batch", "payload attributes", "block"):
        assert step in text
    assert "BATCH_ACCEPTED" in text, text  # a decision with its DropReason / decision name
