"""The durable job runner: everything that runs outside a request is a job.

Jobs are enqueued in the caller's transaction, claimed with a lease (`FOR UPDATE SKIP LOCKED`
on PostgreSQL), retried with backoff, and end succeeded, failed (error kept) or cancelled,
whatever crashes in between.
"""

from carebase.kit.jobs.context import (
    Defer,
    GiveUp,
    JobCancelled,
    JobContext,
    JobInterrupted,
    LeaseLost,
    RetryLater,
)
from carebase.kit.jobs.queue import enqueue
from carebase.kit.jobs.registry import Failure, JobKind, JobSpec, Registry, RetryPolicy
from carebase.kit.jobs.runner import Runner, RunSummary

__all__ = [
    "Defer",
    "Failure",
    "GiveUp",
    "JobCancelled",
    "JobContext",
    "JobInterrupted",
    "JobKind",
    "JobSpec",
    "LeaseLost",
    "Registry",
    "RetryLater",
    "RetryPolicy",
    "RunSummary",
    "Runner",
    "enqueue",
]
