"""`carebase serve` as a real process: first-start token, health, docs, and a rate limit
that holds across two worker processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from carebase.auth.secrets import is_well_formed
from tests.pg import free_port

pytestmark = pytest.mark.slow


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    url: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


def _pump(stream: object, sink: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.append(line.rstrip("\n"))


@pytest.fixture
def server(database_url: str) -> Iterator[RunningServer]:
    port = free_port()
    env = {
        **os.environ,
        "CAREBASE_DATABASE_URL": database_url,
        "CAREBASE_RATE_LIMITS": "admin=10/1h",
        "CAREBASE_LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "carebase", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    running = RunningServer(process, f"http://127.0.0.1:{port}")
    threading.Thread(target=_pump, args=(process.stdout, running.stdout), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, running.stderr), daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{running.url}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
        assert process.poll() is None, "\n".join(running.stderr)
    else:
        pytest.fail("server did not become healthy:\n" + "\n".join(running.stderr))
    yield running
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


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
    statuses = []
    for _ in range(30):
        # A new connection per request, so the kernel spreads them over both workers.
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            response = client.get(f"{server.url}/v1/tokens", headers={"Auth-Api-Token": token})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20

    time.sleep(0.5)
    access_lines = [line for line in server.stderr if "carebase.access: GET /v1/tokens" in line]
    worker_pids = {re.search(r"\[(\d+)\]", line).group(1) for line in access_lines}  # type: ignore[union-attr]
    assert len(worker_pids) == 2, "requests did not reach both workers"
    # The access log carries route templates, never tokens.
    assert all(token not in line for line in server.stderr + server.stdout[:-1])
