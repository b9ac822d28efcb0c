"""Releases: the list, readiness, sign-offs, exceptions, freezing, snapshots and the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

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
from sqlmodel import Session, col, select

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.domain.release_diff import diff_documents
from tracker.errors import ValidationError
from tracker.integrations.oscal import assessment_results
from tracker.models import (
    Instrument,
    Obligation,
    WorkItem,
    column_length,
    utcnow,
)
from tracker.services.gate import gate_json
from tracker.services.gate_policy import configured_policy
from tracker.services.release_decisions import approve_exception, request_exception, sign_off
from tracker.services.release_readiness import Readiness, readiness_history, release_readiness
from tracker.services.releases import create_release, find_release, list_releases
from tracker.services.snapshots import (
    get_snapshot,
    list_snapshots,
    release_document,
    snapshot_json,
)
from tracker.web.api.contract import PathVariable, Reply, operation, reply
from tracker.web.api.schemas import GateVerdict, ReleaseList
from tracker.web.auth import current_actor, current_identity, may, requires
from tracker.web.collector import with_collector_paused
from tracker.web.inputs import LONGEST_RELEASE_NAME
from tracker.web.jobs.starting import start_job
from tracker.web.releases.page import release_rows
from tracker.web.releases.readiness_page import readiness_page
from tracker.web.request_args import date_arg, path_value, text_arg
from tracker.web.responses import json_response

releases = Blueprint("releases", __name__)
OBLIGATION_ID = column_length(Obligation, "id")
INSTRUMENT_ID = column_length(Instrument, "id")


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
                release_date=date_arg(form, "date", "release date"),
                actor=current_actor(),
            )
    except ValidationError as exc:
        return _page(error=str(exc), values=dict(form)), 400
    flash(f"Release {release.name} created.", "success")
    return redirect(url_for("releases.index"))


@releases.get("/releases/<path:name>")
@requires(Permission.READ)
@with_collector_paused
def show(name: str) -> str:
    """Show whether the release is ready, what blocks it and what unblocks it."""
    return _readiness(name)


@releases.post("/releases/<path:name>/sign-off")
@requires(Permission.SIGN_OFF)
def sign(name: str) -> ResponseReturnValue:
    """Sign off the chosen obligations for the release."""
    try:
        with get_session().begin():
            report = sign_off(
                session=get_session(),
                release=name,
                obligation_ids=[
                    path_value(value, "obligation", OBLIGATION_ID)
                    for value in request.form.getlist("obligation")[:5000]
                ],
                statement=request.form.get("statement", ""),
                actor=current_actor(),
                default_branch=current_app.config["DEFAULT_BRANCH"],
            )
    except ValidationError as exc:
        return _readiness(name, error=str(exc)), 400
    if report.signed:
        flash(f"Signed off {len(report.signed)} obligation(s) for {name}.", "success")
    for ob_id, why in report.refused.items():
        flash(f"{ob_id} was not signed off: {why}.", "error")
    return redirect(url_for("releases.show", name=name))


@releases.post("/releases/<path:name>/exceptions")
@requires(Permission.REQUEST_EXCEPTIONS)
def request_risk(name: str) -> ResponseReturnValue:
    """Request an exception (accepted risk) for an obligation in the release."""
    form = request.form
    try:
        with get_session().begin():
            item = request_exception(
                session=get_session(),
                release=name,
                obligation_id=path_value(form.get("obligation", ""), "obligation", OBLIGATION_ID),
                justification=form.get("justification", ""),
                compensating_control=form.get("compensating_control", ""),
                risk_owner=form.get("risk_owner", ""),
                expires_on=_expiry(form),
                actor=current_actor(),
            )
    except ValidationError as exc:
        return _readiness(name, error=str(exc), values=dict(form)), 400
    flash(
        f"Exception #{item.id} requested; someone else with the legal or compliance role "
        "approves it.",
        "success",
    )
    return redirect(url_for("releases.show", name=name))


@releases.post("/releases/<path:name>/exceptions/<int:exception_id>/approve")
@requires(Permission.APPROVE_EXCEPTIONS)
def approve(name: str, exception_id: int) -> ResponseReturnValue:
    """Approve an exception someone else requested."""
    with get_session().begin():
        approve_exception(session=get_session(), exception_id=exception_id, actor=current_actor())
    flash(f"Exception #{exception_id} approved.", "success")
    return redirect(url_for("releases.show", name=name))


@releases.post("/releases/<path:name>/freeze")
@requires(Permission.DECIDE_RELEASES)
def freeze(name: str) -> ResponseReturnValue:
    """Queue the freezing of the release as it is when the job runs."""
    release = find_release(session=get_session(), name=name)  # an unknown one is a 404
    back = url_for("releases.show", name=release.name)
    return start_job("freeze", {"release": release.name}, back=back)


@releases.get("/releases/<path:name>/diff")
@requires(Permission.READ)
def diff(name: str) -> str:
    """Show what changed from an earlier release (?from=) to this one."""
    earlier = path_value(request.args.get("from", ""), "release", LONGEST_RELEASE_NAME)
    if not earlier:
        raise ValidationError("Say which release to compare with: ?from=2026.10.", field="from")
    documents = [
        release_document(
            session=get_session(),
            release=value,
            default_branch=current_app.config["DEFAULT_BRANCH"],
            actor=current_actor(),
        )
        for value in (earlier, name)
    ]
    changes = diff_documents(documents[0], documents[1], utcnow().date().isoformat())
    return render_template("releases/diff.html", diff=changes, name=name, earlier=earlier)


@releases.get("/snapshots/<int:snapshot_id>.json")
@requires(Permission.READ)
def snapshot_download(snapshot_id: int) -> Response:
    """Download a snapshot exactly as frozen (verify it with `tracker snapshot verify`)."""
    snapshot = get_snapshot(session=get_session(), snapshot_id=snapshot_id)
    response = Response(snapshot.document, mimetype="application/json")
    filename = f"snapshot-{snapshot.id}-{snapshot.hash[:12]}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@releases.get("/snapshots/<int:snapshot_id>/report")
@requires(Permission.READ)
@with_collector_paused
def snapshot_report(snapshot_id: int) -> str:
    """Show the auditor's report of a snapshot (print it, or save it as PDF from the browser)."""
    snapshot = get_snapshot(session=get_session(), snapshot_id=snapshot_id)
    return render_template(
        "releases/report.html", snapshot=snapshot, document=snapshot_json(snapshot)
    )


@releases.get("/snapshots/<int:snapshot_id>.oscal.json")
@requires(Permission.READ)
def snapshot_oscal(snapshot_id: int) -> Response:
    """Download a snapshot as OSCAL assessment results."""
    snapshot = get_snapshot(session=get_session(), snapshot_id=snapshot_id)
    results = assessment_results(
        snapshot_json(snapshot), tracker_url=current_app.config["PUBLIC_URL"]
    )
    response = json_response(results)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="snapshot-{snapshot.id}-oscal.json"'
    )
    return response


@releases.get("/api/v1/releases/<path:name>/gate")
@operation(
    "Get a release's gate verdict",
    tag="releases",
    path={"name": PathVariable("The release: a Jira fix version or one made here.", "2026.12")},
    replies={200: Reply("The verdict, and every obligation that blocks.", GateVerdict)},
)
@requires(Permission.READ)
def api_gate(name: str) -> Response:
    """Return the gate's verdict for the release under the configured policy."""
    readiness = release_readiness(
        session=get_session(),
        release=name,
        policy=configured_policy(current_app.config),
        default_branch=current_app.config["DEFAULT_BRANCH"],
    )
    return reply(GateVerdict, gate_json(readiness))


@releases.get("/api/v1/releases")
@operation(
    "List releases",
    tag="releases",
    replies={200: Reply("Every release, newest first.", ReleaseList)},
)
@requires(Permission.READ)
def api_list() -> Response:
    """Return every release as JSON, newest first."""
    rows = list_releases(session=get_session())
    return reply(ReleaseList, {"releases": [release.as_json() for release in rows]})


def _readiness(name: str, error: str | None = None, values: dict[str, str] | None = None) -> str:
    session = get_session()
    readiness = release_readiness(
        session=session,
        release=name,
        policy=configured_policy(current_app.config),
        default_branch=current_app.config["DEFAULT_BRANCH"],
    )
    identity = current_identity()
    earlier = [
        release.name
        for release in list_releases(session=session)
        if release.release_date
        and readiness.release.release_date
        and release.release_date < readiness.release.release_date
    ]
    page = readiness_page(
        readiness,
        list_snapshots(session=session, release=readiness.release.name),
        identity.actor.reference if identity else None,
        earlier[0] if earlier else None,
        utcnow().date(),
        readiness_history(session=session, release=readiness.release.name),
        text_arg(request.args, "instrument", INSTRUMENT_ID) or "",
        _assignees(session, readiness),
    )
    return render_template(
        "releases/show.html",
        page=page,
        error=error,
        values=values or {},
        today=utcnow().date().isoformat(),
    )


def _assignees(session: Session, readiness: Readiness) -> dict[str, str | None]:
    """Return who the linked work items not done yet are assigned to in Jira (one query)."""
    keys = {
        item.key
        for facts in readiness.facts.values()
        for item in facts.work_items
        if item.status_category != "done"
    }
    if not keys:
        return {}
    query = select(WorkItem.key, WorkItem.assignee).where(col(WorkItem.key).in_(sorted(keys)))
    return dict(session.execute(query).all())


def _expiry(form: Mapping[str, str]) -> date:
    value = date_arg(form, "expires_on", "expiry date")
    if value is None:
        raise ValidationError("Give the exception an expiry date.", field="expires_on")
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
