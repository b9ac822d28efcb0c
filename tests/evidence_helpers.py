"""Helpers for the test-evidence tests: JUnit reports in code, ingest, tokens, query counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import Scope, cli_actor
from tracker.models import WorkItem, utcnow
from tracker.services.catalog import load_catalog
from tracker.services.ingest import IngestReport, RunOptions, ingest_report
from tracker.services.links import link_work_item
from tracker.services.tokens import create_token

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT} {IMAGE}"

_BODIES = {
    "passed": "",
    "failed": "<failure message={message}>{text}</failure>",
    "error": "<error message={message}>{text}</error>",
    "skipped": "<skipped message={message}/>",
}


def case(
    name: str,
    obligations: str = "",
    outcome: str = "passed",
    message: str = "boom",
    classname: str = "tests.test_privacy",
) -> str:
    """Return one <testcase>; every value is XML-escaped, so hostile text stays text."""
    props = (
        f"<properties><property name='obligations' value={quoteattr(obligations)}/></properties>"
        if obligations
        else ""
    )
    body = _BODIES[outcome].format(message=quoteattr(message), text=escape(message))
    return (
        f"<testcase classname={quoteattr(classname)} name={quoteattr(name)} time='0.25'>"
        f"{props}{body}</testcase>"
    )


def report(*cases: str, suite: str = "pytest", days_ago: float | None = None) -> bytes:
    """Return a JUnit XML report of these cases (started days_ago, if given)."""
    stamp = ""
    if days_ago is not None:
        moment = utcnow() - timedelta(days=days_ago)
        stamp = f" timestamp='{moment:%Y-%m-%dT%H:%M:%S}'"
    return (
        "<?xml version='1.0' encoding='utf-8'?><testsuites>"
        f"<testsuite name={quoteattr(suite)} tests='{len(cases)}'{stamp}>"
        + "".join(cases)
        + "</testsuite></testsuites>"
    ).encode()


def load_small_catalog(session: Session) -> None:
    """Load the small test catalog (ALPHA and BETA)."""
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))


def link_done_work_item(session: Session, obligation_id: str, key: str) -> None:
    """Link a finished Jira work item, so the obligation can become VERIFIED."""
    with transaction(session):
        session.add(WorkItem(key=key, summary=f"Epic {key}", status="Done", status_category="done"))
        session.flush()
        link_work_item(
            session=session, obligation_id=obligation_id, key=key, actor=cli_actor("eng")
        )


def ingest(session: Session, data: bytes, **options: str) -> IngestReport:
    """Ingest a report in its own transaction, as the CLI and the API do."""
    with transaction(session):
        result = ingest_report(
            session=session, source=data, options=RunOptions(**options), uploaded_by=cli_actor("ci")
        )
    session.rollback()
    return result


def new_token(session: Session, name: str = "ci") -> str:
    """Create an API token and return its secret."""
    with transaction(session):
        secret = create_token(
            session=session,
            name=name,
            actor=cli_actor("test"),
            scopes=[Scope.RESULTS_WRITE, Scope.READ],
        ).secret
    session.rollback()
    return secret


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Return every row of every table, to prove that nothing was written.

    When a token or a session was last used is left out: using one is not a change.
    """
    volatile = {("apitoken", "last_used_at"), ("loginsession", "last_seen_at")}
    with engine.connect() as connection:
        return {
            table.name: sorted(
                repr(tuple(row))
                for row in connection.execute(
                    select(*[c for c in table.columns if (table.name, c.name) not in volatile])
                )
            )
            for table in SQLModel.metadata.sorted_tables
        }


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements run on the engine inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def assert_escaped(text: str) -> None:
    """Assert that the hostile strings appear only as escaped text."""
    assert "<script" not in text
    assert "<img" not in text
    assert "onerror=alert(1)>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in text
