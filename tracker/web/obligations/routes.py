"""The obligation page and its forms: links to work items and tests, review, applicability."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session

from tracker.db import get_session
from tracker.domain.access import Permission
from tracker.errors import ConflictError, JiraError, NotFoundError, ValidationError
from tracker.integrations.jira_gateway import JiraGateway
from tracker.integrations.jira_setup import jira_settings, require_gateway
from tracker.models import utcnow
from tracker.services.applicability_proposals import proposal_for
from tracker.services.dpia_mitigations import risks_mitigated_by
from tracker.services.links import (
    LabelLinkError,
    LinkOutcome,
    decide_applicability,
    get_obligation,
    link_test,
    link_work_item,
    remove_link_label,
    review_links,
    unlink_test,
    unlink_work_item,
)
from tracker.services.obligations import (
    history_marker,
    obligation_detail,
    obligation_evidence,
    obligation_history,
)
from tracker.web.applicability.page import why_section
from tracker.web.auth import current_actor, requires
from tracker.web.caching import answer_valid_until, kept_answer, request_generation
from tracker.web.jira.routes import epic_form
from tracker.web.obligations.page import (
    history_items,
    obligation_page,
    with_evidence,
)
from tracker.web.obligations.page_cache import PageParts, obligation_pages
from tracker.web.request_args import evidence_scope

obligations = Blueprint("obligations", __name__)

MAX_JUSTIFICATION = 4000


def _page_rests_on(obligation_id: str) -> tuple[frozenset[str] | None, str]:
    # A report naming a release changes how every obligation's work counts in it.
    names = None if evidence_scope().release else frozenset({obligation_id})
    # Whether Jira is set up decides the "Create epic" button.
    return names, f"{_history_marker(obligation_id)}:{_jira_configured()}"


def _history_marker(obligation_id: str) -> str:
    """Return the obligation's history marker, read once per request."""
    read: dict[str, str] = g.setdefault("tracker_history_markers", {})
    if obligation_id not in read:
        read[obligation_id] = history_marker(get_session(), obligation_id)
    return read[obligation_id]


@obligations.get("/obligations/<obligation_id>")
@requires(Permission.READ)
@kept_answer(_page_rests_on)
def show(obligation_id: str) -> str:
    """Show one obligation with its versions, mappings, links, status and history."""
    return _render(obligation_id)


@obligations.post("/obligations/<obligation_id>/links/work-items")
@requires(Permission.EDIT_LINKS)
def add_work_item(obligation_id: str) -> ResponseReturnValue:
    """Link a Jira work item by its key, checked in Jira when Jira is configured."""
    key = request.form.get("key", "")
    try:
        gateway = _checking_gateway()
    except JiraError as error:
        get_obligation(get_session(), obligation_id)  # an unknown obligation is a 404 page
        shown = key.strip().upper()[:64]
        message = f"Could not check {shown} in Jira, so nothing was linked: {error}"
        return _render(obligation_id, errors={"key": message}, values={"key": key}), 502
    try:
        return _act(
            obligation_id,
            lambda session: link_work_item(
                session=session,
                obligation_id=obligation_id,
                key=key,
                actor=current_actor(),
                gateway=gateway,
            ),
            values={"key": key},
            anchor="work-items",
            jira_field="key",
        )
    finally:
        _close(gateway)


@obligations.post("/obligations/<obligation_id>/links/work-items/<key>/remove")
@requires(Permission.EDIT_LINKS)
def remove_work_item(obligation_id: str, key: str) -> ResponseReturnValue:
    """Remove the link to a Jira work item (one a Jira label makes is refused, with why)."""

    def unlink(session: Session) -> LinkOutcome:
        try:
            return unlink_work_item(
                session=session,
                obligation_id=obligation_id,
                key=key.strip().upper(),
                actor=current_actor(),
            )
        except LabelLinkError as error:
            raise ConflictError(f"Nothing was unlinked. {error} {_label_hint()}") from None

    return _act(obligation_id, unlink, anchor="work-items")


@obligations.post("/obligations/<obligation_id>/links/work-items/<key>/remove-label")
@requires(Permission.EDIT_LINKS)
def remove_label(obligation_id: str, key: str) -> ResponseReturnValue:
    """Remove the obligation's label from the Jira issue, and with it the link it makes."""
    try:
        _settings, gateway = require_gateway()
    except JiraError as error:
        get_obligation(get_session(), obligation_id)  # an unknown obligation is a 404 page
        flash(f"The label was not removed: {error}", "error")
        return redirect(_page(obligation_id, "work-items"), code=303)
    try:
        return _act(
            obligation_id,
            lambda session: remove_link_label(
                session=session,
                gateway=gateway,
                obligation_id=obligation_id,
                key=key,
                actor=current_actor(),
            ),
            anchor="work-items",
        )
    finally:
        _close(gateway)


@obligations.post("/obligations/<obligation_id>/links/tests")
@requires(Permission.EDIT_LINKS)
def add_test(obligation_id: str) -> ResponseReturnValue:
    """Link an automated test by its suite/classname/name id (one not yet run if ticked)."""
    test_id = request.form.get("test_id", "")
    before_first_run = request.form.get("before_first_run", "") in ("1", "on", "yes", "true")
    return _act(
        obligation_id,
        lambda session: link_test(
            session=session,
            obligation_id=obligation_id,
            test_id=test_id,
            actor=current_actor(),
            before_first_run=before_first_run,
        ),
        values={"test_id": test_id, "before_first_run": "on" if before_first_run else ""},
        anchor="tests",
    )


@obligations.post("/obligations/<obligation_id>/links/tests/remove")
@requires(Permission.EDIT_LINKS)
def remove_test(obligation_id: str) -> ResponseReturnValue:
    """Remove the link to a test (its id comes in the form)."""
    test_id = request.form.get("test_id", "").strip()
    return _act(
        obligation_id,
        lambda session: unlink_test(
            session=session, obligation_id=obligation_id, test_id=test_id, actor=current_actor()
        ),
        anchor="tests",
    )


@obligations.post("/obligations/<obligation_id>/review")
@requires(Permission.REVIEW_LINKS)
def review(obligation_id: str) -> ResponseReturnValue:
    """Mark every link as reviewed against the obligation's current version."""
    return _act(
        obligation_id,
        lambda session: review_links(
            session=session, obligation_id=obligation_id, actor=current_actor()
        ),
        anchor="links",
    )


@obligations.post("/obligations/<obligation_id>/applicability")
@requires(Permission.DECIDE_APPLICABILITY)
def applicability(obligation_id: str) -> ResponseReturnValue:
    """Record that the obligation does not apply (with a justification), or applies again."""
    decision = request.form.get("decision", "")
    justification = request.form.get("justification", "")

    def decide(session: Session) -> LinkOutcome:
        if decision not in ("not_applicable", "applies"):
            raise ValidationError(
                "Choose whether the obligation applies or not, then submit again.",
                field="justification",
            )
        if len(justification) > MAX_JUSTIFICATION:
            raise ValidationError(
                f"Keep the justification under {MAX_JUSTIFICATION:,} characters.",
                field="justification",
            )
        return decide_applicability(
            session=session,
            obligation_id=obligation_id,
            not_applicable=decision == "not_applicable",
            justification=justification,
            actor=current_actor(),
        )

    return _act(obligation_id, decide, values={"justification": justification}, anchor="status")


def _act(
    obligation_id: str,
    action: Callable[[Session], LinkOutcome],
    anchor: str,
    values: Mapping[str, str] | None = None,
    jira_field: str = "form",
) -> ResponseReturnValue:
    """Run one change in one transaction, then redirect back (or re-show the form on 400).

    A Jira that fails to answer re-shows the form too (502), with what Jira said.
    """
    session = get_session()
    try:
        with session.begin():
            outcome = action(session)
    except ValidationError as error:
        field = error.field or "form"
        return _render(obligation_id, errors={field: str(error)}, values=values), 400
    except JiraError as error:
        get_obligation(session, obligation_id)  # an unknown obligation is a 404 page
        return _render(obligation_id, errors={jira_field: str(error)}, values=values), 502
    except (NotFoundError, ConflictError) as error:
        get_obligation(session, obligation_id)  # an unknown obligation is a 404 page
        flash(str(error), "error")
    else:
        flash(outcome.message, "success" if outcome.created else "info")
    return redirect(_page(obligation_id, anchor), code=303)


def _page(obligation_id: str, anchor: str) -> str:
    return url_for("obligations.show", obligation_id=obligation_id) + f"#{anchor}"


def _checking_gateway() -> JiraGateway | None:
    """Return the gateway that checks keys, None when Jira is not configured at all.

    Settings that are present but unusable raise JiraError: linking unchecked would hide them.
    """
    try:
        settings = jira_settings()
    except ValidationError as error:
        raise JiraError(str(error)) from None
    if settings is None:
        return None
    return require_gateway()[1]


def _jira_configured() -> bool:
    if "tracker_jira_configured" not in g:
        try:
            g.tracker_jira_configured = jira_settings() is not None
        except ValidationError:
            g.tracker_jira_configured = False
    configured: bool = g.tracker_jira_configured
    return configured


def _label_hint() -> str:
    if _jira_configured():
        return "“Remove label in Jira” next to the link does both."
    return "Jira is not configured here: remove the label in Jira; the next sync removes the link."


def _close(gateway: JiraGateway | None) -> None:
    close = getattr(gateway, "close", None)
    if callable(close):
        close()


def _render(
    obligation_id: str,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> str:
    session = get_session()
    scope = evidence_scope()
    jira_configured = _jira_configured()
    marker = _history_marker(obligation_id)  # read before the history

    def make() -> tuple[PageParts, datetime | None]:
        detail = obligation_detail(session=session, obligation_id=obligation_id, scope=scope)
        page = obligation_page(detail, jira_configured=jira_configured)
        parts = PageParts(
            page=replace(page, history=[]),
            epic_form=epic_form(detail.row),
            why=why_section(proposal_for(session, obligation_id)),
            mitigates=risks_mitigated_by(session=session, obligation_id=obligation_id),
            history=page.history,
            history_marker=marker,
        )
        return parts, detail.valid_until

    def refresh(parts: PageParts) -> tuple[PageParts, datetime | None]:
        evidence = obligation_evidence(
            session=session, obligation_id=obligation_id, version=parts.page.version, scope=scope
        )
        return (
            replace(
                parts, page=with_evidence(parts.page, evidence), epic_form=epic_form(evidence.row)
            ),
            evidence.valid_until,
        )

    pages = obligation_pages()
    if pages is None or errors or values or scope.release:
        parts, valid_until = make()
    else:
        parts, valid_until = pages.get_or_make(
            session.connection(),
            (obligation_id, scope, jira_configured),
            request_generation(),  # read before the page's data
            utcnow(),
            make,
            refresh,
            timedelta(seconds=int(current_app.config.get("MATRIX_CACHE_SECONDS", 60))),
        )
    if valid_until is not None:
        answer_valid_until(valid_until)
    history = parts.history
    if parts.history_marker != marker:  # an audit event since: only the history is read again
        history = history_items(obligation_history(session, obligation_id))
    page = replace(parts.page, history=history, errors=errors or {}, values=values or {})
    return render_template(
        "obligations/show.html",
        page=page,
        epic_form=parts.epic_form,
        why=parts.why,
        mitigates=parts.mitigates,
    )
