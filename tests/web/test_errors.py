"""The same error handlers answer JSON to the API and HTML pages to people.

The API's JSON stays byte for byte what it was, whatever the client accepts; a page route's
errors, and a browser's 404/405 outside the API, are pages in the console's layout (for htmx
a toast for `#flash`); 401 on a page is a way to sign in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from carebase.errors import Forbidden, NotFound, Unauthenticated
from carebase.web.errors import accepts_html, safe_next
from carebase.web.routing import page_router

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HTMX = {"HX-Request": "true", "Accept": "*/*", "HX-Current-URL": "http://testserver/place?x=1"}


@pytest.fixture
def page_client(app: FastAPI) -> Iterator[TestClient]:
    """The app with a few pages that fail on purpose."""
    router = page_router()

    @router.get("/test/missing")
    async def missing() -> None:
        raise NotFound("No profile prf_123.")

    @router.get("/test/managers")
    async def managers() -> None:
        raise Forbidden("Managers only.")

    @router.get("/test/private")
    async def private() -> None:
        raise Unauthenticated()

    @router.get("/test/explode")
    async def explode() -> None:
        raise RuntimeError("secret internal detail: password=hunter2")

    @router.get("/test/number")
    async def number(n: int = Query()) -> None:
        return None

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_the_api_answers_json_byte_for_byte_even_to_a_browser(client: TestClient) -> None:
    for headers in ({}, BROWSER, HTMX):
        response = client.get("/v1/no-such-thing", headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.content == (
            b'{"error":{"code":"not_found","message":"No such route.","details":null}}'
        )
        response = client.put("/v1/health", headers=headers)
        assert response.status_code == 405
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] == "method_not_allowed"
        assert client.get("/v1/tokens", headers=headers).json()["error"]["code"] == (
            "unauthenticated"
        )


def test_a_program_outside_the_api_still_gets_json(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "*/*"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get("/openapi.json", headers=BROWSER).headers["content-type"] == (
        "application/json"
    )


def test_a_browser_gets_a_404_page_outside_the_api(client: TestClient) -> None:
    response = client.get("/no-such-page", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<h1 id="error-title">Page not found</h1>' in response.text
    assert "There is no page at this address." in response.text
    assert response.headers["x-request-id"] in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_a_browser_gets_a_405_page_with_allow(client: TestClient) -> None:
    response = client.post("/docs", headers=BROWSER)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert "Not available this way" in response.text


def test_a_page_errors_in_its_own_words(page_client: TestClient) -> None:
    response = page_client.get("/test/missing")  # no Accept at all: a page route is a page
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No profile prf_123." in response.text
    forbidden = page_client.get("/test/managers")
    assert forbidden.status_code == 403
    assert "Managers only." in forbidden.text


def test_a_page_with_a_bad_query_lists_the_problems(page_client: TestClient) -> None:
    response = page_client.get("/test/number?n=abc")
    assert response.status_code == 422
    assert "Some of that needs fixing" in response.text
    assert "<code>query.n</code>" in response.text
    assert "abc" not in response.text


def test_a_page_failure_shows_the_request_id_not_the_cause(page_client: TestClient) -> None:
    response = page_client.get("/test/explode", headers={"X-Request-Id": "req-42"})
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "req-42" in response.text
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


def test_htmx_gets_a_toast_for_the_flash_area(page_client: TestClient) -> None:
    response = page_client.get("/test/missing", headers=HTMX)
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == "#flash"
    assert response.headers["hx-reswap"] == "innerHTML"
    assert response.text.lstrip().startswith('<div class="toast toast--error" role="alert">')
    assert "<html" not in response.text
    assert "No profile prf_123." in response.text


def test_signed_out_pages_send_you_to_sign_in_and_back(page_client: TestClient) -> None:
    response = page_client.get("/test/private?tab=notes", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Ftest%2Fprivate%3Ftab%3Dnotes"
    htmx = page_client.get("/test/private", headers=HTMX, follow_redirects=False)
    assert htmx.status_code == 401
    assert htmx.headers["hx-redirect"] == "/sign-in?next=%2Fplace%3Fx%3D1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/profiles?q=ann", "/profiles?q=ann"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("profiles", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/a\r\nSet-Cookie: x", "/"),
    ],
)
def test_next_is_a_path_on_this_site_or_nothing(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("TEXT/HTML", True),
        ("application/json", False),
        ("*/*", False),
        ("", False),
        ("text/html;q=0", False),
        ("text/html;q=oops", False),
    ],
)
def test_accepts_html(accept: str, expected: bool) -> None:
    assert accepts_html(accept) is expected


def test_middleware_refusals_are_pages_for_a_browser(client: TestClient) -> None:
    page = client.get("/sign-in?next=%00", headers=BROWSER)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "The request holds a NUL character." in page.text
    assert "<code>query.next</code>" in page.text
    api = client.get("/v1/profiles/by/email/a%00b", headers=BROWSER)
    assert api.status_code == 422
    assert api.json()["error"]["code"] == "validation_error"
    program = client.get("/sign-in?next=%00", headers={"Accept": "*/*"})
    assert program.headers["content-type"] == "application/json"


def test_a_body_too_large_is_a_page_that_closes_the_connection(client: TestClient) -> None:
    limit = client.app.state.settings.max_body_bytes
    response = client.post(
        "/sign-in",
        content=b"x",
        headers={**BROWSER, "Content-Length": str(limit + 1)},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["connection"] == "close"
    assert "That is too large" in response.text
