"""The embed tests' app: Zendesk (a test key) and Chatwoot configured, reached over https so
the embed's Secure cookies are kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.settings import Settings
from tests.conftest import test_settings
from tests.embeds.keys import AUDIENCE, CHATWOOT_ORIGIN, public_pem


@pytest.fixture
def settings(database_url: str) -> Settings:
    """This test's database, with both helpdesks configured."""
    return test_settings(
        database_url,
        zendesk_audience=AUDIENCE,
        zendesk_public_key=public_pem(),
        chatwoot_origin=CHATWOOT_ORIGIN,
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An https client (the embed's cookies are Secure); cookies are sent by hand."""
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, cookies=None
    ) as test_client:
        yield test_client
