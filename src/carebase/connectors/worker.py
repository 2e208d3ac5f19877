"""The background side of webhooks: process a delivery right after its answer, and sweep for
deliveries that are due (retries, and leases that lapsed when a process died)."""

from __future__ import annotations

import logging
import threading

from carebase.connectors import deliveries, service
from carebase.db.session import Database
from carebase.ingest.service import IngestConfig
from carebase.settings import Settings

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 30.0


def process_soon(
    database: Database,
    delivery_id: str,
    settings: Settings,
    config: IngestConfig,
    options: service.ClientOptions,
) -> None:
    """Process one delivery; whatever goes wrong stays with the delivery for the sweeper."""
    try:
        deliveries.process_delivery(
            database, delivery_id, settings=settings, config=config, options=options
        )
    except Exception:
        logger.exception("webhook delivery %s: processing failed; it will be retried", delivery_id)


class Sweeper:
    """A daemon thread that processes due deliveries every SWEEP_SECONDS."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        config: IngestConfig,
        options: service.ClientOptions,
        interval: float = SWEEP_SECONDS,
    ) -> None:
        self.database, self.settings, self.config, self.options = (
            database,
            settings,
            config,
            options,
        )
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="carebase-webhooks", daemon=True)

    def start(self) -> None:
        """Begin sweeping."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop.set()
        self._thread.join(timeout=self.interval)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                deliveries.process_due(
                    self.database, settings=self.settings, config=self.config, options=self.options
                )
            except Exception:
                logger.exception("sweeping webhook deliveries failed; trying again later")
