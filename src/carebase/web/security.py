"""The security headers every console page carries.

The Content Security Policy allows scripts, styles and requests from carebase's own origin
only: no inline script or style (so an injected `<script>` or `style=` does nothing), no
framing (`frame-ancestors 'none'` and `X-Frame-Options: DENY`; the helpdesk embeds will name
their hosts instead), forms posting nowhere else, no `<base>`, no plugins. Images may also come
from `data:` URLs and https (product images in a profile's history).

The API docs pages run third-party UIs: Swagger UI and Redoc inject `style` attributes and
elements, and Redoc starts a worker from a `blob:` URL, so their policy allows exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping


def policy(**directives: str) -> str:
    """A CSP header value from directives (`script_src="'self'"` → `script-src 'self'`)."""
    return "; ".join(f"{name.replace('_', '-')} {value}" for name, value in directives.items())


CONSOLE_CSP = policy(
    default_src="'self'",
    script_src="'self'",
    style_src="'self'",
    img_src="'self' data: https:",
    connect_src="'self'",
    form_action="'self'",
    base_uri="'none'",
    object_src="'none'",
    frame_ancestors="'none'",
)

DOCS_CSP = policy(
    default_src="'self'",
    script_src="'self'",
    style_src="'self' 'unsafe-inline'",
    img_src="'self' data:",
    worker_src="'self' blob:",
    connect_src="'self'",
    form_action="'self'",
    base_uri="'none'",
    object_src="'none'",
    frame_ancestors="'none'",
)


def page_headers(csp: str = CONSOLE_CSP, *, frame_options: str | None = "DENY") -> dict[str, str]:
    """The headers of an HTML page under `csp`. Pages hold people's data, so they are not
    stored by the browser or a proxy (`no-store`)."""
    headers = {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    if frame_options is not None:
        headers["X-Frame-Options"] = frame_options
    return headers


def add_missing(target: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of `headers` that `target` does not set already (case-insensitively)."""
    present = {name.lower() for name in target}
    return {name: value for name, value in headers.items() if name.lower() not in present}
