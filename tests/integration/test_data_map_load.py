"""Loading the data map: versions on change, retirement, audit with the actor, all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from tests.helpers import DATA, SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.data_map.reader import read_data_map
from tracker.domain.access import cli_actor
from tracker.errors import CatalogError
from tracker.models import AuditEvent, DataSystem, Dpia, ProcessingActivity
from tracker.services import data_map as data_map_service
from tracker.services.applicability_refresh import ProposalRefresh
from tracker.services.catalog import load_catalog
from tracker.services.data_map import (
    DataMapLoadReport,
    current_activities,
    current_dpias,
    current_systems,
    load_data_map,
)
from tracker.services.retention import RetentionSync

SMALL_MAP = DATA / "data_map_small"
PRIVACY = cli_actor("tracker datamap load", "privacy-lead")
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def catalog(session: Session) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("c"))


@pytest.fixture
def map_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data_map"
    shutil.copytree(SMALL_MAP, target)
    return target


def load(session: Session, path: Path, actor: Any = PRIVACY) -> DataMapLoadReport:
    data_map = read_data_map(path, known_obligations=frozenset({"ALPHA-1.1"}))
    with transaction(session):
        return load_data_map(session=session, data_map=data_map, actor=actor)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def events(session: Session, action: str) -> list[AuditEvent]:
    session.rollback()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq))
    return list(session.exec(query).all())


def test_a_first_load_stores_every_item_at_version_1_and_audits_each(
    session: Session, catalog: None
) -> None:
    report = load(session, SMALL_MAP)
    assert sorted(report.activities.added) == ["newsletter", "sign-up"]
    assert sorted(report.systems.added) == ["crm", "web-app"]
    assert report.dpias.added == ["dpia-newsletter"]
    assert report.summary().startswith("2 processing activities on 2 systems, 1 DPIA. ")
    sign_up = session.get(ProcessingActivity, "sign-up")
    assert sign_up is not None
    assert (sign_up.version, sign_up.name, sign_up.owner) == (
        1,
        "Account sign-up",
        "legal@example.com",
    )
    assert sign_up.source_file.endswith("activities.yaml") and sign_up.source_line == 2
    assert sign_up.spec["data_categories"] == ["user.contact.email", "user.name"]
    newsletter = session.get(ProcessingActivity, "newsletter")
    assert newsletter is not None and newsletter.dpia_required
    crm = session.get(DataSystem, "crm")
    assert crm is not None and crm.jira_project == "CRM"
    dpia = session.get(Dpia, "dpia-newsletter")
    assert dpia is not None and dpia.activity_id == "newsletter" and dpia.version == 1
    created = events(session, "activity.created")
    assert [e.entity_id for e in created] == ["sign-up", "newsletter"]
    assert all(e.actor == "tracker datamap load (by privacy-lead)" for e in created)
    assert created[0].after is not None and created[0].after["version"] == 1
    assert created[0].after["purpose"] == "Create the customer's account so that they can shop."
    assert len(events(session, "data_system.created")) == 2
    assert len(events(session, "dpia.created")) == 1


def test_the_read_helpers_return_the_stored_specs(session: Session, catalog: None) -> None:
    load(session, SMALL_MAP)
    assert [spec.id for spec in current_activities(session)] == ["newsletter", "sign-up"]
    assert [spec.id for spec in current_systems(session)] == ["crm", "web-app"]
    [dpia] = current_dpias(session)
    assert dpia.risks[0].mitigations[0].obligations == ["ALPHA-1.1"]
    assert current_activities(session)[1].retention[0].period == "30 days"


def test_reloading_an_unchanged_data_map_writes_nothing(session: Session, catalog: None) -> None:
    load(session, SMALL_MAP)
    engine = session.get_bind()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        report = load(session, SMALL_MAP)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (report.activities.unchanged, report.systems.unchanged, report.dpias.unchanged) == (
        2,
        2,
        1,
    )
    assert not report.changed
    writes = [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]
    assert writes == []


def test_a_changed_activity_gets_a_new_version_and_an_audit_event_with_before_and_after(
    session: Session, catalog: None, map_copy: Path
) -> None:
    load(session, map_copy)
    edit(
        map_copy / "activities.yaml",
        "purpose: Send the newsletter to customers who asked for it.",
        "purpose: Send the newsletter and offers to customers who asked for them.",
    )
    report = load(session, map_copy, actor=cli_actor("tracker datamap load", "dpo"))
    assert report.activities.changed == ["newsletter"]
    assert report.activities.unchanged == 1
    assert not report.systems.any and not report.dpias.any
    session.rollback()
    newsletter = session.get(ProcessingActivity, "newsletter")
    assert newsletter is not None and newsletter.version == 2
    assert newsletter.spec["purpose"].startswith("Send the newsletter and offers")
    [changed] = events(session, "activity.new_version")
    assert changed.entity_id == "newsletter"
    assert changed.actor == "tracker datamap load (by dpo)"
    assert changed.before == {
        "purpose": "Send the newsletter to customers who asked for it.",
        "version": 1,
    }
    assert changed.after == {
        "purpose": "Send the newsletter and offers to customers who asked for them.",
        "version": 2,
    }


def test_a_changed_dpia_gets_a_new_version(session: Session, catalog: None, map_copy: Path) -> None:
    load(session, map_copy)
    edit(map_copy / "dpias.yaml", "likelihood: 3", "likelihood: 4")
    report = load(session, map_copy)
    assert report.dpias.changed == ["dpia-newsletter"]
    session.rollback()
    dpia = session.get(Dpia, "dpia-newsletter")
    assert dpia is not None and dpia.version == 2
    assert dpia.spec["risks"][0]["likelihood"] == 4


def test_an_activity_removed_from_the_files_is_retired_and_comes_back_when_put_back(
    session: Session, catalog: None, map_copy: Path
) -> None:
    load(session, map_copy)
    original = (map_copy / "activities.yaml").read_text(encoding="utf-8")
    start = original.index("  - id: newsletter")
    (map_copy / "activities.yaml").write_text(original[:start], encoding="utf-8")
    (map_copy / "dpias.yaml").write_text("dpias: []\n", encoding="utf-8")
    report = load(session, map_copy)
    assert report.activities.retired == ["newsletter"]
    assert report.dpias.retired == ["dpia-newsletter"]
    session.rollback()
    retired = session.get(ProcessingActivity, "newsletter")
    assert retired is not None and retired.retired_at is not None
    assert [spec.id for spec in current_activities(session)] == ["sign-up"]
    [event_row] = events(session, "activity.retired")
    assert event_row.after == {"reason": "removed from the data map files"}
    assert event_row.before == {"version": 1}

    shutil.copy(SMALL_MAP / "dpias.yaml", map_copy / "dpias.yaml")
    (map_copy / "activities.yaml").write_text(original, encoding="utf-8")
    report = load(session, map_copy)
    assert report.activities.restored == ["newsletter"]
    assert report.dpias.restored == ["dpia-newsletter"]
    session.rollback()
    restored = session.get(ProcessingActivity, "newsletter")
    assert restored is not None and restored.retired_at is None and restored.version == 1
    assert len(events(session, "activity.restored")) == 1


def test_an_invalid_data_map_loads_nothing(session: Session, catalog: None, map_copy: Path) -> None:
    edit(map_copy / "activities.yaml", "user.name]", "user.nickname]")
    data_map = read_data_map(map_copy)
    assert not data_map.ok
    with pytest.raises(CatalogError, match="nothing was loaded") as raised:
        with transaction(session):
            load_data_map(session=session, data_map=data_map, actor=PRIVACY)
    assert any("user.nickname" in str(problem) for problem in raised.value.problems)
    session.rollback()
    assert session.exec(select(ProcessingActivity)).all() == []
    assert session.exec(select(DataSystem)).all() == []
    assert events(session, "activity.created") == []


def test_a_mitigation_naming_an_obligation_the_tracker_lacks_loads_nothing(
    session: Session,
) -> None:
    # Valid against a catalog's files, but that catalog was never loaded here.
    data_map = read_data_map(SMALL_MAP, known_obligations=frozenset({"ALPHA-1.1"}))
    assert data_map.ok
    with pytest.raises(CatalogError, match="tracker catalog load") as raised:
        with transaction(session):
            load_data_map(session=session, data_map=data_map, actor=PRIVACY)
    [problem] = raised.value.problems
    assert problem.file is not None and problem.file.endswith("dpias.yaml")
    assert problem.line == 16  # the line of `obligations: [ALPHA-1.1]`
    assert problem.field == "risks.0.mitigations.0.obligations"
    session.rollback()
    assert session.exec(select(ProcessingActivity)).all() == []


def test_the_retention_and_applicability_hooks_run_in_order_and_their_reports_are_kept(
    session: Session, catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, list[str]]] = []
    synced = RetentionSync(added=["RET-1"])
    refreshed = ProposalRefresh(changed=["ALPHA-1.1"], needs_review=["ALPHA-1.1"])

    def sync(*, session: Session, actor: Any) -> RetentionSync:
        calls.append(("retention", [spec.id for spec in current_activities(session)]))
        return synced

    def refresh(*, session: Session, actor: Any) -> ProposalRefresh:
        calls.append(("proposals", [spec.id for spec in current_activities(session)]))
        return refreshed

    monkeypatch.setattr(data_map_service, "sync_retention_duties", sync)
    monkeypatch.setattr(data_map_service, "refresh_proposals", refresh)
    report = load(session, SMALL_MAP)
    # Both read the activities just stored, in the same transaction.
    assert calls == [
        ("retention", ["newsletter", "sign-up"]),
        ("proposals", ["newsletter", "sign-up"]),
    ]
    assert report.retention is synced and report.proposals is refreshed
    assert "Retention duties: 1 added" in report.summary()
    assert "1 decision(s) to review" in report.summary()
