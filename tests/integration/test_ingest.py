"""Ingesting JUnit reports: runs, results, links declared by reports, and what they verify."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.errors import ReportError
from tracker.integrations.result_mapping import parse_test_mapping
from tracker.models import TestCase, TestLink, TestResult, TestRun, utcnow
from tracker.services.catalog import load_catalog
from tracker.services.evidence import EvidenceScope
from tracker.services.ingest import RunOptions, ingest_report
from tracker.services.links import link_work_item
from tracker.services.matrix import build_matrix


def report(*cases: str, timestamp: str | None = None, suite_props: str = "") -> bytes:
    stamp = f' timestamp="{timestamp}"' if timestamp else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="{len(cases)}"{stamp}>'
        + suite_props
        + "".join(cases)
        + "</testsuite></testsuites>"
    ).encode()


def case(name: str, obligations: str = "", outcome: str = "", extra: str = "") -> str:
    props = (
        f'<properties><property name="obligations" value="{obligations}"/>{extra}</properties>'
        if obligations or extra
        else ""
    )
    body = {
        "": "",
        "failed": '<failure message="boom">trace</failure>',
        "error": '<error message="setup">x</error>',
        "skipped": '<skipped message="later"/>',
    }[outcome]
    return f'<testcase classname="tests.test_privacy" name="{name}" time="0.1">{props}{body}</testcase>'


@pytest.fixture
def loaded(session: Session) -> Session:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor("eng")
        )
        link_work_item(
            session=session, obligation_id="BETA-7", key="PRIV-2", actor=cli_actor("eng")
        )
    with transaction(session):
        from tracker.models import WorkItem

        for key in ("PRIV-1", "PRIV-2"):
            item = session.get(WorkItem, key)
            assert item is not None
            item.status, item.status_category = "Done", "done"
            session.add(item)
    return session


def ingest(session: Session, data: bytes, **options: str):  # type: ignore[no-untyped-def]
    with transaction(session):
        return ingest_report(
            session=session, source=data, options=RunOptions(**options), uploaded_by=cli_actor("ci")
        )


def status(session: Session, obligation_id: str, scope: EvidenceScope | None = None):  # type: ignore[no-untyped-def]
    session.rollback()
    return build_matrix(session=session, scope=scope, obligation_ids=[obligation_id]).rows[0].result


def test_ingest_stores_the_run_results_and_declared_links(loaded: Session) -> None:
    result = ingest(
        loaded,
        report(
            case("test_erasure", "ALPHA-1.1, BETA-7"),
            case("test_recipients", "ALPHA-1.2", "failed"),
            case("test_later", "", "skipped"),
            case("test_typo", "ALPHA-99"),
        ),
        commit="abc1234",
        branch="main",
    )
    assert (result.total, result.passed, result.failed, result.skipped) == (4, 2, 1, 1)
    assert result.unknown_ids == ["ALPHA-99"]
    assert result.links_added == 3
    run = loaded.get(TestRun, result.run_id)
    assert run is not None and run.unknown_ids == ["ALPHA-99"] and run.commit == "abc1234"
    cases = {c.test_id for c in loaded.exec(select(TestCase)).all()}
    assert "pytest/tests.test_privacy/test_erasure" in cases
    verified = status(loaded, "ALPHA-1.1")
    assert verified.status.value == "VERIFIED"
    assert "pytest/tests.test_privacy/test_erasure passed in run #" in verified.explanation
    assert "at commit abc1234" in verified.explanation
    assert status(loaded, "ALPHA-1.2").status.value == "FAILING"


def test_the_same_report_twice_is_recorded_once(loaded: Session) -> None:
    data = report(case("test_erasure", "ALPHA-1.1"))
    first = ingest(loaded, data)
    second = ingest(loaded, data)
    assert second.duplicate and second.run_id == first.run_id
    assert len(loaded.exec(select(TestRun)).all()) == 1
    assert len(loaded.exec(select(TestResult)).all()) == 1


def test_gzip_reports_are_accepted(loaded: Session) -> None:
    assert ingest(loaded, gzip.compress(report(case("test_erasure", "ALPHA-1.1")))).total == 1


def test_malformed_xml_writes_nothing_and_says_where(loaded: Session) -> None:
    with pytest.raises(ReportError) as error, transaction(loaded):
        ingest_report(
            session=loaded,
            source=b"<testsuites>\n<testsuite name='x'>\n<testcase name='a'>\n</testsuites>",
            options=RunOptions(),
            uploaded_by=cli_actor("ci"),
        )
    assert error.value.line == 4
    loaded.rollback()
    assert loaded.exec(select(TestRun)).all() == [] and loaded.exec(select(TestCase)).all() == []


def test_a_dtd_is_refused(loaded: Session) -> None:
    hostile = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><testsuites>&a;</testsuites>'
    with pytest.raises(ReportError), transaction(loaded):
        ingest_report(
            session=loaded, source=hostile, options=RunOptions(), uploaded_by=cli_actor("ci")
        )
    loaded.rollback()
    assert loaded.exec(select(TestRun)).all() == []


def test_removing_the_marker_removes_the_report_link_but_not_manual_links(loaded: Session) -> None:
    from tracker.services.links import link_test

    ingest(loaded, report(case("test_erasure", "ALPHA-1.1")), commit="1")
    with transaction(loaded):
        link_test(
            before_first_run=True,
            session=loaded,
            obligation_id="BETA-7",
            test_id="pytest/tests.test_privacy/test_erasure",
            actor=cli_actor("eng"),
        )
    result = ingest(loaded, report(case("test_erasure")), commit="2")
    assert result.links_removed == 1
    active = loaded.exec(
        select(TestLink.obligation_id, TestLink.origin).where(col(TestLink.removed_at).is_(None))
    ).all()
    assert sorted(active) == [("BETA-7", "manual")]


def test_xray_requirement_keys_link_to_the_obligations_of_that_work_item(loaded: Session) -> None:
    xray = '<property name="requirements" value="PRIV-2"/>'
    result = ingest(loaded, report(case("test_delete_request", extra=xray)))
    assert result.links_added == 1
    assert status(loaded, "BETA-7").status.value == "VERIFIED"


def test_a_mapping_file_links_tests_that_cannot_be_annotated(loaded: Session) -> None:
    mapping = parse_test_mapping(
        {"mappings": [{"tests": "pytest/tests.test_privacy/test_gpc_*", "obligations": ["BETA-9"]}]}
    )
    with transaction(loaded):
        ingest_report(
            session=loaded,
            source=report(case("test_gpc_header")),
            options=RunOptions(),
            uploaded_by=cli_actor("ci"),
            mapping=mapping,
        )
    links = loaded.exec(select(TestLink.obligation_id, TestLink.origin)).all()
    assert list(links) == [("BETA-9", "mapping")]


def test_linked_test_without_result_in_scope_is_not_run(loaded: Session) -> None:
    ingest(loaded, report(case("test_erasure", "ALPHA-1.1")), branch="feature/x")
    result = status(loaded, "ALPHA-1.1")
    assert result.verification.value == "not run"
    assert result.status.value == "IMPLEMENTED"
    assert status(loaded, "ALPHA-1.1", EvidenceScope(branch="feature/x")).status.value == "VERIFIED"


def test_old_passing_evidence_is_stale_and_not_verified(loaded: Session) -> None:
    old = (utcnow() - timedelta(days=45)).strftime("%Y-%m-%dT%H:%M:%S")
    ingest(loaded, report(case("test_erasure", "ALPHA-1.1"), timestamp=old))
    result = status(loaded, "ALPHA-1.1")
    assert result.verification.value == "stale"
    assert result.status.value == "IMPLEMENTED"
    assert "older than the 30-day freshness window" in result.explanation


def test_newest_run_of_the_suite_decides_and_scopes_by_release(loaded: Session) -> None:
    ingest(loaded, report(case("test_erasure", "ALPHA-1.1")), release="2026.11", commit="a")
    ingest(
        loaded, report(case("test_erasure", "ALPHA-1.1", "failed")), release="2026.12", commit="b"
    )
    assert status(loaded, "ALPHA-1.1").status.value == "FAILING"
    assert status(loaded, "ALPHA-1.1", EvidenceScope(release="2026.11")).status.value == "VERIFIED"


def test_suite_level_obligations_apply_to_every_case(loaded: Session) -> None:
    props = '<properties><property name="obligations" value="BETA-9"/></properties>'
    result = ingest(loaded, report(case("test_a"), case("test_b"), suite_props=props))
    assert result.links_added == 2


def test_unknown_claims_are_kept_per_test_until_a_report_drops_them(loaded: Session) -> None:
    from tracker.models import UnknownClaim

    ingest(loaded, report(case("test_typo", "ALPHA-99,ALPHA-1.1")), commit="1")
    claims = loaded.exec(select(UnknownClaim.claimed_id)).all()
    assert list(claims) == ["ALPHA-99"]
    ingest(loaded, report(case("test_typo", "ALPHA-1.1")), commit="2")
    assert loaded.exec(select(UnknownClaim)).all() == []
