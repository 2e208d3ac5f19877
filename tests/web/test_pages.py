"""The console's pages over HTTP: what they load, the headers they carry, and the templates
they are made of (no inline script or style anywhere, for the CSP)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from carebase.web.assets import STATIC_DIR
from carebase.web.nav import SECTIONS, built_sections
from carebase.web.render import TEMPLATE_DIR, environment, render
from carebase.web.routing import page_router

TEMPLATES = sorted(p.relative_to(TEMPLATE_DIR).as_posix() for p in TEMPLATE_DIR.rglob("*.html"))
ATTRIBUTE_URL = re.compile(r"""(?:src|href)="([^"]+)\"""")


def test_every_template_compiles() -> None:
    assert "base.html" in TEMPLATES
    for name in TEMPLATES:
        environment().get_template(name)


def test_no_template_holds_inline_script_or_style() -> None:
    for name in TEMPLATES:
        text = (TEMPLATE_DIR / name).read_text()
        # A `type="application/json"` block is data (the Activity charts'), never run.
        inline = r"<script(?![^>]*\b(?:src=|type=\"application/json\"))"
        assert not re.search(inline, text), f"{name}: inline <script>"
        assert "<style" not in text, f"{name}: inline <style>"
        assert not re.search(r"\sstyle=", text), f"{name}: style attribute"
        assert not re.search(r"\son[a-z]+=", text), f"{name}: event handler attribute"


def test_the_start_page_sends_you_to_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"


def test_the_sign_in_page_carries_the_security_headers(client: TestClient) -> None:
    response = client.get("/sign-in")
    assert response.status_code == 200
    headers = response.headers
    csp = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_the_sign_in_page_is_the_layout_with_a_labelled_form(client: TestClient) -> None:
    text = client.get("/sign-in").text
    assert text.index('class="skip-link" href="#main"') < text.index("<main")
    assert '<main id="main" tabindex="-1"' in text
    for field in ("email", "password"):
        assert f'<label for="{field}">' in text
        assert f'id="{field}"' in text
    # Sections whose page exists are in the navigation.
    assert 'href="/segments"' in text
    assert 'href="/inbox"' in text


def test_sign_in_keeps_only_a_safe_next(client: TestClient) -> None:
    assert 'name="next" value="/profiles?q=a"' in client.get("/sign-in?next=/profiles?q=a").text
    assert 'name="next" value="/"' in client.get("/sign-in?next=//evil.example").text


def test_pages_load_only_this_sites_files(client: TestClient) -> None:
    for path in ("/sign-in", "/docs", "/redoc"):
        text = client.get(path).text
        urls = ATTRIBUTE_URL.findall(text)
        assert urls, path
        for url in urls:
            assert re.match(r"^(/(?![/\\])|#)", url), f"{path}: {url}"
            if url.startswith("/static/"):
                assert client.get(url).status_code == 200, url


def test_the_docs_pages_start_the_vendored_uis(client: TestClient) -> None:
    docs = client.get("/docs")
    assert "/static/vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js" in docs.text
    assert 'data-spec-url="/openapi.json"' in docs.text
    redoc = client.get("/redoc")
    assert "/static/vendor/redoc-2.5.4/redoc.standalone.js" in redoc.text
    assert '<redoc spec-url="/openapi.json">' in redoc.text
    for response in (docs, redoc):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "style-src 'self' 'unsafe-inline'" in csp
        assert "worker-src 'self' blob:" in csp


def test_swagger_ui_never_calls_the_online_validator() -> None:
    assert "validatorUrl: null" in (STATIC_DIR / "swagger-init.js").read_text()


def test_pages_are_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith("/v1/")]


def test_static_files_are_cached_by_version(client: TestClient) -> None:
    vendored = client.get("/static/vendor/htmx.org-2.0.11/htmx.min.js")
    assert vendored.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert vendored.headers["x-content-type-options"] == "nosniff"
    assert vendored.headers["content-type"].startswith("text/javascript")
    own = client.get("/static/carebase.css?v=1")
    assert own.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/carebase.css").headers["cache-control"] == "no-cache"
    assert client.post("/static/carebase.css").headers["allow"] == "GET, HEAD"


def test_a_section_shows_in_the_navigation_once_its_page_exists() -> None:
    bare = FastAPI()

    @bare.get("/segments")
    async def segments() -> dict[str, str]:
        return {}

    @bare.post("/inbox")
    async def inbox_post() -> dict[str, str]:
        return {}

    # Only a GET page makes a section; a POST-only path at the href does not.
    assert [s.href for s in built_sections(bare)] == ["/segments"]
    assert [s.label for s in SECTIONS][:2] == ["Profiles", "Segments"]


def test_the_current_section_is_marked_in_the_navigation(app: FastAPI) -> None:
    router = page_router()

    @router.get("/profiles/nav/probe/of/current")
    async def probe(request: Request) -> HTMLResponse:
        return render(
            request, "pages/sign_in.html", {"next": "/", "notice": None, "values": {}, "errors": {}}
        )

    app.include_router(router)
    with TestClient(app) as client:
        text = client.get("/profiles/nav/probe/of/current").text
    assert '<nav class="mainnav" aria-label="Main">' in text
    assert '<a href="/profiles" aria-current="page">' in text


def test_own_static_files_exist_for_every_template_reference() -> None:
    for name in TEMPLATES:
        for file in re.findall(r"static_url\('([^']+)'\)", (TEMPLATE_DIR / name).read_text()):
            assert (STATIC_DIR / file).is_file(), f"{name}: {file}"


def test_the_package_data_ships_templates_and_static_files() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"web/templates/**/*"' in pyproject
    assert '"web/static/**/*"' in pyproject
