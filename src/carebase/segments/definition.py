"""A segment definition: a typed, versioned condition tree, validated with errors that name
each problem's node path (`definition.children[1].where.children[0].value`).

Profile conditions: `group` (op `and` | `or` | `at_least` with `min`), `not`, `attribute`,
`event` and `segment`. Inside an event condition's `where`: `group` (op `and` | `or`),
`not` and `event_field`. Parsing is two passes: pydantic checks the shape (a discriminated
union over `type`, unknown keys refused), then `_Checker` checks every name, operator and
value against `segments.fields` and puts values into canonical form.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from carebase.errors import FieldProblem, ValidationFailed, problem
from carebase.segments import fields as f
from carebase.segments.values import MAX_DAYS, canonical_value

DEFINITION_VERSION = 1
# Limits on one definition: nesting (the root is depth 1, a `where` tree counts too) and
# leaves (attribute, event, segment and event_field conditions together).
MAX_DEPTH = 6
MAX_LEAVES = 30
MAX_COUNT = 1_000_000
ROOT = "definition"


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
