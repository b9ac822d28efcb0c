"""A small release for tests: 2026.12 with verified, failing, gap and not-applicable obligations."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from tests.evidence_helpers import case, ingest, load_small_catalog, report
from tests.helpers import transaction
from tracker.domain.access import cli_actor
from tracker.models import JiraVersion, WorkItem
from tracker.services.links import decide_applicability, link_work_item

RELEASE = "2026.12"


def release_world(session: Session) -> None:
    """ALPHA-1.1 verified, ALPHA-1.2 failing, ALPHA-2 a gap, BETA-7 implemented, BETA-9 n/a."""
    load_small_catalog(session)
    with transaction(session):
        session.add(
            JiraVersion(id="10", project_key="PRIV", name=RELEASE, release_date=date(2026, 12, 15))
        )
        for key in ("PRIV-1", "PRIV-2", "PRIV-7"):
            session.add(
                WorkItem(
                    key=key,
                    summary=f"Epic {key}",
                    status="Done",
                    status_category="done",
                    fix_versions=[RELEASE],
                )
            )
        session.flush()
        for obligation, key in (
            ("ALPHA-1.1", "PRIV-1"),
            ("ALPHA-1.2", "PRIV-2"),
            ("BETA-7", "PRIV-7"),
        ):
            link_work_item(
                session=session, obligation_id=obligation, key=key, actor=cli_actor("eng")
            )
        decide_applicability(
            session=session,
            obligation_id="BETA-9",
            not_applicable=True,
            justification="We process no data of this kind at all.",
            actor=cli_actor("legal"),
        )
    ingest(
        session,
        report(
            case("test_erasure", "ALPHA-1.1"),
            case("test_recipients", "ALPHA-1.2", "failed"),
        ),
        release=RELEASE,
    )
