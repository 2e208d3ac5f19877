"""The console's own pages in Chromium: accessible (axe: no serious or critical violation, at
desktop width and at 260 px, the narrowest helpdesk sidebar), loading under the CSP with no
refusal and nothing fetched from elsewhere, and usable from the keyboard."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.chromium import Visit, axe_violations, blocking, describe

# path, expected status
PAGES = [("/sign-in", 200), ("/no-such-page", 404)]
WIDTHS = [1280, 260]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("path", "status"), PAGES)
def test_console_pages_pass_axe(
    visit: Callable[..., Visit], path: str, status: int, width: int
) -> None:
    opened = visit(path, width=width, bypass_csp=True)
    assert opened.status == status
    found = blocking(axe_violations(opened.page))
    assert found == [], describe(found)
    # One column, nothing cut off: no horizontal scrolling.
    scroll_width, inner_width = opened.page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width


@pytest.mark.parametrize(("path", "status"), PAGES)
def test_console_pages_load_under_their_csp(
    visit: Callable[..., Visit], path: str, status: int
) -> None:
    opened = visit(path)
    assert opened.status == status
    assert opened.csp_refusals == []
    assert opened.page_errors == []
    assert opened.outside == []
    page = opened.page
    # htmx runs, configured from the page's meta tag: no inline <style> of its own.
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.evaluate("document.querySelectorAll('style').length") == 0


def test_tab_reaches_the_skip_link_first_and_focus_is_visible(
    visit: Callable[..., Visit],
) -> None:
    page = visit("/sign-in").page
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
            const el = document.activeElement, style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {text: el.textContent.trim(), outline: style.outlineStyle,
                    width: parseFloat(style.outlineWidth), top: box.top, height: box.height};
        }"""
    )
    assert focused["text"] == "Skip to main content"
    assert focused["outline"] != "none"
    assert focused["width"] >= 2
    assert focused["top"] >= 0  # on screen once focused
    assert focused["height"] > 10
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # From the main content, the next stops are the form's fields, in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"


def test_slash_is_typed_normally_inside_a_field(visit: Callable[..., Visit]) -> None:
    page = visit("/sign-in").page
    page.locator("#email").click()
    page.keyboard.type("a/b")
    assert page.locator("#email").input_value() == "a/b"


def test_an_htmx_request_that_fails_shows_a_toast(visit: Callable[..., Visit]) -> None:
    page = visit("/sign-in").page
    page.evaluate("htmx.ajax('GET', '/no-such-page', {target: '#main'})")
    toast = page.locator("#flash .toast")
    toast.wait_for()
    assert "Page not found" in toast.inner_text()
    assert toast.get_attribute("role") == "alert"
    assert page.locator("#sign-in-title").is_visible()  # the page itself is untouched
    page.locator("#flash [data-dismiss='toast']").click()
    assert page.locator("#flash .toast").count() == 0


def test_slash_focuses_the_search_box(visit: Callable[..., Visit]) -> None:
    page = visit("/sign-in").page
    # No page has a search box yet (profile search will): give this one a box to find.
    page.evaluate(
        """() => {
            const box = document.createElement('input');
            box.type = 'search'; box.id = 'search'; box.setAttribute('data-search', '');
            box.setAttribute('aria-label', 'Search');
            document.querySelector('main').prepend(box);
        }"""
    )
    page.locator("body").click(position={"x": 5, "y": 500})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    assert page.locator("#search").input_value() == ""  # the slash itself is not typed
