"""The read-only grant a verified Zendesk POST leaves in the embed's cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carebase.embeds import grants
from tests.embeds.keys import AUDIENCE

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = "k" * 40


def issue(**changes: object) -> str:
    values: dict[str, object] = {
        "host": "zendesk",
        "audience": AUDIENCE,
        "subject": "zd-agent-42",
        "now": NOW,
        "lifetime": timedelta(hours=12),
    }
    values.update(changes)
    return grants.issue(KEY, **values)  # type: ignore[arg-type]


def test_a_grant_reads_back_until_it_expires() -> None:
    value = issue()
    grant = grants.read(KEY, value, audience=AUDIENCE, now=NOW + timedelta(hours=11))
    assert grant is not None
    assert (grant.host, grant.subject) == ("zendesk", "zd-agent-42")
    assert grant.expires_at == NOW + timedelta(hours=12)
    assert grants.read(KEY, value, audience=AUDIENCE, now=NOW + timedelta(hours=12)) is None


def test_a_grant_ends_when_the_installation_changes_or_the_embed_is_off() -> None:
    value = issue()
    assert grants.read(KEY, value, audience=AUDIENCE.replace("1.json", "2.json"), now=NOW) is None
    assert grants.read(KEY, value, audience=None, now=NOW) is None


def test_only_carebase_can_make_a_grant() -> None:
    value = issue()
    assert grants.read("x" * 40, value, audience=AUDIENCE, now=NOW) is None
    payload, _, signature = value.partition(".")
    forged = issue(now=NOW + timedelta(days=300)).partition(".")[0] + "." + signature
    assert grants.read(KEY, forged, audience=AUDIENCE, now=NOW) is None
    for garbage in ["", "abc", "a.b", "a.b.c", "é.é", payload, "." * 2000, None]:
        assert grants.read(KEY, garbage, audience=AUDIENCE, now=NOW) is None
