"""Loading the catalog: versions on normative change, suspect links, retirement, all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from tests.helpers import SMALL_CATALOG, empty_tables, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.errors import CatalogError
from tracker.models import (
    AuditEvent,
    Obligation,
    ObligationMapping,
    ObligationVersion,
    WorkItemLink,
)
from tracker.services.catalog import load_catalog
from tracker.services.links import link_work_item, review_links
from tracker.services.matrix import build_matrix


def load(session: Session, path: Path) -> object:
    with transaction(session):
        report = load_catalog(session=session, catalog=read_catalog(path), actor=cli_actor("legal"))
    return report


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(SMALL_CATALOG, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_first_load_creates_obligations_versions_and_mappings(session: Session) -> None:
    report = load(session, SMALL_CATALOG)
    assert sorted(report.created) == [
        "ALPHA-1",
        "ALPHA-1.1",
        "ALPHA-1.2",
        "ALPHA-2",
        "BETA-7",
        "BETA-9",
    ]
    assert len(session.exec(select(ObligationVersion)).all()) == 6
    [mapping] = session.exec(select(ObligationMapping)).all()
    assert (mapping.source_id, mapping.target_id, mapping.relationship) == (
        "ALPHA-1.1",
        "BETA-7",
        "intersects-with",
    )


def test_reloading_an_unchanged_catalog_changes_nothing(session: Session) -> None:
    load(session, SMALL_CATALOG)
    report = load(session, SMALL_CATALOG)
    assert report.unchanged == 6
    assert not report.created and not report.new_versions and not report.retired


def test_normative_change_makes_a_new_version_and_links_suspect(
    session: Session, catalog_copy: Path
) -> None:
    load(session, catalog_copy)
    with transaction(session):
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor("eng")
        )
    edit(
        catalog_copy / "alpha.yaml",
        "without undue delay when they ask",
        "within 30 days when they ask",
    )
    report = load(session, catalog_copy)
    assert report.new_versions == ["ALPHA-1.1"]
    obligation = session.get(Obligation, "ALPHA-1.1")
    assert obligation is not None and obligation.version == 2
    versions = session.exec(
        select(ObligationVersion).where(ObligationVersion.obligation_id == "ALPHA-1.1")
    ).all()
    assert [v.version for v in versions] == [1, 2]
    row = build_matrix(session=session, obligation_ids=["ALPHA-1.1"]).rows[0]
    assert row.result.status.value == "SUSPECT"
    with transaction(session):
        review_links(session=session, obligation_id="ALPHA-1.1", actor=cli_actor("eng"))
    row = build_matrix(session=session, obligation_ids=["ALPHA-1.1"]).rows[0]
    assert row.result.status.value == "PLANNED"
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert "obligation.new_version" in actions and "link.reviewed" in actions


def test_non_normative_change_keeps_the_version_and_links_reviewed(
    session: Session, catalog_copy: Path
) -> None:
    load(session, catalog_copy)
    with transaction(session):
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor("eng")
        )
    edit(
        catalog_copy / "alpha.yaml",
        "tags: [deletion]\n  - id: ALPHA-1.2",
        "tags: [deletion, dsr]\n  - id: ALPHA-1.2",
    )
    report = load(session, catalog_copy)
    assert report.updated == ["ALPHA-1.1"] and not report.new_versions
    row = build_matrix(session=session, obligation_ids=["ALPHA-1.1"]).rows[0]
    assert not row.result.suspect


def test_removed_obligation_is_retired_and_keeps_its_links(
    session: Session, catalog_copy: Path
) -> None:
    load(session, catalog_copy)
    with transaction(session):
        link_work_item(session=session, obligation_id="BETA-9", key="WEB-1", actor=cli_actor("eng"))
    text = (catalog_copy / "beta.yaml").read_text(encoding="utf-8")
    (catalog_copy / "beta.yaml").write_text(text[: text.index("  - id: BETA-9")], encoding="utf-8")
    report = load(session, catalog_copy)
    assert report.retired == ["BETA-9"]
    obligation = session.get(Obligation, "BETA-9")
    assert obligation is not None and obligation.retired_at is not None
    assert obligation.lifecycle_status == "retired"
    assert (
        session.exec(select(WorkItemLink).where(WorkItemLink.obligation_id == "BETA-9"))
        .one()
        .removed_at
        is None
    )
    assert "BETA-9" not in {row.id for row in build_matrix(session=session).rows}
    (catalog_copy / "beta.yaml").write_text(text, encoding="utf-8")
    assert load(session, catalog_copy).restored == ["BETA-9"]


def test_an_invalid_catalog_loads_nothing(session: Session, catalog_copy: Path) -> None:
    load(session, SMALL_CATALOG)
    edit(catalog_copy / "alpha.yaml", "Delete a person's data", "Erase a person's data")
    edit(catalog_copy / "beta.yaml", "severity: high", "severity: enormous")
    with pytest.raises(CatalogError), transaction(session):
        load_catalog(session=session, catalog=read_catalog(catalog_copy), actor=cli_actor("legal"))
    obligation = session.get(Obligation, "ALPHA-1.1")
    assert obligation is not None and obligation.version == 1
    assert obligation.summary.startswith("Delete")


def test_a_failure_mid_load_rolls_everything_back(
    session: Session, catalog_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(session, SMALL_CATALOG)
    edit(catalog_copy / "alpha.yaml", "Delete a person's data", "Erase a person's data")
    import tracker.services.catalog as service

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_replace_mappings", explode)
    with pytest.raises(RuntimeError), transaction(session):
        load_catalog(session=session, catalog=read_catalog(catalog_copy), actor=cli_actor("legal"))
    session.expire_all()
    obligation = session.get(Obligation, "ALPHA-1.1")
    assert obligation is not None and obligation.version == 1
    assert len(session.exec(select(ObligationVersion)).all()) == 6


def test_the_audit_trail_records_what_changed_not_where_the_files_moved(
    session: Session, catalog_copy: Path
) -> None:
    from tracker.models import AuditEvent
    from tracker.services.audit import verify_audit_trail

    load(session, SMALL_CATALOG)
    created = session.exec(select(AuditEvent)).all()
    assert {event.action for event in created} == {"obligation.created"}
    load(session, catalog_copy)  # the same obligations, read from another folder
    assert len(session.exec(select(AuditEvent)).all()) == len(created)
    report = verify_audit_trail(session=session)
    assert report.ok and report.checked == len(created)


FIRST_SUMMARY = "A synthetic obligation, worded the first way for this test."
CHANGED_SUMMARY = "A synthetic obligation, worded another way for a new version."


def _synthetic_catalog(folder: Path, obligations: int, summary: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "instrument: {id: BULK, title: Bulk, jurisdiction: EU, official_url: https://example.org}",
        "obligations:",
    ]
    for number in range(obligations):
        lines += [
            f"  - id: BULK-{number}",
            f"    citation: Art. {number}",
            f"    title: Obligation {number}",
            f"    summary: {summary}",
            "    official_url: https://example.org",
            "    severity: medium",
            "    evidence: [{type: automated_test, description: An automated test.}]",
            f"    mappings: [{{target: BULK-{(number + 1) % obligations}, "
            "relationship: intersects-with}]",
        ]
    (folder / "bulk.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _statements_of_loads(session: Session, tmp_path: Path, obligations: int) -> list[int]:
    """Count the statements of a first load, a reload changing every summary, and a shrink."""
    engine = session.get_bind()
    counts = []
    for step, (size, summary) in enumerate(
        [
            (obligations, FIRST_SUMMARY),
            (obligations, CHANGED_SUMMARY),
            (obligations - 2, CHANGED_SUMMARY),
        ]
    ):
        folder = _synthetic_catalog(tmp_path / f"{obligations}-{step}", size, summary)
        statements: list[str] = []

        def count(*args: object, into: list[str] = statements) -> None:
            into.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            load(session, folder)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    return counts


def test_a_load_takes_the_same_number_of_statements_for_5_or_50_obligations(
    session: Session, tmp_path: Path
) -> None:
    small = _statements_of_loads(session, tmp_path, 5)
    empty_tables(session.get_bind())
    large = _statements_of_loads(session, tmp_path, 50)
    assert small == large
    versions = session.exec(select(ObligationVersion)).all()
    assert len(versions) == 100  # 50 first versions and 50 second ones
    retired = session.exec(select(Obligation).where(Obligation.retired_at.is_not(None))).all()  # type: ignore[union-attr]
    assert sorted(obligation.id for obligation in retired) == ["BULK-48", "BULK-49"]
    mappings = session.exec(select(ObligationMapping)).all()
    # The mappings of the catalog as it is now: BULK-47 maps to BULK-0 instead of BULK-48.
    assert len(mappings) == 48
    assert ("BULK-47", "BULK-0") in {(m.source_id, m.target_id) for m in mappings}


def test_obligations_the_session_holds_show_what_a_later_load_wrote(
    session: Session, catalog_copy: Path
) -> None:
    load(session, catalog_copy)
    held = session.get(Obligation, "ALPHA-1.1")
    assert held is not None and held.version == 1
    edit(
        catalog_copy / "alpha.yaml",
        "Delete a person's data without undue delay when they ask and a ground applies.",
        CHANGED_SUMMARY,
    )
    load(session, catalog_copy)
    assert held.version == 2 and held.summary == CHANGED_SUMMARY
