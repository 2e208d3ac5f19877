"""Chatwoot: the dashboard app's page.

Chatwoot frames this page as a conversation tab (Settings → Integrations → Dashboard apps)
and posts it the conversation's context - `JSON.stringify({event: 'appContext', data:
{conversation, contact, currentAgent}})` - on load, and again when the frame asks with
`chatwoot-dashboard-app:fetch-info`. The page's script (`static/embed-chatwoot.js`) reads it
only from `CAREBASE_CHATWOOT_ORIGIN` and only from the parent window, takes the contact's
`identifier`, `email` and `phone_number` as lookup keys, and loads `/embed/profile/lookup`.

The context is not signed: anyone can post one. So it is never a credential - the viewer
must hold a carebase session (signed in inside the frame once, or the console's on the same
site) before the page loads at all, and the keys only choose which profile that viewer sees.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carebase.settings import Settings
from carebase.web.pages.embed_base import EmbedRoute, MaybeViewer, SignInToEmbed, render_embed

router = APIRouter(route_class=EmbedRoute, include_in_schema=False)


@router.get("/embed/chatwoot")
async def dashboard_app(request: Request, viewer: MaybeViewer) -> HTMLResponse:
    """The dashboard app page; its script waits for Chatwoot's appContext."""
    settings: Settings = request.app.state.settings
    if settings.chatwoot_origin is None:
        return render_embed(
            request,
            "embed/error.html",
            {
                "status_code": 404,
                "title": "The Chatwoot panel is not set up",
                "message": (
                    "carebase has no Chatwoot origin configured: set CAREBASE_CHATWOOT_ORIGIN."
                ),
                "request_id": "",
            },
            status_code=404,
        )
    if viewer is None or viewer.session is None:
        # Chatwoot's context proves nothing: only a carebase user may look profiles up here.
        raise SignInToEmbed("Sign in to carebase to see the customer's profile here.")
    return render_embed(
        request, "embed/chatwoot.html", {"chatwoot_origin": settings.chatwoot_origin}
    )
