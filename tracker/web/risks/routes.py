"""The risk register across DPIAs, its heat map, each DPIA's page and legal's sign-off."""

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
from tracker.errors import NotFoundError, ValidationError
from tracker.models import utcnow
from tracker.services.dpia_mitigations import mitigating_obligations
from tracker.services.dpia_signoffs import MAX_NOTE, sign_off_dpia
from tracker.services.dpias import RegisterScope, choose_release, dpia_report, risk_register
from tracker.services.matrix import MatrixData
from tracker.web.auth import current_actor, requires
from tracker.web.caching import request_statuses, with_etag
from tracker.web.collector import with_collector_paused
from tracker.web.inputs import LONGEST_RELEASE_NAME
from tracker.web.request_args import date_arg, text_arg
from tracker.web.risks.heat_map import heat_map_view
from tracker.web.risks.page import dpia_page, register_page, release_args

risks = Blueprint("risks", __name__)
VIEWS = ("residual", "inherent")


@risks.get("/risks")
@requires(Permission.READ)
@with_etag
@with_collector_paused
def index() -> str:
    """Show every DPIA's risks in a release: heat maps, open and accepted risks, gaps."""
    choice = _choice()
    register = risk_register(session=get_session(), choice=choice, matrix=_statuses(choice))
    return render_template("risks/index.html", page=register_page(register))


@risks.get("/risks/heat-map.svg")
@requires(Permission.READ)
@with_etag
@with_collector_paused
def heat_map_svg() -> Response:
    """Download the heat map as an SVG file (?view=residual or inherent)."""
    view = text_arg(request.args, "view", 16) or "residual"
    if view not in VIEWS:
        raise ValidationError("Choose the heat map with ?view=residual or ?view=inherent.", "view")
    choice = _choice()
    register = risk_register(session=get_session(), choice=choice, matrix=_statuses(choice))
    context = f"release {choice.release}" if choice.release else "newest evidence"
    drawing = heat_map_view(
        register.heat_map(residual=view == "residual"), id="heat", context=context
    )
    body = render_template("risks/heat_map.svg", map=drawing)
    return Response(body, mimetype="image/svg+xml")


@risks.get("/dpias/<dpia_id>")
@requires(Permission.READ)
@with_etag
@with_collector_paused
def dpia(dpia_id: str) -> str:
    """Show a DPIA: its notes, each risk's inherent and residual score, and its sign-off."""
    return _dpia_page(dpia_id)


@risks.post("/dpias/<dpia_id>/sign-off")
@requires(Permission.SIGN_OFF)
def sign_off(dpia_id: str) -> ResponseReturnValue:
    """Sign off the DPIA's current version with the date of its next review."""
    form = request.form
    try:
        next_review_on = date_arg(form, "next_review_on", "next review date")
        note = text_arg(form, "note", MAX_NOTE, multiline=True)
        if next_review_on is None:
            raise ValidationError("Give the date of the next review.", field="next_review_on")
        with get_session().begin():
            report = sign_off_dpia(
                session=get_session(),
                dpia_id=dpia_id,
                next_review_on=next_review_on,
                note=note,
                actor=current_actor(),
            )
    except ValidationError as exc:
        try:
            return _dpia_page(dpia_id, error=str(exc), values=dict(form)), 400
        except NotFoundError:
            raise exc from None  # no such DPIA either: the form's problem is said first
    if report.recorded:
        flash(
            f"DPIA {dpia_id} signed off (version {report.sign_off.version}); next review on "
            f"{report.sign_off.next_review_on.isoformat()}.",
            "success",
        )
    else:
        flash(f"DPIA {dpia_id} was signed off like this already; nothing changed.", "success")
    return redirect(url_for("risks.dpia", dpia_id=dpia_id))


def _choice() -> RegisterScope:
    return choose_release(
        session=get_session(),
        release=text_arg(request.args, "release", LONGEST_RELEASE_NAME),
        default_branch=current_app.config["DEFAULT_BRANCH"],
    )


def _dpia_page(dpia_id: str, error: str | None = None, values: dict[str, str] | None = None) -> str:
    session = get_session()
    choice = _choice()
    register = dpia_report(
        session=session, dpia_id=dpia_id, choice=choice, matrix=_statuses(choice, dpia_id)
    )
    return render_template(
        "risks/dpia.html",
        page=dpia_page(register, utcnow().date()),
        error=error,
        values=values or {},
        release_args=release_args(choice),
    )


def _statuses(choice: RegisterScope, dpia_id: str | None = None) -> MatrixData:
    """Return the statuses of the obligations the DPIAs' mitigations name, in the release."""
    named = mitigating_obligations(session=get_session(), dpia_id=dpia_id)
    return request_statuses(choice.scope, named)
