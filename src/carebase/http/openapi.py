"""The error responses of the OpenAPI document, derived from what each operation can answer.

Which statuses an operation can answer follows from its shape, not from a list kept per
route: every operation uses the database (503); an authenticated one can answer 401, 403
and 429; one that reads a JSON body 400, 413, 415 and 422; one that can carry a body 408 and 413;
one with parameters 422; one with path parameters 404. Statuses that follow from the
domain (a 409, a 404 for an id in the body) are declared by the route with `responses=`.
Every error status is documented with the one error shape, `ErrorResponse`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

ERROR_SCHEMA = "ErrorResponse"
_REF = f"#/components/schemas/{ERROR_SCHEMA}"
_BODY_METHODS = frozenset({"post", "put", "patch"})
# FastAPI's own 422 schema, which carebase never answers: its 422 is the error shape.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_FASTAPI_VALIDATION_DESCRIPTION = "Validation Error"

DESCRIPTIONS: dict[int, str] = {
    400: "The body is not valid JSON (`malformed_json`).",
    401: "No token, or an unknown, malformed or revoked one.",
    403: "The token lacks the scope this operation needs (`insufficient_scope`).",
    404: "Nothing has the id in the path.",
    408: "The body arrived too slowly (`request_timeout`); the connection is closed.",
    409: "The request conflicts with the current state.",
    413: "The body is larger than CAREBASE_MAX_BODY_BYTES.",
    415: "The body is not application/json.",
    422: "The request is not valid; `details` lists a `{field, reason}` problem per field.",
    429: "The token's rate limit is exceeded; `Retry-After` says when to retry.",
    503: "The database cannot be reached, or concurrent writers kept colliding (`contended`).",
}


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str = Field(description="Stable, machine-readable code, e.g. `not_found`.")
    message: str = Field(description="A sentence for humans.")
    details: Any = Field(
        default=None,
        description="Structured detail, or null; where fields are named, a list of "
        "`{field, reason}` problems.",
    )


class ErrorResponse(BaseModel):
    """The one shape of every error carebase answers."""

    error: ErrorDetail


def error_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from its shape in the document."""
    statuses = {503}
    if operation.get("security"):
        statuses |= {401, 403, 429}
    parameters = operation.get("parameters", [])
    if "requestBody" in operation:
        statuses |= {400, 413, 415, 422}
    if method in _BODY_METHODS:
        statuses |= {408, 413}
    if parameters:
        statuses.add(422)
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.add(404)
    return statuses


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF}}}


def document_errors(document: dict[str, Any]) -> None:
    """Give every operation each error status it can answer, with the error schema."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[ERROR_SCHEMA] = schema
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, operation):
                responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
            for status, response in responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                # A description the route gave is kept; FastAPI's generic one is replaced.
                if response.get("description") in (None, _FASTAPI_VALIDATION_DESCRIPTION):
                    response["description"] = DESCRIPTIONS.get(int(status), "An error.")
                response["content"] = _error_content()
                if status == "429":
                    response["headers"] = {
                        "Retry-After": {
                            "description": "Seconds to wait before retrying.",
                            "schema": {"type": "integer"},
                        }
                    }
            operation["responses"] = dict(sorted(responses.items()))
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
