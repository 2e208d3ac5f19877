"""The Activity reports computed again, in plain Python, from the contract's definitions over
a scenario's raw facts (tests/activity/scenario.py `Facts`): timestamps, states and who did
what — never the stamped measures or any carebase report code. The tests compare the API's
answers with these, value by value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from tests.activity.oracle_basics import (
    CLOSED,
    STATES,
    Ask,
    Slot,
    buckets,
    fraction,
    highest,
    in_bucket,
    lowest,
    mean,
    per_minute,
    points,
    quantile,
)
from tests.activity.scenario import Facts

__all__ = ["REPORTS", "Ask", "Oracle", "buckets"]


class Oracle:
    """Every report type over one scenario's facts."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.mentions = [self._measured(m) for m in facts.mentions]

    @staticmethod
    def _measured(m: dict[str, Any]) -> dict[str, Any]:
        out = dict(m)
        answered = m["first_response_at"]
        out["response_s"] = None
        out["action_s"] = None
        out["broke_sla"] = out["broke_action_sla"] = False
        out["private"] = False
        if answered is not None:
            out["response_s"] = max((answered - m["published_at"]).total_seconds(), 0.0)
            out["broke_sla"] = out["response_s"] > m["customer_sla_s"]
            if m["assigned_at"] is not None:
                out["action_s"] = max((answered - m["assigned_at"]).total_seconds(), 0.0)
                out["broke_action_sla"] = out["action_s"] > m["agent_sla_s"]
            words = m["source_type"].lower().split("_")
            out["private"] = bool({"dm", "email", "chat"} & set(words))
        return out

    # The cohort.

    def people(self, ask: Ask) -> set[int] | None:
        """The users a filter names: `users`, and the members of `groups`."""
        if ask.users is None and ask.groups is None:
            return None
        found: set[int] = set(ask.users or ())
        for group in ask.groups or ():
            found |= self.facts.members.get(group, set())
        return found

    def cohort(self, ask: Ask) -> list[dict[str, Any]]:
        """The mentions a report counts (published in the window, filters applied)."""
        chosen = []
        for m in self.mentions:
            if not ask.within(m["published_at"]):
                continue
            who = {m["assignee_id"], m["first_responder_id"]} - {None}
            if ask.users is not None and not who & ask.users:
                continue
            if ask.groups is not None:
                members = set().union(*(self.facts.members.get(g, set()) for g in ask.groups))
                if m["assigned_group_id"] not in ask.groups and not who & members:
                    continue
            if ask.classifications is not None and not (
                self.facts.labels.get(m["id"], set()) & ask.classifications
            ):
                continue
            chosen.append(m)
        return chosen

    # Summary.

    def summary(self, ask: Ask) -> dict[str, Any]:
        cohort = self.cohort(ask)
        responded = [m for m in cohort if m["response_s"] is not None]
        wait = [m["response_s"] for m in responded]
        action = [m["action_s"] for m in responded if m["action_s"] is not None]
        return {
            "total_volume": len(cohort),
            "avg_response_time": mean(wait),
            "avg_action_response_time": mean(action),
            "total_responded_to": len(responded),
            "broke_sla": sum(1 for m in responded if m["broke_sla"]),
            "broke_action_sla": sum(1 for m in responded if m["broke_action_sla"]),
            "min_response_time": lowest(wait),
            "median_response_time": quantile(wait, 0.5),
            "max_response_time": highest(wait),
            "min_action_response_time": lowest(action),
            "median_action_response_time": quantile(action, 0.5),
            "max_action_response_time": highest(action),
            "avg_action_response_time_min": per_minute(mean(action)),
            "avg_response_time_min": per_minute(mean(wait)),
            "median_action_response_time_min": per_minute(quantile(action, 0.5)),
            "median_response_time_min": per_minute(quantile(wait, 0.5)),
            "p90_response_time": quantile(wait, 0.9),
            "p90_action_response_time": quantile(action, 0.9),
            "p90_response_time_min": per_minute(quantile(wait, 0.9)),
            "p90_action_response_time_min": per_minute(quantile(action, 0.9)),
            "response_time_count": len(wait),
            "action_response_time_count": len(action),
        }

    def states_volume(self, ask: Ask) -> dict[str, Any]:
        cohort = self.cohort(ask)
        slots = buckets(ask)
        return {
            state: points(
                ask,
                [
                    sum(
                        1 for m in cohort if m["state"] == state and in_bucket(b, m["published_at"])
                    )
                    for b in slots
                ],
                state=state,
            )
            for state in STATES
        }

    def states(self, ask: Ask) -> list[dict[str, Any]]:
        cohort = self.cohort(ask)
        counts = {s: sum(1 for m in cohort if m["state"] == s) for s in STATES}
        rows = [{"state": s, "volume": n} for s, n in counts.items() if n > 0]
        return sorted(rows, key=lambda r: (-r["volume"], STATES.index(r["state"])))

    def classifications(self, ask: Ask) -> list[dict[str, Any]]:
        cohort = self.cohort(ask)
        rows: list[dict[str, Any]] = []
        used = sorted({c for m in cohort for c in self.facts.labels.get(m["id"], set())})
        for cid in used:
            carrying = [m for m in cohort if cid in self.facts.labels.get(m["id"], set())]
            name = self.facts.classification_names[cid]
            base = {"classification_id": cid, "classification": name}
            rows.append({**base, "state": "all_states", "volume": len(carrying)})
            for state in STATES:
                n = sum(1 for m in carrying if m["state"] == state)
                if n:
                    rows.append({**base, "state": state, "volume": n})
        return rows

    def response_volume(self, ask: Ask) -> dict[str, Any]:
        cohort = [m for m in self.cohort(ask) if m["response_s"] is not None]
        per = [
            [m["response_s"] for m in cohort if in_bucket(b, m["published_at"])]
            for b in buckets(ask)
        ]
        return {
            "avg_response_time": points(ask, [mean(v) for v in per]),
            "avg_response_time_min": points(ask, [per_minute(mean(v)) for v in per]),
            "responded": points(ask, [len(v) for v in per]),
        }  # fmt: skip

    # Team.

    def user_summary(self, ask: Ask) -> list[dict[str, Any]]:
        cohort = self.cohort(ask)
        ids = {m["assignee_id"] for m in cohort} | {m["first_responder_id"] for m in cohort}
        rows = []
        for uid in ids - {None}:
            assigned = sum(1 for m in cohort if m["assignee_id"] == uid)
            mine = [
                m for m in cohort if m["first_responder_id"] == uid and m["response_s"] is not None
            ]
            wait = [m["response_s"] for m in mine]
            action = [m["action_s"] for m in mine if m["action_s"] is not None]
            private = sum(1 for m in mine if m["private"])
            broke = sum(1 for m in mine if m["broke_sla"])
            broke_action = sum(1 for m in mine if m["broke_action_sla"])
            if not assigned and not mine:
                continue
            first, last = self.facts.names[uid]
            rows.append(
                {
                    "first_name": first,
                    "last_name": last,
                    "mentions_assigned": assigned,
                    "user_id": str(uid),
                    "responded_to": len(mine),
                    "responded_to_in_private": private,
                    "avg_response_time": mean(wait),
                    "min_response_time": lowest(wait),
                    "max_response_time": highest(wait),
                    "avg_action_response_time": mean(action),
                    "min_action_response_time": lowest(action),
                    "max_action_response_time": highest(action),
                    "total_responded_to": len(mine),
                    "broke_sla": broke,
                    "broke_action_sla": broke_action,
                    "avg_response_time_min": per_minute(mean(wait)),
                    "avg_action_response_time_min": per_minute(mean(action)),
                    "fraction_responded_to": fraction(len(mine), assigned),
                    "fraction_responded_to_in_private": fraction(private, len(mine)),
                    "fraction_broke_sla": fraction(broke, len(mine)),
                    "fraction_broke_action_sla": fraction(broke_action, len(mine)),
                    "median_response_time": quantile(wait, 0.5),
                    "p90_response_time": quantile(wait, 0.9),
                    "median_action_response_time": quantile(action, 0.5),
                    "p90_action_response_time": quantile(action, 0.9),
                }
            )
        return sorted(rows, key=lambda r: (-r["mentions_assigned"], int(r["user_id"])))

    def user_volume(self, ask: Ask) -> list[dict[str, Any]]:
        cohort = self.cohort(ask)
        rows = []
        for uid in {m["assignee_id"] for m in cohort} - {None}:
            mine = [m for m in cohort if m["assignee_id"] == uid]
            per = {s: sum(1 for m in mine if m["state"] == s) for s in STATES}
            first, last = self.facts.names[uid]
            states = {
                "all_states": len(mine),
                "all_closed_states": sum(n for s, n in per.items() if s in CLOSED),
                **per,
            }
            rows.append({"user_id": uid, "first_name": first, "last_name": last, "states": states})
        return sorted(rows, key=lambda r: (-r["states"]["all_states"], r["user_id"]))

    # Cases.

    def _cases(self, ask: Ask, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        people = self.people(ask)
        chosen = []
        for case in self.facts.cases:
            if not keep(case):
                continue
            replies = [r for r in self.facts.responses if r["case_id"] == case["id"]]
            if people is not None and not {r["author_id"] for r in replies} & people:
                continue
            if ask.classifications is not None:
                labels: set[int] = set()
                for m in self.facts.mentions:
                    if m["case_id"] == case["id"]:
                        labels |= self.facts.labels.get(m["id"], set())
                if not labels & ask.classifications:
                    continue
            chosen.append({**case, "replies": replies})
        return chosen

    def case_summary(self, ask: Ask) -> dict[str, Any]:
        closed = self._cases(ask, lambda c: c["status"] == "closed" and ask.within(c["closed_at"]))
        first = [
            (c["first_reply_at"] - c["opened_at"]).total_seconds()
            for c in closed
            if c["first_reply_at"] is not None
        ]
        resolution = [
            (c["last_agent_response_at"] - c["opened_at"]).total_seconds()
            for c in closed
            if c["last_agent_response_at"] is not None
        ]
        return {
            "total_cases": len(closed),
            "first_reply_time": mean(first),
            "resolution_time": mean(resolution),
            "median_first_reply_time": quantile(first, 0.5),
            "median_resolution_time": quantile(resolution, 0.5),
            "agent_interactions": mean([float(len(c["replies"])) for c in closed]),
            "agents_involved": mean(
                [float(len({r["author_id"] for r in c["replies"]})) for c in closed]
            ),
            "p90_first_reply_time": quantile(first, 0.9),
            "p90_resolution_time": quantile(resolution, 0.9),
        }

    def case_volume(self, ask: Ask) -> dict[str, Any]:
        every = self._cases(ask, lambda c: True)
        values = [
            sum(
                1
                for c in every
                if c["opened_at"] < b.end and (c["closed_at"] is None or c["closed_at"] >= b.start)
            )
            for b in buckets(ask)
        ]
        return {"open": points(ask, values)}

    def case_classifications(self, ask: Ask) -> list[dict[str, Any]]:
        active = self._cases(
            ask,
            lambda c: (
                c["opened_at"] <= ask.date_to
                and (c["closed_at"] is None or c["closed_at"] >= ask.date_from)
            ),
        )
        volume: dict[int, int] = {}
        for case in active:
            labels: set[int] = set()
            for m in self.facts.mentions:
                if m["case_id"] == case["id"]:
                    labels |= self.facts.labels.get(m["id"], set())
            for cid in labels:
                volume[cid] = volume.get(cid, 0) + 1
        rows = [
            {"classification_id": cid, "classification": self.facts.classification_names[cid],
             "volume": n}
            for cid, n in volume.items()
        ]  # fmt: skip
        return sorted(rows, key=lambda r: (-r["volume"], r["classification_id"]))

    # NPS.

    def _by_people(self, ask: Ask, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = []
        for row in rows:
            if ask.users is not None and row["agent_id"] not in ask.users:
                continue
            if ask.groups is not None and not set(row["group_ids"]) & ask.groups:
                continue
            kept.append(row)
        return kept

    def nps_summary(self, ask: Ask, slot: Slot | None = None) -> dict[str, Any]:
        def counted(at: datetime) -> bool:
            return ask.within(at) and (slot is None or in_bucket(slot, at))

        invitations = self.facts.invitations
        sent = self._by_people(
            ask, (i for i in invitations if i["form_id"] == ask.form and counted(i["sent_at"]))
        )
        answers = self._by_people(
            ask,
            (
                a
                for a in self.facts.answers
                if a["form_id"] == ask.form and a["score"] is not None and counted(a["answered_at"])
            ),
        )
        category = {
            "promoters": range(9, 11),
            "passives": range(7, 9),
            "detractors": range(0, 7),
            "all": range(0, 11),
        }[ask.nps_category]
        scores = [a["score"] for a in answers if a["score"] in category]
        promoters = sum(1 for s in scores if s >= 9)
        detractors = sum(1 for s in scores if s <= 6)
        return {
            "total_sent": len(sent),
            "total_received": len(scores),
            "total_promoters": promoters,
            "total_passives": sum(1 for s in scores if s in (7, 8)),
            "total_detractors": detractors,
            "nps_score": (100 * (promoters - detractors) / len(scores)) if scores else None,
            "response_rate": fraction(len(scores), len(sent)),
            "average_score": mean([float(s) for s in scores]),
        }

    def nps_volume(self, ask: Ask) -> list[dict[str, Any]]:
        return [
            {
                "date": b.start.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "timestamp": int(b.start.timestamp()),
                "data": self.nps_summary(ask, b),
            }
            for b in buckets(ask)
        ]

    def report(self, kind: str, ask: Ask) -> Any:
        """The oracle's answer for a report type."""
        method: Callable[[Ask], Any] = getattr(self, kind)
        return method(ask)


REPORTS = (
    "summary",
    "states_volume",
    "states",
    "classifications",
    "response_volume",
    "user_summary",
    "user_volume",
    "case_summary",
    "case_volume",
    "case_classifications",
    "nps_summary",
    "nps_volume",
)
