"""The Cases and NPS tabs: how their reports' answers become KPIs, charts and tables."""

from __future__ import annotations

from typing import Any

from carebase.web.format import duration
from carebase.web.pages.activity_filters import Results
from carebase.web.pages.activity_model import (
    COUNT,
    DURATION,
    NUMBER,
    PERCENT,
    Chart,
    Column,
    Kpi,
    Series,
    Table,
    TabView,
    point_values,
    time_axis,
)

ACCENT = "#1d5fbf"
NPS_COLOURS = {"promoters": "#009e73", "passives": "#e69f00", "detractors": "#d55e00"}


def spread(stats: dict[str, Any], key: str) -> str:
    """`median 3 min · p90 12 min` for a statistic's median_/p90_ fields."""
    median, p90 = stats.get(f"median_{key}"), stats.get(f"p90_{key}")
    return f"median {duration(median)} · p90 {duration(p90)}"


def cases_tab(results: Results) -> TabView:
    """Open cases per period, the closed cases' KPIs and case classifications."""
    view = TabView()
    stats = results.get("case_summary")
    if stats is not None:
        view.kpis = [
            Kpi("Closed", stats.get("total_cases")),
            Kpi(
                "First reply",
                stats.get("first_reply_time"),
                DURATION,
                "average · " + spread(stats, "first_reply_time"),
            ),
            Kpi(
                "Resolution",
                stats.get("resolution_time"),
                DURATION,
                "average · " + spread(stats, "resolution_time"),
            ),
            Kpi("Agent interactions", stats.get("agent_interactions"), NUMBER, "per case"),
            Kpi("Agents involved", stats.get("agents_involved"), NUMBER, "per case"),
        ]
    volume = results.get("case_volume")
    if volume is not None and results.window is not None:
        axis = time_axis(results.window)
        values = point_values(volume.get("open"), len(axis.labels))
        table = Table(
            "case_volume",
            "Open cases per period",
            [Column(axis.title.split(" (")[0]), Column("Open cases", COUNT)],
            [[label, values[i]] for i, label in enumerate(axis.labels)],
        )
        view.charts.append(
            Chart(
                "case-volume",
                "Open cases",
                "bar",
                axis.title,
                "Open cases (count)",
                axis.labels,
                [Series("Open cases", values, ACCENT)],
                table,
                weekend=axis.weekend,
                description="Cases open at any moment of each period.",
            )
        )
    labels = results.get("case_classifications")
    if labels is not None:
        view.tables.append(
            Table(
                "case_classifications",
                "Case classifications",
                [Column("Classification"), Column("Cases", COUNT)],
                [[r["classification"], r["volume"]] for r in labels],
                empty="No case carried a classification in this range.",
            )
        )
    return view


def nps_tab(results: Results) -> TabView:
    """NPS, its parts, sent/received/response rate, and daily promoter/passive/detractor bars."""
    view = TabView()
    stats = results.get("nps_summary")
    if stats is not None:
        view.kpis = [
            Kpi("NPS", stats.get("nps_score"), NUMBER, "% promoters minus % detractors"),
            Kpi("Promoters", stats.get("total_promoters"), COUNT, "scores 9 to 10"),
            Kpi("Passives", stats.get("total_passives"), COUNT, "scores 7 or 8"),
            Kpi("Detractors", stats.get("total_detractors"), COUNT, "scores 0 to 6"),
            Kpi("Sent", stats.get("total_sent")),
            Kpi("Received", stats.get("total_received")),
            Kpi("Response rate", stats.get("response_rate"), PERCENT),
        ]
    daily = results.get("nps_volume")
    if daily is not None and results.window is not None:
        axis = time_axis(results.window)
        rows = [(p.get("data") or {}) for p in daily][: len(axis.labels)]
        rows += [{}] * (len(axis.labels) - len(rows))
        series = [
            Series(kind.capitalize(), [int(r.get(f"total_{kind}") or 0) for r in rows], colour)
            for kind, colour in NPS_COLOURS.items()
        ]
        table = Table(
            "nps_volume",
            "Answers per period",
            [
                Column(axis.title.split(" (")[0]),
                Column("NPS", NUMBER),
                *(Column(x.label, COUNT) for x in series),
                Column("Sent", COUNT),
                Column("Received", COUNT),
            ],
            [
                [
                    label,
                    rows[i].get("nps_score"),
                    *(x.values[i] for x in series),
                    rows[i].get("total_sent"),
                    rows[i].get("total_received"),
                ]
                for i, label in enumerate(axis.labels)
            ],
        )
        view.charts.append(
            Chart(
                "nps-volume",
                "Answers: promoters, passives and detractors",
                "bar",
                axis.title,
                "Answers (count)",
                axis.labels,
                series,
                table,
                stacked=True,
                weekend=axis.weekend,
                description="Survey answers received in each period, by NPS category.",
            )
        )
    return view
