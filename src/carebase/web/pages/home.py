"""`/`: where the console starts."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from carebase.web.errors import SIGN_IN_PATH
from carebase.web.routing import page_router

router = page_router()


@router.get("/")
async def home() -> RedirectResponse:
    """Signed out, the console starts at sign-in.

    TO BE WIRED to auth.sessions: a signed-in visitor goes to profile search (`/profiles`).
    """
    return RedirectResponse(SIGN_IN_PATH, status_code=303)
