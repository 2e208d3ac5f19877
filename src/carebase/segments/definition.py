"""A segment definition: a typed, versioned condition tree, validated with errors that name
each problem's node path (`definition.children[1].where.children[0].value`).

Profile conditions: `group` (op `and` | `or` | `at_least` with `min`), `not`, `attribute`,
`event` and `segment`. Inside an event condition's `where`: `group` (op `and` | `or`),
`not` and `event_field`. Parsing is two passes: pydantic checks the shape (a discriminated
union over `type`, unknown keys refused), then `_Checker` checks every name, operator and
value against `segments.fields` and puts values into canonical form.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from carebase.attributes.commerce import UNSPECIFIED
from carebase.errors import FieldProblem, ValidationFailed, problem
from carebase.segments import fields as f

DEFINITION_VERSION = 1
# Limits on one definition: nesting (the root is depth 1, a `where` tree counts too) and
# leaves (attribute, event, segment and event_field conditions together).
MAX_DEPTH = 6
MAX_LEAVES = 30
MAX_LIST_VALUES = 100
MAX_TEXT = 1000
MAX_COUNT = 1_000_000
MAX_DAYS = 36_600
ROOT = "definition"
_CURRENCY = re.compile(r"^[A-Za-z0-9_]{1,20}$")


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventFieldCondition(_Node):
    """A test on one field of an event (`where` trees only)."""

    type: Literal["event_field"]
    field: str = Field(min_length=1, max_length=200)
    op: str = Field(min_length=1, max_length=40)
    value: JsonValue = None


class EventFieldGroup(_Node):
    """All (`and`) or any (`or`) of its children hold for the event."""

    type: Literal["group"]
    op: Literal["and", "or"]
    children: list[WhereNode] = Field(min_length=1)


class EventFieldNot(_Node):
    """Its child does not hold for the event."""

    type: Literal["not"]
    child: WhereNode


WhereNode = Annotated[
    EventFieldGroup | EventFieldNot | EventFieldCondition, Field(discriminator="type")
]


class CountCondition(_Node):
    """How many matching events the profile must have in the window."""

    op: Literal["eq", "ne", "gt", "gte", "lt", "lte"] = "gte"
    value: int = Field(default=1, ge=0, le=MAX_COUNT, strict=True)


class AttributeCondition(_Node):
    """A test on one profile attribute."""

    type: Literal["attribute"]
    field: str = Field(min_length=1, max_length=200)
    op: str = Field(min_length=1, max_length=40)
    value: JsonValue = None


class EventCondition(_Node):
    """The profile has `count` events of a type in the last `window_days` matching `where`."""

    type: Literal["event"]
    event: str = Field(min_length=1, max_length=100)
    # Omitted: the installation's limit (CAREBASE_EVENT_WINDOW_DAYS), filled in when parsed.
    window_days: int | None = Field(default=None, strict=True)
    count: CountCondition = Field(default_factory=CountCondition)
    where: WhereNode | None = None


class SegmentReference(_Node):
    """The profile is a current member of another saved segment."""

    type: Literal["segment"]
    segment_id: str = Field(min_length=1, max_length=64)


class Group(_Node):
    """All (`and`), any (`or`) or at least `min` (`at_least`) of its children hold."""

    type: Literal["group"]
    op: Literal["and", "or", "at_least"]
    min: int | None = Field(default=None, strict=True)
    children: list[Node] = Field(min_length=1)


class Not(_Node):
    """Its child does not hold (every live profile outside the child's set)."""

    type: Literal["not"]
    child: Node


Node = Annotated[
    Group | Not | AttributeCondition | EventCondition | SegmentReference,
    Field(discriminator="type"),
]
EventFieldGroup.model_rebuild()
EventFieldNot.model_rebuild()
Group.model_rebuild()
Not.model_rebuild()


class _Root(BaseModel):
    node: Node


class _WhereRoot(BaseModel):
    node: WhereNode


# Positions in the tree where pydantic inserts the union's tag into an error's location.
_UNION_KEYS = frozenset({"child", "where"})
_TAGS = frozenset({"group", "not", "attribute", "event", "segment", "event_field"})


def _path(loc: tuple[int | str, ...]) -> str:
    """`('node', 'group', 'children', 1, 'event', 'where', …)` → `definition.children[1].where…`:
    drop the union tags pydantic adds after each position that holds a node."""
    text, expect_tag = ROOT, True
    for part in loc[1:]:
        if expect_tag and isinstance(part, str) and part in _TAGS:
            expect_tag = False
            continue
        expect_tag = False
        if isinstance(part, int):
            text += f"[{part}]"
            expect_tag = True  # children[i] holds a node
        else:
            text += f".{part}"
            expect_tag = part in _UNION_KEYS
    return text


def _structure_problems(error: ValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors(include_url=False):
        path = _path(tuple(item["loc"]))
        kind = item["type"]
        if kind == "extra_forbidden":
            reason = "is not a field of this node"
        elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
            path += ".type"
            reason = "must be one of " + ", ".join(_tag_names(item))
        else:
            reason = item["msg"][:1].lower() + item["msg"][1:]
        problems.append(problem(path, reason))
    return problems


def _tag_names(item: Any) -> list[str]:
    expected = str((item.get("ctx") or {}).get("expected_tags", ""))
    names = [name.strip().strip("'") for name in expected.split(",") if name.strip()]
    return names or sorted(_TAGS)


def _refuse_deep_json(data: object, path: str) -> None:
    """Refuse JSON nested far beyond what MAX_DEPTH allows before pydantic walks it (each
    level is an object and a list; values add a little), so hostile nesting costs nothing."""
    limit = 3 * MAX_DEPTH + 4
    level: list[dict[str, Any] | list[Any]] = [data] if isinstance(data, dict | list) else []
    for _ in range(limit + 1):
        if not level:
            return
        level = [
            inner
            for each in level
            for inner in (each.values() if isinstance(each, dict) else each)
            if isinstance(inner, dict | list)
        ]
    raise ValidationFailed.on(path, f"nests deeper than {MAX_DEPTH} levels")


def parse_definition(data: object, *, window_limit_days: int) -> Node:
    """The definition as a node tree in canonical form, or ValidationFailed naming every
    problem's path. `data` may carry `"version": 1` at its root."""
    if isinstance(data, dict) and "version" in data:
        data = dict(data)
        version = data.pop("version")
        if version != DEFINITION_VERSION or isinstance(version, bool):
            raise ValidationFailed.on(
                f"{ROOT}.version", f"must be {DEFINITION_VERSION}, the version this carebase reads"
            )
    if not isinstance(data, dict):
        raise ValidationFailed.on(ROOT, "must be a JSON object (a condition node)")
    _refuse_deep_json(data, ROOT)
    try:
        node = _Root.model_validate({"node": data}).node
    except ValidationError as error:
        raise ValidationFailed(details=_structure_problems(error)) from error
    checker = _Checker(window_limit_days)
    checker.node(node, ROOT, 1)
    if checker.leaves > MAX_LEAVES:
        checker.problems.append(
            problem(ROOT, f"has {checker.leaves} conditions; at most {MAX_LEAVES} are allowed")
        )
    if checker.problems:
        raise ValidationFailed(details=checker.problems)
    return node


def parse_where(data: object, *, path: str = "where") -> WhereNode:
    """An event-field tree on its own (event search), checked against `event` later by
    `check_where`; ValidationFailed naming the path on a shape problem."""
    if not isinstance(data, dict):
        raise ValidationFailed.on(path, "must be a JSON object (a condition node)")
    _refuse_deep_json(data, path)
    try:
        return _WhereRoot.model_validate({"node": data}).node
    except ValidationError as error:
        problems = _structure_problems(error)
        for each in problems:
            each["field"] = path + each["field"][len(ROOT) :]
        raise ValidationFailed(details=problems) from error


def check_where(where: WhereNode, event: f.EventType, *, path: str = "where") -> None:
    """Check an event-field tree's names, operators and values (canonicalising them)."""
    checker = _Checker(window_limit_days=MAX_DAYS)
    checker.where(where, event, path, 1)
    if checker.leaves > MAX_LEAVES:
        checker.problems.append(
            problem(path, f"has {checker.leaves} conditions; at most {MAX_LEAVES} are allowed")
        )
    if checker.problems:
        raise ValidationFailed(details=checker.problems)


class _Checker:
    """The second pass: names, operators, values, limits; collects every problem."""

    def __init__(self, window_limit_days: int) -> None:
        self.window_limit_days = window_limit_days
        self.problems: list[FieldProblem] = []
        self.leaves = 0

    def _depth(self, depth: int, path: str) -> bool:
        if depth > MAX_DEPTH:
            self.problems.append(problem(path, f"nests deeper than {MAX_DEPTH} levels"))
            return False
        return True

    def node(self, node: Node, path: str, depth: int) -> None:
        if not self._depth(depth, path):
            return
        if isinstance(node, Group):
            self._group_min(node, path)
            for index, child in enumerate(node.children):
                self.node(child, f"{path}.children[{index}]", depth + 1)
        elif isinstance(node, Not):
            self.node(node.child, f"{path}.child", depth + 1)
        elif isinstance(node, AttributeCondition):
            self.leaves += 1
            self._attribute(node, path)
        elif isinstance(node, EventCondition):
            self.leaves += 1
            self._event(node, path, depth)
        else:
            self.leaves += 1

    def _group_min(self, group: Group, path: str) -> None:
        if group.op != "at_least":
            if group.min is not None:
                self.problems.append(problem(f"{path}.min", "is only for op at_least"))
            return
        if group.min is None:
            self.problems.append(problem(f"{path}.min", "is required for op at_least"))
        elif not 1 <= group.min <= len(group.children):
            self.problems.append(
                problem(
                    f"{path}.min",
                    f"must be between 1 and the number of children ({len(group.children)})",
                )
            )

    def _attribute(self, node: AttributeCondition, path: str) -> None:
        field = f.attribute_field(node.field)
        if field is None:
            why = f.why_not_queryable(node.field)
            reason = f"{node.field!r} {why}" if why else f"is not an attribute: {node.field!r}"
            self.problems.append(problem(f"{path}.field", reason))
            return
        checked = self._operation(field.type, field.operators, node.op, node.value, path)
        if checked is not _BAD:
            node.value = checked

    def _event(self, node: EventCondition, path: str, depth: int) -> None:
        event = f.event_type(node.event)
        if event is None:
            names = ", ".join(each.name for each in f.event_types())
            self.problems.append(problem(f"{path}.event", f"must be one of {names}"))
            return
        if node.window_days is None:
            node.window_days = self.window_limit_days
        elif not 1 <= node.window_days <= self.window_limit_days:
            self.problems.append(
                problem(
                    f"{path}.window_days",
                    f"must be between 1 and {self.window_limit_days} (this installation's "
                    "event window, CAREBASE_EVENT_WINDOW_DAYS)",
                )
            )
        if node.where is not None:
            self.where(node.where, event, f"{path}.where", depth + 1)

    def where(self, node: WhereNode, event: f.EventType, path: str, depth: int) -> None:
        if not self._depth(depth, path):
            return
        if isinstance(node, EventFieldGroup):
            for index, child in enumerate(node.children):
                self.where(child, event, f"{path}.children[{index}]", depth + 1)
        elif isinstance(node, EventFieldNot):
            self.where(node.child, event, f"{path}.child", depth + 1)
        else:
            self.leaves += 1
            field = event.field(node.field)
            if field is None:
                names = ", ".join(each.name for each in event.fields)
                self.problems.append(
                    problem(f"{path}.field", f"is not a field of {event.name}; one of {names}")
                )
                return
            checked = self._operation(field.type, field.operators, node.op, node.value, path)
            if checked is not _BAD:
                node.value = checked

    def _operation(
        self, kind: str, operators: tuple[str, ...], op: str, value: Any, path: str
    ) -> Any:
        """The canonical value of `op value` on a field of type `kind`, or _BAD (reported)."""
        if op not in operators:
            self.problems.append(
                problem(
                    f"{path}.op",
                    f"{op!r} does not apply to a {kind}; use one of " + ", ".join(operators),
                )
            )
            return _BAD
        try:
            return canonical_value(kind, op, value)
        except ValueError as error:
            self.problems.append(problem(f"{path}.value", str(error)))
            return _BAD


_BAD = object()


def canonical_value(kind: str, op: str, value: Any) -> Any:
    """The value an operator takes on a field of type `kind`, in canonical form; ValueError
    with the reason when it does not fit."""
    if op in f.PRESENCE:
        if value is not None:
            raise ValueError(f"must be absent (or null) for {op}")
        return None
    if op == f.WITHIN_LAST_DAYS:
        if not _is_int(value) or not 1 <= value <= MAX_DAYS:
            raise ValueError(f"must be a whole number of days between 1 and {MAX_DAYS}")
        return value
    element = f.STRING if kind == f.STRING_LIST else kind
    if op == f.IN:
        if not isinstance(value, list) or not value:
            raise ValueError("must be a non-empty list of values")
        if len(value) > MAX_LIST_VALUES:
            raise ValueError(f"may list at most {MAX_LIST_VALUES} values")
        return [_scalar(element, each, op) for each in value]
    if op == f.BETWEEN:
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError("must be a list of two values, [low, high]")
        low, high = (_scalar(element, each, op) for each in value)
        if kind == f.MONEY and low["currency"] != high["currency"]:
            raise ValueError("must give both amounts in the same currency")
        if _order_key(kind, low) > _order_key(kind, high):
            raise ValueError("must have low ≤ high")
        return [low, high]
    return _scalar(element, value, op)


def _order_key(kind: str, value: Any) -> Any:
    return value["amount"] if kind == f.MONEY else value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_int(value)


def _scalar(kind: str, value: Any, op: str) -> Any:
    if kind == f.STRING:
        if not isinstance(value, str) or (op == f.CONTAINS and not value):
            raise ValueError(
                "must be a (non-empty) string" if op == f.CONTAINS else "must be a string"
            )
        if len(value) > MAX_TEXT:
            raise ValueError(f"must be at most {MAX_TEXT} characters")
        return value
    if kind == f.INTEGER:
        if not _is_int(value):
            raise ValueError("must be a whole number")
        return value
    if kind == f.NUMBER:
        if not _is_number(value):
            raise ValueError("must be a number")
        return value
    if kind == f.STRING_OR_NUMBER:
        if op in f.ORDERING:
            if not _is_number(value):
                raise ValueError(f"must be a number for {op} (only numeric scores are ordered)")
            return value
        if _is_number(value):
            return value
        return _scalar(f.STRING, value, op)
    if kind == f.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == f.TIMESTAMP:
        return _timestamp(value).isoformat().replace("+00:00", "Z")
    if kind == f.DATE:
        if not isinstance(value, str):
            raise ValueError("must be a date, YYYY-MM-DD")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("must be a date, YYYY-MM-DD") from None
    if kind == f.MONEY:
        return _money(value)
    raise ValueError(f"cannot be compared ({kind})")  # pragma: no cover - registry guards it


def _timestamp(value: Any) -> datetime:
    reason = "must be an ISO 8601 timestamp with a time zone, e.g. 2026-01-31T09:00:00Z"
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(reason)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(reason) from None
    if parsed.tzinfo is None:
        raise ValueError(reason)
    return parsed.astimezone(UTC)


def _money(value: Any) -> dict[str, Any]:
    reason = 'must be an amount in one currency, {"currency": "AUD", "amount": 500}'
    if not isinstance(value, dict) or set(value) != {"currency", "amount"}:
        raise ValueError(reason)
    currency, amount = value["currency"], value["amount"]
    if not isinstance(currency, str) or not _CURRENCY.match(currency.strip()):
        raise ValueError(reason)
    if not _is_number(amount):
        raise ValueError(reason)
    code = currency.strip().upper()
    # Amounts recorded without a currency are kept under "unspecified" (attributes/commerce).
    return {"currency": UNSPECIFIED if code == UNSPECIFIED.upper() else code, "amount": amount}


def timestamp_of(value: str) -> datetime:
    """A canonical timestamp value back as an aware datetime."""
    return _timestamp(value)


def referenced_segments(node: Node) -> set[str]:
    """The ids of every saved segment the definition names (for cycle checks)."""
    if isinstance(node, SegmentReference):
        return {node.segment_id}
    if isinstance(node, Group):
        return set().union(*(referenced_segments(child) for child in node.children))
    if isinstance(node, Not):
        return referenced_segments(node.child)
    return set()


def definition_json(node: Node) -> dict[str, Any]:
    """The canonical JSON of a parsed definition, with its version: what is stored and
    answered (defaults filled in, values normalised, absent optionals left out)."""
    dumped: dict[str, Any] = node.model_dump(mode="json", exclude_none=True)
    return {"version": DEFINITION_VERSION, **dumped}
