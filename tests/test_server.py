"""`carebase serve` as a real process: first-start token, health, docs, and a rate limit
that holds across two worker processes."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from carebase.auth.secrets import is_well_formed
from tests.serverproc import RunningServer, running_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str) -> Iterator[RunningServer]:
    env = {"CAREBASE_RATE_LIMITS": "admin=10/1h", "CAREBASE_LOG_LEVEL": "INFO"}
    with running_server(database_url, workers=2, env=env) as running:
        yield running


def _bootstrap_token(server: RunningServer) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        candidates = [line.strip() for line in server.stdout if is_well_formed(line.strip())]
        if candidates:
            return candidates[-1]
        time.sleep(0.1)
    pytest.fail("no admin token printed on first start:\n" + "\n".join(server.stdout))


def test_first_start_prints_url_and_admin_token(server: RunningServer) -> None:
    token = _bootstrap_token(server)
    assert any(server.url in line for line in server.stdout)
    assert server.stdout[-1].strip() == token
    response = httpx.get(f"{server.url}/v1/tokens", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [t["name"] for t in response.json()["tokens"]] == ["bootstrap-admin"]
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_rate_limit_holds_across_two_worker_processes(server: RunningServer) -> None:
    token = _bootstrap_token(server)
    statuses: list[int] = []

    def call() -> None:
        # A new connection per request, so the kernel spreads them over both workers.
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            response = client.get(f"{server.url}/v1/tokens", headers={"Auth-Api-Token": token})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0

    def worker_pids() -> set[str]:
        lines = [line for line in server.stderr if "carebase.access: GET /v1/tokens" in line]
        return {re.search(r"\[(\d+)\]", line).group(1) for line in lines}  # type: ignore[union-attr]

    # Pairs of simultaneous requests, so that while one worker is busy the other accepts; on
    # a loaded machine one worker can still take a run of them, so go on (bounded) until
    # both have answered.
    while len(statuses) < 30 or (len(worker_pids()) < 2 and len(statuses) < 200):
        pair = [threading.Thread(target=call) for _ in range(2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()
        if len(statuses) >= 30:
            time.sleep(0.05)  # the access log reaches us through a pipe
    assert statuses.count(200) == 10
    assert statuses.count(429) == len(statuses) - 10
    deadline = time.monotonic() + 15
    while len(worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(worker_pids()) == 2, "requests did not reach both workers"
    # The access log carries route templates, never tokens.
    assert all(token not in line for line in server.stderr + server.stdout[:-1])
