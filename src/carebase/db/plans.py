"""Query plans for the statements whose cost depends on their parameters.

psycopg prepares a statement on the server once it has run it five times, and PostgreSQL then
switches a prepared statement to one generic plan, made without the parameters' values, after
five more. For a segment count that plan ignores how narrow the time window and the filters
are: at a million profiles it took twice as long as the plan made for the values
(bench/segments.py). Planning takes a millisecond; these statements take hundreds.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


def plan_for_values(session: Session) -> None:
    """PostgreSQL: plan every statement of this transaction for its actual parameter values
    (a no-op on SQLite, which plans each statement as it prepares it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_CUSTOM_PLANS)
