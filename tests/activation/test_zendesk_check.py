"""Zendesk's "test connection": each step, and exactly what failed when one does."""

from __future__ import annotations

import socket

from carebase.activation.channel import ChannelContext
from carebase.activation.zendesk import open_channel
from tests.activation.zendesk_fake import FakeZendesk, UserField, serve_zendesk


def check(
    url: str, *, email: str, token: str, allow_private: bool = True
) -> list[tuple[str, bool, str]]:
    context = ChannelContext(
        config={"base_url": url, "email": email},
        secrets={"api_token": token},
        allow_private=allow_private,
        sleep=lambda _seconds: None,
    )
    return [(step.name, step.ok, step.detail) for step in open_channel(context).check()]


def test_every_step_passes_and_lists_the_user_fields() -> None:
    fields = [UserField("city"), UserField("tier", "dropdown", ("gold",))]
    with serve_zendesk(user_fields=fields) as zendesk:
        steps = check(zendesk.url, email=zendesk.email, token=zendesk.api_token)
    assert [(name, ok) for name, ok, _ in steps] == [
        ("reach the account", True),
        ("authenticate", True),
        ("read user fields", True),
    ]
    assert "role admin" in steps[1][2]
    assert steps[2][2] == "2 user fields: city, tier"


def test_a_wrong_token_fails_authentication_with_the_401(zendesk_fake: FakeZendesk) -> None:
    steps = check(zendesk_fake.url, email=zendesk_fake.email, token="wrong")
    assert [(name, ok) for name, ok, _ in steps] == [
        ("reach the account", True),
        ("authenticate", False),
    ]
    assert steps[1][2].startswith("401 Unauthorized")
    assert "wrong" not in steps[1][2]  # the token is never shown


def test_an_end_user_token_cannot_import_users() -> None:
    with serve_zendesk(agent_role="end-user") as zendesk:
        steps = check(zendesk.url, email=zendesk.email, token=zendesk.api_token)
    assert steps[-1][:2] == ("authenticate", False)
    assert "end user" in steps[-1][2]


def test_user_fields_that_cannot_be_read_fail_the_last_step() -> None:
    with serve_zendesk(refuse_user_fields=True) as zendesk:
        steps = check(zendesk.url, email=zendesk.email, token=zendesk.api_token)
    assert [ok for _, ok, _ in steps] == [True, True, False]
    assert steps[2][2].startswith("403 Forbidden")


def test_an_address_that_is_not_a_zendesk_account_fails_to_reach_it(
    zendesk_fake: FakeZendesk,
) -> None:
    steps = check(
        f"{zendesk_fake.url}/elsewhere", email=zendesk_fake.email, token=zendesk_fake.api_token
    )
    assert [(name, ok) for name, ok, _ in steps] == [("reach the account", False)]
    assert "404" in steps[0][2]
    assert "not a Zendesk account" in steps[0][2]


def test_a_host_that_does_not_answer_fails_to_reach_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    steps = check(f"http://127.0.0.1:{port}", email="a@b.test", token="t")
    assert [(name, ok) for name, ok, _ in steps] == [("reach the account", False)]
    assert "unreachable" in steps[0][2]


def test_a_private_address_is_refused_unless_allowed(zendesk_fake: FakeZendesk) -> None:
    steps = check(zendesk_fake.url, email="a@b.test", token="t", allow_private=False)
    assert [(name, ok) for name, ok, _ in steps] == [("reach the account", False)]
    assert "https only" in steps[0][2] or "non-public" in steps[0][2]
