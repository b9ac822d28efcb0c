"""Legal's sign-offs and accepted risks (exceptions) for a release, with four eyes on approval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from tracker.domain.access import Actor, ActorKind, Role
from tracker.domain.release_verdict import NOT_SIGNABLE
from tracker.errors import ForbiddenError, NotFoundError, ValidationError
from tracker.models import ReleaseException, SignOff, utcnow
from tracker.services.audit import record_event
from tracker.services.release_readiness import release_readiness

MAX_TEXT = 4000
MIN_STATEMENT = 10
MAX_EXCEPTION_DAYS = 366
APPROVER_ROLES = (Role.LEGAL, Role.COMPLIANCE)


@dataclass(frozen=True)
class SignOffReport:
    """What a sign-off did."""

    signed: list[str]
    refused: dict[str, str]  # obligation id: why it cannot be signed off


def sign_off(
    *,
    session: Session,
    release: str,
    obligation_ids: Sequence[str],
    statement: str,
    actor: Actor,
    default_branch: str = "main",
) -> SignOffReport:
    """Sign off obligations for a release on their current version and status."""
    statement = _text(statement, "statement", "Say what you checked", MIN_STATEMENT)
    ids = list(dict.fromkeys(obligation_ids))
    if not ids:
        raise ValidationError("Choose the obligations to sign off.", field="obligations")
    readiness = release_readiness(
        session=session, release=release, obligation_ids=ids, default_branch=default_branch
    )
    rows = {row.id: row for row in readiness.rows}
    unknown = [ob_id for ob_id in ids if ob_id not in rows]
    if unknown:
        raise NotFoundError(f"No assessable obligation {', '.join(unknown[:5])} in the catalog.")
    report = SignOffReport(signed=[], refused={})
    for ob_id in ids:
        status = rows[ob_id].result.status
        if status in NOT_SIGNABLE:
            report.refused[ob_id] = (
                f"it is {status.value}: fix it first, or request an exception for the release"
            )
            continue
        version, fingerprint = readiness.versions[ob_id]
        session.add(
            SignOff(
                release=readiness.release.name,
                obligation_id=ob_id,
                obligation_version=version,
                fingerprint=fingerprint,
                status=status.value,
                statement=statement,
                signed_by=actor.label,
                signed_by_ref=actor.reference,
                signed_role=actor.role.value if actor.role else None,
            )
        )
        record_event(
            session=session,
            actor=actor,
            action="signoff.recorded",
            entity_type="obligation",
            entity_id=ob_id,
            after={
                "release": readiness.release.name,
                "version": version,
                "status": status.value,
                "statement": statement,
            },
        )
        report.signed.append(ob_id)
    return report


def request_exception(
    *,
    session: Session,
    release: str,
    obligation_id: str,
    justification: str,
    compensating_control: str,
    risk_owner: str,
    expires_on: date,
    actor: Actor,
) -> ReleaseException:
    """Record a request to accept the risk of an obligation in a release (not yet approved)."""
    readiness = release_readiness(session=session, release=release, obligation_ids=[obligation_id])
    if not readiness.rows:
        raise NotFoundError(f"No assessable obligation {obligation_id} in the catalog.")
    justification = _text(justification, "justification", "Say why the risk is acceptable")
    control = _text(compensating_control, "compensating_control", "Name the compensating control")
    owner = _text(risk_owner, "risk_owner", "Name the risk owner", 2, 200)
    today = utcnow().date()
    if expires_on <= today:
        raise ValidationError("The expiry date must be in the future.", field="expires_on")
    if expires_on > today + timedelta(days=MAX_EXCEPTION_DAYS):
        raise ValidationError(
            "An exception lasts at most a year: set an expiry date within 366 days.",
            field="expires_on",
        )
    exception = ReleaseException(
        release=readiness.release.name,
        obligation_id=obligation_id,
        justification=justification,
        compensating_control=control,
        risk_owner=owner,
        expires_on=expires_on,
        requested_by=actor.label,
        requested_by_ref=actor.reference,
    )
    session.add(exception)
    session.flush()
    record_event(
        session=session,
        actor=actor,
        action="exception.requested",
        entity_type="obligation",
        entity_id=obligation_id,
        after={
            "exception": exception.id,
            "release": exception.release,
            "risk_owner": owner,
            "expires_on": expires_on.isoformat(),
        },
    )
    return exception


def approve_exception(*, session: Session, exception_id: int, actor: Actor) -> ReleaseException:
    """Approve an exception: someone else than the requester, with the legal or compliance role."""
    exception = _find_exception(session, exception_id)
    if exception.withdrawn_at is not None or exception.approved_at is not None:
        raise ValidationError(f"Exception #{exception_id} was already decided.")
    if actor.kind is not ActorKind.USER or actor.role not in APPROVER_ROLES:
        raise ForbiddenError(
            "Exceptions are approved by a person signed in with the legal or compliance role."
        )
    if actor.reference == exception.requested_by_ref:
        raise ForbiddenError(
            "You requested this exception, so someone else with the legal or compliance role "
            "must approve it (four eyes)."
        )
    if exception.expires_on <= utcnow().date():
        raise ValidationError(f"Exception #{exception_id} has expired; request a new one.")
    exception.approved_by = actor.label
    exception.approved_by_ref = actor.reference
    exception.approved_role = actor.role.value if actor.role else None
    exception.approved_at = utcnow()
    session.add(exception)
    record_event(
        session=session,
        actor=actor,
        action="exception.approved",
        entity_type="obligation",
        entity_id=exception.obligation_id,
        after={"exception": exception_id, "release": exception.release},
    )
    return exception


def withdraw_exception(*, session: Session, exception_id: int, actor: Actor) -> ReleaseException:
    """Withdraw an exception (requested or approved); the obligation's status counts again."""
    exception = _find_exception(session, exception_id)
    if exception.withdrawn_at is None:
        exception.withdrawn_at = utcnow()
        session.add(exception)
        record_event(
            session=session,
            actor=actor,
            action="exception.withdrawn",
            entity_type="obligation",
            entity_id=exception.obligation_id,
            after={"exception": exception_id, "release": exception.release},
        )
    return exception


def _find_exception(session: Session, exception_id: int) -> ReleaseException:
    exception = session.get(ReleaseException, exception_id) if 0 < exception_id < 2**31 else None
    if exception is None:
        raise NotFoundError(f"There is no exception #{exception_id}.")
    return exception


def _text(
    value: str, field: str, ask: str, minimum: int = MIN_STATEMENT, maximum: int = MAX_TEXT
) -> str:
    text = (value or "").strip()
    if len(text) < minimum or len(text) > maximum or "\x00" in text:
        raise ValidationError(f"{ask} ({minimum} to {maximum} characters).", field=field)
    return text
