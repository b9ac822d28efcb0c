"""The shapes of the test-run API's answers: runs, a run's results, an upload's outcome."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tracker.web.api.queries import UploadQuery
from tracker.web.api.schemas import Shape, Timestamp

#: Where a report may come from: the raw body (any of these types, gzip allowed) or a form.
REPORT_TYPES = ("application/xml", "text/xml", "application/octet-stream", "application/gzip")


class RunCounts(Shape):
    """How the run's results add up."""

    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int


class Run(Shape):
    """One uploaded test run and its provenance."""

    id: int
    suite: str
    commit: str | None
    branch: str | None
    release: str | None
    environment: str | None
    source_name: str
    uploaded_by: str
    started_at: Timestamp
    received_at: Timestamp
    counts: RunCounts
    unknown_ids: list[str] = Field(description="Obligation ids named by tests that do not exist.")
    invalid_ids: list[str] = Field(description="Values in obligation markers that are not ids.")
    url: str = Field(description="The run's page.")
    api_url: str = Field(description="The run in this API.")


class RunList(Shape):
    """A page of runs, newest first."""

    total: int
    limit: int
    offset: int
    items: list[Run]


class Attempt(Shape):
    """One attempt of a test the report ran more than once."""

    number: int
    outcome: str
    duration: float | None
    host: str | None
    message: str | None


class Result(Shape):
    """One test's result in the run, with the obligations it is linked to now."""

    test_id: str
    outcome: str
    flaky: bool
    duration: float | None
    message: str | None
    message_size: int | None = Field(description="The full size when the message was cut.")
    attempts: list[Attempt]
    obligations: list[str]
    unknown_ids: list[str]
    url: str = Field(description="The test's page.")


class RunDetail(Run):
    """One run with a page of its results, failures first."""

    results_total: int
    limit: int
    offset: int
    results: list[Result]


class RunCreated(Run):
    """What an upload stored (or found stored already: duplicate)."""

    duplicate: bool = Field(description="The same report was uploaded before; nothing added.")
    links_added: int
    links_removed: int
    summary: str = Field(description="What was stored, in a line a person reads.")


def report_body_content() -> dict[str, dict[str, Any]]:
    """Return the media types and schemas an uploaded report may come as."""
    raw = {"type": "string", "format": "binary", "description": "JUnit XML (or gzipped)."}
    form = {
        "type": "object",
        "required": ["report"],
        "properties": {
            "report": {
                "type": "string",
                "format": "binary",
                "description": "The JUnit XML file ('file' is read too).",
            },
            **_run_fields(),
        },
    }
    return {media_type: raw for media_type in REPORT_TYPES} | {"multipart/form-data": form}


def _run_fields() -> dict[str, Any]:
    """Return the form fields of an upload: the same as its query parameters."""
    fields = UploadQuery.model_json_schema()["properties"]
    return {
        name: {key: value for key, value in option.items() if key != "default"}
        | {"description": prop["description"]}
        for name, prop in fields.items()
        for option in prop["anyOf"][:1]
    }
