"""Releases: the list, creating one (compliance), and the read API."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.errors import ValidationError
from tracker.services.gate import gate_json
from tracker.services.release_readiness import release_readiness
from tracker.services.releases import create_release, list_releases, parse_release_date
from tracker.web.auth import current_actor, may, requires
from tracker.web.releases.page import release_rows
from tracker.web.responses import json_response

releases = Blueprint("releases", __name__)


@releases.get("/releases")
@requires(Permission.READ)
def index() -> str:
    """List the releases, newest first, with a form for compliance to add one."""
    return _page()


@releases.post("/releases")
@requires(Permission.DECIDE_RELEASES)
def create() -> ResponseReturnValue:
    """Create a release in the tracker."""
    form = request.form
    try:
        with get_session().begin():
            release = create_release(
                session=get_session(),
                name=form.get("name", ""),
                release_date=parse_release_date(form.get("date")),
                actor=current_actor(),
            )
    except ValidationError as exc:
        return _page(error=str(exc), values=dict(form)), 400
    flash(f"Release {release.name} created.", "success")
    return redirect(url_for("releases.index"))


@releases.get("/api/v1/releases/<path:name>/gate")
@requires(Permission.READ)
def api_gate(name: str) -> Response:
    """Return the gate's verdict for the release under the default policy."""
    readiness = release_readiness(
        session=get_session(),
        release=text_value(name, "release", 200),
        default_branch=current_app.config["DEFAULT_BRANCH"],
    )
    return json_response(gate_json(readiness))


@releases.get("/api/v1/releases")
@requires(Permission.READ)
def api_list() -> Response:
    """Return every release as JSON, newest first."""
    rows = list_releases(session=get_session())
    return json_response({"releases": [release.as_json() for release in rows]})


def text_value(value: str, field: str, maximum: int) -> str:
    """Return a path value, refused when it holds NUL or is too long (never a 500)."""
    if "\x00" in value or len(value) > maximum:
        raise ValidationError(f"The {field} name is not valid.", field=field)
    return value


def _page(error: str | None = None, values: dict[str, str] | None = None) -> str:
    rows = release_rows(list_releases(session=get_session()))
    return render_template(
        "releases/index.html",
        rows=rows,
        error=error,
        values=values or {},
        can_create=may(Permission.DECIDE_RELEASES),
    )
