"""What the Settings > Inbox pages share: their sections (shown once each page is served),
a generic form page (inputs described in Python, messages beside each), the toast after an
action, and a service's 422 as messages beside the form's inputs.

Every page here is for managers (`Manager`); agents get the managers-only page. The pages
call the inbox services only, never SQL of their own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from carebase.errors import ValidationFailed
from carebase.http.errors import allowed_methods
from carebase.web.actions import Toast
from carebase.web.pages.activation_shared import form_problems
from carebase.web.pages.settings_users import SETTINGS_TABS
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()


@dataclass(frozen=True)
class Section:
    """One inbox settings page: its label, address and what it is for."""

    label: str
    href: str
    summary: str


SECTIONS: tuple[Section, ...] = (
    Section(
        "Classifications",
        "/settings/inbox/classifications",
        "Labels agents and rules put on mentions, each with a colour.",
    ),
    Section(
        "Queues",
        "/settings/inbox/queues",
        "Where mentions wait, their SLA policy, and the rules run on each new mention.",
    ),
    Section(
        "Ignored senders",
        "/settings/inbox/ignored",
        "Senders whose messages arrive as irrelevant.",
    ),
    Section(
        "SLA policies",
        "/settings/inbox/sla-policies",
        "How fast customers and agents should get an answer.",
    ),
    Section(
        "Business hours",
        "/settings/inbox/business-hours",
        "When the team works, with holidays, for SLAs in business time.",
    ),
    Section(
        "Templates",
        "/settings/inbox/templates",
        "Reply templates with the customer's details filled in.",
    ),
    Section("Forms", "/settings/inbox/forms", "NPS surveys and their public links."),
    Section(
        "Workflow",
        "/settings/inbox/workflow",
        "Case timeout, going offline when idle, the reply webhook and the NPS form.",
    ),
)


def built_sections(request: Request) -> list[Section]:
    """The sections whose page this app serves (a service not yet installed: no tab)."""
    return [s for s in SECTIONS if "GET" in allowed_methods(request.app, s.href)]


def render_inbox(
    request: Request, template: str, context: Mapping[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render an inbox settings page with the Settings tabs and the inbox's own."""
    return render(
        request,
        template,
        {"tabs": SETTINGS_TABS, "inbox_tabs": built_sections(request), **context},
        status_code=status_code,
    )


@dataclass(frozen=True)
class Input:
    """One input of a generic form: `kind` is text, textarea, colour, number, select,
    checkbox or checkboxes; `options` are (value, label) pairs for the choosing kinds."""

    name: str
    label: str
    kind: str = "text"
    hint: str | None = None
    options: Sequence[tuple[str, str]] = ()
    required: bool = False
    rows: int = 3
    # A select's options in labelled groups, after `options`.
    groups: Sequence[tuple[str, Sequence[tuple[str, str]]]] = ()


@dataclass(frozen=True)
class PageAction:
    """A button beside a form that posts somewhere (archive, delete, restore), or a link
    (`link=True`) to a related page."""

    label: str
    action: str
    icon: str = "archive"
    link: bool = False


@dataclass
class FormPage:
    """What the generic form page shows."""

    title: str
    action: str
    inputs: Sequence[Input]
    back: tuple[str, str]
    submit: str = "Save"
    intro: str | None = None
    notice: str | None = None
    actions: Sequence[PageAction] = ()
    help_items: Sequence[tuple[str, str]] = field(default_factory=tuple)


def form_page(
    request: Request,
    page: FormPage,
    *,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    status_code: int = 200,
    toast: Toast | None = None,
) -> HTMLResponse:
    """The generic form, with each message beside its input (and a toast after a save)."""
    return render_inbox(
        request,
        "inbox_settings/form.html",
        {"page": page, "values": values, "errors": errors, "toast": toast},
        status_code=status_code,
    )


def problems(
    error: ValidationFailed, names: Collection[str], *, renames: dict[str, str] | None = None
) -> dict[str, str]:
    """A service's 422 as a message per form input (anything else: the whole form)."""
    return form_problems(error, names, renames=renames)


def toast_for(done: str | None, words: Mapping[str, str], name: str) -> Toast | None:
    """The toast after an action named `done` (`created`, `saved`…), or None."""
    if done is None or done not in words:
        return None
    return Toast(words[done].format(name=name))


def done_redirect(path: str, done: str, name: str) -> RedirectResponse:
    """Back to a list after an action; the list says what was done (303, Post/Redirect/Get)."""
    return RedirectResponse(f"{path}?{urlencode({'done': done, 'name': name})}", status_code=303)


async def with_lists(
    request: Request, values: Mapping[str, str], names: Collection[str]
) -> dict[str, Any]:
    """A submitted form's values, with every value of the repeated (checkbox) `names`, so a
    form shown again keeps each box ticked."""
    pairs = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {**values, **{name: pairs.get(name, []) for name in names}}


def checked(values: Mapping[str, Any], name: str) -> bool:
    """Whether a checkbox was ticked (an unticked one is not sent at all)."""
    return values.get(name) == "on"


def minutes_text(seconds: int | None) -> str:
    """A duration as people say it: `2 hours`, `90 minutes`, `1 day`."""
    if seconds is None:
        return "—"
    if seconds % 86400 == 0 and seconds >= 86400:
        days = seconds // 86400
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds % 3600 == 0 and seconds >= 3600:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} seconds"


@router.get("/settings/inbox")
async def inbox_settings_home(request: Request, _manager: Manager) -> HTMLResponse:
    """How the inbox works here: one link per settings page."""
    return render_inbox(
        request, "inbox_settings/home.html", {"inbox_sections": built_sections(request)}
    )
