"""Each Activity tab's reports (by registry name) and how their answers become KPIs, charts
and tables. Only the registry computes: this module arranges its answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from carebase.inbox.workflow import STATES
from carebase.web.pages.activity_filters import Results
from carebase.web.pages.activity_model import (
    COUNT,
    DURATION,
    PERCENT,
    Chart,
    Column,
    Kpi,
    Series,
    Table,
    TabView,
    name_of,
    point_values,
    ratio,
    time_axis,
    words,
)
from carebase.web.pages.activity_tabs_more import ACCENT, cases_tab, nps_tab, spread

# One colour per workflow state, everywhere (Okabe-Ito first: told apart by most eyes);
# every chart also names its series in a legend and has a table.
STATE_COLOURS = {
    "new": "#0072b2",
    "assigned": "#e69f00",
    "in_progress": "#56b4e9",
    "responded": "#009e73",
    "awaiting_approval": "#cc79a7",
    "follow_up": "#d55e00",
    "redirected": "#8c6d31",
    "irrelevant": "#7f7f7f",
    "duplicate": "#b8860b",
    "closed": "#332288",
    "no_response_required": "#88ccee",
    "closed_thread": "#aa4499",
}


def summary_tab(results: Results) -> TabView:
    """Volume per state, the headline KPIs, the States table and top classifications."""
    view = TabView()
    stats = results.get("summary")
    if stats is not None:
        total, responded = stats.get("total_volume"), stats.get("total_responded_to")
        view.kpis = [
            Kpi("Total", total),
            Kpi("Responded", ratio(responded, total), PERCENT, f"{responded or 0:,} mentions"),
            Kpi(
                "Customer time",
                stats.get("avg_response_time"),
                DURATION,
                "average · " + spread(stats, "response_time"),
            ),
            Kpi(
                "Response time",
                stats.get("avg_action_response_time"),
                DURATION,
                "average · " + spread(stats, "action_response_time"),
            ),
            Kpi(
                "Over SLA",
                ratio(stats.get("broke_sla"), responded),
                PERCENT,
                f"{stats.get('broke_sla') or 0:,} of the responded",
            ),
            Kpi("Slowest", stats.get("max_response_time"), DURATION, "customer time"),
        ]
    volume = results.get("states_volume")
    if volume is not None and results.window is not None:
        axis = time_axis(results.window)
        size = len(axis.labels)
        shown = [s for s in STATES if any(point_values(volume.get(s), size))]
        series = [
            Series(words(s), point_values(volume.get(s), size), STATE_COLOURS.get(s, ACCENT))
            for s in shown
        ]
        table = Table(
            "states_volume",
            "Mentions per state",
            [Column(axis.title.split(" (")[0]), *(Column(x.label, COUNT) for x in series)],
            [[label, *(x.values[i] for x in series)] for i, label in enumerate(axis.labels)],
        )
        view.charts.append(
            Chart(
                "states-volume",
                "Mentions per state",
                "line",
                axis.title,
                "Mentions (count)",
                axis.labels,
                series,
                table,
                weekend=axis.weekend,
                description="Mentions published in each period, by their current state.",
            )
        )
    states = results.get("states")
    if states is not None:
        view.tables.append(
            Table(
                "states",
                "States",
                [Column("State"), Column("Count", COUNT)],
                [[words(r["state"]), r["volume"]] for r in states],
            )
        )
    labels = results.get("classifications")
    if labels is not None:
        top = sorted(
            (r for r in labels if r.get("state") == "all_states"),
            key=lambda r: (-int(r.get("volume") or 0), r.get("classification_id") or 0),
        )
        view.tables.append(
            Table(
                "classifications",
                "Top classifications",
                [Column("Classification"), Column("Mentions", COUNT)],
                [[r["classification"], r["volume"]] for r in top],
            )
        )
    return view


def team_tab(results: Results) -> TabView:
    """Per-agent stacked state bars and the agent table."""
    view = TabView()
    volume = results.get("user_volume")
    if volume is not None:
        names = [name_of(r) for r in volume]
        shown = [s for s in STATES if any((r.get("states") or {}).get(s) for r in volume)]
        series = [
            Series(
                words(s),
                [int((r.get("states") or {}).get(s) or 0) for r in volume],
                STATE_COLOURS.get(s, ACCENT),
            )
            for s in shown
        ]
        table = Table(
            "user_volume",
            "Mentions per agent and state",
            [Column("Agent"), Column("All", COUNT), *(Column(x.label, COUNT) for x in series)],
            [
                [n, (r.get("states") or {}).get("all_states"), *(x.values[i] for x in series)]
                for i, (n, r) in enumerate(zip(names, volume, strict=True))
            ],
            empty="No mentions were assigned in this range.",
        )
        view.charts.append(
            Chart(
                "user-volume",
                "Mentions per agent, by current state",
                "bar",
                "Agent",
                "Mentions (count)",
                names,
                series,
                table,
                stacked=True,
                description="Mentions assigned to each agent, stacked by their current state.",
            )
        )
    agents = results.get("user_summary")
    if agents is not None:
        view.tables.append(_agent_table(agents))
    return view


def _agent_table(agents: list[dict[str, Any]]) -> Table:
    return Table(
        "user_summary",
        "Agents",
        [
            Column("Agent"),
            Column("Involved", COUNT),
            Column("Responded", COUNT),
            Column("Responded", PERCENT),
            Column("Private", PERCENT),
            Column("Customer time", DURATION),
            Column("Response time", DURATION),
            Column("Over customer SLA", PERCENT),
            Column("Over agent SLA", PERCENT),
        ],
        [
            [
                name_of(r),
                r.get("mentions_assigned"),
                r.get("responded_to"),
                r.get("fraction_responded_to"),
                r.get("fraction_responded_to_in_private"),
                r.get("avg_response_time"),
                r.get("avg_action_response_time"),
                r.get("fraction_broke_sla"),
                r.get("fraction_broke_action_sla"),
            ]
            for r in agents
        ],
        empty="No agent was assigned or responded in this range.",
    )


def sla_tab(results: Results) -> TabView:
    """The average response line (minutes) and the response-time tables."""
    view = TabView()
    stats = results.get("summary")
    if stats is not None:
        view.kpis = [
            Kpi("Customer time", stats.get("avg_response_time"), DURATION, "average"),
            Kpi("Median customer time", stats.get("median_response_time"), DURATION),
            Kpi("p90 customer time", stats.get("p90_response_time"), DURATION),
            Kpi("Median response time", stats.get("median_action_response_time"), DURATION),
            Kpi("p90 response time", stats.get("p90_action_response_time"), DURATION),
        ]
    volume = results.get("response_volume")
    if volume is not None and results.window is not None:
        axis = time_axis(results.window)
        size = len(axis.labels)
        minutes = point_values(volume.get("avg_response_time_min"), size)
        seconds = point_values(volume.get("avg_response_time"), size)
        responded = point_values(volume.get("responded"), size)
        table = Table(
            "response_volume",
            "Average customer time per period",
            [
                Column(axis.title.split(" (")[0]),
                Column("Responded", COUNT),
                Column("Average customer time", DURATION),
            ],
            [[label, responded[i], seconds[i]] for i, label in enumerate(axis.labels)],
        )
        view.charts.append(
            Chart(
                "response-volume",
                "Average customer time",
                "line",
                axis.title,
                "Average customer time (minutes)",
                axis.labels,
                [Series("Average customer time (min)", minutes, ACCENT)],
                table,
                weekend=axis.weekend,
                description="Mean time from a mention's publication to its first response.",
                integers=False,
            )
        )
    agents = results.get("user_summary")
    if agents is not None:
        view.tables.append(
            Table(
                "response_times",
                "Response times per agent",
                [
                    Column("Agent"),
                    Column("Responded", COUNT),
                    Column("Median customer time", DURATION),
                    Column("p90 customer time", DURATION),
                    Column("Median response time", DURATION),
                    Column("p90 response time", DURATION),
                    Column("Over customer SLA", PERCENT),
                    Column("Over agent SLA", PERCENT),
                ],
                [
                    [
                        name_of(r),
                        r.get("responded_to"),
                        r.get("median_response_time"),
                        r.get("p90_response_time"),
                        r.get("median_action_response_time"),
                        r.get("p90_action_response_time"),
                        r.get("fraction_broke_sla"),
                        r.get("fraction_broke_action_sla"),
                    ]
                    for r in agents
                ],
                empty="No agent responded in this range.",
            )
        )
    return view


@dataclass(frozen=True)
class Tab:
    """A dashboard tab: its slug, label, reports and how they are shown."""

    slug: str
    label: str
    reports: list[str]
    build: Callable[[Results], TabView]
    needs_form: bool = False

    @property
    def path(self) -> str:
        """The tab's page."""
        return "/activity" if self.slug == "summary" else f"/activity/{self.slug}"


TABS: tuple[Tab, ...] = (
    Tab(
        "summary", "Summary", ["summary", "states_volume", "states", "classifications"], summary_tab
    ),
    Tab("team", "Team", ["user_volume", "user_summary"], team_tab),
    Tab("sla", "SLA", ["summary", "response_volume", "user_summary"], sla_tab),
    Tab("cases", "Cases", ["case_summary", "case_volume", "case_classifications"], cases_tab),
    Tab("nps", "NPS", ["nps_summary", "nps_volume"], nps_tab, needs_form=True),
)
TAB_BY_SLUG = {tab.slug: tab for tab in TABS}
