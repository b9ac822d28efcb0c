"""The dashboard: each instrument's obligations counted per status, and the overall picture."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlmodel import Session, select

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.models import Instrument, utcnow
from tracker.services.release_readiness import expired_exceptions
from tracker.services.releases import list_releases
from tracker.web.auth import requires
from tracker.web.caching import request_matrix, with_etag
from tracker.web.collector import with_collector_paused
from tracker.web.dashboard.page import dashboard_page
from tracker.web.request_args import evidence_scope

dashboard = Blueprint("dashboard", __name__)


@dashboard.get("/")
@requires(Permission.READ)
@with_etag
@with_collector_paused
def index() -> str:
    """Show counts per status for each instrument, linking into the filtered matrix."""
    session = get_session()
    scope = evidence_scope()
    data = request_matrix(scope)
    page = dashboard_page(
        data.rows, _instrument_titles(session), data.generated_at, scope, data.notes
    )
    releases = [release.name for release in list_releases(session=session)][:50]
    expired = (
        expired_exceptions(session=session, release=scope.release, today=utcnow().date())
        if scope.release
        else []
    )
    return render_template(
        "dashboard/index.html",
        page=page,
        releases=releases,
        release=scope.release or "",
        expired=expired,
    )


def _instrument_titles(session: Session) -> dict[str, str]:
    # One small query; a catalog service helper would be its natural home later.
    return dict(session.exec(select(Instrument.id, Instrument.title)).all())
