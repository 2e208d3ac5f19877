"""Destinations: create, read, replace, delete and test, with their secrets encrypted.

The API, the console and the CLI call these; they never commit (the request or CLI does),
except `test_destination` given a Database, which keeps the connection test (network I/O)
outside any transaction. Orchestrations are in `orchestrations.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import Row
from sqlalchemy.orm import Session

from carebase import crypto
from carebase.activation import repository
from carebase.activation.channel import ChannelContext, ChannelFailed, CheckStep, DestinationKind
from carebase.activation.kinds import KINDS
from carebase.activation.schemas import (
    CheckOut,
    CheckStepOut,
    DestinationIn,
    DestinationOut,
    DestinationUpdate,
)
from carebase.db.session import Database
from carebase.errors import (
    DestinationInUse,
    FieldProblem,
    NameTaken,
    NotFound,
    ValidationFailed,
    problem,
)
from carebase.ids import new_id
from carebase.kit import pagination
from carebase.recordtypes.validation import field_errors
from carebase.settings import Settings

log = logging.getLogger(__name__)


def kind_of(name: str) -> DestinationKind:
    """A destination kind from the registry, or a 422 naming `kind`."""
    kind = KINDS.get(name)
    if kind is None:
        raise ValidationFailed.on("kind", "must be one of " + ", ".join(sorted(KINDS)))
    return kind


def validated(model: type[Any], data: Any, prefix: str) -> Any:
    """`data` validated by a kind's pydantic model, or a 422 naming `prefix.<field>` (values
    never echoed: they may be secrets)."""
    try:
        result = model.model_validate(data)
    except ValidationError as invalid:
        raise ValidationFailed(details=_prefixed(invalid, prefix)) from invalid
    assert isinstance(result, BaseModel)
    return result


def _prefixed(invalid: ValidationError, prefix: str) -> list[FieldProblem]:
    return [
        problem(
            f"{prefix}.{item['field']}" if item["field"] != "(record)" else prefix, item["reason"]
        )
        for item in field_errors(invalid)
    ]


def validated_settings(
    kind: DestinationKind, config: Any, secrets: Any
) -> tuple[BaseModel, BaseModel]:
    """A kind's config and secrets validated, or one 422 naming every bad field of both."""
    found: list[FieldProblem] = []
    results: list[BaseModel] = []
    for model, data, prefix in (
        (kind.config_model, config, "config"),
        (kind.secrets_model, secrets, "secrets"),
    ):
        try:
            results.append(validated(model, data, prefix))
        except ValidationFailed as invalid:
            found += invalid.details
    if found:
        raise ValidationFailed(details=found)
    return results[0], results[1]


def _secret_strings(model: BaseModel) -> dict[str, str]:
    return {key: str(value) for key, value in model.model_dump(exclude_none=True).items()}


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed.on("name", "must not be blank")
    return name


def name_taken(what: str, name: str) -> NameTaken:
    """The 409 for a name another destination or orchestration holds."""
    return NameTaken(f"A {what} called {name!r} exists already.", details={"reason": "name_taken"})


def _key(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def encrypt_secrets(settings: Settings, secrets: dict[str, str]) -> str:
    """Secrets as the ciphertext stored in `destinations.secrets`."""
    return crypto.encrypt(_key(settings), orjson.dumps(secrets))


def decrypt_secrets(settings: Settings, ciphertext: str) -> dict[str, str]:
    """A destination's secrets; crypto.CannotDecrypt when CAREBASE_SECRET_KEY changed."""
    loaded = orjson.loads(crypto.decrypt(_key(settings), ciphertext))
    return {str(key): str(value) for key, value in dict(loaded).items()}


def _check(row: Row[Any]) -> CheckOut | None:
    if row.checked_at is None:
        return None
    steps = [CheckStepOut.model_validate(step) for step in row.check_report or []]
    return CheckOut(ok=bool(row.check_ok), checked_at=row.checked_at, steps=steps)


def _out(
    row: Row[Any], settings: Settings, shown_once: dict[str, str] | None = None
) -> DestinationOut:
    kind = KINDS.get(row.kind)
    public: dict[str, Any] = {}
    if kind is not None:
        try:
            public = kind.public_details(dict(row.config), decrypt_secrets(settings, row.secrets))
        except crypto.CannotDecrypt:
            public = {}  # the secret key changed: nothing derived from the secrets to show
    return DestinationOut(
        id=row.id,
        name=row.name,
        kind=row.kind,
        config=dict(row.config),
        public=public,
        check=_check(row),
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        shown_once=shown_once or None,
    )


def destination_row(session: Session, destination_id: str) -> Row[Any]:
    """A destination's row, or NotFound."""
    row = repository.get_destination(session, destination_id)
    if row is None:
        raise NotFound(f"No destination with id {destination_id!r}.")
    return row


def create_destination(
    session: Session,
    body: DestinationIn,
    *,
    settings: Settings,
    now: datetime,
    created_by: str | None,
) -> DestinationOut:
    """Create a destination: config and secrets validated by its kind (422 naming
    `config.<field>` / `secrets.<field>`), missing generated secrets made and shown once."""
    name = _clean_name(body.name)
    kind = kind_of(body.kind)
    config, given_model = validated_settings(kind, body.config, body.secrets)
    given = _secret_strings(given_model)
    secrets, shown_once = kind.complete_secrets(given)
    destination_id = new_id("dst")
    row: dict[str, Any] = {
        "id": destination_id,
        "name": name,
        "kind": kind.name,
        "config": config.model_dump(mode="json"),
        "secrets": encrypt_secrets(settings, secrets),
        "checked_at": None,
        "check_ok": None,
        "check_report": None,
        "created_at": now,
        "created_by": created_by,
        "updated_at": now,
    }
    if not repository.insert_destination(session, row):
        raise name_taken("destination", name)
    return _out(destination_row(session, destination_id), settings, shown_once)


def get_destination(session: Session, destination_id: str, *, settings: Settings) -> DestinationOut:
    """One destination (never its secrets), or NotFound."""
    return _out(destination_row(session, destination_id), settings)


def list_destinations(
    session: Session, *, settings: Settings, cursor: str | None, limit: int
) -> pagination.Page[DestinationOut]:
    """A page of destinations by name."""
    after = pagination.decode(cursor, str, str) if cursor else None
    rows = repository.destinations_page(session, after, limit + 1)
    page, next_cursor = pagination.split(rows, limit, lambda r: pagination.encode(r.name, r.id))
    return pagination.Page[DestinationOut](
        items=[_out(row, settings) for row in page], next_cursor=next_cursor
    )


def update_destination(
    session: Session,
    destination_id: str,
    body: DestinationUpdate,
    *,
    settings: Settings,
    now: datetime,
) -> DestinationOut:
    """Replace a destination's name and config; secrets given replace theirs, the others
    are kept. A changed config or secret clears the last connection test."""
    row = destination_row(session, destination_id)
    kind = kind_of(row.kind)
    if body.kind is not None and body.kind != row.kind:
        raise ValidationFailed.on("kind", "a destination's kind cannot change")
    name = _clean_name(body.name)
    try:
        stored = decrypt_secrets(settings, row.secrets)
    except crypto.CannotDecrypt:
        # The secret key changed: the old secrets are lost; every secret must be given again.
        stored = {}
    given = body.secrets or {}
    merged = {**stored, **{key: value for key, value in given.items() if value is not None}}
    config_model, secrets_model = validated_settings(kind, body.config, merged)
    config = config_model.model_dump(mode="json")
    checked = _secret_strings(secrets_model)
    secrets, shown_once = kind.complete_secrets(checked)
    values: dict[str, Any] = {"name": name, "config": config, "updated_at": now}
    if secrets != stored:
        values["secrets"] = encrypt_secrets(settings, secrets)
    if config != dict(row.config) or secrets != stored:
        values.update(checked_at=None, check_ok=None, check_report=None)
    if not repository.update_destination(session, destination_id, values):
        raise name_taken("destination", name)
    return _out(destination_row(session, destination_id), settings, shown_once)


def delete_destination(session: Session, destination_id: str) -> None:
    """Delete a destination; 409 `destination_in_use` while orchestrations send to it."""
    destination_row(session, destination_id)
    users = repository.orchestrations_using(session, destination_id)
    if users:
        raise DestinationInUse(
            "Orchestrations send to this destination; delete or move them first.",
            details={
                "reason": "destination_in_use",
                "used_by": [{"id": used_id, "name": used_name} for used_id, used_name in users],
            },
        )
    repository.delete_destination(session, destination_id)


def channel_context(row: Row[Any], settings: Settings, **options: Any) -> ChannelContext:
    """What a channel to this destination is opened with: its config, its decrypted secrets,
    and whether private addresses may be reached (CAREBASE_ALLOW_PRIVATE_OUTBOUND)."""
    return ChannelContext(
        config=dict(row.config),
        secrets=decrypt_secrets(settings, row.secrets),
        allow_private=settings.allow_private_outbound,
        destination_id=row.id,
        **options,
    )


def run_check(row: Row[Any], settings: Settings, **options: Any) -> list[CheckStep]:
    """Open a channel to the destination and test it step by step; what failed is a step
    that did not pass, never an exception."""
    kind = KINDS.get(row.kind)
    if kind is None:
        return [CheckStep("open the destination", False, f"unknown kind {row.kind!r}")]
    try:
        context = channel_context(row, settings, **options)
    except crypto.CannotDecrypt:
        return [
            CheckStep(
                "read the credentials",
                False,
                "they cannot be decrypted: CAREBASE_SECRET_KEY changed; give the secrets again",
            )
        ]
    try:
        channel = kind.open(context)
    except ChannelFailed as failed:
        return [CheckStep("open the destination", False, str(failed))]
    except NotImplementedError:
        return [CheckStep("open the destination", False, f"{kind.title} is not available yet")]
    try:
        return list(channel.check())
    except ChannelFailed as failed:
        return [CheckStep("test the connection", False, str(failed))]
    except Exception as error:  # a test connection reports what failed, never a 500
        log.warning("connection test of %s failed unexpectedly: %s", row.id, type(error).__name__)
        return [
            CheckStep("test the connection", False, f"unexpected error: {type(error).__name__}")
        ]
    finally:
        channel.close()


def _record_check(
    session: Session, destination_id: str, steps: list[CheckStep], now: datetime
) -> CheckOut:
    ok = bool(steps) and all(step.ok for step in steps)
    report = [{"name": step.name, "ok": step.ok, "detail": step.detail} for step in steps]
    # Not a name change: the unique guard never refuses this write.
    repository.update_destination(
        session, destination_id, {"checked_at": now, "check_ok": ok, "check_report": report}
    )
    return CheckOut(
        ok=ok, checked_at=now, steps=[CheckStepOut.model_validate(step) for step in report]
    )


def test_destination(
    db: Database | Session,
    destination_id: str,
    settings: Settings,
    now: datetime,
    **options: Any,
) -> CheckOut:
    """Test a destination's connection and store the report on it. Given a Database, the row
    is read in one short transaction, the check (network I/O) runs outside any, and the
    result is written in another; given a Session, all of it happens in that session.
    `options` go to the ChannelContext (tests: transport, sleep, poll_interval)."""
    if isinstance(db, Session):
        steps = run_check(destination_row(db, destination_id), settings, **options)
        return _record_check(db, destination_id, steps, now)
    with db.unit_of_work(write=False) as session:
        row = destination_row(session, destination_id)
    steps = run_check(row, settings, **options)
    with db.unit_of_work() as session:
        destination_row(session, destination_id)  # deleted meanwhile: NotFound
        return _record_check(session, destination_id, steps, now)


test_destination.__test__ = False  # type: ignore[attr-defined]
