"""`/sign-in`: a PLACEHOLDER page, in the console's layout, until users and sessions land.

TO BE WIRED to auth.sessions: this module is replaced by the real sign-in (GET renders the
form with a pre-session CSRF token, POST checks the password, throttles, opens a session and
redirects to `next`, validated by `carebase.web.errors.safe_next`). Until then the form posts
nowhere that exists, and says so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from carebase.web.errors import safe_next
from carebase.web.render import render
from carebase.web.routing import page_router

router = page_router()


@router.get("/sign-in")
async def sign_in_page(
    request: Request, next_page: Annotated[str | None, Query(alias="next")] = None
) -> HTMLResponse:
    """The sign-in form (placeholder: no accounts exist yet)."""
    return render(
        request,
        "pages/sign_in.html",
        {
            "next": safe_next(next_page),
            "values": {},
            "errors": {},
            "notice": "Console accounts are not available yet: use the API with a token.",
        },
    )
