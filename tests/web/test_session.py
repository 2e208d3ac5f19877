"""The console session cookie's attributes follow where carebase is reached."""

from __future__ import annotations

import pytest

from carebase.web.session import cookie_name, secure_cookies
from tests.conftest import test_settings


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [
        ("https://care.example.com", True),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://10.0.0.5:8000", False),
        ("http://care.internal", False),
    ],
)
def test_cookies_are_secure_unless_reached_over_plain_http_off_loopback(
    public_url: str, secure: bool
) -> None:
    settings = test_settings("sqlite:///unused.db", public_url=public_url)
    assert secure_cookies(settings) is secure
    assert cookie_name(settings).startswith("__Host-") is secure
