"""Headless Chromium for the dashboard tests: Debian's ``/usr/bin/chromium`` driven by Playwright
for Python (never ``playwright install``: the browser comes from apt, see the Makefile's
``chromium`` target). Screenshots go to ``out/screenshots/`` (git-ignored), kept as test
artifacts."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
SHOTS = REPO / "out" / "screenshots"
T = TypeVar("T")


def require_browser() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing (`make test` installs Debian's chromium with apt-get)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright (PyPI) is not installed in this environment: pip install -e '.[dev]'")


def with_page(body: Callable[[Any], Awaitable[T]], *, width: int = 1400, height: int = 1100) -> T:
    """Run ``body(page)`` with a fresh Chromium profile (temporary user-data-dir).

    Playwright's async API on a private event loop: its sync API switches greenlets, which on
    CPython 3.11 upsets the interpreter's recursion bookkeeping so that a later ``ast.parse``
    (pytest's assertion rewriting) fails with "AST constructor recursion depth mismatch"."""
    require_browser()

    async def go() -> T:
        from playwright.async_api import async_playwright

        profile = tempfile.mkdtemp(prefix="pyop-chromium-")
        try:
            async with async_playwright() as p:
                ctx = await p.chromium.launch_persistent_context(
                    profile, executable_path=CHROMIUM, args=ARGS, headless=True,
                    viewport={"width": width, "height": height},
                )  # fmt: skip
                try:
                    page = ctx.pages[0] if ctx.pages else await ctx.new_page()
                    return await body(page)
                finally:
                    await ctx.close()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    return asyncio.run(go())


async def shot(page: Any, name: str, *, full: bool = True) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full)
    return path


async def head(page: Any, which: str) -> int | None:
    """The number shown in ``[data-head=which]`` (None while it shows ``-``)."""
    text = (await page.locator(f'[data-head="{which}"]').first.text_content() or "").strip()
    return int(text) if text.isdigit() else None
