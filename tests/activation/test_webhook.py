"""The webhook destination against a loopback receiver that verifies signatures: batches are
signed and deduplicated by batch id, retried on 5xx and 429, rejected per record or as a
whole, and a wrong endpoint fails the run."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from carebase.activation.channel import ChannelContext, ChannelFailed, Outcome, OutRecord
from carebase.activation.webhook import (
    KIND,
    PACING,
    WebhookChannel,
    WebhookConfig,
    verify_signature,
)
from carebase.db.session import Database
from carebase.kit.pacing import SharedPacer
from tests.activation.receiver import Receiver

DOCS = Path(__file__).resolve().parents[2] / "docs" / "destinations-webhook.md"


class Sleeps(list[float]):
    """A fake sleep that records each wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def channel_for(
    receiver: Receiver,
    *,
    sleeps: Sleeps | None = None,
    secret: str | None = None,
    allow_private: bool = True,
    **config: Any,
) -> WebhookChannel:
    """A channel to the receiver, as a run opens it."""
    context = ChannelContext(
        config=WebhookConfig.model_validate({"url": receiver.url, **config}).model_dump(),
        secrets={"signing_secret": secret or receiver.secret},
        mode="update_only",
        allow_private=allow_private,
        sleep=sleeps if sleeps is not None else Sleeps(),
        destination_id="dst_1",
        run_id="run_7",
        orchestration_id="orc_3",
    )
    channel = KIND.open(context)
    assert isinstance(channel, WebhookChannel)
    return channel


def batch(*keys: str) -> list[OutRecord]:
    return [OutRecord(key, {"email": f"{key}@example.com", "score": 1.5}) for key in keys]


def test_a_batch_is_posted_signed_with_its_batch_id(webhook_receiver: Receiver) -> None:
    channel = channel_for(webhook_receiver)
    submitted = channel.submit(batch("a", "b"), batch_id="run_7-1")
    channel.close()
    assert submitted.outcomes == [Outcome(ok=True, action="delivered")] * 2
    [delivery] = webhook_receiver.deliveries
    assert delivery.batch == {
        "orchestration_id": "orc_3",
        "run_id": "run_7",
        "batch_id": "run_7-1",
        "mode": "update_only",
        "records": [
            {"key": "a", "fields": {"email": "a@example.com", "score": 1.5}},
            {"key": "b", "fields": {"email": "b@example.com", "score": 1.5}},
        ],
    }
    headers = delivery.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-carebase-batch-id"] == "run_7-1"
    timestamp = headers["x-carebase-timestamp"]
    assert abs(int(timestamp) - time.time()) < 5
    assert re.fullmatch(r"v1=[0-9a-f]{64}", headers["x-carebase-signature"])
    secret, body, header = webhook_receiver.secret, delivery.body, headers["x-carebase-signature"]
    now = time.time()
    assert verify_signature(secret, timestamp, body, header, now=now)
    assert verify_signature(secret, timestamp, body, f"v1=00, {header}", now=now)
    assert not verify_signature(secret, timestamp, body + b" ", header, now=now)
    assert not verify_signature("whsec_another-secret-0000", timestamp, body, header, now=now)
    assert not verify_signature(secret, timestamp, body, header, now=int(timestamp) + 301)
    assert not verify_signature(secret, "soon", body, header, now=now)
    assert webhook_receiver.bad_signatures == 0


def test_a_5xx_is_retried_with_backoff_and_the_batch_id_dedupes(
    webhook_receiver: Receiver,
) -> None:
    sleeps = Sleeps()
    # Applied, then the answer lost; then down; then fine.
    webhook_receiver.fail_next(500, after_recording=True)
    webhook_receiver.fail_next(503, times=1)
    channel = channel_for(webhook_receiver, sleeps=sleeps)
    submitted = channel.submit(batch("a"), batch_id="run_7-1")
    channel.close()
    assert submitted.outcomes == [Outcome(ok=True, action="delivered")]
    # Backoff, besides the pacing's short waits.
    assert [s for s in sleeps if s >= 1] == [2.0, 4.0]
    assert len(webhook_receiver.requests) == 3
    assert {d.batch_id for d in webhook_receiver.requests} == {"run_7-1"}
    assert len(webhook_receiver.deliveries) == 1
    assert webhook_receiver.duplicates == 1


def test_a_429_waits_as_long_as_the_receiver_asks(webhook_receiver: Receiver) -> None:
    sleeps = Sleeps()
    webhook_receiver.fail_next(429, retry_after="7")
    channel = channel_for(webhook_receiver, sleeps=sleeps)
    assert channel.submit(batch("a"), batch_id="b1").outcomes == [Outcome(True, "delivered")]
    assert 7.0 in sleeps
    # Longer than a batch waits in place: the run fails, to be retried when asked.
    webhook_receiver.fail_next(429, retry_after="600")
    with pytest.raises(ChannelFailed) as failed:
        channel.submit(batch("b"), batch_id="b2")
    assert failed.value.retry_after == 600


def test_an_outage_fails_the_run_with_a_retry_after(webhook_receiver: Receiver) -> None:
    webhook_receiver.fail_next(502, times=6)
    channel = channel_for(webhook_receiver)
    with pytest.raises(ChannelFailed, match="502 6 times") as failed:
        channel.submit(batch("a"), batch_id="b1")
    assert failed.value.retry_after is not None
    assert webhook_receiver.deliveries == []


def test_the_receiver_rejects_records_one_by_one(webhook_receiver: Receiver) -> None:
    webhook_receiver.reject("b", "unknown_customer", "no customer b here")
    channel = channel_for(webhook_receiver)
    outcomes = channel.submit(batch("a", "b", "c"), batch_id="b1").outcomes
    assert outcomes == [
        Outcome(ok=True, action="delivered"),
        Outcome(ok=False, error_code="unknown_customer", message="no customer b here"),
        Outcome(ok=True, action="delivered"),
    ]


@pytest.mark.parametrize("status", [400, 422])
def test_a_4xx_rejects_the_whole_batch_with_the_receivers_message(
    webhook_receiver: Receiver, status: int
) -> None:
    sleeps = Sleeps()
    webhook_receiver.fail_next(status, message="field score must be an integer " + "x" * 600)
    channel = channel_for(webhook_receiver, sleeps=sleeps)
    outcomes = channel.submit(batch("a", "b"), batch_id="b1").outcomes
    assert outcomes is not None
    assert [(o.ok, o.error_code) for o in outcomes] == [(False, f"http_{status}")] * 2
    assert outcomes[0].message is not None
    assert outcomes[0].message.startswith("field score must be an integer xxx")
    assert len(outcomes[0].message) == 500
    assert [s for s in sleeps if s >= 1] == []  # not retried
    # The next batch goes on.
    assert channel.submit(batch("c"), batch_id="b2").outcomes == [Outcome(True, "delivered")]


@pytest.mark.parametrize("status", [401, 404, 410])
def test_a_wrong_endpoint_fails_the_run(webhook_receiver: Receiver, status: int) -> None:
    webhook_receiver.fail_next(status, message="who are you")
    channel = channel_for(webhook_receiver)
    with pytest.raises(ChannelFailed, match=f"answered {status}.*who are you") as failed:
        channel.submit(batch("a"), batch_id="b1")
    assert failed.value.retry_after is None


def test_a_redirect_is_not_followed_and_fails_the_run(webhook_receiver: Receiver) -> None:
    webhook_receiver.fail_next(308)
    channel = channel_for(webhook_receiver)
    with pytest.raises(ChannelFailed, match="answered 308: redirects are not followed"):
        channel.submit(batch("a"), batch_id="b1")
    webhook_receiver.fail_next(302)
    assert not channel.check()[-1].ok


def test_a_wrong_secret_is_refused_by_the_receiver(webhook_receiver: Receiver) -> None:
    channel = channel_for(webhook_receiver, secret="whsec_not-the-receivers-secret")
    with pytest.raises(ChannelFailed, match=r"401.*signature mismatch"):
        channel.submit(batch("a"), batch_id="b1")
    assert webhook_receiver.bad_signatures == 1
    steps = channel.check()
    assert [(s.name, s.ok) for s in steps] == [
        ("resolve and connect", True),
        ("signed test delivery accepted", False),
    ]
    assert "401" in steps[1].detail
    assert "signing secret" in steps[1].detail


def test_check_posts_an_empty_signed_test_batch(webhook_receiver: Receiver) -> None:
    steps = channel_for(webhook_receiver).check()
    assert [(s.name, s.ok) for s in steps] == [
        ("resolve and connect", True),
        ("signed test delivery accepted", True),
    ]
    [delivery] = webhook_receiver.deliveries
    assert delivery.headers["x-carebase-test"] == "1"
    assert delivery.batch["records"] == []
    assert delivery.batch_id.startswith("test-")


def test_private_and_plain_http_urls_are_refused_unless_allowed(
    webhook_receiver: Receiver,
) -> None:
    channel = channel_for(webhook_receiver, allow_private=False)
    steps = channel.check()
    assert [(s.name, s.ok) for s in steps] == [("resolve and connect", False)]
    assert "https only" in steps[0].detail
    with pytest.raises(ChannelFailed, match="https only"):
        channel.submit(batch("a"), batch_id="b1")
    https = channel_for(webhook_receiver, allow_private=False, url="https://127.0.0.1:9/hook")
    assert "non-public address" in https.check()[0].detail
    assert webhook_receiver.requests == []


def test_settings_and_secrets() -> None:
    secrets, shown_once = KIND.complete_secrets({})
    assert secrets["signing_secret"].startswith("whsec_")
    assert len(secrets["signing_secret"]) >= 6 + 43
    assert shown_once == secrets
    assert KIND.complete_secrets({"signing_secret": "mine-0123456789abcdef"})[1] == {}
    for url in ("ftp://example.com/x", "https://user:pw@example.com/x", "https://x.io/#f"):
        with pytest.raises(ValueError, match="url"):
            WebhookConfig(url=url)


def test_the_documented_verification_snippet_accepts_a_real_delivery(
    webhook_receiver: Receiver,
) -> None:
    [snippet] = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - the documented code, run verbatim
    verify = namespace["verify_carebase_request"]
    channel_for(webhook_receiver).submit(batch("a"), batch_id="b1")
    [delivery] = webhook_receiver.deliveries
    headers = {name.title(): value for name, value in delivery.headers.items()}
    assert verify(webhook_receiver.secret, headers, delivery.body) is True
    assert verify(webhook_receiver.secret, headers, delivery.body.replace(b"a@", b"b@")) is False
    assert verify("whsec_someone-else-0000000000", headers, delivery.body) is False
    assert verify(webhook_receiver.secret, {}, delivery.body) is False


def test_batches_book_the_destinations_shared_budget(
    webhook_receiver: Receiver, database: Database
) -> None:
    # Another process held this destination's budget for three seconds (a 429 it got).
    SharedPacer(database, "destination:dst_shared", PACING).hold(time.time() + 3)
    sleeps = Sleeps()
    context = ChannelContext(
        config={"url": webhook_receiver.url, "batch_size": 10},
        secrets={"signing_secret": webhook_receiver.secret},
        allow_private=True,
        sleep=sleeps,
        destination_id="dst_shared",
        database=database,
    )
    channel = KIND.open(context)
    assert channel.submit(batch("a"), batch_id="b1").outcomes == [Outcome(True, "delivered")]
    channel.close()
    assert 2.5 < sleeps[0] <= 3.0
