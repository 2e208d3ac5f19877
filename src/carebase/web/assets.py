"""The console's static files: carebase's own CSS and scripts, and the vendored npm assets
(`static/vendor/<package>-<version>/`, listed in `static/vendor/VENDORED.json`).

Served from the package at `/static` (no CDN, no build step, no Node.js at run time). Vendored
paths carry their version and own files a content hash (`?v=`), so both are cached for a year;
any other static URL is revalidated.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static"
_VENDOR_DIR = STATIC_DIR / "vendor"
_FOREVER = "public, max-age=31536000, immutable"


@cache
def _vendored() -> dict[str, tuple[str, frozenset[str]]]:
    """Each vendored package's directory and files, by npm package name."""
    manifest = json.loads((_VENDOR_DIR / "VENDORED.json").read_text())
    return {
        package["name"]: (package["directory"], frozenset(package["files"]))
        for package in manifest["packages"]
    }


def vendor_url(package: str, file: str) -> str:
    """The URL of one vendored file: `vendor_url("htmx.org", "htmx.min.js")`."""
    directory, files = _vendored()[package]
    if file not in files:
        raise KeyError(f"{file} is not vendored from {package}")
    return f"{STATIC_PREFIX}/vendor/{directory}/{file}"


@cache
def static_url(path: str) -> str:
    """The URL of one of carebase's own static files, with its content hash for caching."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PREFIX}/{path}?v={digest}"


class StaticAssets(StaticFiles):
    """StaticFiles with `nosniff` and a cache lifetime: a year for versioned URLs (vendored
    paths, own files with `?v=`), revalidation otherwise."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC_DIR)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, with caching and content-type headers."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = scope["path"].startswith(f"{STATIC_PREFIX}/vendor/") or (
            b"v=" in scope.get("query_string", b"")
        )
        response.headers["Cache-Control"] = _FOREVER if versioned else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
