"""The console's main navigation: one entry per section, shown once its page exists.

CONSOLE.md names the sections (Profiles · Segments · Activation · Inbox · Activity · Data ·
Settings); each issue that builds one adds a GET route at its `href`, and the entry appears
by itself. Until then it is hidden rather than a link to a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from carebase.http.errors import allowed_methods

_STATE_KEY = "console_sections"


@dataclass(frozen=True)
class Section:
    """A navigation entry: its label, its page and its icon (`carebase.web.icons`)."""

    label: str
    href: str
    icon: str
    # Shown to managers only (agents would meet the managers-only page).
    managers_only: bool = False


SECTIONS: tuple[Section, ...] = (
    Section("Profiles", "/profiles", "search"),
    Section("Segments", "/segments", "user"),
    Section("Activation", "/activation", "sign-out"),
    Section("Inbox", "/inbox", "info"),
    Section("Activity", "/activity", "check"),
    Section("Data", "/data", "database"),
    Section("SQL", "/sql", "book", managers_only=True),
    Section("Settings", "/settings", "settings", managers_only=True),
)


def built_sections(app: FastAPI) -> tuple[Section, ...]:
    """The sections whose page the app serves, in order (worked out once per app)."""
    built: tuple[Section, ...] | None = getattr(app.state, _STATE_KEY, None)
    if built is None:
        built = tuple(s for s in SECTIONS if "GET" in allowed_methods(app, s.href))
        setattr(app.state, _STATE_KEY, built)
    return built
