"""`install_console(app)`: the console's pages, its static files and its error pages."""

from __future__ import annotations

from fastapi import FastAPI

from carebase.web.assets import STATIC_PREFIX, StaticAssets
from carebase.web.errors import ConsoleErrors
from carebase.web.pages import (
    account,
    activation_destinations,
    activation_orchestration_form,
    activation_orchestrations,
    activation_runs,
    activity,
    data,
    docs,
    embed,
    embed_chatwoot,
    embed_zendesk,
    home,
    inbox,
    inbox_mention,
    inbox_replies,
    inbox_settings_classifications,
    inbox_settings_forms,
    inbox_settings_frame,
    inbox_settings_hours,
    inbox_settings_ignored,
    inbox_settings_queues,
    inbox_settings_replies,
    inbox_settings_rules,
    inbox_settings_sla,
    inbox_settings_workflow,
    inbox_survey,
    notes,
    profile_tabs,
    profiles,
    segments,
    segments_builder,
    settings_groups,
    settings_tokens,
    settings_users,
    signin,
    sql,
)
from carebase.web.pages import surveys as survey_pages


def console_errors() -> ConsoleErrors:
    """What `install_error_handlers` renders people's errors with."""
    return ConsoleErrors()


def install_console(app: FastAPI) -> None:
    """Add the pages and mount `/static`. Call after the API's routers: a page never
    shadows an API route."""
    app.include_router(home.router)
    app.include_router(signin.router)
    app.include_router(account.router)
    app.include_router(settings_users.router)
    app.include_router(settings_groups.router)
    app.include_router(settings_tokens.router)
    app.include_router(inbox_settings_frame.router)
    app.include_router(inbox_settings_classifications.router)
    app.include_router(inbox_settings_queues.router)
    app.include_router(inbox_settings_replies.router)
    app.include_router(inbox_settings_forms.router)
    app.include_router(inbox_settings_ignored.router)
    app.include_router(inbox_settings_rules.router)
    app.include_router(inbox_settings_sla.router)
    app.include_router(inbox_settings_hours.router)
    app.include_router(inbox_settings_workflow.router)
    app.include_router(docs.router)
    app.include_router(profiles.router)
    app.include_router(profile_tabs.router)
    app.include_router(notes.router)
    app.include_router(data.router)
    # The builder first: `/segments/new` before `/segments/{id}`.
    app.include_router(segments_builder.router)
    app.include_router(segments.router)
    app.include_router(sql.router)
    app.include_router(activation_destinations.router)
    # The form first: `/activation/orchestrations/new` before `/{id}`.
    app.include_router(activation_orchestration_form.router)
    app.include_router(activation_orchestrations.router)
    app.include_router(activation_runs.router)
    app.include_router(embed.router)
    app.include_router(embed_zendesk.router)
    app.include_router(embed_zendesk.downloads)
    app.include_router(embed_chatwoot.router)
    app.include_router(survey_pages.router)
    app.include_router(inbox.router)
    app.include_router(inbox_replies.router)
    app.include_router(inbox_mention.router)
    app.include_router(inbox_survey.router)
    app.include_router(activity.router)
    app.mount(STATIC_PREFIX, StaticAssets(), name="static")
