"""The background side of webhooks: one thread per server process processes stored deliveries,
woken by each new delivery and every SWEEP_SECONDS for retries and lapsed leases.

Processing waits on the helpdesk (its rate limit, its answers); doing it on this thread keeps
those waits out of the request thread pool, so acknowledgements stay fast however many
deliveries are queued.
"""

from __future__ import annotations

import logging
import threading

from carebase.connectors import deliveries, service
from carebase.db.session import Database
from carebase.ingest.service import IngestConfig
from carebase.settings import Settings

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 30.0


class DeliveryWorker:
    """A daemon thread that processes due deliveries when woken, and every SWEEP_SECONDS."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        config: IngestConfig,
        options: service.ClientOptions,
        interval: float = SWEEP_SECONDS,
    ) -> None:
        self.database, self.settings = database, settings
        self.config, self.options = config, options
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="carebase-webhooks", daemon=True)

    def start(self) -> None:
        """Begin working."""
        self._thread.start()

    def wake(self) -> None:
        """A delivery was stored: process it now rather than at the next sweep."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the delivery in hand."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self.interval)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                # Keep going while full pages come back: a burst is drained, not sampled.
                while not self._stop.is_set():
                    done = deliveries.process_due(
                        self.database,
                        settings=self.settings,
                        config=self.config,
                        options=self.options,
                        limit=100,
                    )
                    if done.handled < 100:
                        break
            except Exception:
                logger.exception("processing webhook deliveries failed; trying again later")
