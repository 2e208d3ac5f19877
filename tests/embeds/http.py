"""Reading the embed's answers: cookies by hand, headers, and the CSP."""

from __future__ import annotations

import httpx

from tests.embeds.keys import CHATWOOT_ORIGIN, ZENDESK_ORIGIN

GRANT = "__Host-carebase_embed_grant"
SESSION = "__Host-carebase_embed_session"
CONSOLE = "__Host-carebase_session"
FRAMERS = f"{ZENDESK_ORIGIN} {CHATWOOT_ORIGIN}"


def cookie(name: str, value: str) -> dict[str, str]:
    """A Cookie header holding one cookie."""
    return {"Cookie": f"{name}={value}"}


def set_cookie(response: httpx.Response, name: str) -> str | None:
    """The Set-Cookie line for `name`, or None."""
    for line in response.headers.get_list("set-cookie"):
        if line.startswith(f"{name}="):
            return line
    return None


def cookie_value(response: httpx.Response, name: str) -> str:
    """The value a response sets for `name`."""
    line = set_cookie(response, name)
    assert line is not None, f"no {name} cookie set"
    return line.split(";", 1)[0].split("=", 1)[1]


def csp(response: httpx.Response) -> dict[str, str]:
    """The Content-Security-Policy's directives."""
    return dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )


def assert_framable(response: httpx.Response) -> None:
    """An embed answer: framed by the helpdesks only, and no X-Frame-Options."""
    assert csp(response)["frame-ancestors"] == FRAMERS
    assert "x-frame-options" not in response.headers
