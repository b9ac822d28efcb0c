"""The ingest job: a large uploaded report, kept in the database until a worker stores it."""

from __future__ import annotations

import tempfile
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker.db import session_scope
from tracker.errors import ForbiddenError, ReportError
from tracker.integrations.result_mapping import configured_mapping
from tracker.models import JobUpload, TestRun
from tracker.services.ingest import RunOptions, ingest_report

if TYPE_CHECKING:
    from tracker.jobs.runner import JobContext

#: Bytes per stored part: small enough for any database's parameter, large enough to be few.
PART_BYTES = 1024 * 1024
IN_MEMORY = 1024 * 1024
#: Parts written per transaction while an upload is stored.
PARTS_PER_TRANSACTION = 16


def store_upload(engine: Engine, job_id: int, stream: IO[bytes]) -> int:
    """Keep the report for the job's worker (on any machine); return the bytes stored."""
    size = part = 0
    batch: list[dict[str, Any]] = []
    while chunk := stream.read(PART_BYTES):
        batch.append({"job_id": job_id, "part": part, "data": chunk})
        size, part = size + len(chunk), part + 1
        if len(batch) >= PARTS_PER_TRANSACTION:
            _write(engine, batch)
            batch = []
    _write(engine, batch)
    return size


def run(context: JobContext) -> dict[str, Any]:
    """Ingest the stored report as the API would have in the request; then drop the upload."""
    params = context.params
    config = context.app.config
    options = RunOptions(**params.get("options", {}))
    allowed = tuple(params.get("allowed_suites") or ())
    try:
        with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as spool:
            size = _read_upload(
                context.engine, context.job_id, spool, str(params.get("content_hash") or "")
            )
            context.start_total(size, "Reading the report")
            spool.seek(0)
            context.progress("Storing the test results", force=True)
            with session_scope(context.engine) as session:
                report = ingest_report(
                    session=session,
                    source=spool,
                    options=options,
                    uploaded_by=context.actor,
                    max_bytes=config["MAX_UPLOAD_BYTES"],
                    text_limit=config["MAX_RESULT_TEXT_BYTES"],
                    content_hash=params.get("content_hash"),
                    mapping=configured_mapping(context.app),
                    allowed_suites=allowed,
                )
                stored = session.get(TestRun, report.run_id)
                if allowed and stored is not None and stored.suite not in allowed:
                    raise ForbiddenError(
                        f"This token may upload only the suites {', '.join(allowed)}."
                    )
    except ReportError as error:
        where = f" (line {error.line}, column {error.column})" if error.line else ""
        raise ReportError(
            f"{error}{where}. Nothing was stored.", error.line, error.column
        ) from error
    finally:
        with session_scope(context.engine) as session:
            session.execute(delete(JobUpload).where(col(JobUpload.job_id) == context.job_id))
    return {
        "test_run": report.run_id,
        "duplicate": report.duplicate,
        "links_added": report.links_added,
        "links_removed": report.links_removed,
        "summary": report.summary(),
    }


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


def _write(engine: Engine, rows: list[dict[str, Any]]) -> None:
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(JobUpload), rows)
