"""Browser tests: a real `carebase serve` process on each engine, driven by Debian's
Chromium through Playwright. Skipped when Chromium is missing, a failure when CI=true."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.chromium import Visit, chromium_path, launch, open_page
from tests.conftest import IN_CI, TEMPLATE_DB
from tests.pg import PostgresServer
from tests.serverproc import RunningServer, running_server

_names = itertools.count()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium, headless, for this package's tests."""
    executable = chromium_path()
    if executable is None:
        reason = (
            f"Chromium not found ({os.environ.get('CAREBASE_CHROMIUM', '/usr/bin/chromium')}): "
            "install Debian's `chromium` or set CAREBASE_CHROMIUM"
        )
        if IN_CI:
            pytest.fail(f"CI=true but {reason}: browser tests cannot be skipped")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = launch(playwright, executable)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """`carebase serve` on a fresh, migrated database of each engine."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("browser") / "carebase.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        with running_server(f"sqlite:///{path}") as running:
            yield running
        return
    pg: PostgresServer | None = request.getfixturevalue("postgres")
    if pg is None:
        if IN_CI:
            pytest.fail("CI=true but PostgreSQL is unavailable: its tests cannot be skipped")
        pytest.skip("PostgreSQL unavailable")
    name = f"browser_{os.getpid()}_{next(_names)}"
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    try:
        with running_server(pg.url(name)) as running:
            yield running
    finally:
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def visit(browser: Browser, server: RunningServer) -> Iterator[Callable[..., Visit]]:
    """Open a page of the server in a fresh, offline context (closed after the test)."""
    visits: list[Visit] = []

    def open_(path: str, **options: object) -> Visit:
        opened = open_page(browser, server.url, path, **options)  # type: ignore[arg-type]
        visits.append(opened)
        return opened

    yield open_
    for opened in visits:
        opened.context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this package is a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
