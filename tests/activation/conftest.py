"""Fixtures shared by the activation tests (each helper appends its own block)."""

from __future__ import annotations

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
