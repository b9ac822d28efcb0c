"""The test-run API under /api/v1: token-authenticated JUnit uploads, and reading runs back."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from flask import Blueprint, Response, abort, current_app, request, url_for

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.errors import ForbiddenError, ReportError, ReportTooLargeError, ValidationError
from tracker.integrations.junit import content_sha256
from tracker.integrations.junit_attempts import read_attempts
from tracker.integrations.result_mapping import TestMapping, configured_mapping
from tracker.models import TestRun
from tracker.services.evidence_pages import ResultLine, RunFilter, list_runs, run_detail
from tracker.services.ingest import RunOptions, ingest_token_upload
from tracker.services.tokens import run_refusal
from tracker.web.api.contract import Body, PathVariable, Reply, operation, reply
from tracker.web.api.job_schemas import JobOut
from tracker.web.api.large_reports import ingest_later, is_large
from tracker.web.api.queries import RunListQuery, RunResultsQuery, UploadQuery
from tracker.web.api.run_schemas import RunCreated, RunDetail, RunList, report_body_content
from tracker.web.api.schemas import error_body
from tracker.web.auth import CREDENTIALS_HELP, current_identity, requires
from tracker.web.responses import json_response

#: Named "test_runs_api" since its first release: url_for and clients use its endpoint names.
runs_api = Blueprint("test_runs_api", __name__, url_prefix="/api/v1")

RAW_TYPES = frozenset(
    ("application/xml", "text/xml", "application/octet-stream", "application/gzip")
)
FILE_FIELDS = ("report", "file")
GZIP_ENCODINGS = frozenset(("gzip", "x-gzip"))
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1024 * 1024
IN_MEMORY = 1024 * 1024  # smaller bodies stay in memory; larger ones go to a temporary file
RUN_ID = {"run_id": PathVariable("The run's number.", 1)}


def _server_mapping() -> TestMapping | None:
    try:
        return configured_mapping()
    except ValidationError as exc:
        raise _Refused(
            500,
            "invalid_test_mapping",
            f"The server's test mapping file (TRACKER_TEST_MAPPING) is invalid: {exc} "
            "Nothing was stored; ask the tracker's administrator to fix the file.",
        ) from exc


class _Refused(Exception):
    """The request cannot be taken as it is; the status and message say why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class _Received:
    """An uploaded report, spooled so it can be read front to back once."""

    stream: IO[bytes]
    digest: str
    name: str


@runs_api.post("/test-runs")
@operation(
    "Upload a JUnit XML report",
    tag="test runs",
    query=UploadQuery,
    body=Body(
        "The JUnit XML report: the raw body, or the file field of a form.", report_body_content()
    ),
    replies={
        201: Reply("The run was stored.", RunCreated, {"Location": "The run in this API."}),
        200: Reply(
            "The same report was stored before: nothing was added.",
            RunCreated,
            {"Location": "The run in this API."},
        ),
        202: Reply(
            "The report is larger than TRACKER_LARGE_REPORT_BYTES: it was kept for an ingest "
            "job, which this describes; poll the job until it is finished.",
            JobOut,
            {"Location": "The job in this API."},
        ),
    },
    errors=(413, 415),
)
@requires(Permission.UPLOAD_RESULTS)
def create_run() -> Response:
    """Ingest one JUnit XML report (raw body or multipart field 'report'); one transaction."""
    identity = current_identity()
    token = identity.token if identity else None
    if identity is None or token is None:  # the permission check lets only tokens through
        return _error(401, "unauthorized", "An API token is required. " + CREDENTIALS_HELP)
    session = get_session()
    try:
        with _received_report() as received:
            options = _run_options(received.name)
            outside = run_refusal(
                token, options.branch, options.release, current_app.config["DEFAULT_BRANCH"]
            )
            if outside is not None:
                raise _Refused(403, "forbidden", outside + " Nothing was stored.")
            if is_large(received.stream, received.digest):
                return ingest_later(
                    received.stream, received.digest, options, identity.actor, token.suites
                )
            with session.begin():
                report = ingest_token_upload(
                    session=session,
                    source=received.stream,
                    options=options,
                    uploaded_by=identity.actor,
                    allowed_suites=token.suites,
                    content_hash=received.digest,
                    mapping=_server_mapping(),
                    max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
                    text_limit=current_app.config["MAX_RESULT_TEXT_BYTES"],
                    max_seconds=current_app.config["MAX_REPORT_SECONDS"],
                )
    except ForbiddenError as exc:
        return _error(403, "forbidden", str(exc))
    except ValidationError as exc:
        return _error(400, "bad_request", str(exc), field=exc.field)
    except _Refused as refusal:
        return _error(refusal.status, refusal.code, str(refusal))
    except ReportTooLargeError as exc:
        return _error(413, "payload_too_large", f"{exc}. Nothing was stored.")

    except ReportError as exc:
        return _error(
            400,
            "invalid_report",
            f"{exc}. Nothing was stored.",
            line=exc.line,
            column=exc.column,
        )
    run = session.get(TestRun, report.run_id)
    assert run is not None  # noqa: S101 - just written or found by its hash
    body = run_json(run) | {
        "duplicate": report.duplicate,
        "links_added": report.links_added,
        "links_removed": report.links_removed,
        "summary": report.summary(),
    }
    headers = {"Location": body["api_url"]}
    return reply(RunCreated, body, status=200 if report.duplicate else 201, headers=headers)


@runs_api.get("/test-runs")
@operation(
    "List test runs",
    tag="test runs",
    query=RunListQuery,
    replies={200: Reply("A page of runs, newest first.", RunList)},
)
@requires(Permission.READ)
def list_test_runs() -> Response:
    """List runs newest first; filter by suite, branch, release, environment; page by limit."""
    params = RunListQuery.from_args(request.args)
    limit, offset = params.limit, params.offset
    data = list_runs(
        session=get_session(),
        offset=offset,
        limit=limit,
        run_filter=RunFilter(
            suite=params.suite,
            branch=params.branch,
            release=params.release,
            environment=params.environment,
        ),
    )
    return reply(
        RunList,
        {
            "total": data.total,
            "limit": limit,
            "offset": offset,
            "items": [run_json(run) for run in data.runs],
        },
    )


@runs_api.get("/test-runs/<int:run_id>")
@operation(
    "Get one test run",
    tag="test runs",
    query=RunResultsQuery,
    path=RUN_ID,
    replies={200: Reply("The run and a page of its results.", RunDetail)},
)
@requires(Permission.READ)
def get_run(run_id: int) -> Response:
    """Return one run with a page of its results (failures first)."""
    params = RunResultsQuery.from_args(request.args)
    limit, offset = params.limit, params.offset
    data = run_detail(session=get_session(), run_id=run_id, offset=offset, limit=limit)
    return reply(
        RunDetail,
        run_json(data.run)
        | {
            "results_total": data.total_results,
            "limit": limit,
            "offset": offset,
            "results": [
                {
                    "test_id": line.test_id,
                    "outcome": line.outcome,
                    "flaky": line.flaky,
                    "duration": line.duration,
                    "message": line.message,
                    "message_size": line.message_size,
                    "attempts": _attempts(line),
                    "obligations": list(line.obligations),
                    "unknown_ids": list(line.unknown_ids),
                    "url": url_for("evidence.test", test_case_id=line.test_case_id),
                }
                for line in data.results
            ],
        },
    )


def _attempts(line: ResultLine) -> list[dict[str, Any]]:
    """Return a result's attempts (none when the test ran once), each with its message."""
    return [
        {
            "number": attempt.number,
            "outcome": attempt.outcome,
            "duration": attempt.duration,
            "host": attempt.host,
            "message": line.message if attempt.is_result_message else attempt.message,
        }
        for attempt in read_attempts(line.attempts)
    ]


def run_json(run: TestRun) -> dict[str, Any]:
    """Return a run as JSON-ready data."""
    return {
        "id": run.id,
        "suite": run.suite,
        "commit": run.commit,
        "branch": run.branch,
        "release": run.release,
        "environment": run.environment,
        "source_name": run.source_name,
        "uploaded_by": run.uploaded_by,
        "started_at": run.started_at,
        "received_at": run.created_at,
        "counts": {
            "total": run.total,
            "passed": run.passed,
            "failed": run.failed,
            "errors": run.errors,
            "skipped": run.skipped,
            "flaky": run.flaky,
        },
        "unknown_ids": list(run.unknown_ids or ()),
        "invalid_ids": list(run.invalid_ids or ()),
        "url": url_for("evidence.run", run_id=run.id),
        "api_url": url_for("test_runs_api.get_run", run_id=run.id),
    }


# --- reading the request --------------------------------------------------------------------


@contextmanager
def _received_report() -> Iterator[_Received]:
    """Yield the uploaded report from a multipart field or the raw body, within the size limit."""
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    if request.mimetype == "multipart/form-data":
        upload = next((request.files[name] for name in FILE_FIELDS if name in request.files), None)
        if upload is None:
            raise _Refused(
                400,
                "bad_request",
                "No report in the form: send the JUnit XML file in the field 'report'.",
            )
        stream: IO[bytes] = upload.stream
        stream.seek(0, 2)
        if stream.tell() > limit:
            abort(413)
        stream.seek(0)
        yield _Received(stream, content_sha256(stream), upload.filename or "")
        return
    if request.mimetype not in RAW_TYPES:
        raise _Refused(
            415,
            "unsupported_media_type",
            f"Content-Type {request.mimetype or '(none)'} is not accepted: send the report as "
            "application/xml, text/xml or application/octet-stream (gzip allowed), or as the "
            "file field 'report' of a multipart/form-data form.",
        )
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in GZIP_ENCODINGS | {"", "identity"}:
        raise _Refused(
            415,
            "unsupported_media_type",
            f"Content-Encoding {encoding} is not accepted: send the report plain or gzipped.",
        )
    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as spool:
        digest = hashlib.sha256()
        size = 0
        while chunk := request.stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                abort(413)
            digest.update(chunk)
            spool.write(chunk)
        if not size:
            raise _Refused(400, "bad_request", "The request body is empty: send the report.")
        spool.seek(0)
        if encoding in GZIP_ENCODINGS and spool.read(2) != GZIP_MAGIC:
            raise _Refused(
                400, "bad_request", "Content-Encoding says gzip, but the body is not gzip data."
            )
        spool.seek(0)
        yield _Received(spool, digest.hexdigest(), "")


def _run_options(name: str) -> RunOptions:
    """Read suite, commit, branch, release and environment from the form or the query."""
    values: dict[str, str] = {}
    for field in UploadQuery.model_fields:
        source: Mapping[str, str] = request.form if request.form.get(field) else request.args
        if field in source:
            values[field] = source[field]
    fields = UploadQuery.from_args(values)
    return RunOptions(
        suite=fields.suite,
        commit=fields.commit,
        branch=fields.branch,
        release=fields.release,
        environment=fields.environment,
        source_name=name,
    )


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    return json_response(error_body(status, code, message, **extra), status=status)
