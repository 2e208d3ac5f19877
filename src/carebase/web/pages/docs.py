"""`/docs` (Swagger UI) and `/redoc` (Redoc), served from the vendored files in the package.

FastAPI's own pages load both from a CDN (and Redoc's, Google Fonts): a blank page on a
server without internet access, the usual case behind a firewall. These start the UIs from a
file (no inline script), turn Swagger UI's online validator off, and allow the UIs' inline
styles and Redoc's blob: worker in their CSP, nothing more.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.security import DOCS_CSP

router = page_router()


def _context(request: Request) -> dict[str, str]:
    return {"title": request.app.title, "spec_url": request.app.openapi_url or "/openapi.json"}


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """The API's interactive documentation."""
    return render(request, "pages/swagger.html", _context(request), csp=DOCS_CSP)


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """The API's reference documentation."""
    return render(request, "pages/redoc.html", _context(request), csp=DOCS_CSP)
