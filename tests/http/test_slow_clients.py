"""Slow, tokenless and vanishing clients against a real server process: a body is never
received before the token is checked, slow headers and trickled bodies are cut off, open
connections are capped, and a client that leaves mid-upload is one log line."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from carebase.db.session import Database
from tests.conftest import make_token, test_settings
from tests.serverproc import RunningServer, running_server

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 2.0
BODY_GRACE = 1.0
MAX_CONNECTIONS = 8
DECLARED = 16 * 1024 * 1024 - 1


@pytest.fixture
def server(database_url: str) -> Iterator[tuple[RunningServer, str, str]]:
    database = Database.from_settings(test_settings(database_url))
    token = make_token(database, "admin")
    database.dispose()
    env = {
        "CAREBASE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CAREBASE_BODY_GRACE_SECONDS": str(BODY_GRACE),
        "CAREBASE_MIN_BODY_RATE": "1000",
        "CAREBASE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    with running_server(database_url, env=env) as running:
        headers = {"Authorization": f"Bearer {token}"}
        dataset = httpx.post(
            f"{running.url}/v1/datasets",
            json={"name": "slow", "record_type": "customer_record"},
            headers=headers,
        ).json()["id"]
        yield running, token, dataset


def _connect(server: RunningServer, timeout: float = 6.0) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)))
    connection.settimeout(timeout)
    return connection


def _request_head(path: str, *, token: str | None, length: int) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: carebase", "Content-Type: application/json"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_body_is_not_received_before_the_token_is_checked(
    server: tuple[RunningServer, str, str],
) -> None:
    running, token, dataset = server
    paths = [
        f"/v1/datasets/{dataset}/customer_record",  # a raw-body ingestion route
        "/v1/tokens",  # an admin route with a JSON body model
    ]
    for path in paths:
        for presented in (None, "cb_" + "x" * 40):
            connection = _connect(running)
            # Headers declaring 16 MiB and two bytes of it: the answer must not wait for more.
            connection.sendall(_request_head(path, token=presented, length=DECLARED) + b"[{")
            started = time.monotonic()
            answer = _answer(connection)  # returns because the server closes the connection
            connection.close()
            assert _status(answer) == 401, (path, answer[:200])
            assert b"connection: close" in answer.lower()
            assert time.monotonic() - started < 3
    # The tokenless webhook looks its connector up before it reads a body.
    connection = _connect(running)
    connection.sendall(
        _request_head("/v1/connectors/con_nope/webhook", token=None, length=DECLARED)
    )
    answer = _answer(connection)
    connection.close()
    assert _status(answer) == 404
    # A live token is checked once and the body then read as before.
    answer = httpx.post(
        f"{running.url}/v1/datasets/{dataset}/customer_record",
        content=b'[{"customer_id": "C-1", "email": "slow@example.org"}]',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text


def test_a_trickled_body_is_cut_off_and_a_vanished_client_is_one_log_line(
    server: tuple[RunningServer, str, str],
) -> None:
    running, token, dataset = server
    connection = _connect(running)
    connection.sendall(_request_head("/v1/tokens", token=token, length=1000) + b"{")
    started = time.monotonic()
    answer = b""
    try:
        while time.monotonic() - started < 10:
            time.sleep(0.2)
            connection.sendall(b" ")  # 5 bytes a second, under the 1,000 required
    except OSError:
        answer = _answer(connection)
    connection.close()
    assert _status(answer) == 408
    assert b'"request_timeout"' in answer
    assert time.monotonic() - started < BODY_GRACE + 3

    for path in (f"/v1/datasets/{dataset}/customer_record", "/v1/tokens"):
        connection = _connect(running)
        connection.sendall(_request_head(path, token=token, length=5000) + b'[{"cust')
        time.sleep(0.3)
        connection.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        aborted = [line for line in running.stderr if "client closed the request" in line]
        if len(aborted) == 2:
            break
        time.sleep(0.1)
    assert len(aborted) == 2, running.stderr[-20:]
    assert all(" 499 " in line for line in aborted)
    assert not [line for line in running.stderr if "Traceback" in line or " 500 " in line]
    # The server is serving as before.
    assert httpx.get(f"{running.url}/v1/health").status_code == 200


def test_slow_headers_are_cut_off_and_connections_are_capped(
    server: tuple[RunningServer, str, str],
) -> None:
    running, _token, _dataset = server
    trickling = _connect(running)
    trickling.sendall(b"GET /v1/health HTTP/1.1\r\nHost: carebase\r\n")
    silent = _connect(running)
    started = time.monotonic()
    for connection in (trickling, silent):
        answer = _answer(connection)
        connection.close()
        assert _status(answer) == 408
        assert b'"request_timeout"' in answer
    assert time.monotonic() - started < HEADER_TIMEOUT + 2

    held = [_connect(running) for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.2)
    refused = _connect(running)
    answer = _answer(refused)
    refused.close()
    assert _status(answer) == 503
    assert b'"overloaded"' in answer
    assert b"retry-after: 1" in answer.lower()
    for connection in held:
        connection.close()
    time.sleep(0.2)
    # The moment they are gone, the server serves.
    assert httpx.get(f"{running.url}/v1/health").status_code == 200
