"""Consumers of the queue: `tracker worker` processes, and the one a server starts for itself."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from huey.consumer import Consumer

logger = logging.getLogger(__name__)
#: Longest pause between two looks at an empty SQLite queue (Redis waits on the queue instead):
#: a button's job starts within a second.
POLL_AT_MOST = 1.0


def worker_consumer(app: Flask, workers: int) -> Consumer:
    """Return a consumer with `workers` threads that runs the schedules too (run() blocks)."""
    from tracker.jobs.queue import get_queue
    from tracker.jobs.recovery import recover_abandoned

    # Jobs left running by a worker of this machine that died are taken up again first.
    recover_abandoned(app)
    return get_queue(app).create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=POLL_AT_MOST
    )


def start_embedded_consumer(app: Flask, workers: int | None = None) -> Consumer | None:
    """Start consumer threads inside this process (demo, werkzeug); None in immediate mode.

    The caller keeps its own signal handling and stops the consumer with stop().
    """
    if app.config.get("JOBS_IMMEDIATE"):
        return None
    from huey.consumer import Consumer

    from tracker.jobs.queue import get_queue
    from tracker.jobs.recovery import recover_abandoned

    class EmbeddedConsumer(Consumer):  # type: ignore[misc]
        """A consumer that leaves signals to the process that hosts it."""

        def _set_signal_handlers(self) -> None:
            return None

    recover_abandoned(app)
    consumer = EmbeddedConsumer(
        get_queue(app),
        workers=workers or int(app.config["JOBS_WORKERS"]),
        worker_type="thread",
        periodic=True,
        max_delay=POLL_AT_MOST,
    )
    consumer.start()
    logger.info("embedded job consumer started")
    return consumer
