"""Browser tests' shared pieces: Debian's Chromium, tabs that collect console errors,
logging in with a TOTP code, and screenshots saved only when asked.

The fixtures ``browser`` and ``tabs`` live in ``conftest.py`` (pytest finds them);
every ``test_browser_*.py`` imports ``log_in`` and ``shot`` from here. With
ETANCHE_SCREENSHOTS=1 a page is saved under docs/screenshots/ (CI leaves the tree
alone). Skipped only when /usr/bin/chromium is missing outside CI; in CI it must run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.web.conftest import Member, WebVault

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: scripts/test-suite.sh installs it")
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield chromium
        chromium.close()


class Tab:
    """One browser context and page, collecting console errors."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.context = browser.new_context(
            base_url=base_url, locale="fr-FR", viewport={"width": 1280, "height": 900}
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser: Any, live_server: str) -> Iterator[Any]:
    """Open browser tabs on demand; at the end, none may have logged an error."""
    opened: list[Tab] = []

    def open_tab() -> Any:
        tab = Tab(browser, live_server)
        opened.append(tab)
        return tab.page

    yield open_tab
    errors = [e for tab in opened for e in tab.errors]
    for tab in opened:
        tab.close()
    assert errors == [], errors


def shot(page: Any, name: str) -> None:
    """Save a screenshot of the page under docs/screenshots/ (only when asked)."""
    if os.environ.get("ETANCHE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Any, web_vault: WebVault, member: Member, *, screenshot: bool = False) -> None:
    page.goto("/login")
    page.get_by_label("Identifiant", exact=True).fill(member.username)
    page.get_by_label("Mot de passe", exact=True).fill(web_vault.password)
    if screenshot:
        shot(page, "login")
    page.get_by_label("Code TOTP").fill(web_vault.code(member.username))
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/(patients|users|audit|home)$"))
