"""The applicability list: every proposal with its reasons, and legal's bulk confirmation."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.errors import ValidationError
from tracker.models import Obligation, column_length
from tracker.services.applicability_confirm import confirm_proposals
from tracker.services.applicability_proposals import list_proposals
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


#: What a confirmable row may have shown (an `unknown` proposal has no box).
SHOWN_PROPOSALS = frozenset({"applicable", "not_applicable"})


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
        # Each box is "<obligation id>:<the proposal shown>", so a proposal the data map
        # changed after the page was drawn is not confirmed unseen.
        seen: dict[str, str] = {}
        for value in request.form.getlist("obligation")[: MAX_SELECTED + 1]:
            obligation_text, _, shown = value.strip().rpartition(":")
            if shown not in SHOWN_PROPOSALS:
                raise ValidationError(
                    "Each chosen row must name the proposal it showed; reload the page.",
                    field="obligation",
                )
            seen[path_value(obligation_text, "obligation", OBLIGATION_ID)] = shown
        if len(seen) > MAX_SELECTED:
            raise ValidationError(
                f"Confirm at most {MAX_SELECTED:,} proposals at a time.", field="obligation"
            )
        with session.begin():
            report = confirm_proposals(
                session=session, obligation_ids=list(seen), actor=current_actor(), seen=seen
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
