"""Imports every module that registers report types, so that the registry is complete
wherever it is read. One import per module."""

from __future__ import annotations

from carebase.activity import (  # noqa: F401 (each registers its report types)
    case_reports,
    exports,
    mention_reports,
    nps_reports,
    team_reports,
)
from carebase.activity.registry import REPORTS, ReportType


def report_types() -> dict[str, ReportType]:
    """Every report type, by name (complete: this module imports every report module)."""
    return REPORTS
