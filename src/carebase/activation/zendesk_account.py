"""Reading a Zendesk account: its custom user fields, and the connection test's steps."""

from __future__ import annotations

from typing import Any

from carebase.activation.channel import CheckStep
from carebase.activation.zendesk_fields import UserField
from carebase.http.outbound import OutboundClient, OutboundError, OutboundRefused

# `GET /api/v2/user_fields` pages by 100: this is 5,000 fields, far past any real account.
USER_FIELD_PAGES = 50
REACH, AUTHENTICATE, READ_FIELDS = "reach the account", "authenticate", "read user fields"


def read_user_fields(client: OutboundClient) -> dict[str, UserField]:
    """Every custom user field of the account, by key (following `next_page`)."""
    fields: dict[str, UserField] = {}
    url: str | None = "/api/v2/user_fields.json"
    for _ in range(USER_FIELD_PAGES):
        if url is None:
            break
        answer = client.get_json(url)
        page = answer if isinstance(answer, dict) else {}
        for body in page.get("user_fields") or []:
            if isinstance(body, dict) and body.get("key"):
                field = UserField.from_api(body)
                fields[field.key] = field
        following = page.get("next_page")
        url = str(following) if following else None
    return fields


def check_account(
    client: OutboundClient, base_url: str, email: str
) -> tuple[list[CheckStep], dict[str, UserField] | None]:
    """The connection test's steps, stopping at the first that fails; and the account's user
    fields when they were read."""
    try:
        me = client.get_json("/api/v2/users/me.json")
    except OutboundRefused as error:
        return [CheckStep(REACH, False, str(error))], None
    except OutboundError as error:
        if error.status is None or error.status == 404 or error.status >= 500:
            return [CheckStep(REACH, False, _unreachable(error))], None
        reached = CheckStep(REACH, True, f"{base_url} answered")
        return [reached, CheckStep(AUTHENTICATE, False, _refused(error, email))], None
    steps = [CheckStep(REACH, True, f"{base_url} answered")]
    ok, detail = _signed_in(me.get("user") if isinstance(me, dict) else None, email)
    steps.append(CheckStep(AUTHENTICATE, ok, detail))
    if not ok:
        return steps, None
    try:
        fields = read_user_fields(client)
    except OutboundError as error:
        return [*steps, CheckStep(READ_FIELDS, False, _read_failed(error))], None
    keys = sorted(fields)
    listed = ", ".join(keys[:20]) + (f" and {len(keys) - 20} more" if len(keys) > 20 else "")
    detail = f"{len(keys)} user fields" + (f": {listed}" if keys else "")
    return [*steps, CheckStep(READ_FIELDS, True, detail)], fields


def _unreachable(error: OutboundError) -> str:
    if error.status == 404:
        return f"{error}: this is not a Zendesk account's URL"
    return str(error)


def _refused(error: OutboundError, email: str) -> str:
    if error.status == 401:
        return f"401 Unauthorized: Zendesk refused {email}/token with this API token"
    if error.status == 403:
        return f"403 Forbidden: {email} may not use the API (is token access enabled?)"
    if error.status == 429:
        wait = f"; retry in {error.retry_after:.0f} s" if error.retry_after is not None else ""
        return f"429 Too Many Requests: the account's API budget is spent{wait}"
    return str(error)


def _signed_in(user: Any, email: str) -> tuple[bool, str]:
    if not isinstance(user, dict) or user.get("id") is None:
        return False, "Zendesk answered as the anonymous user: the credentials were not used"
    role = str(user.get("role") or "unknown")
    if role == "end-user":
        return False, (
            f"{email} is an end user; an admin (or an agent who may manage users) is needed"
        )
    return True, f"signed in as {email} (user {user['id']}, role {role})"


def _read_failed(error: OutboundError) -> str:
    if error.status == 403:
        return f"403 Forbidden: the agent may not list user fields ({error})"
    return str(error)
