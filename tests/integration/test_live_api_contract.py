"""Schemathesis against a live tracker: every /api/v1 operation, generated requests, a token.

The server is the real app in a real HTTP server on a free port, over its own SQLite file with
demo-like data (the bundled catalog, a linked work item, an ingested report, a release). Each
operation gets a bounded, reproducible set of generated requests; every answer must be no 5xx,
have a status and a content type the document declares, and match its schema.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.evidence_helpers import case, ingest, link_done_work_item, report
from tests.helpers import transaction
from tracker import create_app, migrate
from tracker.catalog import read_catalog
from tracker.config import DEFAULT_CATALOG_PATH, TestConfig
from tracker.db import make_engine
from tracker.domain.access import Scope, cli_actor
from tracker.services.catalog import load_catalog
from tracker.services.links import link_test
from tracker.services.releases import create_release
from tracker.services.tokens import create_token
from tracker.web.api.contract import openapi_document

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Generated requests per operation: enough to reach every parameter, bounded for CI's time.
EXAMPLES = 25


@dataclass(frozen=True)
class Live:
    """The running tracker and a token that may read and upload."""

    url: str
    token: str


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _demo_data(engine: Any) -> str:
    """Load what a demo has, in small: catalog, links, a report with results, a release."""
    with Session(engine, expire_on_commit=False) as session:
        with transaction(session):
            load_catalog(
                session=session,
                catalog=read_catalog(DEFAULT_CATALOG_PATH),
                actor=cli_actor("legal"),
            )
        link_done_work_item(session, "GDPR-17.1", "PRIV-1")
        ingest(
            session,
            report(
                case("test_erasure", obligations="GDPR-17.1"),
                case("test_breach_notice", obligations="GDPR-33.1", outcome="failed"),
                case("test_unknown", obligations="GDPR-999"),
                suite="privacy-e2e",
            ),
            branch="main",
            release="2026.12",
        )
        with transaction(session):
            link_test(
                session=session,
                obligation_id="GDPR-15.1",
                test_id="privacy-e2e/tests.test_privacy/test_erasure",
                actor=cli_actor("eng"),
                before_first_run=True,
            )
            create_release(
                session=session, name="2026.12", release_date=None, actor=cli_actor("admin")
            )
            secret = create_token(
                session=session,
                name="contract",
                actor=cli_actor("test"),
                scopes=[Scope.READ, Scope.RESULTS_WRITE],
            ).secret
        session.rollback()
    return secret


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    database: Path = tmp_path_factory.mktemp("contract") / "tracker.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    token = _demo_data(engine)
    app = create_app(TestConfig, DATABASE_URL=url, ENGINE=engine, JIRA_SETTINGS=None)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", token)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        engine.dispose()


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=40
)


@st.composite
def junit_reports(draw: st.DrawFn) -> bytes:
    """Return a JUnit XML report of a few tests, some naming obligations (real or not)."""
    tests = draw(
        st.lists(
            st.tuples(
                _TEXT,
                st.sampled_from(["passed", "failed", "error", "skipped"]),
                st.sampled_from(["", "GDPR-17.1", "GDPR-33.1 GDPR-15.1", "GDPR-999", "no id"]),
            ),
            min_size=1,
            max_size=5,
        )
    )
    cases = [case(name, obligations=ids, outcome=outcome) for name, outcome, ids in tests]
    return report(*cases, suite=draw(_TEXT))


# Uploads: real reports in every raw media type (gzipped for application/gzip), so that the
# stored answers (201, and 200 for a duplicate) are exercised, not only refusals.
for _media_type in ("application/xml", "text/xml", "application/octet-stream"):
    schemathesis.openapi.media_type(_media_type, junit_reports())
schemathesis.openapi.media_type("application/gzip", junit_reports().map(gzip.compress))


def _document() -> dict[str, Any]:
    app = create_app(TestConfig)
    with app.app_context():
        return openapi_document(app)


#: Made from the app when the tests are collected (each operation is a test of its own); the
#: first test checks that the live server serves this same document.
DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_live_server_serves_the_document_the_tests_use(live: Live) -> None:
    response = requests.get(
        f"{live.url}/api/v1/openapi.json",
        headers={"Authorization": f"Bearer {live.token}"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_contract_says(case: Any, live: Live) -> None:
    case.call_and_validate(
        base_url=live.url,
        headers={"Authorization": f"Bearer {live.token}"},
        checks=CHECKS,
        timeout=30,
    )
