"""What a release contains: its work items by fix version, earlier ones too, never later ones."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from tests.evidence_helpers import load_small_catalog
from tests.helpers import transaction
from tracker.domain.access import cli_actor
from tracker.models import JiraVersion, WorkItem
from tracker.services.evidence import EvidenceScope
from tracker.services.links import link_work_item
from tracker.services.matrix import build_matrix


def _setup(session: Session) -> None:
    load_small_catalog(session)
    with transaction(session):
        for number, (name, day) in enumerate(
            (("2026.10", date(2026, 10, 1)), ("2026.12", date(2026, 12, 15)), ("2027.03", None))
        ):
            session.add(
                JiraVersion(id=str(number), project_key="PRIV", name=name, release_date=day)
            )
        for key, category, versions in (
            ("PRIV-1", "done", ["2026.10"]),
            ("PRIV-2", "done", ["2026.12"]),
            ("PRIV-3", "new", ["2027.03"]),
            ("PRIV-4", "done", []),
        ):
            session.add(
                WorkItem(
                    key=key,
                    summary=key,
                    status=category.title(),
                    status_category=category,
                    fix_versions=versions,
                )
            )
        session.flush()
        for obligation, key in (
            ("ALPHA-1.1", "PRIV-1"),
            ("ALPHA-1.1", "PRIV-2"),
            ("ALPHA-1.2", "PRIV-2"),
            ("ALPHA-1.2", "PRIV-3"),
            ("ALPHA-2", "PRIV-3"),
            ("BETA-7", "PRIV-4"),
        ):
            link_work_item(
                session=session, obligation_id=obligation, key=key, actor=cli_actor("eng")
            )


def _rows(session: Session, release: str | None) -> dict[str, object]:
    data = build_matrix(session=session, scope=EvidenceScope(release=release))
    return {row.id: row.result for row in data.rows}


def test_work_shipped_earlier_counts_and_work_planned_later_does_not(session: Session) -> None:
    _setup(session)
    december = _rows(session, "2026.12")
    # Shipped in 2026.10 and done in 2026.12: all of it is in the product.
    assert december["ALPHA-1.1"].implementation.value == "done"
    # PRIV-3 is for 2027.03: only PRIV-2 (done) counts for 2026.12.
    assert december["ALPHA-1.2"].implementation.value == "done"
    assert any(
        "PRIV-3 is planned for 2027.03" in reason for reason in december["ALPHA-1.2"].reasons
    )
    # Only later work: planned for this release, not a gap.
    assert december["ALPHA-2"].status.value == "PLANNED"
    # Without a fix version it counts, and says so.
    assert any("PRIV-4 has no fix version" in reason for reason in december["BETA-7"].reasons)


def test_an_earlier_release_does_not_contain_later_work(session: Session) -> None:
    _setup(session)
    october = _rows(session, "2026.10")
    assert october["ALPHA-1.1"].implementation.value == "done"  # PRIV-1 only
    assert any("PRIV-2 is planned for 2026.12" in reason for reason in october["ALPHA-1.1"].reasons)
    assert october["ALPHA-1.2"].status.value == "PLANNED"


def test_without_a_release_every_linked_item_counts_as_before(session: Session) -> None:
    _setup(session)
    rows = _rows(session, None)
    assert rows["ALPHA-1.2"].implementation.value == "in progress"  # PRIV-3 is not done
    assert not any("planned for" in reason for reason in rows["ALPHA-1.2"].reasons)
