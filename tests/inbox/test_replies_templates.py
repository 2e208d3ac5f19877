"""The template sandbox, tested directly: nothing reaches Python internals, whatever the
template tries; missing values render empty."""

from __future__ import annotations

import pytest

from carebase.errors import ValidationFailed
from carebase.inbox.templates import check_syntax, render_body


def test_missing_values_render_empty_and_none_is_not_printed() -> None:
    profile = {"first_name": "Kim", "last_name": None, "loyalty": {"tier": "gold"}}
    body = (
        "{{ profile.first_name }}|{{ profile.last_name }}|{{ profile.loyalty.tier }}"
        "|{{ profile.x.y.z }}"
    )
    assert render_body(body, {"profile": profile}) == "Kim||gold|"
    assert render_body("{{ profile.first_name or 'there' }}", {"profile": {}}) == "there"


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ profile.get.__globals__ }}",
        "{{ (profile|attr('__class__')).__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.system('id') }}",
        "{{ profile.items.__self__.__class__.__base__.__subclasses__() }}",
    ],
)
def test_no_template_reaches_python_internals(body: str) -> None:
    # Either refused (a 422 naming `body`) or rendered as nothing: never an object's insides.
    assert _outcome(body) in ("refused", "")


def _outcome(body: str) -> str:
    try:
        return render_body(body, {"profile": {"first_name": "Kim"}})
    except ValidationFailed as refused:
        return "refused" if refused.details[0]["field"] == "body" else "wrong field"


def test_private_attributes_are_refused_when_saved() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_syntax("{{ profile.first_name.__class__ }}")
    assert refused.value.details == [
        {"field": "body", "reason": "may not use the private attribute '__class__'"}
    ]
    check_syntax("Hi {{ profile.first_name | default('there') }}")
