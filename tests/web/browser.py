"""Shared by the browser tests: the real `supportbot` on a free port, Debian's Chromium, signing in, and the
axe-core accessibility check.

axe-core comes from the npm registry (tests/web/package.json and its lock file; install with
`npm ci --prefix tests/web`). It is evaluated in the page through the DevTools protocol, so the page keeps
its strict Content-Security-Policy (no inline script) while it is checked.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from core.config import load_settings
from core.runner import Running, start, stop

REPO = Path(__file__).resolve().parents[2]
AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT = 20_000  # ms, per expectation
BLOCKING = ("serious", "critical")


@pytest_asyncio.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.delenv("SUPPORTBOT_DB_URL", raising=False)
    config = tmp_path / "channels.yaml"
    config.write_text(f"database_url: sqlite+aiosqlite:///{tmp_path}/supportbot.db\n"
                      "dispatch:\n  poll_interval_seconds: 0.2\n")
    app = await start(load_settings(config), host="127.0.0.1", port=0, out=io.StringIO(), data_dir=tmp_path)
    try:
        yield app
    finally:
        await stop(app)


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


def admin_password(running: Running) -> str:
    assert running.admin_password, "a first start writes the admin password to a file"
    found = re.search(r"^password: (\S+)$", running.admin_password.read_text(), re.M)
    assert found
    return found.group(1)


async def sign_in(page: Page, base: str, password: str, name: str = "admin") -> None:
    await page.goto(base + "/login")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(re.escape(base) + r"/(\?.*)?$"), timeout=TIMEOUT)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The page's serious and critical accessibility violations (WCAG 2.x A/AA and axe's best practices)."""
    assert AXE.is_file(), f"{AXE} is missing: run `npm ci --prefix tests/web` (axe-core from the npm registry)"
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate("""() => axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})""")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"] if v["impact"] in BLOCKING]


async def assert_accessible(page: Page, what: str) -> None:
    found = await axe_violations(page)
    assert not found, f"{what}: " + json.dumps(found, ensure_ascii=False, indent=1)
