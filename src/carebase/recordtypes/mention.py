"""The `mention` record type: inbound customer messages (a tweet, a DM, a chat line, an
email) posted by the brand's own integration, each landing in the agent inbox as a mention.

Idempotent on (dataset, mention_id): a message posted again changes nothing. The author's
`link` (email, mobile or customer_id, as other types) resolves the message to a profile;
without one the mention has no profile. Nothing of the record is stored beyond the
mention itself (redaction rules apply before it is written).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from carebase import jsonutil
from carebase.recordtypes.registry import Parsed, RecordType
from carebase.recordtypes.text import clip
from carebase.recordtypes.timestamps import Timestamp
from carebase.recordtypes.validation import field_errors, scan_hostile

RECORD_TYPE = "mention"
MAX_TEXT = 100_000


def _id_text(value: Any) -> Any:
    # Networks number their messages; accept 12345 as "12345" (but not true/false).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Key = Annotated[str, BeforeValidator(_id_text), StringConstraints(min_length=1, max_length=200)]
Text300 = Annotated[str, StringConstraints(max_length=300)]
Url = Annotated[str, StringConstraints(max_length=2_083)]


class MentionAuthor(BaseModel):
    """Who wrote it, as the network knows them."""

    model_config = ConfigDict(extra="forbid")

    # `<network>_<id>` (`twitter_219…`): messages group by it.
    id: Annotated[str, BeforeValidator(_id_text), StringConstraints(max_length=300)] | None = None
    username: Text300 | None = None
    fullname: Text300 | None = None
    avatar: Url | None = None
    url: Url | None = None


class MentionLink(BaseModel):
    """The profile it belongs to: at least one of email, mobile or customer_id."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
                {"required": ["mobile"], "properties": {"mobile": {"type": "string"}}},
                {"required": ["customer_id"], "properties": {"customer_id": {"type": "string"}}},
            ]
        },
    )

    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    mobile: Annotated[str, StringConstraints(max_length=64)] | None = None
    customer_id: (
        Annotated[str, BeforeValidator(_id_text), StringConstraints(min_length=1, max_length=255)]
        | None
    ) = None
    system_name: Annotated[str, StringConstraints(max_length=100)] | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> MentionLink:
        if self.email is None and self.mobile is None and self.customer_id is None:
            raise ValueError("needs at least one of email, mobile or customer_id")
        if self.system_name is not None and self.customer_id is None:
            raise ValueError("system_name is only meaningful with customer_id")
        return self


class MentionRecord(BaseModel):
    """One inbound customer message as posted."""

    model_config = ConfigDict(extra="forbid")

    mention_id: Key
    source_type: Annotated[
        str, BeforeValidator(_lower), StringConstraints(min_length=1, max_length=40)
    ]
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT)]
    published_at: Timestamp
    account: Text300 | None = None
    author: MentionAuthor | None = None
    link: MentionLink | None = None
    # The conversation it belongs to (thread, post, replied-to message): groups messages
    # of an author-less source.
    thread_id: (
        Annotated[str, BeforeValidator(_id_text), StringConstraints(max_length=300)] | None
    ) = None
    # Where a reply goes back (echoed in the reply webhook).
    conversation_id: (
        Annotated[str, BeforeValidator(_id_text), StringConstraints(max_length=200)] | None
    ) = None
    # A queue's name; none: the default queue.
    queue: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


@cache
def batch_json_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """(request body schema, component schemas) of a batch, for the OpenAPI document."""
    schema = TypeAdapter(list[MentionRecord]).json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components = schema.pop("$defs", {})
    schema.update(minItems=1, maxItems=1000, title="MentionBatch")
    return schema, components


@cache
def record_schema() -> dict[str, Any]:
    """The JSON Schema of one record (CSV columns are typed by it)."""
    return MentionRecord.model_json_schema()


def parse_mention(raw: Any, may_contain_nul: bool = True) -> Parsed | list[dict[str, str]]:
    """A Parsed mention (its validated fields in `columns`), or the `{field, reason}` problems."""
    if not isinstance(raw, dict):
        return [{"field": "(record)", "reason": "must be a JSON object"}]
    if may_contain_nul:
        hostile = scan_hostile(raw)
        if hostile is not None:
            return [hostile]
    try:
        record = MentionRecord.model_validate(raw)
    except ValidationError as error:
        return field_errors(error)
    digest = hashlib.sha256(jsonutil.dumps(raw, sort_keys=True)).hexdigest()
    links = [record.link.model_dump(exclude_none=True)] if record.link is not None else []
    columns = record.model_dump()
    return Parsed(raw, record.mention_id, record.published_at, links, digest, columns)


def history_line(row: Mapping[str, Any]) -> str:
    """`Message via twitter from @kim: My parcel never arrived — responded, 1 reply`."""
    head = f"Message via {row['source_type']}"
    who = row.get("author_username") or row.get("author_fullname")
    if who:
        head += f" from {clip(who, 40)}"
    if row.get("body"):
        head += f": {clip(row['body'])}"
    details = [str(row["state"]).replace("_", " ")]
    replies = len(row.get("responses") or [])
    if replies:
        details.append(f"{replies} repl{'y' if replies == 1 else 'ies'}")
    return f"{head} — {', '.join(details)}"


def _schema() -> dict[str, Any] | None:
    return record_schema()


MENTION = RecordType(
    name=RECORD_TYPE,
    summary=(
        "An inbound customer message for the agent inbox; keyed by mention_id, the first "
        "one received is kept."
    ),
    kind="mention",
    parse=parse_mention,
    openapi=batch_json_schema,
    schema=_schema,
    id_field="mention_id",
    timestamp_field="published_at",
    history_line=history_line,
    operation_id="ingestMentions",
)
