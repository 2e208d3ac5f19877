"""Inline SVG icons, drawn for carebase (no icon font: CI's Debian has no emoji font, and an
inline icon costs no request). Stroke icons on a 24-unit grid, coloured by `currentColor`.

An icon is decoration: it is hidden from assistive technology, and whatever it stands for is
also written in words beside it (`icon("alert")` next to "Overdue", never alone).
"""

from __future__ import annotations

from markupsafe import Markup

# Constant markup, written here: the only strings ever passed to Markup below.
_PATHS: dict[str, str] = {
    "search": '<circle cx="10.5" cy="10.5" r="6.5"/><path d="M15.5 15.5 21 21"/>',
    "database": (
        '<ellipse cx="12" cy="5.5" rx="7.5" ry="3"/>'
        '<path d="M4.5 5.5v13c0 1.7 3.4 3 7.5 3s7.5-1.3 7.5-3v-13"/>'
        '<path d="M4.5 12c0 1.7 3.4 3 7.5 3s7.5-1.3 7.5-3"/>'
    ),
    "settings": (
        '<path d="M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1"/>'
        '<circle cx="15" cy="6" r="2"/><circle cx="9" cy="12" r="2"/>'
        '<circle cx="17" cy="18" r="2"/>'
    ),
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7"/>',
    # Settings: users, groups and tokens.
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "copy": '<rect x="9" y="9" width="11" height="11" rx="2"/><path d="M5 15V6a2 2 0 0 1 2-2h9"/>',
    "key": '<circle cx="8" cy="15" r="4"/><path d="m11 12 9-9M16 7l3 3M14 9l2 2"/>',
    "archive": '<path d="M3 4h18v4H3ZM5 8v12h14V8M10 12h4"/>',
    "undo": '<path d="M9 14 4 9l5-5"/><path d="M4 9h10a6 6 0 0 1 0 12h-3"/>',
    "alert": '<path d="M12 3 2 20.5h20Z"/><path d="M12 9.5v5M12 17.5v.5"/>',
    "info": '<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.5"/>',
    "check": '<path d="m4.5 12.5 5 5 10-11"/>',
    "close": '<path d="M6 6l12 12M18 6 6 18"/>',
    "sign-in": '<path d="M14 4h5v16h-5M3 12h11M10 8l4 4-4 4"/>',
    "sign-out": '<path d="M10 4H5v16h5M21 12H10M17 8l4 4-4 4"/>',
    "book": (
        '<path d="M4 4.5h6a2 2 0 0 1 2 2V20a2 2 0 0 0-2-2H4Z"/>'
        '<path d="M20 4.5h-6a2 2 0 0 0-2 2V20a2 2 0 0 1 2-2h6Z"/>'
    ),
}

ICON_NAMES = frozenset(_PATHS)


def icon(name: str, *, size: int = 20) -> Markup:
    """An inline `<svg>` icon, hidden from screen readers; raises KeyError for an unknown
    name so a typo fails the page's test, not the page in use."""
    return Markup(
        '<svg class="icon" width="{size}" height="{size}" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        'aria-hidden="true" focusable="false">{paths}</svg>'
    ).format(size=size, paths=Markup(_PATHS[name]))  # noqa: S704 - constants above
