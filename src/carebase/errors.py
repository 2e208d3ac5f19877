"""The one error hierarchy: every failure carries an HTTP status and a stable code.

Rendered in one place (`carebase.http.errors`) into
`{"error": {"code": ..., "message": ..., "details": ...}}`, and by the CLI as a
one-line message with a non-zero exit code.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict


class FieldProblem(TypedDict):
    """The one shape of a problem with one field, in every 4xx that names fields."""

    field: str
    reason: str


def problem(field: str, reason: str) -> FieldProblem:
    """A problem with one field: its dotted path and why (never the value itself)."""
    return {"field": field, "reason": reason}


class CarebaseError(Exception):
    """Base of every error carebase raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal server error."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(CarebaseError):
    """The request is malformed."""

    status_code = 400
    code = "bad_request"
    default_message = "The request is malformed."


class MalformedJSON(BadRequest):
    """The body is not valid JSON."""

    code = "malformed_json"
    default_message = "The request body is not valid JSON."


class InvalidReport(BadRequest):
    """An Activity report the reference refuses: its message is the reference's wording
    ("Invalid report - date range is too long", "… starting date is a future date",
    "… invalid type") or names the field; `details` lists `{field, reason}` problems."""

    code = "invalid_report"
    default_message = "Invalid report."

    @classmethod
    def on(cls, field: str, reason: str, message: str | None = None) -> InvalidReport:
        """A 400 about one field of the report request."""
        return cls(
            message or f"Invalid report - {field} {reason}", details=[problem(field, reason)]
        )


class Unauthenticated(CarebaseError):
    """No usable credentials were presented."""

    status_code = 401
    code = "unauthenticated"
    default_message = "Missing authentication data."


class InvalidToken(Unauthenticated):
    """The presented token is unknown, malformed or revoked."""

    code = "invalid_token"
    default_message = "The API token is not valid."


class InvalidCredentials(Unauthenticated):
    """A sign-in failed. One message for every reason (unknown email, wrong password,
    archived user, no password set yet), so the answer never tells whether an account exists."""

    code = "invalid_credentials"
    default_message = "The email or password is not right."


class InvalidSession(Unauthenticated):
    """The session cookie is unknown, expired or revoked, or its user is archived."""

    code = "invalid_session"
    default_message = "The session has ended; sign in again."


class WebhookUnauthenticated(Unauthenticated):
    """A webhook delivery's signature or secret is missing, wrong or stale."""

    code = "webhook_unauthenticated"
    default_message = "The webhook could not be authenticated."


class Forbidden(CarebaseError):
    """Authenticated, but not allowed to do this."""

    status_code = 403
    code = "forbidden"
    default_message = "This token may not do that."


class InsufficientScope(Forbidden):
    """The token lacks the scope the operation needs."""

    code = "insufficient_scope"
    default_message = "The API token lacks the scope this operation needs."


class LinkExpired(Forbidden):
    """A signed download link (an Activity CSV export's) is past its `expires`."""

    code = "link_expired"
    default_message = "This download link has expired; ask for the export's status again."


class BadSignature(Forbidden):
    """A signed download link's signature does not match its id and `expires`."""

    code = "bad_signature"
    default_message = "This download link's signature is not valid."


class NotFound(CarebaseError):
    """The thing asked for does not exist."""

    status_code = 404
    code = "not_found"
    default_message = "Not found."


class MethodNotAllowed(CarebaseError):
    """The route exists but not for this method."""

    status_code = 405
    code = "method_not_allowed"
    default_message = "Method not allowed."


class RequestTimeout(CarebaseError):
    """The body arrived slower than CAREBASE_MIN_BODY_RATE allows."""

    status_code = 408
    code = "request_timeout"
    default_message = "The request body arrived too slowly."


# nginx's "client closed request": the client went away before its request was read whole.
# Nothing is answered (no one is listening); the access log records it under this status.
CLIENT_CLOSED_REQUEST = 499


class Conflict(CarebaseError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class NameTaken(Conflict):
    """Another destination or orchestration has that name."""

    code = "name_taken"


class DestinationInUse(Conflict):
    """Orchestrations send to this destination; they go first."""

    code = "destination_in_use"


class RunInProgress(Conflict):
    """The orchestration already has a run that has not ended."""

    code = "run_in_progress"
    default_message = "This orchestration already has a run in progress."


class SourceInUse(Conflict):
    """A segment or saved query that orchestrations send: they go (or change source) first."""

    code = "source_in_use"
    default_message = "Orchestrations send this; change or delete them first."


class TransitionRefused(Conflict):
    """The workflow does not allow this change from the mention's current state (the message
    says why), or the mention changed since it was read."""

    code = "transition_refused"
    default_message = "The workflow does not allow this change."


class StaleMention(Conflict):
    """The mention changed since the caller read it (its `version` moved on)."""

    code = "stale"
    default_message = "The mention changed since you read it; reload it and try again."


class ClassificationArchived(Conflict):
    """An archived classification stays on old mentions but cannot be applied anew."""

    code = "classification_archived"
    default_message = "This classification is archived and cannot be applied."


class InUse(Conflict):
    """Something still refers to this (a queue to its policy, a policy to its hours)."""

    code = "in_use"


class FormAnswered(Conflict):
    """A one-time survey link has been answered already."""

    code = "already_answered"
    default_message = "This survey has been answered already. Thank you!"


class AlreadyInvited(Conflict):
    """The case has a survey invitation to this form already (one per form and case)."""

    code = "already_invited"
    default_message = "This case has been sent this survey already."


class SurveyClosed(CarebaseError):
    """A survey link that is unknown or expired, or a form that is archived."""

    status_code = 410
    code = "survey_closed"
    default_message = "This survey link is not valid."


class InvalidSigninLink(CarebaseError):
    """A one-time sign-in link that is unknown, already used, expired, or whose user is archived."""

    status_code = 410
    code = "invalid_link"
    default_message = "This sign-in link is not valid; ask a manager for a new one."


class PayloadTooLarge(CarebaseError):
    """The body is larger than the configured limit."""

    status_code = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(CarebaseError):
    """The body is not in a format this endpoint reads."""

    status_code = 415
    code = "unsupported_media_type"
    default_message = "The request body must be JSON (Content-Type: application/json)."


class ValidationFailed(CarebaseError):
    """The body or parameters do not satisfy the schema; `details` lists a `{field, reason}`
    problem for each field."""

    status_code = 422
    code = "validation_error"
    default_message = "The request is not valid."

    @classmethod
    def on(cls, field: str, reason: str) -> ValidationFailed:
        """A 422 about one field."""
        return cls(details=[problem(field, reason)])


class RateLimited(CarebaseError):
    """Too many requests for this token; `Retry-After` says when to try again."""

    status_code = 429
    code = "rate_limited"
    default_message = "Rate limit exceeded."


class TooManyAttempts(RateLimited):
    """Too many failed sign-ins for this account or from this address; `Retry-After` says
    when to try again."""

    code = "too_many_attempts"
    default_message = "Too many failed sign-in attempts; wait and try again."


class ServiceUnavailable(CarebaseError):
    """A dependency (the database) cannot be reached."""

    status_code = 503
    code = "service_unavailable"
    default_message = "The service is unavailable."


class Contended(ServiceUnavailable):
    """Concurrent writers kept colliding on the same keys; retrying shortly will succeed."""

    code = "contended"
    default_message = "Concurrent writes to the same records kept colliding; retry shortly."


class Overloaded(ServiceUnavailable):
    """The process has more requests in hand and waiting than it can serve promptly."""

    code = "overloaded"
    default_message = "The server is busy; retry shortly."


# User SQL (`carebase.query`): refused by the gate, failed or stopped in the engine.
class SqlRefused(BadRequest):
    """The SQL is not a single read of the published views; the message says why."""

    code = "sql_refused"
    default_message = "This SQL is not allowed."


class SqlSyntaxError(BadRequest):
    """The SQL does not parse; `details` gives the line and column when known."""

    code = "sql_syntax_error"
    default_message = "The SQL could not be parsed."


class QueryTimeout(BadRequest):
    """The query ran past its deadline and was stopped."""

    code = "query_timeout"
    default_message = "The query ran past its deadline and was stopped."


class SqlFailed(BadRequest):
    """The engine could not run the SQL (a type error, division by zero, …)."""

    code = "sql_error"
    default_message = "The database could not run this SQL."


class QueryRoleMissing(ServiceUnavailable):
    """PostgreSQL: the role queries run as is missing or not usable by this database user."""

    code = "query_role_missing"
    default_message = (
        "SQL queries need the PostgreSQL role carebase_sql; an operator creates it as "
        "docs/query.md shows."
    )


_CODES_BY_STATUS: dict[int, str] = {
    400: BadRequest.code,
    401: Unauthenticated.code,
    403: Forbidden.code,
    404: NotFound.code,
    405: MethodNotAllowed.code,
    408: RequestTimeout.code,
    409: Conflict.code,
    413: PayloadTooLarge.code,
    415: UnsupportedMediaType.code,
    422: ValidationFailed.code,
    429: RateLimited.code,
    503: ServiceUnavailable.code,
}


def code_for_status(status_code: int) -> str:
    """The stable code used when only an HTTP status is known."""
    return _CODES_BY_STATUS.get(
        status_code, "http_error" if status_code < 500 else "internal_error"
    )
