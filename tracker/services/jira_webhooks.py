"""Jira webhooks: verify the signature, drop repeats, and apply the issue change at once."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col

from tracker.domain.access import system_actor
from tracker.errors import JiraError, ValidationError
from tracker.integrations.jira_gateway import issue_record
from tracker.models import WebhookDelivery, utcnow
from tracker.services.work_items import ObligationIndex, apply_issues, mark_missing

ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
SIGNATURE_HEADER = "X-Hub-Signature"
IDENTIFIER_HEADER = "X-Atlassian-Webhook-Identifier"
DELIVERY_MEMORY = timedelta(days=14)


class SignatureError(ValidationError):
    """The delivery is not signed with the shared secret."""


@dataclass(frozen=True)
class WebhookOutcome:
    """What a delivery did."""

    event: str
    issue_key: str | None
    duplicate: bool
    message: str


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


def handle_webhook(
    *,
    session: Session,
    raw_body: bytes,
    headers: Mapping[str, str],
    secret: str,
    jira_url: str,
) -> WebhookOutcome:
    """Verify, de-duplicate and apply one delivery; the caller's transaction holds it all."""
    verify_signature(raw_body, headers.get(SIGNATURE_HEADER), secret)
    try:
        payload: Any = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"The delivery is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValidationError("The delivery must be a JSON object.")
    event = str(payload.get("webhookEvent", ""))
    issue = payload.get("issue") if isinstance(payload.get("issue"), dict) else None
    key = str(issue.get("key")) if issue and issue.get("key") else None
    identifier = headers.get(IDENTIFIER_HEADER)
    # Jira retries a delivery for hours, not weeks: older identifiers can go.
    session.execute(
        delete(WebhookDelivery).where(col(WebhookDelivery.received_at) < utcnow() - DELIVERY_MEMORY)
    )
    if identifier:
        if session.get(WebhookDelivery, identifier) is not None:
            return WebhookOutcome(event, key, True, f"Delivery {identifier} was already processed.")
        session.add(WebhookDelivery(identifier=identifier[:200], event=event[:64], issue_key=key))
    if event not in ISSUE_EVENTS:
        return WebhookOutcome(event, key, False, f"Event {event or '(none)'} is not used; ignored.")
    if issue is None or key is None:
        raise ValidationError(f"A {event} delivery must carry the issue.")
    if event == "jira:issue_deleted":
        mark_missing(session, [key], "deleted in Jira (webhook)")
        return WebhookOutcome(event, key, False, f"{key} marked missing.")
    try:
        record = issue_record(issue, jira_url)
    except (KeyError, TypeError, ValueError, JiraError) as exc:
        raise ValidationError(f"The issue in the delivery is incomplete: {exc}") from exc
    counts = apply_issues(
        session,
        [record],
        ObligationIndex(session),
        actor=system_actor("jira webhook"),
        in_scope=None,
    )
    return WebhookOutcome(
        event,
        key,
        False,
        f"{key} stored ({counts.created} created, {counts.updated} updated); "
        f"links +{counts.links_added}/-{counts.links_removed}.",
    )
