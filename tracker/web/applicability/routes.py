"""The applicability list: every proposal with its reasons, and legal's bulk confirmation."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.errors import ValidationError
from tracker.models import Obligation, column_length
from tracker.services.applicability_proposals import confirm_proposals, list_proposals
from tracker.web.applicability.page import (
    FILTER_FIELDS,
    ProposalQuery,
    list_page,
    parse_proposal_query,
)
from tracker.web.auth import current_actor, may, requires
from tracker.web.request_args import path_value

applicability = Blueprint("applicability", __name__)
OBLIGATION_ID = column_length(Obligation, "id")
#: The most obligations one form confirms (a page shows far fewer).
MAX_SELECTED = 5000


@applicability.get("/applicability")
@requires(Permission.READ)
def index() -> str:
    """List what the data map proposes for each obligation, why, and where legal stands."""
    return _render(parse_proposal_query(request.args))


@applicability.post("/applicability/confirm")
@requires(Permission.DECIDE_APPLICABILITY)
def confirm() -> ResponseReturnValue:
    """Record decisions that agree with the chosen proposals, then show the list again."""
    filters = {name: request.form.get(name, "") for name in FILTER_FIELDS}
    try:
        query = parse_proposal_query(filters)
    except ValidationError:
        query = ProposalQuery()  # filters only bring the person back where they were
    session = get_session()
    try:
        obligation_ids = [
            path_value(value.strip(), "obligation", OBLIGATION_ID)
            for value in request.form.getlist("obligation")[: MAX_SELECTED + 1]
        ]
        if len(obligation_ids) > MAX_SELECTED:
            raise ValidationError(
                f"Confirm at most {MAX_SELECTED:,} proposals at a time.", field="obligation"
            )
        with session.begin():
            report = confirm_proposals(
                session=session, obligation_ids=obligation_ids, actor=current_actor()
            )
    except ValidationError as error:
        return _render(query, error=str(error)), 400
    flash(report.summary(), "success" if report.confirmed else "info")
    args = query.args()
    target = url_for("applicability.index") + (f"?{urlencode(args)}" if args else "")
    return redirect(target, code=303)


def _render(query: ProposalQuery, error: str | None = None) -> str:
    found = list_proposals(
        get_session(),
        proposal=query.proposal,
        state=query.state,
        instrument=query.instrument,
        text=query.text,
    )
    page = list_page(found, query, can_confirm=may(Permission.DECIDE_APPLICABILITY), error=error)
    return render_template("applicability/index.html", page=page)
