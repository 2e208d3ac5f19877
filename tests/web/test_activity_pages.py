"""The Activity dashboard over HTTP, on both engines: each tab shows the registry's numbers
(KPIs, a chart with its data, tables), the filters in the query string change them, every
table downloads as exactly the CSV it shows (formula-safe), bad filter values are an inline
message (never a 500), and only signed-in people (agents too) see it."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.datastructures import QueryParams

from carebase.activity.timebuckets import Window
from carebase.db.session import Database
from carebase.web.pages.activity_filters import quick_ranges, read_filters
from carebase.web.pages.activity_model import (
    DURATION,
    PERCENT,
    Column,
    Table,
    cell_text,
    time_axis,
)
from tests.activity.case_helpers import add_answer, add_case, add_form, add_invitation
from tests.activity.conftest import Seed
from tests.conftest import FakeClock
from tests.console_session import ConsoleUser
from tests.web.console import console

# The fake clock reads Monday 2026-11-23 12:00 UTC; the report zone is UTC.
FRI, SAT, SUN = (datetime(2026, 11, d, 10, 0, tzinfo=UTC) for d in (20, 21, 22))
# Wednesday to Sunday: daily buckets (hourly below 4 days).
RANGE = "from=2026-11-18&to=2026-11-22"


@dataclass(frozen=True)
class Data:
    """What the seeded installation holds."""

    agent_id: int
    manager_id: int
    form_id: int


@pytest.fixture
def data(database: Database, clock: FakeClock, people: dict[str, ConsoleUser]) -> Data:
    """Three mentions (closed, responded late, new), a closed case and an NPS survey."""
    agent, manager = people["agent"].id, people["manager"].id
    seed = Seed(database, clock)
    billing = seed.classification("=HYPERLINK(1)")
    seed.mention(
        published_at=FRI,
        state="closed",
        assignee_id=agent,
        first_responder_id=agent,
        response_s=600,
        action_s=300,
        broke_sla=False,
        broke_action_sla=False,
        responded_in_private=False,
        classifications=[billing],
    )
    seed.mention(
        published_at=SAT,
        state="responded",
        assignee_id=agent,
        first_responder_id=agent,
        response_s=9000,
        action_s=3600,
        broke_sla=True,
        broke_action_sla=False,
        responded_in_private=True,
    )
    seed.mention(published_at=SUN)
    with database.unit_of_work() as session:
        add_case(
            session,
            FRI,
            SAT,
            first_reply_s=600,
            resolution_s=7200,
            agent_replies=2,
            agents_involved=1,
        )
        form_id = add_form(session, FRI)
        for _ in range(2):
            add_invitation(session, form_id, FRI, agent, [])
        add_answer(session, form_id, SAT, 10, agent)
        add_answer(session, form_id, SAT, 3, agent)
    return Data(agent, manager, form_id)


def _kpis(response: httpx.Response) -> dict[str, str]:
    found = re.findall(
        r"<dt>(.*?)</dt>\s*<dd><span class=\"activity-kpi__value\">(.*?)</span>", response.text
    )
    return {html.unescape(k): html.unescape(v) for k, v in found}


def _chart(response: httpx.Response, chart_id: str) -> dict[str, object]:
    found = re.search(
        rf'<script type="application/json" id="chart-{chart_id}-data">(.*?)</script>',
        response.text,
        flags=re.S,
    )
    assert found is not None, response.text[:3000]
    assert f'<canvas id="chart-{chart_id}"' in response.text
    spec: dict[str, object] = json.loads(found.group(1))
    return spec


def test_summary_shows_the_registry_numbers(manager: TestClient, data: Data) -> None:
    page = manager.get(f"/activity?{RANGE}")
    assert page.status_code == 200, page.text[:2000]
    kpis = _kpis(page)
    assert kpis["Total"] == "3"
    assert kpis["Responded"] == "66.7 %"
    assert kpis["Customer time"] == "1 h 20 min"  # (600 s + 9000 s) / 2
    assert kpis["Response time"] == "32 min"  # (300 s + 3600 s) / 2
    assert kpis["Over SLA"] == "50.0 %"
    spec = _chart(page, "states-volume")
    assert spec["labels"] == ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"]
    assert spec["weekend"] == [False, False, False, True, True]
    assert spec["y_title"] == "Mentions (count)"
    series = {s["label"]: s["values"] for s in spec["series"]}  # type: ignore[attr-defined]
    assert series == {
        "New": [0, 0, 0, 0, 1],
        "Responded": [0, 0, 0, 1, 0],
        "Closed": [0, 0, 1, 0, 0],
    }
    assert "Top classifications" in page.text
    assert 'href="/activity/summary.csv?table=states&amp;from=2026-11-18' in page.text


def test_each_tab_renders_its_charts_and_tables(manager: TestClient, data: Data) -> None:
    team = manager.get(f"/activity/team?{RANGE}")
    assert team.status_code == 200
    assert _chart(team, "user-volume")["labels"] == ["Alex Agent"]
    sla = manager.get(f"/activity/sla?{RANGE}")
    assert _kpis(sla)["Median customer time"] == "1 h 20 min"
    assert _chart(sla, "response-volume")["series"] == [
        {
            "label": "Average customer time (min)",
            "values": [None, None, 10.0, 150.0, None],
            "colour": "#1d5fbf",
        }
    ]
    cases = manager.get(f"/activity/cases?{RANGE}")
    kpis = _kpis(cases)
    assert (kpis["Closed"], kpis["First reply"], kpis["Resolution"]) == ("1", "10 min", "2 h")
    assert kpis["Agent interactions"] == "2.0"
    assert _chart(cases, "case-volume")["series"][0]["values"] == [0, 0, 1, 1, 0]  # type: ignore[index]
    nps = manager.get(f"/activity/nps?{RANGE}")
    kpis = _kpis(nps)
    assert (kpis["NPS"], kpis["Sent"], kpis["Received"]) == ("0.0", "2", "2")
    assert kpis["Response rate"] == "100.0 %"
    assert f'<option value="{data.form_id}" selected>' in nps.text
    bars = {s["label"]: s["values"] for s in _chart(nps, "nps-volume")["series"]}  # type: ignore[attr-defined]
    assert bars == {
        "Promoters": [0, 0, 0, 1, 0],
        "Passives": [0, 0, 0, 0, 0],
        "Detractors": [0, 0, 0, 1, 0],
    }


def test_filters_change_the_numbers(manager: TestClient, data: Data) -> None:
    assert _kpis(manager.get(f"/activity?{RANGE}&users={data.manager_id}"))["Total"] == "0"
    assert _kpis(manager.get(f"/activity?{RANGE}&users={data.agent_id}"))["Total"] == "2"
    one_day = manager.get("/activity?from=2026-11-22&to=2026-11-22")
    assert _kpis(one_day)["Total"] == "1"
    labels = _chart(one_day, "states-volume")["labels"]
    assert isinstance(labels, list)
    assert len(labels) == 24
    assert labels[0] == "2026-11-22 00:00"
    # The default is the last 30 days, ending today in the report zone.
    default = manager.get("/activity")
    assert 'name="from" value="2026-10-25"' in default.text
    assert 'name="to" value="2026-11-23"' in default.text
    assert _kpis(default)["Total"] == "3"
    # Every quick range is a range the registry accepts (12 months included).
    block = default.text.split('class="activity-ranges"', 1)[1].split("</ul>", 1)[0]
    ranges = re.findall(r'<a href="([^"]+)"', block)
    assert len(ranges) == 4
    for link in ranges:
        assert manager.get(html.unescape(link)).status_code == 200, link
    # The chosen agent stays chosen, and the tabs keep the filters.
    chosen = manager.get(f"/activity?{RANGE}&users={data.agent_id}")
    assert f'<option value="{data.agent_id}" selected>' in chosen.text
    assert (
        f'href="/activity/team?{RANGE.replace("&", "&amp;")}&amp;users={data.agent_id}"'
        in chosen.text
    )


def test_csv_downloads_are_exactly_the_tables(manager: TestClient, data: Data) -> None:
    states = manager.get(f"/activity/summary.csv?table=states&{RANGE}")
    assert states.status_code == 200
    assert states.headers["content-type"].startswith("text/csv")
    assert (
        "activity-summary-states-2026-11-18-2026-11-22.csv" in states.headers["content-disposition"]
    )
    assert states.text == "State,Count\r\nNew,1\r\nResponded,1\r\nClosed,1\r\n"
    labels = manager.get(f"/activity/summary.csv?table=classifications&{RANGE}")
    assert labels.text == "Classification,Mentions\r\n'=HYPERLINK(1),1\r\n"
    agents = manager.get(f"/activity/team.csv?table=user_summary&{RANGE}")
    assert agents.text.splitlines() == [
        "Agent,Involved,Responded,Responded (%),Private (%),Customer time (min),"
        "Response time (min),Over customer SLA (%),Over agent SLA (%)",
        "Alex Agent,2,2,100.0,50.0,80.0,32.5,50.0,0.0",
    ]
    volume = manager.get(f"/activity/sla.csv?table=response_volume&{RANGE}")
    assert volume.text.splitlines() == [
        "Day,Responded,Average customer time (min)",
        "2026-11-18,0,",
        "2026-11-19,0,",
        "2026-11-20,1,10.0",
        "2026-11-21,1,150.0",
        "2026-11-22,0,",
    ]
    nps = manager.get(f"/activity/nps.csv?table=nps_volume&{RANGE}&form={data.form_id}")
    assert nps.text.splitlines()[4] == "2026-11-21,0.0,1,0,1,0,2"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "Start date: enter a date like 2026-04-01"),
        ("to=2026-13-01", "End date: enter a date like 2026-04-01"),
        ("users=abc", "Agents: “abc” is not one of the choices."),
        ("groups=-1", "Groups: “-1” is not one of the choices."),
        ("from=2025-01-01&to=2026-11-01", "The date range is too long"),
        ("from=2026-12-01&to=2026-12-02", "The start date is in the future"),
        ("from=2026-11-10&to=2026-11-01", "The end date must not be before the start date."),
    ],
)
def test_bad_filters_are_an_inline_message(
    manager: TestClient, data: Data, query: str, message: str
) -> None:
    page = manager.get(f"/activity?{query}")
    assert page.status_code == 400
    assert 'role="alert"' in page.text
    assert message in html.unescape(page.text)
    assert "<canvas" not in page.text
    download = manager.get(f"/activity/summary.csv?table=states&{query}")
    assert download.status_code == 400
    assert message in download.text


def test_unknown_survey_tab_or_table(manager: TestClient, data: Data) -> None:
    missing = manager.get(f"/activity/nps?{RANGE}&form=999999")
    assert missing.status_code == 400
    assert "That survey does not exist any more" in html.unescape(missing.text)
    assert manager.get(f"/activity/summary.csv?table=nope&{RANGE}").status_code == 404
    assert manager.get(f"/activity/nope.csv?table=states&{RANGE}").status_code == 404


def test_nps_without_a_survey_says_what_to_do(manager: TestClient) -> None:
    page = manager.get("/activity/nps")
    assert page.status_code == 200
    assert "No NPS survey yet" in page.text


def test_agents_may_look_and_others_sign_in(app: FastAPI, agent: TestClient, data: Data) -> None:
    page = agent.get(f"/activity?{RANGE}")
    assert page.status_code == 200
    assert '<a href="/activity" aria-current="page">' in page.text
    with console(app) as anonymous:
        for path in ("/activity", "/activity/team", f"/activity/summary.csv?table=states&{RANGE}"):
            answer = anonymous.get(path)
            assert answer.status_code in (303, 401), path
            assert "Total" not in answer.text


def test_read_filters_defaults_and_problems() -> None:
    now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    filters = read_filters(QueryParams("users=3&users=2&users=3"), zone="Asia/Tokyo", now=now)
    # Already the 24th in Tokyo: the 30 days end there.
    assert (filters.date_from, filters.date_to) == (date(2026, 10, 26), date(2026, 11, 24))
    assert filters.users == (2, 3)
    assert filters.problems == ()
    bad = read_filters(QueryParams("from=x&form=0"), zone="UTC", now=now)
    assert len(bad.problems) == 2
    assert bad.form is None
    ranges = quick_ranges(filters, zone="Asia/Tokyo", now=now)
    assert [r.label for r in ranges] == ["Today", "7 days", "30 days", "12 months"]
    assert [r.current for r in ranges] == [False, False, True, False]
    assert ranges[3].query.startswith("from=2025-11-25&to=2026-11-24&users=2&users=3")


def test_time_axis_shades_weekends_and_cells_read_as_people_do() -> None:
    zone = ZoneInfo("UTC")
    window = Window(
        datetime(2026, 11, 6, tzinfo=zone), datetime(2026, 11, 10, 23, 59, 59, tzinfo=zone), zone
    )
    axis = time_axis(window)
    assert axis.labels[0] == "2026-11-06"
    assert axis.weekend == [False, True, True, False, False]
    assert cell_text(5400, DURATION) == "1 h 30 min"
    assert cell_text(None, PERCENT) == "\u2014"
    table = Table("t", "T", [Column("Who"), Column("Wait", DURATION), Column("Share", PERCENT)])
    table.rows = [["@x", 90, 0.125], ["+1", None, None]]
    assert table.csv() == "Who,Wait (min),Share (%)\r\n'@x,1.5,12.5\r\n'+1,,\r\n"
