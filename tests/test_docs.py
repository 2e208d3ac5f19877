"""The docs document what the code does, and hold together.

Every record type is in docs/record-types.md's table, every profile attribute in
docs/attributes.md, every history field in docs/profiles.md; every relative link in the README
and docs/*.md points at a file (and heading) that exists, and the README maps every page.
(Every setting in docs/configuration.md is checked in test_settings.py.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args
from urllib.parse import unquote

import pytest
from pydantic import BaseModel

from carebase.datasets.schemas import RecordType
from carebase.datasets.service import RECORD_TYPES
from carebase.profiles.schemas import (
    CommerceOut,
    CustomerOut,
    EngagementOut,
    HistoryItemOut,
    SupportAttributesOut,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
README = ROOT / "README.md"

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def read(name: str) -> str:
    return (DOCS / name).read_text()


def table_first_cells(text: str) -> set[str]:
    """The backticked names in the first column of a page's tables."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def undocumented(model: type[BaseModel], text: str) -> list[str]:
    return [name for name in model.model_fields if f"`{name}`" not in text]


def test_the_docs_pages_exist() -> None:
    names = {page.name for page in PAGES}
    expected = {"api.md", "attributes.md", "configuration.md", "connectors.md", "console.md"}
    expected |= {"demo.md"}
    expected |= {"development.md", "identity.md", "ingestion.md", "operations.md"}
    expected |= {"profiles.md", "record-types.md", "scaling.md", "users.md"}
    assert expected <= names


def test_every_record_type_is_in_the_record_types_table() -> None:
    assert table_first_cells(read("record-types.md")) == set(RECORD_TYPES)


def test_the_dataset_api_offers_every_record_type() -> None:
    assert get_args(RecordType) == RECORD_TYPES


ATTRIBUTE_MODELS = [SupportAttributesOut, CustomerOut, CommerceOut, EngagementOut]


@pytest.mark.parametrize("model", ATTRIBUTE_MODELS, ids=lambda m: m.__name__)
def test_every_profile_attribute_is_documented(model: type[BaseModel]) -> None:
    assert undocumented(model, read("attributes.md")) == []


def test_every_history_field_is_documented() -> None:
    assert undocumented(HistoryItemOut, read("profiles.md")) == []


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.replace("`", "").strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(heading)
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links(path: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text()))
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def test_the_link_check_sees_links_and_anchors() -> None:
    assert "docs/scaling.md" in relative_links(README)
    assert "rate-limits" in anchors(DOCS / "api.md")
    assert slug("History: `GET /v1/profiles/{id}/history` (scope `profiles:read`)") == (
        "history-get-v1profilesidhistory-scope-profilesread"
    )


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_something_that_exists(path: Path) -> None:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / unquote(file_part)).resolve() if file_part else path
        missing_anchor = bool(anchor) and (
            resolved.suffix != ".md" or not resolved.exists() or anchor not in anchors(resolved)
        )
        if not resolved.exists() or missing_anchor:
            broken.append(target)
    assert broken == []


def test_the_readme_maps_every_docs_page() -> None:
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in relative_links(README)}
    assert [page.name for page in PAGES if page.resolve() not in linked] == []
