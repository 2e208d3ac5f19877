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


@pytest.mark.parametrize(
    "body",
    [
        # Each was a 500 from POST /v1/templates/{id}/render (found with the seeded fuzz).
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",  # RecursionError
        "{{ {} | dictsort(by='x') }}",  # the filter's FilterArgumentError
        "{{ [1] | select('nosuch') | list }}",  # a test named at run time
        "{% if profile is nosuch %}x{% endif %}",  # inside a condition: found when rendered
        "{{ '{0}'.format() }}",  # IndexError
        "{{ 'x' | center(10 ** 12) }}",  # MemoryError
        # Too large for a reply: refused before the memory is taken.
        "{{ 'a' * 999999999 }}",
        "{{ [1] * 10 ** 9 }}",
        "{{ 2 ** (10 ** 9) }}",
        "{{ dict(a=1) | tojson(indent=10 ** 10) }}",
        "{{ 'x' | indent(10 ** 10) }}",
        "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
        "{{ lipsum(10 ** 6) }}",
    ],
)
def test_what_cannot_be_rendered_is_a_422_naming_body(body: str) -> None:
    check_syntax(body)
    with pytest.raises(ValidationFailed) as refused:
        render_body(body, {"profile": {"first_name": "Kim"}})
    assert refused.value.details[0]["field"] == "body"
    assert refused.value.details[0]["reason"].startswith("cannot be rendered: ")


def test_a_rendered_template_may_be_as_long_as_a_reply() -> None:
    assert len(render_body("{{ 'ab' * 5000 }}", {"profile": {}})) == 10_000
    assert render_body("{{ 3 * 4 }} {{ 2 ** 10 }} {{ 'x' | center(5) }}", {}) == "12 1024   x  "
    # A large number may be filtered; only a filter's own arguments are bounded.
    body = "{{ 123456 | tojson }} {{ 123456 | string }} {{ [20000, 3] | max }}"
    assert render_body(body, {}) == "123456 123456 20000"
    with pytest.raises(ValidationFailed):
        render_body("{{ 'ab' * 5000 }}!", {"profile": {}})


def test_an_unknown_filter_or_test_is_refused_when_saved() -> None:
    # It used to be saved, then fail every render.
    for body in ("{{ profile.first_name | nosuch }}", "{{ profile is nosuch }}"):
        with pytest.raises(ValidationFailed) as refused:
            check_syntax(body)
        assert refused.value.details[0]["field"] == "body"
        assert "is not a valid template" in refused.value.details[0]["reason"]
