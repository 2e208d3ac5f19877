"""Fixtures shared by the activation tests (each helper appends its own commented block)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# ---- zendesk (act-zendesk): the Zendesk Users API fake -------------------------------------
from tests.activation.zendesk_fake import FakeZendesk, serve_zendesk


@pytest.fixture
def zendesk_fake() -> Iterator[FakeZendesk]:
    """A Zendesk account on a loopback port with the fake's defaults (jobs finish in 0.1 s
    of real time); tests that need a fake clock or other limits call `serve_zendesk`."""
    with serve_zendesk() as fake:
        yield fake


# ---- end zendesk ---------------------------------------------------------------------------


# --- files helper: a real OpenSSH sshd (tests/activation/sshd.py) ---------------------------
from tests.activation.sshd import SshServer, sshd_unavailable_reason, start_sshd  # noqa: E402


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshServer]:
    """A real sshd on 127.0.0.1 for the session (tests write under their own subdirectory of
    `sshd.root`). Skipped where openssh-server is missing, except on CI, where it fails."""
    reason = sshd_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}: the SFTP tests cannot be skipped")
        pytest.skip(reason)
    server = start_sshd()
    yield server
    server.stop()


# --- end of the files helper's sshd block ---------------------------------------------------


# --- files helper: a webhook receiver (tests/activation/receiver.py) ------------------------
from tests.activation.receiver import Receiver, RunningReceiver  # noqa: E402


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    """A loopback webhook receiver with its own signing secret (`.secret`), verifying every
    request, recording batches and failing on demand; its `url` takes POSTs."""
    running = RunningReceiver("whsec_test-receiver-secret-0123456789")
    yield running.state
    running.stop()


# --- end of the files helper's webhook block ------------------------------------------------
