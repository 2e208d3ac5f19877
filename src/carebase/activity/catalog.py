"""Imports every module that registers report types, so that the registry is complete
wherever it is read. One import per module."""

from __future__ import annotations

from carebase.activity import (
    case_reports,  # noqa: F401
    exports,  # noqa: F401
    mention_reports,  # noqa: F401
    nps_reports,  # noqa: F401
    team_reports,  # noqa: F401
)
