"""Zendesk: the signed-URL entry, the sidebar page, and the app package for managers.

- `POST /embed/zendesk?origin=…&app_guid=…`: Zendesk's first load of the app's frame, with
  the JWT in the form field `token`. Verified (`carebase.embeds.zendesk.verify_token`), it
  leaves a read-only grant in the frame's partitioned cookie and answers 303 to the GET with
  the same query: ZAF's `ZAFClient.init()` needs `origin` and `app_guid` in the frame's URL.
  Anything else is a 401 page saying why. This POST comes from Zendesk's page, another site,
  by design: the token's signature, audience and lifetime are its proof, not a CSRF token.
- `GET /embed/zendesk`: the sidebar. Its script (`static/embed-zendesk.js`, with ZAF's SDK
  from Zendesk's CDN, allowed by this page's CSP alone) reads the ticket's requester - or the
  user, in the user sidebar - and loads `/embed/profile/lookup`.
- `GET /embed/zendesk/manifest.json`, `GET /embed/zendesk/app.zip`: the app to upload as a
  private app (managers, in the console).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from carebase.embeds import grants, zendesk
from carebase.embeds.zendesk import TokenRefused
from carebase.settings import Settings, web_origin
from carebase.web.forms import read_form
from carebase.web.pages.embed_base import (
    ZAF_SDK_URL,
    EmbedRoute,
    MaybeViewer,
    SignInToEmbed,
    grant_cookie_name,
    grant_lifetime,
    render_embed,
    set_embed_cookie,
)
from carebase.web.routing import page_router
from carebase.web.session import Manager

logger = logging.getLogger("carebase.web.embed")

router = APIRouter(route_class=EmbedRoute, include_in_schema=False)
# The package downloads are console pages: a manager signs in at /sign-in to get them.
downloads = page_router()

MAX_QUERY = 2000


def _not_set_up(request: Request) -> HTMLResponse:
    return render_embed(
        request,
        "embed/error.html",
        {
            "status_code": 404,
            "title": "The Zendesk panel is not set up",
            "message": (
                "carebase has no Zendesk installation configured: set "
                "CAREBASE_ZENDESK_AUDIENCE and CAREBASE_ZENDESK_PUBLIC_KEY."
            ),
            "request_id": "",
        },
        status_code=404,
    )


class SignedUrlForm(BaseModel):
    """What Zendesk posts on the frame's first load."""

    token: str = Field(min_length=1, max_length=zendesk.MAX_TOKEN_LENGTH)


@router.post("/embed/zendesk")
async def signed_url(request: Request) -> Response:
    """Verify Zendesk's token, grant the frame read access, and go on to the GET."""
    settings: Settings = request.app.state.settings
    install = zendesk.installation(settings)
    if install is None:
        return _not_set_up(request)
    now: datetime = request.app.state.clock()
    form = await read_form(request, SignedUrlForm)
    token = form.data.token if form.data is not None else ""
    try:
        verified = zendesk.verify_token(token, install, now=now)
    except TokenRefused as refused:
        logger.warning("a Zendesk signed-URL token was refused: %s", refused.reason)
        return render_embed(
            request,
            "embed/refused.html",
            {"refused": refused, "status_code": 401},
            status_code=401,
        )
    value = grants.issue(
        settings.secret_key.get_secret_value(),
        host="zendesk",
        audience=install.audience,
        subject=verified.subject,
        now=now,
        lifetime=grant_lifetime(settings),
    )
    query = request.url.query
    location = "/embed/zendesk" + (f"?{query}" if query and len(query) <= MAX_QUERY else "")
    response = RedirectResponse(location, status_code=303)
    set_embed_cookie(
        response,
        settings,
        grant_cookie_name(settings),
        value,
        int(grant_lifetime(settings).total_seconds()),
    )
    return response


FrameParam = Annotated[str | None, Query(max_length=200)]


@router.get("/embed/zendesk")
async def sidebar(
    request: Request, viewer: MaybeViewer, origin: FrameParam = None, app_guid: FrameParam = None
) -> HTMLResponse:
    """The sidebar page; its script asks ZAF for the customer and loads the profile."""
    settings: Settings = request.app.state.settings
    if zendesk.installation(settings) is None:
        return _not_set_up(request)
    if viewer is None:
        raise SignInToEmbed(
            "carebase could not confirm that Zendesk opened this panel (reload the ticket), "
            "or sign in to carebase here."
        )
    if origin is not None:
        try:
            known = web_origin(origin) in settings.embed_frame_ancestors
        except ValueError:
            known = False
        if not known:
            return render_embed(
                request,
                "embed/error.html",
                {
                    "status_code": 400,
                    "title": "Not a Zendesk carebase knows",
                    "message": (
                        "This panel opens inside the Zendesk account carebase is set up for."
                    ),
                    "request_id": "",
                },
                status_code=400,
            )
    return render_embed(request, "embed/zendesk.html", {"zaf_sdk_url": ZAF_SDK_URL}, zaf=True)


@downloads.get("/embed/zendesk/manifest.json")
async def manifest(request: Request, manager: Manager) -> JSONResponse:
    """The app's manifest.json (managers)."""
    settings: Settings = request.app.state.settings
    return JSONResponse(zendesk.manifest(settings), headers={"Cache-Control": "no-store"})


@downloads.get("/embed/zendesk/app.zip")
async def app_zip(request: Request, manager: Manager) -> Response:
    """The app package to upload as a private app (managers)."""
    settings: Settings = request.app.state.settings
    return Response(
        zendesk.app_zip(settings),
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="carebase-zendesk-app.zip"',
            "Cache-Control": "no-store",
        },
    )
