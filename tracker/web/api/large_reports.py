"""Large report uploads: stored for an ingest job and answered 202 with the job, at once."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import IO

from flask import Response, current_app
from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from tracker.db import get_engine
from tracker.domain.access import Actor
from tracker.jobs import records
from tracker.jobs.ingest import store_upload
from tracker.jobs.queue import QueueError, enqueue
from tracker.logs import current_request_id
from tracker.models import JobUpload, TestRun
from tracker.services.ingest import RunOptions
from tracker.web.api.contract import reply
from tracker.web.api.job_schemas import JobOut
from tracker.web.api.schemas import error_body
from tracker.web.jobs.page import job_view
from tracker.web.responses import json_response

logger = logging.getLogger(__name__)


def is_large(stream: IO[bytes], digest: str) -> bool:
    """Return whether the report goes to a job: above TRACKER_LARGE_REPORT_BYTES and new."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size <= int(current_app.config["LARGE_REPORT_BYTES"]):
        return False
    # A report received before is answered at once as the duplicate it is. (Its own session:
    # the request's one is left without a transaction for the ingest that may follow.)
    with Session(get_engine()) as session:
        known = session.exec(select(TestRun.id).where(col(TestRun.content_hash) == digest))
        return known.first() is None


def ingest_later(
    stream: IO[bytes],
    digest: str,
    options: RunOptions,
    actor: Actor,
    allowed_suites: Collection[str],
) -> Response:
    """Keep the report for an ingest job and answer 202 with the job and its URL."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine = get_engine(app)
    params = {
        "options": {
            "suite": options.suite,
            "commit": options.commit,
            "branch": options.branch,
            "release": options.release,
            "environment": options.environment,
            "source_name": options.source_name,
        },
        "content_hash": digest,
        "allowed_suites": sorted(allowed_suites),
    }
    try:
        # The job and its report in one transaction: a failure leaves neither.
        with Session(engine) as session, session.begin():
            job_id = records.add_job(
                session, kind="ingest", params=params, actor=actor, request_id=current_request_id()
            )
            store_upload(session.connection(), job_id, stream)
    except SQLAlchemyError as error:
        logger.warning("a large report could not be kept for its job", exc_info=True)
        body = error_body(
            503,
            "database_unavailable",
            f"The database did not take the report ({type(error).__name__}); nothing was "
            "stored and no job was queued. Send it again in a minute; if this persists, ask "
            "the tracker's administrator to check the database.",
        )
        return json_response(body, status=503)
    try:
        enqueue(app, job_id)
    except QueueError as error:
        with engine.begin() as connection:  # the job failed: its report is not kept either
            connection.execute(delete(JobUpload).where(col(JobUpload.job_id) == job_id))
        body = error_body(503, "queue_unavailable", f"{error} Nothing was stored.")
        return json_response(body, status=503)
    with Session(engine) as session:
        view = job_view(records.get_job(session, job_id))
    return reply(JobOut, view.as_json(), status=202, headers={"Location": view.api_url})
