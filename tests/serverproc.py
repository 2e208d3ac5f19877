"""`carebase serve` as a real process on a loopback port, for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

import httpx

from tests.pg import free_port


@dataclass
class RunningServer:
    """A server process, its base URL and the lines it has printed so far."""

    process: subprocess.Popen[str]
    url: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


def _pump(stream: IO[str], sink: list[str]) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))


@contextmanager
def running_server(
    database_url: str,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
    start_timeout: float = 60,
) -> Iterator[RunningServer]:
    """Start `carebase serve` (with `args`, e.g. `--demo`), wait until /v1/health answers
    200, stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "carebase",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *args,
        ],
        env={**os.environ, "CAREBASE_DATABASE_URL": database_url, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    server = RunningServer(process, f"http://127.0.0.1:{port}")
    for stream, sink in ((process.stdout, server.stdout), (process.stderr, server.stderr)):
        assert stream is not None
        threading.Thread(target=_pump, args=(stream, sink), daemon=True).start()
    try:
        _wait_healthy(server, start_timeout)
        yield server
    finally:
        stop(server)


def stop(server: RunningServer, sig: signal.Signals = signal.SIGTERM) -> None:
    """Signal the server's whole process group (workers too) and wait for it."""
    try:
        os.killpg(server.process.pid, sig)
    except ProcessLookupError:
        return
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def _wait_healthy(server: RunningServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("server exited:\n" + "\n".join(server.stderr))
        try:
            if httpx.get(f"{server.url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("server did not become healthy:\n" + "\n".join(server.stderr))


@contextmanager
def running_worker(
    database_url: str, *, env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    """Start `carebase worker` (no HTTP), wait until it says it runs, stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "carebase", "worker"],
        env={**os.environ, "CAREBASE_DATABASE_URL": database_url, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    worker = RunningServer(process, "")
    for stream, sink in ((process.stdout, worker.stdout), (process.stderr, worker.stderr)):
        assert stream is not None
        threading.Thread(target=_pump, args=(stream, sink), daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while not any("carebase worker" in line for line in worker.stderr):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + "\n".join(worker.stderr))
            time.sleep(0.1)
        yield worker
    finally:
        stop(worker)
