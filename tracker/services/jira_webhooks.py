"""Jira webhooks: verify the signature, read the payload, drop repeats and stale ones, apply."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from tracker.domain.access import system_actor
from tracker.domain.text_rules import has_control_characters, without_control_characters
from tracker.errors import ValidationError
from tracker.integrations.jira_parsing import checked_issue_key, issue_record
from tracker.integrations.jira_records import IssueRecord
from tracker.models import WebhookDelivery, WorkItem, as_utc, utcnow
from tracker.services.work_items import ObligationIndex, apply_issues, mark_missing

LOG = logging.getLogger(__name__)

ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
SIGNATURE_HEADER = "X-Hub-Signature"
IDENTIFIER_HEADER = "X-Atlassian-Webhook-Identifier"
DELIVERY_MEMORY = timedelta(days=14)
#: Jira's issue payloads nest about ten levels; anything this deep is not one.
MAX_DEPTH = 64
MAX_EVENT = 64
OUTCOMES = ("applied", "stale", "deleted", "ignored")


class SignatureError(ValidationError):
    """The delivery is not signed with the shared secret."""


@dataclass(frozen=True)
class Delivery:
    """A delivery's payload, checked: the event, its issue key and, to store, its issue."""

    event: str
    issue_key: str | None
    issue: IssueRecord | None


@dataclass(frozen=True)
class WebhookOutcome:
    """What a delivery did."""

    event: str
    issue_key: str | None
    duplicate: bool
    message: str
    stale: bool = False


@dataclass(frozen=True)
class WebhookCounts:
    """Deliveries remembered (the last DELIVERY_MEMORY), by outcome, and the newest one's time."""

    applied: int
    stale: int
    deleted: int
    ignored: int
    last_received: datetime | None
    days: int = DELIVERY_MEMORY.days


def verify_signature(raw_body: bytes, header: str | None, secret: str) -> None:
    """Raise SignatureError unless the header is sha256=<HMAC-SHA256 of the raw body>."""
    if not header:
        raise SignatureError(f"The delivery has no {SIGNATURE_HEADER} header.")
    method, _, signature = header.partition("=")
    if method.strip().lower() != "sha256" or not signature:
        raise SignatureError(f"{SIGNATURE_HEADER} must be sha256=<hex digest>.")
    expected = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise SignatureError("The signature does not match: check TRACKER_JIRA_WEBHOOK_SECRET.")


def read_delivery(raw_body: bytes, jira_url: str, *, now: datetime | None = None) -> Delivery:
    """Turn a delivery's body into checked values; ValidationError says what is wrong."""
    try:
        payload: Any = json.loads(raw_body)
    except RecursionError:
        raise ValidationError(_too_deep()) from None
    except ValueError as exc:  # not JSON, not UTF-8, or a number too long to read
        raise ValidationError(f"The delivery is not JSON: {str(exc)[:200]}") from None
    if not isinstance(payload, dict):
        raise ValidationError("The delivery must be a JSON object.")
    if _depth(payload) > MAX_DEPTH:
        raise ValidationError(_too_deep())
    event = payload.get("webhookEvent") or ""
    if not isinstance(event, str) or len(event) > MAX_EVENT or has_control_characters(event):
        raise ValidationError(
            f"webhookEvent must be the event's name, such as jira:issue_updated (text of at "
            f"most {MAX_EVENT} characters)."
        )
    issue = payload.get("issue")
    if event not in ISSUE_EVENTS:
        return Delivery(event, _key_or_none(issue), None)
    if not isinstance(issue, dict):
        raise ValidationError(f"A {event} delivery must carry the issue as a JSON object.")
    if event == "jira:issue_deleted":
        return Delivery(event, checked_issue_key(issue.get("key")), None)
    record = issue_record(issue, jira_url, now=now)
    return Delivery(event, record.key, record)


def delivery_identifier(raw_body: bytes, header: str | None) -> str:
    """Return what a delivery is remembered by: a hash of Jira's identifier, or of the body."""
    if header:
        return "sha256:" + hashlib.sha256(header.encode("utf-8", "surrogateescape")).hexdigest()
    # Jira retries with the same identifier; a sender without one repeats the same body.
    return "body-sha256:" + hashlib.sha256(raw_body).hexdigest()


def handle_webhook(
    *,
    session: Session,
    raw_body: bytes,
    headers: Mapping[str, str],
    secret: str,
    jira_url: str,
) -> WebhookOutcome:
    """Verify, read, de-duplicate and apply one delivery; the caller's transaction holds it all."""
    verify_signature(raw_body, headers.get(SIGNATURE_HEADER), secret)
    delivery = read_delivery(raw_body, jira_url)
    header = headers.get(IDENTIFIER_HEADER)
    identifier = delivery_identifier(raw_body, header)
    # Jira retries a delivery for hours, not weeks: older identifiers can go.
    session.execute(
        delete(WebhookDelivery).where(col(WebhookDelivery.received_at) < utcnow() - DELIVERY_MEMORY)
    )
    event, key = delivery.event, delivery.issue_key
    if session.get(WebhookDelivery, identifier) is not None:
        named = f"Delivery {_shown(header)}" if header else "The same delivery"
        return WebhookOutcome(event, key, True, f"{named} was already processed.")
    outcome, message = _apply(session, delivery)
    session.add(WebhookDelivery(identifier=identifier, event=event, issue_key=key, outcome=outcome))
    return WebhookOutcome(event, key, False, message, stale=outcome == "stale")


def webhook_counts(*, session: Session) -> WebhookCounts:
    """Count the deliveries still remembered by outcome (stale ones changed nothing)."""
    rows = session.exec(
        select(
            WebhookDelivery.outcome,
            func.count(),
            func.max(WebhookDelivery.received_at),
        )
        .where(col(WebhookDelivery.received_at) >= utcnow() - DELIVERY_MEMORY)
        .group_by(col(WebhookDelivery.outcome))
    ).all()
    counts = {outcome: int(count) for outcome, count, _last in rows}
    newest = [as_utc(last) for _outcome, _count, last in rows if last is not None]
    return WebhookCounts(
        applied=counts.get("applied", 0),
        stale=counts.get("stale", 0),
        deleted=counts.get("deleted", 0),
        ignored=counts.get("ignored", 0),
        last_received=max(newest) if newest else None,
    )


def _apply(session: Session, delivery: Delivery) -> tuple[str, str]:
    event, key = delivery.event, delivery.issue_key
    if event not in ISSUE_EVENTS:
        return "ignored", f"Event {event or '(none)'} is not used; ignored."
    record = delivery.issue
    if record is None:  # jira:issue_deleted, which names only the key
        mark_missing(session, [key] if key else [], "deleted in Jira (webhook)")
        return "deleted", f"{key} marked missing."
    stored = session.get(WorkItem, record.key)
    stored_time = as_utc(stored.updated) if stored is not None and stored.updated else None
    counts = apply_issues(
        session,
        [record],
        ObligationIndex(session),
        actor=system_actor("jira webhook"),
        in_scope=None,
    )
    if counts.stale:
        LOG.info(
            "Ignored a stale Jira webhook for %s: updated %s, stored copy updated %s",
            record.key,
            record.updated.isoformat(),
            stored_time.isoformat() if stored_time else "-",
        )
        return "stale", (
            f"{record.key} was not changed: this delivery (updated {_time(record.updated)}) is "
            f"older than the stored copy (updated {_time(stored_time)})."
        )
    return "applied", (
        f"{record.key} stored ({counts.created} created, {counts.updated} updated); "
        f"links +{counts.links_added}/-{counts.links_removed}."
    )


def _key_or_none(issue: object) -> str | None:
    if not isinstance(issue, dict):
        return None
    try:
        return checked_issue_key(issue.get("key"))
    except ValidationError:
        return None  # an event the tracker ignores need not name a usable key


def _depth(payload: object) -> int:
    """Return how deeply payload nests (a scalar is 0), without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        pending.extend((child, depth + 1) for child in value)
    return deepest


def _too_deep() -> str:
    return f"The delivery nests more than {MAX_DEPTH} levels deep; a Jira issue event does not."


def _shown(header: str) -> str:
    printable = without_control_characters(header)
    return printable if len(printable) <= 80 else printable[:79] + "…"


def _time(moment: datetime | None) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M:%S} UTC" if moment else "unknown"
