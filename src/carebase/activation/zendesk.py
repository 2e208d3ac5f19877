"""Zendesk's Users API as a destination: records become Zendesk users, 100 a request, through
the asynchronous bulk endpoints (`create_or_update_many` to upsert, `update_many` to update
existing users only), whose jobs `poll` follows to one outcome per record.

Limits honoured (docs/destinations-zendesk.md): at most 100 users a request; the
destination's `users_per_second` (a request of n users books n / users_per_second seconds,
in a budget shared by every process when the run has a database); at most
`max_jobs_in_flight` jobs open (under Zendesk's 30); every 429 waits its Retry-After.
Sources: helpdesk-apis.md §1.5, activation-segments-anchors.md §3-4.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from carebase.activation.channel import (
    EXPIRED,
    ChannelContext,
    ChannelFailed,
    CheckStep,
    DestinationKind,
    Outcome,
    OutRecord,
    Submitted,
    WrittenFile,
)
from carebase.activation.zendesk_account import check_account, read_user_fields
from carebase.activation.zendesk_fields import FIELDS, USER_FIELDS, UserField, prepare_user
from carebase.activation.zendesk_jobs import (
    TERMINAL,
    UserPace,
    job_outcomes,
    spent_budget_pause,
)
from carebase.connectors.mapping import helpdesk_url
from carebase.http.outbound import (
    OutboundClient,
    OutboundDeferred,
    OutboundError,
    OutboundRefused,
    Pacing,
)

BATCH_SIZE = 100  # create_or_update_many and update_many take at most 100 users
SHOW_MANY = 100  # job_statuses/show_many takes at most 100 ids
# The longest one request waits in place (its pacing slot and 429 retries together); a longer
# wait fails the run with ChannelFailed(retry_after=…) so that it is tried again later.
IN_PLACE_WAIT = 300.0
# An outage outlasting the client's retries: the run is worth trying again after this.
OUTAGE_RETRY = 300.0


class ZendeskConfig(BaseModel):
    """A Zendesk account: its URL, the agent whose API token is used, and the pace."""

    model_config = ConfigDict(extra="forbid")

    # https://acme.zendesk.com (a bare subdomain, `acme`, is read as that)
    base_url: str = Field(min_length=3, max_length=500)
    email: str = Field(min_length=3, max_length=320)
    users_per_second: int = Field(default=100, ge=1, le=100)
    max_jobs_in_flight: int = Field(default=10, ge=1, le=29)
    # The region a phone number without + is read in (ISO 3166 alpha-2, e.g. AU); None:
    # numbers must be international (+61…).
    default_region: str | None = Field(default=None, min_length=2, max_length=2)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        url = helpdesk_url(value, "zendesk.com")
        if " " in url or not url.split("://", 1)[1]:
            raise ValueError("must be the account's URL, e.g. https://acme.zendesk.com")
        return url

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("must be a two-letter region code, e.g. AU")
        return region


class ZendeskSecrets(BaseModel):
    """The agent's API token."""

    model_config = ConfigDict(extra="forbid")

    api_token: str = Field(min_length=1, max_length=500)


class ZendeskChannel:
    """An open connection to one Zendesk account, for one run or one connection test."""

    batch_size = BATCH_SIZE
    whole_file = False

    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        self.config = ZendeskConfig.model_validate(context.config)
        self.secrets = ZendeskSecrets.model_validate(context.secrets)
        self.max_in_flight = self.config.max_jobs_in_flight
        bucket = f"destination:{context.destination_id}"
        self.pace = UserPace(self.config.users_per_second, context.database, bucket)
        self._client: OutboundClient | None = None
        self._fields: dict[str, UserField] | None = None
        # Each open job's number of records: its outcomes are returned in request order.
        self._batches: dict[str, int] = {}
        self._lock = threading.Lock()

    # ---- connection ---------------------------------------------------------------------

    def _open(
        self, *, attempts: int = 6, wait_limit: float | None = IN_PLACE_WAIT
    ) -> OutboundClient:
        context = self.context
        return OutboundClient(
            self.config.base_url,
            auth=(f"{self.config.email}/token", self.secrets.api_token),
            pacing=Pacing(requests=self.config.users_per_second, seconds=1.0),
            pacer=self.pace,
            allow_private=context.allow_private,
            transport=context.transport,
            sleep=context.sleep,
            clock=context.timer,
            attempts=attempts,
            wait_limit=wait_limit,
            started_wait_limit=wait_limit,
            stop=context.stop,
            service="Zendesk",
        )

    def _http(self) -> OutboundClient:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._open()
                except OutboundError as error:
                    raise _failed(error) from error
            return self._client

    def close(self) -> None:
        """Release connections."""
        if self._client is not None:
            self._client.close()

    # ---- records ------------------------------------------------------------------------

    def prepare(self, record: OutRecord) -> dict[str, Any]:
        """The Zendesk user to send for this record, or RecordInvalid (zendesk_fields)."""
        return prepare_user(
            record.fields,
            mode=self.context.mode,
            default_region=self.config.default_region,
            user_fields=self.user_fields,
        )

    def user_fields(self) -> dict[str, UserField]:
        """The account's custom user fields by key (read once per channel)."""
        if self._fields is None:
            try:
                self._fields = read_user_fields(self._http())
            except OutboundError as error:
                raise _failed(error) from error
        return self._fields

    def submit(self, records: Sequence[OutRecord], *, batch_id: str) -> Submitted:
        """Queue one bulk job for up to 100 prepared records; its job id is the handle."""
        if not records:
            return Submitted(outcomes=[])
        if len(records) > BATCH_SIZE:
            raise ValueError(f"Zendesk takes at most {BATCH_SIZE} users a request")
        users = [_user(record.fields) for record in records]
        if self.context.mode == "update_only":
            answer = self._call("PUT", "/api/v2/users/update_many.json", body={"users": users})
        else:
            # An upsert applied twice leaves the same user: safe to retry on a 5xx.
            answer = self._call(
                "POST",
                "/api/v2/users/create_or_update_many.json",
                body={"users": users},
                idempotent=True,
            )
        job = answer.get("job_status") if isinstance(answer, dict) else None
        if not isinstance(job, dict) or not job.get("id"):
            raise ChannelFailed("Zendesk accepted the users but answered without a job status")
        handle = str(job["id"])
        with self._lock:
            self._batches[handle] = len(records)
        return Submitted(handle=handle)

    def poll(self, handles: Sequence[str]) -> Mapping[str, list[Outcome] | str | None]:
        """Each job's outcomes in request order once it ended (completed, failed, killed),
        None while it runs, EXPIRED when Zendesk no longer lists it (records to send again).
        A handle this channel did not submit (a run resumed after a restart) still maps
        by position, to as many outcomes as the job's total."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(handles), SHOW_MANY):
            chunk = list(handles[start : start + SHOW_MANY])
            answer = self._call(
                "GET", "/api/v2/job_statuses/show_many.json", params={"ids": ",".join(chunk)}
            )
            listed = answer.get("job_statuses") if isinstance(answer, dict) else None
            for job in listed or []:
                if isinstance(job, dict) and job.get("id") is not None:
                    found[str(job["id"])] = job
        states: dict[str, list[Outcome] | str | None] = {}
        for handle in handles:
            job = found.get(handle)
            if job is None:
                states[handle] = EXPIRED
                with self._lock:
                    self._batches.pop(handle, None)
            elif str(job.get("status")) in TERMINAL:
                with self._lock:
                    count = self._batches.pop(handle, None)
                states[handle] = job_outcomes(job, count)
            else:
                states[handle] = None
        return states

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One paced request (a bulk request books its users' share of the budget); its JSON,
        or ChannelFailed. When Zendesk says the account's budget is spent
        (`X-Rate-Limit-Remaining: 0`), nothing more goes to it until the budget resets."""
        # A bulk request books its users on the users budget; a read (0) books on the reads'.
        users = len(body["users"]) if isinstance(body, dict) and "users" in body else 0
        try:
            with self.pace.carrying(users):
                response = self._http().request(
                    method, path, params=params, json=body, idempotent=idempotent
                )
        except OutboundError as error:
            raise _failed(error) from error
        pause = spent_budget_pause(response.headers)
        if pause:
            self.pace.hold(self.context.timer() + pause)
        try:
            return response.json() if response.content else None
        except ValueError as error:
            raise ChannelFailed("Zendesk answered with something that is not JSON") from error

    def write_file(self, records: Iterable[OutRecord]) -> WrittenFile:
        """Not a whole-file destination."""
        raise NotImplementedError("Zendesk takes records, not files")

    # ---- test connection -----------------------------------------------------------------

    def check(self) -> list[CheckStep]:
        """Reach the account, authenticate, read its user fields: each step, stopping at the
        first that fails, saying exactly what failed."""
        try:
            # One attempt, no waiting: a connection test says what happened, at once.
            client = self._open(attempts=1, wait_limit=None)
        except OutboundError as error:
            return [CheckStep("reach the account", False, str(error))]
        try:
            steps, fields = check_account(client, self.config.base_url, self.config.email)
        finally:
            client.close()
        if fields is not None:
            self._fields = fields
        return steps


def _user(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The user object to send: prepared fields, with any `user_fields.<key>` gathered."""
    user: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in fields.items():
        if name == USER_FIELDS and isinstance(value, Mapping):
            custom.update(value)
        elif name.startswith(USER_FIELDS + "."):
            custom[name[len(USER_FIELDS) + 1 :]] = value
        else:
            user[name] = value
    if custom:
        user[USER_FIELDS] = custom
    return user


def _failed(error: OutboundError) -> ChannelFailed:
    """What stops a run, from what Zendesk (or the network) answered."""
    if isinstance(error, OutboundRefused):
        return ChannelFailed(f"Zendesk destination refused: {error}")
    if isinstance(error, OutboundDeferred):
        return ChannelFailed(
            f"Zendesk's pace leaves no room now ({error}); the run can resume later",
            retry_after=error.retry_after,
        )
    status = error.status
    if status == 401:
        return ChannelFailed(
            "Zendesk refused the credentials (401): check the agent's email and API token"
        )
    if status == 403:
        return ChannelFailed(
            "bulk imports are not enabled for this Zendesk account, or the agent may not "
            "manage users (403): ask Zendesk support to enable data imports, or use an "
            "admin's token"
        )
    if status == 404:
        return ChannelFailed(f"{error}: is base_url the account's Zendesk URL?")
    if status is None or status == 429 or status >= 500:
        wait = error.retry_after if error.retry_after is not None else OUTAGE_RETRY
        return ChannelFailed(f"{error}; try again later", retry_after=wait)
    return ChannelFailed(str(error))


def open_channel(context: ChannelContext) -> ZendeskChannel:
    """A channel to the account's Users API (nothing is sent until it is used)."""
    return ZendeskChannel(context)


KIND = DestinationKind(
    name="zendesk",
    title="Zendesk Users API",
    config_model=ZendeskConfig,
    secrets_model=ZendeskSecrets,
    modes=("upsert", "update_only"),
    open=open_channel,
    fields=FIELDS,
)
