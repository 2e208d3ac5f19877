"""The Zendesk app package: its manifest points both sidebars at carebase with signed URLs."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

from carebase.embeds.logo import logo_png
from carebase.embeds.zendesk import app_zip, manifest
from carebase.settings import Settings


def settings(public_url: str = "https://care.example.com") -> Settings:
    return Settings(_env_file=None, public_url=public_url)


def test_the_manifest_names_both_sidebars_with_signed_urls() -> None:
    body = manifest(settings())
    assert body["signedUrls"] is True
    assert body["frameworkVersion"] == "2.0"
    assert body["private"] is True
    support = body["location"]["support"]
    assert support["ticket_sidebar"]["url"] == "https://care.example.com/embed/zendesk"
    assert support["user_sidebar"]["url"] == "https://care.example.com/embed/zendesk"
    assert body["author"]["email"] == "carebase@care.example.com"
    assert manifest(settings("http://127.0.0.1:8000"))["author"]["email"] == "carebase@example.com"


def test_the_package_holds_the_manifest_translations_and_logos() -> None:
    data = app_zip(settings())
    assert data == app_zip(settings())  # the same bytes every time
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == [
            "assets/logo-small.png",
            "assets/logo.png",
            "manifest.json",
            "translations/en.json",
        ]
        assert json.loads(archive.read("manifest.json")) == manifest(settings())
        app = json.loads(archive.read("translations/en.json"))["app"]
        assert app["name"] == "carebase"
        assert app["short_description"]
        assert archive.read("assets/logo.png") == logo_png(320)


def test_the_logos_are_pngs_of_the_sizes_zendesk_asks_for() -> None:
    for size in (320, 128):
        png = logo_png(size)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        assert (width, height) == (size, size)
        # The image data inflates to one filter byte and `size` RGBA pixels per row.
        length = struct.unpack(">I", png[33:37])[0]
        assert png[37:41] == b"IDAT"
        pixels = zlib.decompress(png[41 : 41 + length])
        assert len(pixels) == size * (1 + 4 * size)
