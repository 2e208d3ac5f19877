"""The activation pages' pure parts: a kind's form derived from its models, the form split
back into config and secrets, a service's 422 placed beside the form's inputs, schedules
and statuses in words, progress as a percentage, a dry run's samples as flat rows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carebase.activation.channel import DestinationKind
from carebase.activation.kinds import KINDS
from carebase.errors import ValidationFailed, problem
from carebase.web.pages.activation_fields import kind_fields, label_of, model_fields, split_form
from carebase.web.pages.activation_runs import sample_columns, sample_rows
from carebase.web.pages.activation_shared import form_problems
from carebase.web.pages.activation_words import (
    RUN_STATUSES,
    is_ended,
    percent,
    run_status,
    schedule_words,
)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_url: str = Field(min_length=8, max_length=500, description="Where it lives.")
    retries: int = Field(default=3, ge=0, lt=10)
    format: Literal["csv", "ndjson"] = "csv"
    certificate: str | None = Field(default=None, max_length=9000)


class _Secrets(BaseModel):
    token: str = Field(min_length=1, max_length=100)


def test_a_models_fields_become_typed_bounded_inputs() -> None:
    url, retries, fmt, certificate = model_fields("config", _Config, secret=False)
    assert (url.name, url.id, url.label, url.input) == (
        "config.api_url",
        "config-api_url",
        "API URL",
        "text",
    )
    assert url.required
    assert url.max_length == 500
    assert url.hint == "Where it lives."
    assert (retries.input, retries.minimum, retries.maximum) == ("number", 0, 9)
    assert not retries.required
    assert retries.hint == "If left blank: 3"
    assert (fmt.input, fmt.choices, fmt.default) == ("select", ("csv", "ndjson"), "csv")
    assert (certificate.input, certificate.required, certificate.hint) == (
        "textarea",
        False,
        "Optional.",
    )
    (token,) = model_fields("secrets", _Secrets, secret=True)
    assert (token.input, token.secret) == ("password", True)


def test_every_registered_kind_has_a_form() -> None:
    for kind in KINDS.values():
        config_fields, secret_fields = kind_fields(kind)
        assert config_fields, kind.name
        assert all(f.name.startswith("config.") for f in config_fields)
        assert all(f.secret and f.name.startswith("secrets.") for f in secret_fields)


def test_the_form_splits_into_config_and_secrets_leaving_blanks_out() -> None:
    kind = DestinationKind(
        name="test",
        title="Test",
        config_model=_Config,
        secrets_model=_Secrets,
        modes=("upsert",),
        open=KINDS["webhook"].open,
    )
    config, secrets = split_form(
        {
            "config.api_url": " https://x.example ",
            "config.retries": "",
            "config.format": "ndjson",
            "secrets.token": "  keep spaces ",
            "config.unknown": "dropped",
        },
        kind,
    )
    assert config == {"api_url": "https://x.example", "format": "ndjson"}
    assert secrets == {"token": "  keep spaces "}


def test_a_services_problems_land_beside_the_forms_inputs() -> None:
    error = ValidationFailed(
        details=[
            problem("config.base_url", "must start with https://"),
            problem("schedule.cron", "is not a valid cron expression"),
            problem("source.attributes.2", "is not a customer_360 column"),
            problem("elsewhere", "is wrong"),
        ]
    )
    names = {"config.base_url", "attributes"}
    renames = {"schedule.cron": "cron", "source.attributes": "attributes"}
    assert form_problems(error, names, renames=renames) == {
        "config.base_url": "Must start with https://.",
        "cron": "Is not a valid cron expression.",
        "attributes": "Is not a customer_360 column.",
        "__form__": "elsewhere: Is wrong.",
    }
    assert form_problems(ValidationFailed("Bad."), names) == {"__form__": "Bad."}


def test_schedules_in_words() -> None:
    assert schedule_words(None) == "Manual: runs only when someone asks"
    assert (
        schedule_words("0 6 * * *", "Australia/Sydney") == "Every day at 06:00 (Australia/Sydney)"
    )
    assert schedule_words("30 7 * * 1-5") == "Every Monday to Friday at 07:30"
    assert schedule_words("0 9 * * 1,3") == "Every Monday and Wednesday at 09:00"
    assert schedule_words("0 9 * * 0") == "Every Sunday at 09:00"
    assert schedule_words("15 * * * *") == "Every hour at minute 15"
    assert schedule_words("*/10 * * * *") == "Every 10 minutes"
    assert schedule_words("5 */4 * * *") == "Every 4 hours at minute 5"
    assert schedule_words("0 6 1 * *", "UTC") == "Cron 0 6 1 * * (UTC)"
    assert schedule_words("0 6 * * MON") == "Cron 0 6 * * MON"


def test_each_status_has_its_own_word_and_colour() -> None:
    words = [status.words for status in RUN_STATUSES.values()]
    assert len(set(words)) == len(words)
    assert run_status("completed_with_errors").tone == "warn"
    assert run_status("failed").tone == "bad"
    assert run_status("brand_new").words == "Brand new"
    assert is_ended("cancelled")
    assert not is_ended("sending")


def test_progress_as_a_percentage() -> None:
    assert percent(None) is None
    assert percent({"done": 5, "total": None}) is None
    assert percent({"done": 0, "total": 0}) is None
    assert percent({"done": 1, "total": 3}) == 33
    assert percent({"done": 9, "total": 3}) == 100


def test_dry_run_samples_become_flat_rows() -> None:
    rows = sample_rows(
        [
            {"key": "prf_1", "fields": {"email": "a@x.io", "tags": ["vip", "au"]}},
            {"key": "prf_2", "fields": {"email": None, "name": "Bo"}},
        ]
    )
    assert rows == [
        {"key": "prf_1", "email": "a@x.io", "tags": "vip, au"},
        {"key": "prf_2", "email": "", "name": "Bo"},
    ]
    assert sample_columns(rows) == ["key", "email", "tags", "name"]
    assert sample_rows("not a list") == []
    assert label_of("max_jobs_in_flight") == "Max jobs in flight"
