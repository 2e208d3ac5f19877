"""Every example request of Lexer's Activity API reference (activity-api.txt), sent as the
reference writes it — the same `curl` command line, run by the real `curl` binary — to a real
`carebase serve` process holding a scenario seeded in April 2018 (the examples' dates), with
only the host, the token, the form id and the export's placeholders replaced. Each answer must
have the documented sample's shape: the documented keys (extras only those the contract marks
+), the same JSON types, recursively.

The command lines and samples are copied from the reference verbatim into reference_samples.py
(CI cannot read it), except where noted there: the users sample's trailing comma (`789,`) is
the reference's typo, dropped before parsing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from carebase.db.session import Database
from carebase.settings import Settings
from tests.activity.compare import shape_differences
from tests.activity.reference_samples import (
    CASE_CLASSIFICATIONS_SAMPLE,
    CASE_SUMMARY_SAMPLE,
    CASE_VOLUME_SAMPLE,
    CLASSIFICATIONS_SAMPLE,
    DOWNLOAD_COMMAND,
    EXPORT_COMMAND,
    EXPORT_SAMPLE,
    FORM_SAMPLE,
    GET_FORMS,
    GET_GROUPS,
    GET_USERS,
    GROUP_SAMPLE,
    NPS_EXTRA,
    NPS_SUMMARY_SAMPLE,
    NPS_VOLUME_SAMPLE,
    RESPONSE_VOLUME_SAMPLE,
    STATES_SAMPLE,
    STATES_VOLUME_SAMPLE,
    STATUS_COMMAND,
    STATUS_SAMPLE,
    SUMMARY_SAMPLE,
    USER_SAMPLE,
    USER_SUMMARY_SAMPLE,
    USER_VOLUME_SAMPLE,
    report_command,
)
from tests.activity.scenario import seed
from tests.conftest import make_token
from tests.serverproc import RunningServer, running_server

needs_curl = pytest.mark.skipif(
    shutil.which("curl") is None, reason="the `curl` binary is not installed"
)

ENV = {"CAREBASE_JOB_POLL_SECONDS": "0.2", "CAREBASE_LOG_LEVEL": "WARNING"}
DOC_TOKEN = "12345678-1234-1234-1234-123456789"
HOSTS = ("https://clients.lexer.io/api/public", "https://api.lexer.io")

STATE_NAMES = frozenset(
    {"new", "assigned", "in_progress", "responded", "awaiting_approval", "redirected",
     "irrelevant", "duplicate", "closed", "no_response_required", "closed_thread"}
)  # fmt: skip
P90 = frozenset({"p90_response_time", "p90_action_response_time"})
NPS_EXTRAS = frozenset({"response_rate", "average_score"})

# (the reference's section, its command line, its sample, the contract's + fields)
REPORT_EXAMPLES: list[tuple[str, str, str, frozenset[str]]] = [
    (
        "Summary Metrics",
        report_command("summary"),
        SUMMARY_SAMPLE,
        P90
        | {"p90_response_time_min", "p90_action_response_time_min"}
        | {"response_time_count", "action_response_time_count"},
    ),
    (
        "Summary Volume",
        report_command("states_volume"),
        STATES_VOLUME_SAMPLE,
        STATE_NAMES | {"date_from_utc"},
    ),
    # The reference's "States" example says `"type": "user_volume"`, as Agent Volume does;
    # carebase serves the States totals as `states` (docs/activity.md), so this one line is
    # sent with that type.
    (
        "States",
        report_command("user_volume").replace('"user_volume"', '"states"'),
        STATES_SAMPLE,
        frozenset(),
    ),
    ("Classifications (Messages)", report_command("classifications"), CLASSIFICATIONS_SAMPLE,
     frozenset()),
    (
        "Response Time",
        report_command("response_volume"),
        RESPONSE_VOLUME_SAMPLE,
        frozenset({"avg_response_time_min", "responded", "date_from_utc"}),
    ),
    (
        "Agent Summary",
        report_command("user_summary"),
        USER_SUMMARY_SAMPLE,
        P90 | {"median_response_time", "median_action_response_time"},
    ),
    ("Agent Volume", report_command("user_volume"), USER_VOLUME_SAMPLE,
     frozenset({"closed_thread"})),
    ("Case Summary", report_command("case_summary"), CASE_SUMMARY_SAMPLE,
     frozenset({"p90_first_reply_time", "p90_resolution_time"})),
    ("Case Volume", report_command("case_volume"), CASE_VOLUME_SAMPLE,
     frozenset({"date_from_utc"})),
    ("Case Classifications", report_command("case_classifications"),
     CASE_CLASSIFICATIONS_SAMPLE, frozenset()),
    ("NPS Summary", report_command("nps_summary", NPS_EXTRA), NPS_SUMMARY_SAMPLE, NPS_EXTRAS),
    ("NPS Volume", report_command("nps_volume", NPS_EXTRA), NPS_VOLUME_SAMPLE, NPS_EXTRAS),
]  # fmt: skip


def test_the_command_lines_are_the_references() -> None:
    # Two of them in full, as the reference prints them (the rest differ only in the type).
    assert report_command("summary") == (
        """curl -H "Content-Type: application/json" -H "Auth-Api-Token: 12345678-1234-1234-1234-123456789" https://api.lexer.io/v1/activity/reports -d ' { "type": "summary", "date_from": "2018-04-01T00:00:00+11:00", "date_to": "2018-04-30T23:59:59+11:00" }'"""  # noqa: E501
    )
    assert report_command("nps_summary", NPS_EXTRA) == (
        """curl -H "Content-Type: application/json" -H "Auth-Api-Token: 12345678-1234-1234-1234-123456789" https://api.lexer.io/v1/activity/reports -d ' { "type": "nps_summary", "date_from": "2018-04-01T00:00:00+11:00", "date_to": "2018-04-30T23:59:59+11:00", "form": 123, "nps_category": "all" }'"""  # noqa: E501
    )


def test_the_docs_show_the_commands_this_module_sends() -> None:
    # docs/activity.md keeps the reference's command lines, with carebase's host.
    docs = Path(__file__).resolve().parents[2] / "docs" / "activity.md"
    shown = [
        line.strip() for line in docs.read_text().splitlines() if line.strip().startswith("curl")
    ]
    sent = {GET_USERS, GET_GROUPS, GET_FORMS, EXPORT_COMMAND, STATUS_COMMAND, DOWNLOAD_COMMAND}
    sent |= {command for _, command, _, _ in REPORT_EXAMPLES}
    assert len(shown) >= 8
    for line in shown:
        original = line.replace(
            "http://127.0.0.1:8000/v1/activity/reports/status",
            HOSTS[0] + "/v1/activity/reports/status",
        )
        original = original.replace("http://127.0.0.1:8000", HOSTS[1])
        assert original in sent, line


def sample(text: str) -> Any:
    """A documented sample as JSON (without the reference's trailing commas)."""
    return json.loads(re.sub(r",(\s*[\]}])", r"\1", text))


def run_curl(command: str, server: RunningServer, token: str, **placeholders: str) -> str:
    """Run a documented command line with the real curl: the host, the token and any
    placeholder replaced; its standard output."""
    for host in HOSTS:
        command = command.replace(host, server.url)
    command = command.replace(DOC_TOKEN, token)
    for old, new in placeholders.items():
        command = command.replace(old, new)
    args = shlex.split(command)
    assert args[0] == "curl"
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, (command, done.stderr)
    return done.stdout


def run_json(command: str, server: RunningServer, token: str, **placeholders: str) -> Any:
    out = run_curl(command, server, token, **placeholders)
    try:
        return json.loads(out)
    except ValueError:
        pytest.fail(f"not JSON from {command!r}: {out[:300]!r}")


def has_data(value: Any) -> bool:
    """Whether any number in the answer is not zero (the seeded April shows up)."""
    if isinstance(value, dict):
        return any(has_data(v) for v in value.values())
    if isinstance(value, list):
        return any(has_data(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0


@needs_curl
def test_every_documented_example_answers_the_documented_shape(
    database: Database, settings: Settings, database_url: str
) -> None:
    seeded = seed(database, settings)
    token = make_token(database, "activity:read", name="reference examples")
    problems: list[str] = []
    with running_server(database_url, env=ENV) as server:
        for command, text, name in (
            (GET_USERS, USER_SAMPLE, "GET Users"),
            (GET_GROUPS, GROUP_SAMPLE, "GET Groups"),
            (GET_FORMS, FORM_SAMPLE, "GET Forms"),
        ):
            answer = run_json(command, server, token)
            problems += [f"{name}: {p}" for p in shape_differences(answer, [sample(text)])]
        for name, command, text, extras in REPORT_EXAMPLES:
            answer = run_json(command, server, token, **{'"form": 123': f'"form": {seeded.form}'})
            problems += [f"{name}: {p}" for p in shape_differences(answer, sample(text), extras)]
            if not has_data(answer):
                problems.append(f"{name}: no data in {answer!r:.200}")
        # The States example sent exactly as printed (`"type": "user_volume"`) answers Agent
        # Volume: the one type has one meaning (docs/activity.md).
        as_printed = run_json(report_command("user_volume"), server, token)
        problems += [
            f"States as printed: {p}"
            for p in shape_differences(
                as_printed, sample(USER_VOLUME_SAMPLE), frozenset({"closed_thread"})
            )
        ]
    assert problems == [], "\n".join(problems)


@needs_curl
def test_the_csv_export_in_the_references_three_steps(
    database: Database, settings: Settings, database_url: str
) -> None:
    seed(database, settings)
    token = make_token(database, "activity:read", name="export")
    with running_server(database_url, env=ENV) as server:
        # 1. Initiate the export job.
        started = run_json(EXPORT_COMMAND, server, token)
        assert shape_differences(started, sample(EXPORT_SAMPLE)) == []
        assert started["status"] == "pending"
        assert started["url"] is None
        report_token = started["token"]
        assert isinstance(report_token, str)
        assert len(report_token) >= 16
        # 2. Retrieve the CSV file location (the in-process worker writes it meanwhile).
        deadline = time.monotonic() + 40
        while True:
            status = run_json(STATUS_COMMAND, server, token, **{"<report_token>": report_token})
            if status.get("status") != "pending" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        extras = frozenset({"rows", "error"})
        assert shape_differences(status, STATUS_SAMPLE, extras) == [], status
        assert status["status"] == "complete", status
        assert status["token"] == report_token
        assert status["rows"] == 2
        # The reference's `?status=` spelling answers the same.
        alias = STATUS_COMMAND.replace("?token=", "?status=")
        aliased = run_json(alias, server, token, **{"<report_token>": report_token})
        # The link is signed afresh on each call (it expires a set time after it is given):
        # the same file, with a signature of its own when a second has passed between calls.
        assert {**aliased, "url": None} == {**status, "url": None}
        assert aliased["url"].split("?")[0] == status["url"].split("?")[0]
        # 3. Download the CSV file, with a bare `curl <URL>`: no token.
        url = status["url"]
        assert url.startswith(server.url), url
        text = run_curl(DOWNLOAD_COMMAND, server, token, **{"<CSV File Location>": url})
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == 3, text[:500]  # the header and the two June 2019 mentions
        assert len({len(row) for row in rows}) == 1
