"""Every kind of job carebase runs, in one explicit list: the worker (`carebase worker`, the
in-process worker of `carebase serve`), the admin API and the CLI all derive from it."""

from __future__ import annotations

from carebase.activation import runs as activation_runs
from carebase.activation import ticks as activation_ticks
from carebase.activity import exports as activity_exports
from carebase.connectors import deliveries
from carebase.connectors.service import ClientOptions
from carebase.inbox import cases as inbox_cases
from carebase.inbox import presence as inbox_presence
from carebase.inbox import reply_jobs as inbox_reply_jobs
from carebase.ingest.service import IngestConfig
from carebase.kit.jobs import Registry
from carebase.segments import refresh as segment_refresh
from carebase.settings import Settings


def registry(settings: Settings, *, options: ClientOptions | None = None) -> Registry:
    """Every job kind, bound to this process's settings (and, for tests, client options)."""
    options = options or ClientOptions()
    config = IngestConfig.from_settings(settings)
    return Registry(
        [
            deliveries.job_kind(settings, config, options),
            segment_refresh.job_kind(settings),
            activation_runs.job_kind(settings, options),
            activation_ticks.job_kind(settings),
            inbox_reply_jobs.job_kind(settings, options),
            inbox_cases.job_kind(settings),
            inbox_presence.job_kind(settings),
            activity_exports.job_kind(settings),
        ]
    )
