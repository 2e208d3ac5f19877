"""`/`: where the console starts."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from carebase.web.errors import SIGN_IN_PATH
from carebase.web.pages.signin import START_PATH
from carebase.web.routing import page_router
from carebase.web.session import MaybeSignedIn

router = page_router()


@router.get("/")
async def home(active: MaybeSignedIn) -> RedirectResponse:
    """Signed in, the console starts at profile search; signed out, at sign-in."""
    return RedirectResponse(START_PATH if active is not None else SIGN_IN_PATH, status_code=303)
