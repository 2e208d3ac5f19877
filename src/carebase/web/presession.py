"""CSRF for the forms posted before there is a session: sign-in and setting a password.

Without a session there is no session-derived token, yet a forged sign-in ("login CSRF")
would sign a victim's browser into the attacker's account. Two checks guard these forms:

- same site: `Sec-Fetch-Site` must be `same-origin` or `none` (typed, bookmarked), or, for a
  browser that sends no `Sec-Fetch-Site`, `Origin` must be this site when present;
- a double-submit token: the form's page gives the browser a random cookie (HttpOnly,
  SameSite=Lax, `Secure` and `__Host-` as the session cookie) and carries
  base64url(HMAC-SHA256(CAREBASE_SECRET_KEY, "presession:" + cookie)) in the form. Another
  site can neither read the cookie nor compute the token. It needs no storage, and lasts as
  long as the browser keeps the cookie (until it closes).

Either failing is 403 `csrf_failed`, the same page as a session form's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import parse_qs, urlsplit

from fastapi import Request, Response

from carebase.settings import Settings
from carebase.web.session import CsrfFailed, secure_cookies

_SAME_SITE = frozenset({"same-origin", "none"})
_NONCE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
FIELD = "csrf_token"


def cookie_name(settings: Settings) -> str:
    """The pre-session cookie's name (`__Host-` whenever the cookie is Secure)."""
    return "__Host-carebase_presession" if secure_cookies(settings) else "carebase_presession"


def _token(settings: Settings, nonce: str) -> str:
    key = settings.secret_key.get_secret_value().encode("utf-8")
    mac = hmac.new(key, b"presession:" + nonce.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _nonce(request: Request, settings: Settings) -> str | None:
    value = request.cookies.get(cookie_name(settings))
    return value if value and _NONCE_SHAPE.match(value) else None


class PresessionToken:
    """The token a pre-session form carries, and the cookie it is bound to."""

    def __init__(self, request: Request) -> None:
        self.settings: Settings = request.app.state.settings
        existing = _nonce(request, self.settings)
        self._new = existing is None
        self.nonce = existing or secrets.token_urlsafe(32)
        self.token = _token(self.settings, self.nonce)

    def set_cookie(self, response: Response) -> Response:
        """Give the browser the cookie (when it has none yet); returns `response`."""
        if self._new:
            response.set_cookie(
                cookie_name(self.settings),
                self.nonce,
                path="/",
                secure=secure_cookies(self.settings),
                httponly=True,
                samesite="lax",
            )
        return response


def is_same_site(request: Request) -> bool:
    """Whether an unsafe request came from this site's own pages (see the module's doc)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in _SAME_SITE
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.url.netloc


async def check_presession(request: Request) -> None:
    """Refuse (403 `csrf_failed`) a pre-session form from another site, or without the
    token bound to this browser's cookie."""
    if not is_same_site(request):
        raise CsrfFailed()
    settings: Settings = request.app.state.settings
    nonce = _nonce(request, settings)
    presented: str | None = None
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        values = parse_qs((await request.body()).decode("utf-8", "replace")).get(FIELD)
        presented = values[0] if values else None
    if nonce is None or not presented:
        raise CsrfFailed()
    if not hmac.compare_digest(_token(settings, nonce).encode(), presented.encode("utf-8")):
        raise CsrfFailed()
