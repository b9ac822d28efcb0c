"""The obligation page: catalog fields, mappings, versions, links, status, forms and history."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from tests.helpers import SMALL_CATALOG, clear_of_time_bucket_end, csrf_token, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.models import TestCase, TestResult, TestRun, WorkItem
from tracker.services.catalog import load_catalog
from tracker.services.links import decide_applicability, link_test, link_work_item


def load(session: Session, path: Path = SMALL_CATALOG) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(path), actor=cli_actor("legal team"))


def edited_catalog(tmp_path: Path, old: str, new: str, file: str = "alpha.yaml") -> Path:
    """Return a copy of the small catalog with one text replaced."""
    folder = tmp_path / f"catalog-{uuid.uuid4().hex[:8]}"
    shutil.copytree(SMALL_CATALOG, folder)
    path = folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return folder


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Return every row of every table, to prove a request wrote nothing."""
    with engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables
        }


def page(client, obligation_id: str = "ALPHA-1.1") -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/obligations/{obligation_id}")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def post(client, url: str, data: dict[str, str] | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    """Post a form with a valid CSRF token (read once, so flashed messages stay unread)."""
    if not hasattr(client, "form_token"):
        client.form_token = csrf_token(client, "/obligations/ALPHA-1.1")
    return client.post(url, data={"csrf_token": client.form_token, **(data or {})}, **kwargs)


def link_items(session: Session) -> None:
    with transaction(session):
        session.add(
            WorkItem(
                key="PRIV-1",
                summary="Erase every store",
                status="In Progress",
                status_category="indeterminate",
                url="https://jira.example.org/browse/PRIV-1",
            )
        )
        session.flush()
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor("eng")
        )
        link_test(
            before_first_run=True,
            session=session,
            obligation_id="ALPHA-1.1",
            test_id="api/Erasure/ok",
            actor=cli_actor("qa"),
        )


def test_obligation_page_shows_the_catalog_fields(client, session):
    load(session)
    text = page(client)
    assert "<h1>ALPHA-1.1: Right to erasure</h1>" in text
    assert "Art. 1(1)" in text
    assert "Alpha Data Protection Act (test instrument)" in text
    assert (
        '<a href="https://example.org/alpha#1.1" target="_blank" rel="noopener noreferrer">' in text
    )
    assert "Delete a person&#39;s data without undue delay" in text
    assert '<tr><th scope="row">response deadline</th><td class="num">30</td><td>days</td>' in text
    assert '<a class="tag" href="/matrix?tag=deletion">deletion</a>' in text
    assert "<dt>Severity</dt><dd>high</dd>" in text
    assert "<strong>Automated test</strong>: End-to-end erasure test over every store." in text
    assert "Test results count for 30 days" in text
    assert "<dt>Lifecycle</dt><dd>active</dd>" in text
    # No date of its own: the instrument's applies, and the page says so.
    assert "<dt>Effective from</dt><dd>2020-01-01 (date of ALPHA as a whole)</dd>" in text


def test_obligation_page_shows_parent_children_and_mappings_in_both_directions(client, session):
    load(session)
    child = page(client, "ALPHA-1.1")
    assert '<a href="/obligations/ALPHA-1">ALPHA-1</a> Erasure' in child
    assert 'overlaps with <a href="/obligations/BETA-7">BETA-7</a> Right to delete' in child
    assert "(declared here)" in child
    assert "Beta only covers collected data." in child
    target = page(client, "BETA-7")
    assert 'overlaps with <a href="/obligations/ALPHA-1.1">ALPHA-1.1</a> Right to erasure' in target
    assert "(declared on ALPHA-1.1)" in target
    parent = page(client, "ALPHA-1")
    assert '<a href="/obligations/ALPHA-1.2">ALPHA-1.2</a>' in parent
    assert "has no status of its own" in parent


def test_obligation_page_shows_versions_newest_first_with_a_diff(client, session, tmp_path):
    load(session)
    load(
        session,
        edited_catalog(tmp_path, "without undue delay when", "within one month when"),
    )
    text = page(client)
    assert text.index("<strong>Version 2</strong>") < text.index("<strong>Version 1</strong>")
    assert "Changed: summary" in text
    # By word: only the words that changed are marked, inside the sentence they belong to.
    assert (
        'Delete a person&#39;s data <del><span class="visually-hidden">[removed: </span>'
        'without undue delay<span class="visually-hidden">]</span></del>'
        '<ins><span class="visually-hidden">[added: </span>within one month'
        '<span class="visually-hidden">]</span></ins> when' in text
    )
    assert "New version from the catalog" in text


def test_obligation_page_shows_status_and_why(client, session):
    load(session)
    link_items(session)
    text = page(client)
    assert '<span class="badge st-in-progress">In progress</span>' in text
    assert "<li>Work: PRIV-1 is In Progress.</li>" in text
    assert "api/Erasure/ok has no result" in text


def test_obligation_page_lists_links_with_remove_buttons(client, session):
    load(session)
    link_items(session)
    text = page(client)
    assert '<a href="/work-items/PRIV-1">PRIV-1</a>' in text
    assert (
        '<a class="small" href="https://jira.example.org/browse/PRIV-1" target="_blank" '
        'rel="noopener noreferrer" aria-label="Open PRIV-1 in Jira (new tab)">Open in Jira</a>'
        in text
    )
    assert "Erase every store" in text
    assert 'action="/obligations/ALPHA-1.1/links/work-items/PRIV-1/remove"' in text
    assert "<code>api/Erasure/ok</code>" in text
    assert '<input type="hidden" name="test_id" value="api/Erasure/ok">' in text
    assert "No result yet" in text
    assert "manual" in text


def test_obligation_page_shows_the_latest_test_outcome(client, session):
    load(session)
    link_items(session)
    with transaction(session):
        run = TestRun(suite="api", branch="main", content_hash=uuid.uuid4().hex)
        session.add(run)
        session.flush()
        case = session.exec(select(TestCase).where(TestCase.test_id == "api/Erasure/ok")).one()
        session.add(TestResult(run_id=run.id, test_case_id=case.id, outcome="failed"))
    text = page(client)
    assert f'<td class="outcome-fail">Failed in run #{run.id}</td>' in text
    assert '<span class="badge st-failing">Failing</span>' in text


def test_unknown_obligation_is_a_404_page(client, session):
    load(session)
    response = client.get("/obligations/ALPHA-404")
    assert response.status_code == 404
    assert "No obligation &#39;ALPHA-404&#39; in the catalog." in response.get_data(as_text=True)


def test_adding_a_jira_key_links_it_and_redirects_back(client, session):
    load(session)
    response = post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": " priv-42 "})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/obligations/ALPHA-1.1#work-items")
    text = page(client)
    assert "Linked PRIV-42 to ALPHA-1.1 (not checked: Jira is not configured)" in text
    assert "not yet synced" in text
    assert '<span class="badge st-planned">Planned</span>' in text


def test_adding_a_test_id_links_it(client, session):
    load(session)
    response = post(
        client,
        "/obligations/ALPHA-1.1/links/tests",
        {"test_id": "e2e/Erasure/test_all_stores", "before_first_run": "on"},
    )
    assert response.status_code == 303
    text = page(client)
    assert "Linked test e2e/Erasure/test_all_stores to ALPHA-1.1 before its first run" in text
    assert "<code>e2e/Erasure/test_all_stores</code>" in text


def test_removing_links_keeps_them_in_the_history(client, session):
    load(session)
    link_items(session)
    first = post(client, "/obligations/ALPHA-1.1/links/work-items/PRIV-1/remove")
    second = post(
        client, "/obligations/ALPHA-1.1/links/tests/remove", {"test_id": "api/Erasure/ok"}
    )
    assert first.status_code == second.status_code == 303
    text = page(client)
    assert "Unlinked PRIV-1 from ALPHA-1.1." in text
    assert "Unlinked test api/Erasure/ok from ALPHA-1.1." in text
    assert "No Jira work item is linked." in text
    assert "No test is linked." in text
    assert "Link removed" in text
    assert "work item: PRIV-1; origin: manual" in text


def test_removing_a_link_that_is_not_there_says_so(client, session, engine):
    load(session)
    before = snapshot(engine)
    response = post(
        client, "/obligations/ALPHA-1.1/links/work-items/PRIV-9/remove", follow_redirects=True
    )
    assert response.status_code == 200
    assert "PRIV-9 is not linked to ALPHA-1.1." in response.get_data(as_text=True)
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        (
            "/obligations/ALPHA-1.1/links/work-items",
            {"key": "not a key"},
            "is not a Jira key: use the form PROJECT-123, e.g. PRIV-42.",
        ),
        ("/obligations/ALPHA-1.1/links/work-items", {"key": ""}, "is not a Jira key"),
        (
            "/obligations/ALPHA-1.1/links/tests",
            {"test_id": "   "},
            "A test id is the suite/classname/name of a test",
        ),
        ("/obligations/ALPHA-1.1/links/tests", {"test_id": "x" * 1001}, "at most 1,000"),
        (
            "/obligations/ALPHA-1.1/applicability",
            {"decision": "not_applicable", "justification": "no"},
            "Say why the obligation does not apply (at least 10 characters).",
        ),
        (
            "/obligations/ALPHA-1.1/applicability",
            {"decision": "maybe", "justification": "We do not process this data."},
            "Choose whether the obligation applies or not",
        ),
    ],
)
def test_bad_input_is_a_400_that_says_what_to_do_and_writes_nothing(
    client, session, engine, url, data, message
):
    load(session)
    before = snapshot(engine)
    response = post(client, url, data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Nothing was saved." in text
    assert message.replace("'", "&#39;") in text
    assert 'aria-invalid="true"' in text
    assert snapshot(engine) == before


def test_a_rejected_form_keeps_what_was_typed(client, session):
    load(session)
    response = post(client, "/obligations/ALPHA-1.1/links/work-items", {"key": "PRIV 42"})
    assert response.status_code == 400
    assert 'name="key" value="PRIV 42"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("links/work-items", {"key": "PRIV-1"}),
        ("links/work-items/PRIV-1/remove", {}),
        ("links/tests", {"test_id": "api/a/b"}),
        ("links/tests/remove", {"test_id": "api/a/b"}),
        ("review", {}),
        ("applicability", {"decision": "not_applicable", "justification": "Not our business."}),
    ],
)
def test_posting_to_an_unknown_obligation_is_a_404_and_writes_nothing(
    client, session, engine, path, data
):
    load(session)
    before = snapshot(engine)
    response = post(client, f"/obligations/NOPE-1/{path}", data)
    assert response.status_code == 404
    assert "No obligation &#39;NOPE-1&#39; in the catalog." in response.get_data(as_text=True)
    assert snapshot(engine) == before


def test_mark_links_as_reviewed_clears_the_review_flag(client, session, tmp_path):
    load(session)
    link_items(session)
    assert "Mark links as reviewed" not in page(client)
    load(session, edited_catalog(tmp_path, "without undue delay when", "within one month when"))
    text = page(client)
    assert "Mark links as reviewed" in text
    assert '<span class="badge st-suspect">Needs review</span>' in text
    response = post(client, "/obligations/ALPHA-1.1/review")
    assert response.status_code == 303
    text = page(client)
    assert "Reviewed 2 link(s) against version 2." in text
    assert "Mark links as reviewed" not in text
    assert '<span class="badge st-in-progress">In progress</span>' in text


def test_not_applicable_then_applies_again(client, session):
    load(session)
    response = post(
        client,
        "/obligations/ALPHA-2/applicability",
        {"decision": "not_applicable", "justification": "We keep no personal data at all."},
    )
    assert response.status_code == 303
    text = page(client, "ALPHA-2")
    assert "Recorded that ALPHA-2 does not apply." in text
    assert '<span class="badge st-not-applicable">Not applicable</span>' in text
    assert "We keep no personal data at all." in text
    assert "It applies again" in text
    response = post(
        client, "/obligations/ALPHA-2/applicability", {"decision": "applies", "justification": ""}
    )
    assert response.status_code == 303
    text = page(client, "ALPHA-2")
    assert "Recorded that ALPHA-2 applies." in text
    assert '<span class="badge st-gap">Gap</span>' in text
    assert "Mark as not applicable" in text


def test_retired_obligation_shows_a_retired_banner(client, session, tmp_path):
    load(session)
    beta = (SMALL_CATALOG / "beta.yaml").read_text()
    retired_part = beta[beta.index("  - id: BETA-9") :]
    load(session, edited_catalog(tmp_path, retired_part, "", file="beta.yaml"))
    text = page(client, "BETA-9")
    assert "Retired: this obligation is no longer in the catalog" in text
    assert "Retired: this obligation" not in page(client, "BETA-7")


def test_history_records_who_did_what(client, session):
    load(session)
    token = csrf_token(client, "/obligations/ALPHA-1.1")
    client.post(
        "/obligations/ALPHA-1.1/links/work-items",
        data={"csrf_token": token, "key": "PRIV-7"},
    )
    text = page(client)
    history = text[text.index('id="history"') :]
    assert re.search(r"<td>admin@example.com \(admin\)</td><td>Link added</td>", history)
    assert "work item: PRIV-7; origin: manual" in history
    assert "<td>legal team</td><td>Added to the catalog</td>" in history


def test_a_too_large_form_is_a_413_page_and_writes_nothing(client, session, engine):
    load(session)
    before = snapshot(engine)
    token = csrf_token(client, "/obligations/ALPHA-1.1")
    client.application.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(
        "/obligations/ALPHA-1.1/applicability",
        data={"csrf_token": token, "decision": "not_applicable", "justification": "x" * 5000},
    )
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "The request is larger than the limit" in text
    assert "Nothing was saved." in text
    assert snapshot(engine) == before


def test_the_page_reads_a_fixed_number_of_queries_whatever_it_carries(client, session, engine):
    from tests.evidence_helpers import case, count_statements, ingest, report

    load(session)
    link_items(session)
    ingest(session, report(case("test_first", "ALPHA-1.1")), suite="api")
    page(client)  # sign-in bookkeeping and first-request work out of the way
    # Another report of the same test: its tests and status are read again.
    ingest(session, report(case("test_first", "ALPHA-1.1"), suite="again"), suite="api")
    with count_statements(engine) as few:
        page(client)
    cases = [case(f"test_{n}", "ALPHA-1.1", "failed" if n == 2 else "passed") for n in range(6)]
    ingest(session, report(*cases), suite="other")
    with count_statements(engine) as more:
        text = page(client)
    # Each test shows its own latest outcome, read with the status (not a second time).
    assert text.count('class="outcome-pass"') == 6 and text.count('class="outcome-fail"') == 1
    # (Less the change log, which this process may have read already: see page_cache.)
    assert len(_reads(more)) == len(_reads(few))
    # Titles are read for the mapped obligations only, never for the whole catalog.
    assert not [s for s in more if re.search(r"FROM obligation\s*$", s)]


def test_a_page_no_write_has_changed_since_reads_only_its_history(client, session, engine):
    """Kept per obligation: a report about other obligations leaves it as it was."""
    from tests.evidence_helpers import case, count_statements, ingest, report

    load(session)
    link_items(session)
    ingest(session, report(case("test_first", "ALPHA-1.1")), suite="api")
    clear_of_time_bucket_end(10)
    first = page(client)
    ingest(session, report(case("test_other", "BETA-7", "failed")), suite="other")
    with count_statements(engine) as kept:
        again = page(client)
    # The sign-in check, the data generation, the change log and the audit history.
    assert len(kept) <= 4, kept
    assert [s for s in kept if "auditevent" in s]
    assert _without_csrf(again) == _without_csrf(first)

    ingest(session, report(case("test_first", "ALPHA-1.1", "failed")), suite="api")
    changed = page(client)
    assert 'class="outcome-fail"' in changed and 'class="outcome-fail"' not in first


def test_a_kept_page_shows_what_a_write_to_anything_else_changed(client, session, engine):
    """Writes the change log cannot name (here an applicability decision) drop every page."""
    load(session)
    first = page(client)
    with transaction(session):
        decide_applicability(
            session=session,
            obligation_id="ALPHA-1.1",
            not_applicable=True,
            justification="We process no data of this kind at all.",
            actor=cli_actor("legal"),
        )
    after = page(client)
    assert "We process no data of this kind at all." in after
    assert "We process no data of this kind at all." not in first


#: What the page shows that no test report changes, and so is not read again after one.
CATALOG_TABLES = ("instrument", "obligationversion", "obligationmapping", "applicabilityproposal")


def test_a_report_on_the_obligation_reads_only_its_tests_and_status_again(client, session, engine):
    from tests.evidence_helpers import case, count_statements, ingest, report

    load(session)
    link_items(session)
    ingest(session, report(case("test_first", "ALPHA-1.1")), suite="api")
    clear_of_time_bucket_end(10)
    first = page(client)
    ingest(session, report(case("test_first", "ALPHA-1.1", "failed")), suite="api")
    with count_statements(engine) as read:
        changed = page(client)
    assert 'class="outcome-fail"' in changed and 'class="outcome-fail"' not in first
    assert "PRIV-1" in changed and "Erase every store" in changed  # kept: its work item
    assert not [s for s in read if re.search(rf"\bFROM ({'|'.join(CATALOG_TABLES)})\b", s)]
    assert [s for s in read if re.search(r"\bFROM testlink\b", s)]
    # What a page read in full shows, to the letter.
    client.application.extensions.pop("tracker.obligation_pages")
    client.application.extensions.pop("tracker.kept_answers")
    assert _without_csrf(page(client)) == _without_csrf(changed)


def test_workers_share_the_kept_content_through_redis(app, client, session, engine):
    """Two processes on one database and one Redis: what one read, the other does not."""
    import redis

    from tests.auth_helpers import signed_in_client
    from tests.evidence_helpers import case, count_statements, ingest, report
    from tracker import create_app
    from tracker.config import TestConfig
    from tracker.services.evidence import EvidenceScope
    from tracker.web.obligations.page_cache import ObligationPages, _redis_key

    store = redis.Redis.from_url("redis://127.0.0.1:6379/4")
    for key in store.scan_iter("tracker:obligation-page:*"):
        store.delete(key)
    other = create_app(
        TestConfig, DATABASE_URL=str(engine.url), ENGINE=engine, CATALOG_PATH=SMALL_CATALOG
    )
    for each in (app, other):
        each.extensions["tracker.obligation_pages"] = ObligationPages(
            client=redis.Redis.from_url("redis://127.0.0.1:6379/4")
        )
    load(session)
    link_items(session)
    ingest(session, report(case("test_first", "ALPHA-1.1")), suite="api")
    clear_of_time_bucket_end(10)
    first = page(client)
    second_worker = signed_in_client(other, "admin", email="admin@example.com")
    with count_statements(engine) as read:
        second = page(second_worker)
    assert _without_csrf(second) == _without_csrf(first)
    assert not [s for s in read if re.search(rf"\bFROM ({'|'.join(CATALOG_TABLES)})\b", s)]
    # Redis forgets it once it would be read in full again; a value that is not one is a miss.
    key = _redis_key(("ALPHA-1.1", EvidenceScope(), False))
    assert 0 < int(store.ttl(key)) <= 601
    store.set(key, b'{"generation": "1-x"}\n{"page": "not a page"}')
    other.extensions.pop("tracker.kept_answers")
    assert _without_csrf(page(second_worker)) == _without_csrf(first)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"not json\n{}",
        b'{"generation": "1-x", "read_again": 1e400, "expires": 1}\n{}',
        b'{"generation": "1-x", "read_again": "inf", "expires": "nan"}\n{}',
        b'{"generation": "1-x", "read_again": 1, "expires": 1}\n{"page": {}}',
        b"[1, 2]\n\xff\xfe",
    ],
)
def test_a_kept_value_that_is_not_a_page_is_a_miss(blob: bytes) -> None:
    from tracker.web.obligations.page_cache import _Entry

    assert _Entry.decode(blob) is None


def _reads(statements: list[str]) -> list[str]:
    return [statement for statement in statements if "datagenerationchange" not in statement]


def _without_csrf(text: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=)"[^"]*"', r"\1", text)
