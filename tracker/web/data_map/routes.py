"""The data map pages (activities, one activity, systems) and the Art. 30 record downloads."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.integrations.art30_export import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, to_csv, to_xlsx
from tracker.models import utcnow
from tracker.services.data_map_pages import (
    activity_detail,
    art30_from_store,
    data_map_overview,
    systems_overview,
)
from tracker.web.auth import requires
from tracker.web.data_map.page import activity_page, overview_page, systems_page

data_map = Blueprint("data_map", __name__)


@data_map.get("/data-map")
@requires(Permission.READ)
def index() -> str:
    """List the processing activities of the data map."""
    overview = data_map_overview(session=get_session())
    return render_template("data_map/index.html", page=overview_page(overview))


@data_map.get("/data-map/activities/<activity_id>")
@requires(Permission.READ)
def activity(activity_id: str) -> str:
    """Show one processing activity and the obligations and duties it brings."""
    detail = activity_detail(session=get_session(), activity_id=activity_id)
    return render_template("data_map/activity.html", page=activity_page(detail))


@data_map.get("/data-map/systems")
@requires(Permission.READ)
def systems() -> str:
    """List the systems that store or process personal data."""
    rows = systems_overview(session=get_session())
    return render_template("data_map/systems.html", page=systems_page(rows))


@data_map.get("/data-map/export.csv")
@requires(Permission.READ)
def export_csv() -> Response:
    """Download the Art. 30 record of processing activities as CSV."""
    record = art30_from_store(get_session())
    return _attachment(to_csv(record).encode("utf-8"), CSV_CONTENT_TYPE, "csv")


@data_map.get("/data-map/export.xlsx")
@requires(Permission.READ)
def export_xlsx() -> Response:
    """Download the Art. 30 record and its systems as an XLSX workbook."""
    record = art30_from_store(get_session())
    return _attachment(to_xlsx(record), XLSX_CONTENT_TYPE, "xlsx")


def _attachment(body: bytes, content_type: str, extension: str) -> Response:
    name = f"art30-record-{utcnow():%Y%m%d}.{extension}"
    return Response(
        body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
