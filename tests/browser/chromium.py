"""Debian's Chromium driven by Playwright for Python, and axe-core to scan pages.

The browser is never downloaded (no `playwright install`): CAREBASE_CHROMIUM names it,
/usr/bin/chromium by default (`.ci/run` installs Debian's `chromium` package). Shared by the
browser tests and `python3 dev.py screenshots`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route

VENDOR = Path(__file__).resolve().parent / "vendor"
# Checked in tests/web/test_vendored.py like the shipped assets.
_AXE = json.loads((VENDOR / "VENDORED.json").read_text())["packages"][0]
AXE_PATH = VENDOR / _AXE["directory"] / "axe.min.js"

# What the scan checks: WCAG 2.0-2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def chromium_path() -> str | None:
    """The Chromium executable to drive, or None when there is none."""
    configured = os.environ.get("CAREBASE_CHROMIUM", "/usr/bin/chromium")
    return shutil.which(configured)


def launch(playwright: Playwright, executable: str) -> Browser:
    """Chromium, headless. `--disable-dev-shm-usage`: Debian's wrapper script fails to add it
    when /dev/shm is small (containers); Playwright already passes `--no-sandbox`, which
    Chromium needs when run as root."""
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=["--disable-dev-shm-usage"]
    )


@dataclass
class Visit:
    """A page opened by the tests, and what happened while it loaded."""

    page: Page
    context: BrowserContext
    status: int
    # Requests to anywhere but the server under test: aborted, and listed here.
    outside: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def csp_refusals(self) -> list[str]:
        """Console errors saying the Content Security Policy refused something."""
        return [e for e in self.console_errors if "Content Security Policy" in e]


def keep_offline(context: BrowserContext, origin: str, outside: list[str]) -> None:
    """Let the context reach `origin` only; every other request is aborted and recorded."""
    own = urlsplit(origin).netloc

    def handle(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == own:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", handle)


def open_page(
    browser: Browser,
    origin: str,
    path: str,
    *,
    width: int = 1280,
    height: int = 900,
    bypass_csp: bool = False,
) -> Visit:
    """Open `origin + path` in a fresh context, offline but for `origin`."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=bypass_csp, base_url=origin
    )
    outside: list[str] = []
    keep_offline(context, origin, outside)
    page = context.new_page()
    visit = Visit(page, context, 0, outside)
    page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
    response = page.goto(path, wait_until="load")
    visit.status = response.status if response is not None else 0
    return visit


def axe_violations(page: Page, *, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page (its context must bypass the page's CSP: axe is injected as
    an inline script). `exclude`: CSS selectors left out of the scan."""
    page.add_script_tag(path=str(AXE_PATH))
    result: list[dict[str, Any]] = page.evaluate(
        """async ([tags, exclude]) => {
            const context = exclude.length ? {include: [document], exclude: exclude} : document;
            const r = await axe.run(context, {
                runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        [AXE_TAGS, exclude or []],
    )
    return result


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The serious and critical violations: the ones a page may not have."""
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """Violations as readable lines for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        lines.extend(f"    {node}" for node in violation["nodes"][:5])
    return "\n".join(lines)
