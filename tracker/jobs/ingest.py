"""The ingest job: a large uploaded report, kept in the database until a worker stores it."""

from __future__ import annotations

import logging
import tempfile
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from tracker.db import session_scope
from tracker.errors import ReportError
from tracker.integrations.result_mapping import configured_mapping
from tracker.jobs.failures import RetryLater
from tracker.models import JobUpload, TestRun
from tracker.services.ingest import RunOptions, ingest_token_upload

if TYPE_CHECKING:
    from tracker.jobs.runner import JobContext

logger = logging.getLogger(__name__)
#: Bytes per stored part: small enough for any database's parameter, large enough to be few.
PART_BYTES = 1024 * 1024
IN_MEMORY = 1024 * 1024
#: Parts written per statement while an upload is stored.
PARTS_PER_STATEMENT = 16


def store_upload(connection: Connection, job_id: int, stream: IO[bytes]) -> int:
    """Keep the report for the job's worker (on any machine); return the bytes stored.

    The parts are written in the caller's transaction, with the job's record: a failure
    leaves neither a job nor a part of its report.
    """
    size = part = 0
    batch: list[dict[str, Any]] = []
    while chunk := stream.read(PART_BYTES):
        batch.append({"job_id": job_id, "part": part, "data": chunk})
        size, part = size + len(chunk), part + 1
        if len(batch) >= PARTS_PER_STATEMENT:
            connection.execute(insert(JobUpload), batch)
            batch = []
    if batch:
        connection.execute(insert(JobUpload), batch)
    return size


def run(context: JobContext) -> dict[str, Any]:
    """Ingest the stored report as the API would have in the request; then drop the upload.

    The upload is kept when the database failed for now (the job is tried again and needs
    it) and dropped once the job is done with it: stored, refused, or the last attempt.
    """
    params = context.params
    config = context.app.config
    options = RunOptions(**params.get("options", {}))
    allowed = tuple(params.get("allowed_suites") or ())
    keep = False
    try:
        with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as spool:
            size = _read_upload(
                context.engine, context.job_id, spool, str(params.get("content_hash") or "")
            )
            context.start_total(size, "Reading the report")
            spool.seek(0)
            context.progress("Storing the test results", force=True)
            with session_scope(context.engine) as session:
                report = ingest_token_upload(
                    session=session,
                    source=spool,
                    options=options,
                    uploaded_by=context.actor,
                    allowed_suites=allowed,
                    content_hash=str(params.get("content_hash") or ""),
                    mapping=configured_mapping(context.app),
                    max_bytes=config["MAX_UPLOAD_BYTES"],
                    text_limit=config["MAX_RESULT_TEXT_BYTES"],
                    max_seconds=config["MAX_JOB_REPORT_SECONDS"],
                )
    except ReportError as error:
        where = f" (line {error.line}, column {error.column})" if error.line else ""
        raise ReportError(
            f"{error}{where}. Nothing was stored.", error.line, error.column
        ) from error
    except OperationalError as error:
        keep = context.attempt <= int(config["JOB_RETRIES"])
        raise RetryLater(
            f"The database did not answer ({type(error.orig).__name__}); the report is kept "
            "and nothing of it was stored."
        ) from error
    finally:
        if not keep:
            _drop_upload(context.engine, context.job_id)
    return {
        "test_run": report.run_id,
        "duplicate": report.duplicate,
        "links_added": report.links_added,
        "links_removed": report.links_removed,
        "summary": report.summary(),
    }


def _drop_upload(engine: Engine, job_id: int) -> None:
    try:
        with session_scope(engine) as session:
            session.execute(delete(JobUpload).where(col(JobUpload.job_id) == job_id))
    except OperationalError:  # the job's outcome matters more; the parts go with a later run
        logger.warning("job %s: its stored report could not be dropped", job_id, exc_info=True)


def _read_upload(engine: Engine, job_id: int, spool: IO[bytes], content_hash: str) -> int:
    """Copy the stored parts into the spool one at a time; return the size."""
    with Session(engine) as session:
        parts = session.exec(
            select(JobUpload.part)
            .where(col(JobUpload.job_id) == job_id)
            .order_by(col(JobUpload.part))
        ).all()
        digest = select(TestRun.id).where(col(TestRun.content_hash) == content_hash)
        if not parts and session.exec(digest).first() is None:
            raise ReportError("The uploaded report is no longer stored; upload it again")
        # No parts but a run with the report's hash: an earlier attempt stored it and the
        # ingest below answers that it is a duplicate.
        size = 0
        for part in parts:
            data = session.exec(
                select(JobUpload.data).where(
                    col(JobUpload.job_id) == job_id, col(JobUpload.part) == part
                )
            ).one()
            spool.write(data)
            size += len(data)
    return size
