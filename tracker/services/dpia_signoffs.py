"""The DPO's sign-off of a DPIA's current version, with the date of its next review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from tracker.domain.access import Actor
from tracker.domain.text_rules import text_problem
from tracker.errors import ValidationError
from tracker.models import utcnow
from tracker.models.privacy_program import DpiaSignOff
from tracker.services.audit import record_event
from tracker.services.dpias import find_dpia

MAX_NOTE = 2000
MAX_REVIEW_YEARS = 3


@dataclass(frozen=True)
class DpiaSignOffReport:
    """What a sign-off did: the sign-off that stands, and whether it was recorded now."""

    sign_off: DpiaSignOff
    recorded: bool


def sign_off_dpia(
    *,
    session: Session,
    dpia_id: str,
    next_review_on: date,
    note: str | None,
    actor: Actor,
    today: date | None = None,
) -> DpiaSignOffReport:
    """Sign off the DPIA's current version, with the date of its next review.

    The next review is from today to three years ahead. Signing the same version again with
    the same date and note records nothing new.
    """
    today = today or utcnow().date()
    latest = review_window(today)[1]
    if next_review_on < today:
        raise ValidationError(
            f"The next review date {next_review_on.isoformat()} is in the past: choose a date "
            f"from today ({today.isoformat()}) on.",
            field="next_review_on",
        )
    if next_review_on > latest:
        raise ValidationError(
            f"The next review date {next_review_on.isoformat()} is more than {MAX_REVIEW_YEARS} "
            f"years ahead: choose a date until {latest.isoformat()}.",
            field="next_review_on",
        )
    note = _clean_note(note)
    dpia = find_dpia(session, dpia_id)
    previous = session.exec(
        select(DpiaSignOff)
        .where(col(DpiaSignOff.dpia_id) == dpia.id)
        .order_by(col(DpiaSignOff.id).desc())
    ).first()
    if (
        previous is not None
        and previous.fingerprint == dpia.fingerprint
        and previous.next_review_on == next_review_on
        and previous.note == note
        and previous.signed_by == actor.label
    ):
        return DpiaSignOffReport(previous, recorded=False)
    row = DpiaSignOff(
        dpia_id=dpia.id,
        fingerprint=dpia.fingerprint,
        version=dpia.version,
        signed_by=actor.label,
        signed_role=actor.role.value if actor.role else None,
        next_review_on=next_review_on,
        note=note,
    )
    session.add(row)
    session.flush()
    record_event(
        session=session,
        actor=actor,
        action="dpia.signed_off",
        entity_type="dpia",
        entity_id=dpia.id,
        before=_sign_off_json(previous) if previous is not None else None,
        after=_sign_off_json(row),
    )
    return DpiaSignOffReport(row, recorded=True)


def review_window(today: date) -> tuple[date, date]:
    """Return the earliest and latest next review date a sign-off may give today."""
    try:
        latest = today.replace(year=today.year + MAX_REVIEW_YEARS)
    except ValueError:  # 29 February, in a year without one
        latest = today.replace(year=today.year + MAX_REVIEW_YEARS, day=28)
    return today, latest


def _sign_off_json(row: DpiaSignOff) -> dict[str, object]:
    return {
        "version": row.version,
        "fingerprint": row.fingerprint,
        "next_review_on": row.next_review_on.isoformat(),
        "note": row.note,
    }


def _clean_note(note: str | None) -> str | None:
    value = (note or "").strip()
    if not value:
        return None
    problem = text_problem("note", value, MAX_NOTE, multiline=True)
    if problem is not None:
        raise ValidationError(problem, field="note")
    return value
