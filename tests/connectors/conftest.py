"""Connector tests talk to loopback fakes: private outbound addresses are allowed, sleeps are
recorded instead of slept, and the app's clock drives delivery retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner, RunSummary
from carebase.settings import Settings
from tests.conftest import FakeClock, test_settings
from tests.helpers import auth, create_dataset

SIGNING_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
CREDENTIALS = {
    "zendesk": {"email": "admin@acme.com", "api_token": "zd-token"},
    "gorgias": {"username": "api@acme.com", "api_key": "gg-key"},
    "freshdesk": {"api_key": "fd-key"},
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings that let connectors call loopback fakes."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the connectors asked for."""
    return []


class FakeTimer:
    """A clock that only sleeping moves; every sleep is recorded."""

    def __init__(self, sleeps: list[float]) -> None:
        self.sleeps, self.now = sleeps, 1000.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


@pytest.fixture
def options(sleeps: list[float], clock: FakeClock) -> ClientOptions:
    """Client options whose sleeps are recorded (and cost nothing), on the test's clock."""
    timer = FakeTimer(sleeps)
    return ClientOptions(sleep=timer.sleep, timer=timer.time, clock=clock)


@pytest.fixture
def app(
    settings: Settings, database: Database, clock: FakeClock, options: ClientOptions
) -> FastAPI:
    """The real app, its connectors using the recording options; jobs (webhook deliveries) run
    when a test calls `settle`, not in a background worker, so tests see a settled state."""
    application = create_app(settings, database=database, clock=clock, run_jobs=False)
    application.state.connector_options = options
    return application


@pytest.fixture
def runner(
    database: Database, settings: Settings, options: ClientOptions, clock: FakeClock
) -> Runner:
    """A job runner on the test's clock and client options, run by hand."""
    return Runner(database, registry(settings, options=options), clock=clock)


@pytest.fixture
def settle(runner: Runner) -> Callable[[], RunSummary]:
    """Run every due job now (webhook deliveries), as a worker would."""
    return runner.run_due


@dataclass
class Connected:
    """A connector made through the API."""

    id: str
    dataset_id: str
    secret: str | None


def connect(client: TestClient, token: str, kind: str, url: str) -> Connected:
    """A ticket dataset and a connector for `kind` pointing at a fake."""
    dataset_id = create_dataset(client, token, f"{kind} tickets")
    body: dict[str, Any] = {
        "kind": kind,
        "name": kind.title(),
        "domain": url,
        "dataset_id": dataset_id,
        "credentials": CREDENTIALS[kind],
    }
    if kind == "zendesk":
        body["signing_secret"] = SIGNING_SECRET
    response = client.post("/v1/connectors", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    created = response.json()
    return Connected(created["id"], dataset_id, created["webhook_secret"])


def zendesk_signature(timestamp: str, body: bytes, secret: str = SIGNING_SECRET) -> str:
    """What Zendesk sends in X-Zendesk-Webhook-Signature."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
