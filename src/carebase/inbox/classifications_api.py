"""Classifications over HTTP: list and read (`inbox:read`), create, change, archive and
delete (`inbox:write`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from carebase.auth.scopes import INBOX_READ, INBOX_WRITE
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.inbox import classifications as service
from carebase.inbox.schemas import ClassificationCreate, ClassificationOut, ClassificationUpdate
from carebase.inbox.views import classification_out

router = APIRouter(prefix="/v1/classifications", tags=["inbox"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(INBOX_READ))]
Writer = Annotated[Principal, Depends(require_scope(INBOX_WRITE))]
ClassificationId = Annotated[
    int, Path(ge=1, le=2**63 - 1, description="The classification's numeric id.")
]
_NAME_TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another classification has this name (`name_taken`)."}
}


@router.get("", operation_id="listClassifications", response_model=list[ClassificationOut])
def list_classifications(
    _reader: Reader,
    session: DbSession,
    include_archived: Annotated[bool, Query(description="Archived ones too.")] = True,
) -> list[ClassificationOut]:
    """Every classification, by name."""
    rows = service.list_classifications(session, include_archived=include_archived)
    return [classification_out(row) for row in rows]


@router.post(
    "",
    status_code=201,
    operation_id="createClassification",
    response_model=ClassificationOut,
    responses=_NAME_TAKEN,
)
def create_classification(
    body: ClassificationCreate, _writer: Writer, session: DbSession, now: Now
) -> ClassificationOut:
    """A new classification."""
    row = service.create(
        session, name=body.name, description=body.description, colour=body.colour, now=now
    )
    return classification_out(row)


@router.get(
    "/{classification_id}", operation_id="getClassification", response_model=ClassificationOut
)
def get_classification(
    classification_id: ClassificationId, _reader: Reader, session: DbSession
) -> ClassificationOut:
    """One classification."""
    return classification_out(service.get(session, classification_id))


@router.patch(
    "/{classification_id}",
    operation_id="updateClassification",
    response_model=ClassificationOut,
    responses=_NAME_TAKEN,
)
def update_classification(
    classification_id: ClassificationId,
    body: ClassificationUpdate,
    _writer: Writer,
    session: DbSession,
    now: Now,
) -> ClassificationOut:
    """Change its name, description or colour."""
    changes = body.model_dump(exclude_unset=True)
    return classification_out(service.update(session, classification_id, changes, now))


@router.post(
    "/{classification_id}/archive",
    operation_id="archiveClassification",
    response_model=ClassificationOut,
)
def archive_classification(
    classification_id: ClassificationId, _writer: Writer, session: DbSession, now: Now
) -> ClassificationOut:
    """Archive: it stays on mentions and cannot be applied anew."""
    return classification_out(service.archive(session, classification_id, now))


@router.post(
    "/{classification_id}/unarchive",
    operation_id="unarchiveClassification",
    response_model=ClassificationOut,
)
def unarchive_classification(
    classification_id: ClassificationId, _writer: Writer, session: DbSession, now: Now
) -> ClassificationOut:
    """Make it applicable again."""
    return classification_out(service.unarchive(session, classification_id, now))


@router.delete(
    "/{classification_id}",
    status_code=204,
    operation_id="deleteClassification",
    response_class=Response,
    responses={409: {"description": "Mentions or rules use it (`in_use`): archive it."}},
)
def delete_classification(
    classification_id: ClassificationId, _writer: Writer, session: DbSession
) -> Response:
    """Delete an unused classification."""
    service.delete(session, classification_id)
    return Response(status_code=204)
