"""A real browser for the console's tests: Debian's Chromium driven by Playwright for Python
(its own browser downloads cannot reach this network), and axe-core run inside the page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from keel_cli.runtime import processes
from tests.integration.support.observability import CHROMIUM_FLAGS

ARTIFACTS = Path(__file__).resolve().parents[3] / ".keel" / "test" / "artifacts"
# Impacts axe-core counts as failing an accessible page.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    executable = processes.installed_command("chromium", package="chromium")
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"]  # Playwright adds it
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=flags)
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, console_url: str, name: str, password: str) -> None:
    await page.goto(f"{console_url}/signin")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()


async def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it stands."""
    results = await Axe().run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


async def screenshot(page: Page, name: str) -> Path:
    await asyncio.to_thread(ARTIFACTS.mkdir, parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def first_page_after_sign_in(console_url: str, name: str, password: str, shot: str) -> str:
    """Sign in as a person would, in a browser of its own; the heading of the page one lands
    on (screenshotted as `shot`)."""
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, console_url, name, password)
        await screenshot(page, shot)
        heading: str = await page.get_by_role("heading", level=1).inner_text()
        return heading


async def chart_figures(
    console_url: str, name: str, password: str, chart: str, shot: str
) -> list[str]:
    """The figures behind leadership's chart `chart` (by hour), as its table gives them to
    anyone who opens it, signed in as `name`; the page screenshotted as `shot` and checked
    with axe-core."""
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, console_url, name, password)
        await page.goto(f"{console_url}/leadership?bucket=hour")
        violations = await accessibility_violations(page)
        assert violations == [], violations
        await screenshot(page, shot)  # before the figures are opened: the charts as they show
        figure = page.locator(f"#chart-{chart}")
        await figure.locator("summary").click()
        cells: list[str] = await figure.locator("tbody td.num").all_inner_texts()
        return cells
