"""/docs and /redoc render from the package's vendored files with no internet access.

Every request to anywhere but the server is aborted and recorded; none may be attempted.
One exception, documented in docs/console.md: Redoc 2.5.4 always shows Redocly's logo from
cdn.redoc.ly in its sidebar. The page's CSP (`img-src 'self' data:`) refuses it before any
request leaves (a console message), and Redoc hides the image when it fails.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.chromium import Visit, axe_violations, blocking, describe

# The API document does not come from the database: one engine is enough here.
pytestmark = pytest.mark.parametrize("server", ["sqlite"], indirect=True)

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

PAGES = {
    # path: (a selector present once the UI has rendered the API, text it must show)
    "/docs": (".opblock-summary-path", "/v1/health"),
    "/redoc": ("[data-section-id^='operation/']", "/v1/health"),
}

# axe rules the vendored UIs fail and carebase cannot fix without forking them (see
# docs/console.md): Swagger UI nests its copy-link button inside the operation's toggle
# button; Redoc's JSON samples put 15 px expand buttons on 23 px lines. Colour contrast and
# Swagger UI's link targets are fixed by static/docs.css.
AXE_EXCEPTIONS = {"/docs": {"nested-interactive"}, "/redoc": {"target-size"}}


def rendered(visit: Callable[..., Visit], path: str, **options: object) -> Visit:
    opened = visit(path, **options)
    assert opened.status == 200
    selector, text = PAGES[path]
    opened.page.locator(selector).first.wait_for(timeout=30_000)
    # Swagger UI draws the operations near the viewport only (more as the page scrolls):
    # scroll until the operation itself is drawn, and so require it.
    wanted = opened.page.locator(selector, has_text=text).first
    for _ in range(60):
        if wanted.count() and wanted.is_visible():
            break
        opened.page.mouse.wheel(0, 1200)
        opened.page.wait_for_timeout(250)
    wanted.wait_for(timeout=30_000)
    return opened


@pytest.mark.parametrize("path", sorted(PAGES))
def test_the_api_docs_render_offline_under_their_csp(
    visit: Callable[..., Visit], path: str
) -> None:
    opened = rendered(visit, path)
    assert opened.outside == []
    assert opened.page_errors == []
    refused = [r for r in opened.csp_refusals if REDOC_LOGO not in r]
    assert refused == []
    if path == "/redoc":
        assert len(opened.csp_refusals) == 1  # the logo, and nothing else


@pytest.mark.parametrize("path", sorted(PAGES))
def test_the_api_docs_have_no_serious_accessibility_violation(
    visit: Callable[..., Visit], path: str
) -> None:
    opened = rendered(visit, path, bypass_csp=True)
    # Without the CSP the logo's request is attempted, and aborted: still nothing leaves.
    assert set(opened.outside) <= {REDOC_LOGO}
    found = [
        v for v in blocking(axe_violations(opened.page)) if v["id"] not in AXE_EXCEPTIONS[path]
    ]
    assert found == [], describe(found)
