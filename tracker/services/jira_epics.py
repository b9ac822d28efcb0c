"""Turning a gap into Jira work: create an epic for an obligation, once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from tracker.domain.access import Actor
from tracker.domain.status import Status
from tracker.errors import ConflictError, ValidationError
from tracker.integrations.jira_gateway import JiraGateway
from tracker.integrations.jira_records import IssueSummary
from tracker.models import EpicRequest, Instrument, Obligation
from tracker.services.audit import record_event
from tracker.services.links import get_obligation, link_work_item, require_assessable
from tracker.services.matrix import build_matrix
from tracker.services.work_items import JIRA_ORIGIN, obligation_label

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,30}$")
EVIDENCE_WORDS = {
    "automated_test": "Automated test",
    "manual_test": "Manual test",
    "config_check": "Configuration check",
    "document": "Document",
    "monitoring": "Monitoring",
    "attestation": "Attestation",
    "contract": "Contract",
}


@dataclass(frozen=True)
class EpicOutcome:
    """The epic that covers an obligation, and whether this call created it."""

    key: str
    created: bool
    message: str


def create_epic(
    *,
    session: Session,
    gateway: JiraGateway,
    obligation_id: str,
    project_key: str,
    actor: Actor,
    public_url: str,
) -> EpicOutcome:
    """Create and link an epic for an obligation with status GAP; a second call finds the first."""
    obligation = get_obligation(session, obligation_id)
    require_assessable(session, obligation, field="project")  # before an epic is created
    project_key = project_key.strip().upper()
    if not PROJECT_KEY.match(project_key):
        raise ValidationError(
            f"'{project_key}' is not a Jira project key (e.g. PRIV).", field="project"
        )
    label = obligation_label(obligation.id)
    request = session.exec(
        select(EpicRequest).where(
            EpicRequest.obligation_id == obligation.id, EpicRequest.project_key == project_key
        )
    ).first()
    if request is not None and request.work_item_key:
        return EpicOutcome(
            request.work_item_key, False, f"{request.work_item_key} already covers {obligation.id}."
        )
    # An epic created by an earlier call whose answer was lost carries the label: adopt it.
    existing = [
        key
        for key in gateway.find_issue_keys_with_label(label)
        if key.startswith(project_key + "-")
    ]
    known: IssueSummary | None = None
    if existing:
        key, created = existing[0], False
    else:
        rows = build_matrix(session=session, obligation_ids=[obligation.id]).rows
        if rows and rows[0].result.status is not Status.GAP:
            raise ConflictError(
                f"{obligation.id} is {rows[0].result.status.value}, not a gap: it already has "
                "linked work or tests. Link an existing epic instead."
            )
        instrument = session.get(Instrument, obligation.instrument_id)
        summary = f"{obligation.id} {obligation.citation}: {obligation.title}"[:250]
        key = gateway.create_epic(
            project_key,
            summary,
            _description(obligation, instrument, public_url),
            [label, "privacy-obligation"],
        )
        created = True
        # What Jira was just told; its status name and address come with the next sync.
        known = IssueSummary(
            key=key,
            summary=summary,
            issue_type="Epic",
            status="not yet synced",
            status_category="new",
            url="",
        )
    if request is None:
        request = EpicRequest(
            obligation_id=obligation.id, project_key=project_key, created_by=actor.label
        )
    request.work_item_key = key
    session.add(request)
    record_event(
        session=session,
        actor=actor,
        action="jira.epic_created" if created else "jira.epic_found",
        entity_type="obligation",
        entity_id=obligation.id,
        after={"work_item": key, "project": project_key},
    )
    # A created epic is linked with what the create call sent: one more request that failed
    # here would undo the request and the link while the epic exists in Jira, and a retry
    # could create a second one (Jira's search may not find the first by its label yet).
    # An adopted epic is looked up (its summary and status, at once): if that fails,
    # nothing was created by this call, and a retry adopts it again.
    link_work_item(
        session=session,
        obligation_id=obligation.id,
        key=key,
        actor=actor,
        origin=JIRA_ORIGIN,
        gateway=None if created else gateway,
        known=known,
    )
    verb = "Created" if created else "Found"
    return EpicOutcome(key, created, f"{verb} {key} for {obligation.id} and linked it.")


def _description(obligation: Obligation, instrument: Instrument | None, public_url: str) -> str:
    evidence = "\n".join(
        f"* {EVIDENCE_WORDS.get(item['type'], item['type'])}: {item['description']}"
        for item in obligation.evidence
    )
    law = instrument.title if instrument else obligation.instrument_id
    page = f"{public_url.rstrip('/')}/obligations/{obligation.id}"
    return (
        f"h2. {obligation.id} {obligation.citation}: {obligation.title}\n\n"
        f"*Law:* {law}\n"
        f"*Official text:* {obligation.official_url}\n"
        f"*In the tracker:* {page}\n\n"
        f"h3. What it asks\n{obligation.summary}\n\n"
        f"h3. What verifies it\n{evidence or '* (not stated in the catalog)'}\n\n"
        f'Tag tests with @pytest.mark.obligation("{obligation.id}") or the JUnit property '
        f"obligations={obligation.id} so their results count as evidence."
    )
