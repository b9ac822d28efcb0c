"""The audit trail: filter by actor, object, action and time; export JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, render_template, request
from sqlmodel import Session

from tracker.db import get_engine, get_session
from tracker.domain.access import Permission
from tracker.models import AuditEvent, column_length
from tracker.services.audit import AuditFilter, event_json, iter_events, search_events
from tracker.web.audit.page import audit_page
from tracker.web.auth import requires
from tracker.web.request_args import date_arg, integer_arg, text_arg

audit = Blueprint("audit", __name__)

PAGE_SIZE = 100
#: Each text filter is bounded by the column it is compared with.
FILTER_COLUMNS = {
    "actor": "actor",
    "object": "entity_type",
    "object_id": "entity_id",
    "action": "action",
}


@audit.get("/audit")
@requires(Permission.READ_AUDIT)
def index() -> str:
    """Show the newest events that match the filter, a page at a time."""
    audit_filter, values = parse_filter(request.args)
    offset = integer_arg(request.args, "offset", 0, 0)
    events, total = search_events(
        session=get_session(), audit_filter=audit_filter, offset=offset, limit=PAGE_SIZE
    )
    page = audit_page(events, total, offset, PAGE_SIZE, values)
    return render_template("audit/index.html", page=page)


@audit.get("/audit.jsonl")
@requires(Permission.READ_AUDIT)
def export() -> Response:
    """Stream every matching event as JSON Lines, oldest first, with its hashes."""
    audit_filter, _ = parse_filter(request.args)
    engine = get_engine()  # the stream runs after this request's context has ended

    def lines() -> Iterator[str]:
        with Session(engine) as db_session:
            for event in iter_events(session=db_session, audit_filter=audit_filter):
                yield json.dumps(event_json(event), sort_keys=True, ensure_ascii=False) + "\n"

    response = Response(lines(), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-trail.jsonl"'
    return response


def parse_filter(args: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """Return the filter asked for in the query string, and its values for the form."""
    values = {
        name: text_arg(args, name, column_length(AuditEvent, column)) or ""
        for name, column in FILTER_COLUMNS.items()
    }
    since = date_arg(args, "since", "'From' date", earliest=date.min, latest=date.max)
    until = date_arg(args, "until", "'To' date", earliest=date.min, latest=date.max)
    values |= {
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }
    return (
        AuditFilter(
            actor=values["actor"] or None,
            entity_type=values["object"] or None,
            entity_id=values["object_id"] or None,
            action=values["action"] or None,
            since=_moment(since),
            until=_moment(until, end=True),
        ),
        values,
    )


def _moment(day: date | None, end: bool = False) -> datetime | None:
    if day is None or (end and day == date.max):
        return None  # no bound, or up to the end of time
    moment = datetime.combine(day, time(), tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment
