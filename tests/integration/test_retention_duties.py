"""Retention duties stored as obligations: sync with the data map, versions, retirement, evidence."""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.evidence_helpers import (
    case,
    count_statements,
    ingest,
    link_done_work_item,
    load_small_catalog,
    report,
)
from tests.helpers import transaction
from tests.retention_helpers import EMAIL, EMAIL_BACKUPS, SENSOR, write_data_map
from tracker.catalog import read_catalog
from tracker.data_map.reader import read_data_map
from tracker.domain.access import cli_actor
from tracker.errors import CatalogError
from tracker.integrations.junit import read_report
from tracker.models import (
    AuditEvent,
    Instrument,
    Obligation,
    ObligationVersion,
    RetentionDuty,
    TestLink,
)
from tracker.services.catalog import load_catalog
from tracker.services.data_map import DataMapLoadReport, load_data_map
from tracker.services.matrix import build_matrix
from tracker.services.retention import sync_retention_duties
from tracker.services.retention_schedule import retention_schedule

pytest_plugins = ["pytester"]

PRIVACY = cli_actor("privacy team")


def load(session: Session, folder: Path) -> DataMapLoadReport:
    data_map = read_data_map(folder)
    assert data_map.ok, data_map.problems
    with transaction(session):
        loaded = load_data_map(session=session, data_map=data_map, actor=PRIVACY)
    session.rollback()
    return loaded


def duties(session: Session) -> dict[str, RetentionDuty]:
    return {row.obligation_id: row for row in session.exec(select(RetentionDuty)).all()}


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_a_data_map_load_stores_each_duty_as_an_obligation_once(
    session: Session, tmp_path: Path
) -> None:
    loaded = load(session, write_data_map(tmp_path))
    assert loaded.retention.added == [EMAIL, EMAIL_BACKUPS, SENSOR]
    stored = duties(session)
    backups = stored[EMAIL_BACKUPS]
    # Two activities keep e-mail addresses in the backups: the longer period applies.
    assert (backups.period, backups.period_days, backups.trigger) == (
        "2 years",
        730,
        "unsubscribed",
    )
    assert backups.activities == ["newsletter", "sign-up"]
    assert [item["activity"] for item in backups.purposes] == ["newsletter", "sign-up"]
    instrument = session.get(Instrument, "RETENTION")
    assert instrument is not None and instrument.jurisdiction == "internal"
    obligation = session.get(Obligation, EMAIL)
    assert obligation is not None and obligation.instrument_id == "RETENTION"
    assert obligation.title == (
        "Delete user.contact.email from Accounts service 30 days after account_closed"
    )
    assert obligation.parameters[0]["value"] == 30 and obligation.parameters[0]["unit"] == "days"
    assert obligation.owner == "engineer@demo.example" and obligation.version == 1
    assert len(events(session, "retention_duty.created")) == 3
    created = events(session, "obligation.created")
    assert {event.entity_id for event in created} == {EMAIL, EMAIL_BACKUPS, SENSOR}
    assert all(event.actor == PRIVACY.label for event in created)

    # The same data map again changes nothing and records nothing.
    audit_count = len(session.exec(select(AuditEvent)).all())
    again = load(session, write_data_map(tmp_path))
    assert (again.retention.added, again.retention.changed, again.retention.retired) == ([], [], [])
    assert again.retention.unchanged == 3
    assert len(session.exec(select(AuditEvent)).all()) == audit_count


def test_a_changed_period_makes_a_new_version_and_the_duty_links_need_review(
    session: Session, tmp_path: Path
) -> None:
    folder = write_data_map(tmp_path)
    load(session, folder)
    link_done_work_item(session, EMAIL, "PRIV-7")
    before = {row.id: row for row in build_matrix(session=session, obligation_ids=[EMAIL]).rows}
    assert not before[EMAIL].work_items[0].suspect

    loaded = load(session, write_data_map(folder, email_period="45 days"))
    # The backups duty only lists sign-up's shorter period: no new version, no review.
    assert loaded.retention.changed == [EMAIL, EMAIL_BACKUPS]
    assert loaded.retention.new_versions == [EMAIL]
    backups = session.get(Obligation, EMAIL_BACKUPS)
    assert backups is not None and backups.version == 1
    obligation = session.get(Obligation, EMAIL)
    assert obligation is not None and obligation.version == 2
    assert obligation.citation == "45 days after account_closed"
    versions = session.exec(
        select(ObligationVersion.version).where(ObligationVersion.obligation_id == EMAIL)
    ).all()
    assert sorted(versions) == [1, 2]
    after = build_matrix(session=session, obligation_ids=[EMAIL]).rows[0]
    assert after.work_items[0].suspect and after.result.suspect
    assert duties(session)[EMAIL].period_days == 45
    changed = next(e for e in events(session, "retention_duty.changed") if e.entity_id == EMAIL)
    assert changed.before is not None and changed.before["period"] == "30 days"
    assert changed.after is not None and changed.after["period"] == "45 days"
    assert events(session, "obligation.new_version")[0].entity_id == EMAIL


def test_a_duty_no_longer_derived_is_retired_and_comes_back_with_its_id(
    session: Session, tmp_path: Path
) -> None:
    folder = write_data_map(tmp_path)
    load(session, folder)
    loaded = load(session, write_data_map(folder, sensor=False))
    assert loaded.retention.retired == [SENSOR]
    obligation = session.get(Obligation, SENSOR)
    assert obligation is not None and obligation.retired_at is not None
    assert obligation.lifecycle_status == "retired"
    assert duties(session)[SENSOR].retired_at is not None
    assert [row.obligation_id for row in retention_schedule(session).rows] == [EMAIL, EMAIL_BACKUPS]
    reasons = [event.after for event in events(session, "obligation.retired")]
    assert reasons and "no retention rule" in str(reasons[0])

    back = load(session, write_data_map(folder))
    assert back.retention.restored == [SENSOR] and back.retention.added == []
    session.expire_all()
    restored = session.get(Obligation, SENSOR)
    assert restored is not None and restored.retired_at is None
    assert restored.lifecycle_status == "active"
    assert duties(session)[SENSOR].retired_at is None


def test_a_catalog_load_keeps_the_retention_duties(session: Session, tmp_path: Path) -> None:
    load_small_catalog(session)
    load(session, write_data_map(tmp_path))
    load_small_catalog(session)  # the catalog files know nothing of the duties
    session.expire_all()
    kept = session.exec(
        select(Obligation).where(col(Obligation.instrument_id) == "RETENTION")
    ).all()
    assert len(kept) == 3 and all(row.retired_at is None for row in kept)
    assert events(session, "obligation.retired") == []


def test_a_catalog_may_not_define_the_retention_instrument(
    session: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "retention.yaml").write_text(
        "instrument:\n  id: RETENTION\n  title: Our own retention rules\n"
        "  jurisdiction: EU\n  official_url: https://example.org/retention\n",
        encoding="utf-8",
    )
    catalog = read_catalog(folder)
    assert catalog.ok
    with pytest.raises(CatalogError, match="RETENTION is the tracker's own"), transaction(session):
        load_catalog(session=session, catalog=catalog, actor=PRIVACY)


def test_a_sync_with_no_data_map_changes_nothing(session: Session) -> None:
    with transaction(session):
        synced = sync_retention_duties(session=session, actor=PRIVACY)
    assert (synced.added, synced.changed, synced.retired) == ([], [], [])
    assert session.get(Instrument, "RETENTION") is None


def test_a_junit_result_naming_a_duty_verifies_it_and_the_schedule_shows_it(
    session: Session, tmp_path: Path
) -> None:
    load(session, write_data_map(tmp_path))
    link_done_work_item(session, SENSOR, "APP-12")
    ingested = ingest(
        session,
        report(
            case("test_sensor_readings_are_purged_after_a_year", SENSOR),
            case("test_closed_accounts_lose_their_email", EMAIL, outcome="failed"),
        ),
    )
    assert ingested.unknown_ids == []
    rows = {row.id: row for row in build_matrix(session=session).rows}
    assert rows[SENSOR].result.status.value == "VERIFIED"
    assert rows[EMAIL].result.status.value == "FAILING"
    schedule = {row.obligation_id: row for row in retention_schedule(session).rows}
    sensor = schedule[SENSOR]
    assert [(test.test_id, test.outcome) for test in sensor.tests] == [
        ("pytest/tests.test_privacy/test_sensor_readings_are_purged_after_a_year", "passed")
    ]
    assert [item.key for item in sensor.work_items] == ["APP-12"]
    assert sensor.period == "1 year" and sensor.system_name == "Health sync service"
    assert [test.outcome for test in schedule[EMAIL].tests] == ["failed"]
    assert schedule[EMAIL_BACKUPS].result.status.value == "GAP"


INNER_TEST = f"""
import pytest


@pytest.mark.obligation("{SENSOR}")
def test_sensor_readings_are_purged_after_a_year():
    assert True
"""


def test_the_pytest_marker_takes_a_duty_id_and_its_report_verifies_the_duty(
    pytester: pytest.Pytester, session: Session, tmp_path: Path
) -> None:
    pytester.makepyfile(test_purge=INNER_TEST)
    installed = any(ep.value == "tracker.pytest_plugin" for ep in entry_points(group="pytest11"))
    plugin = (
        []
        if installed and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        else [
            "-p",
            "tracker.pytest_plugin",
        ]
    )
    result = pytester.runpytest(
        *plugin, "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--junitxml=report.xml"
    )
    result.assert_outcomes(passed=1)
    cases, _ = read_report(pytester.path / "report.xml")
    assert [item.obligation_ids for item in cases] == [(SENSOR,)]

    load(session, write_data_map(tmp_path / "data_map"))
    ingested = ingest(session, (pytester.path / "report.xml").read_bytes())
    assert ingested.unknown_ids == [] and ingested.invalid_ids == []
    links = session.exec(select(TestLink).where(TestLink.obligation_id == SENSOR)).all()
    assert len(links) == 1


def write_wide_data_map(folder: Path, systems: int) -> Path:
    """One activity keeping two categories in many systems: two duties per system."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"system-{index}" for index in range(systems)]
    (folder / "systems.yaml").write_text(
        "systems:\n" + "".join(f"  - {{id: {item}, name: System {item}}}\n" for item in ids),
        encoding="utf-8",
    )
    (folder / "activities.yaml").write_text(
        "activities:\n  - id: wide\n    name: Wide activity\n"
        "    purpose: Keep names and e-mail addresses everywhere.\n"
        "    data_categories: [user.name, user.contact.email]\n    data_subjects: [customer]\n"
        f"    systems: [{', '.join(ids)}]\n    jurisdictions: [EU]\n    roles: [controller]\n"
        "    retention:\n      - {data_categories: [user.name, user.contact.email], "
        "period: 1 year, trigger: collected}\n"
        "    dpia: {required: false, reason: Ordinary account data only.}\n",
        encoding="utf-8",
    )
    return folder


def test_the_schedule_reads_a_fixed_number_of_statements_whatever_its_size(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    counts = []
    for systems in (2, 40):
        load(session, write_wide_data_map(tmp_path / str(systems), systems))
        with count_statements(engine) as statements:
            rows = retention_schedule(session).rows
        session.rollback()
        assert len(rows) == 2 * systems
        counts.append(len(statements))
    assert counts[0] == counts[1]
