"""POST /webhooks/jira: signed Jira issue events, applied within the request."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from tracker.db import get_session
from tracker.errors import ValidationError
from tracker.integrations.jira_setup import jira_settings
from tracker.services.jira_webhooks import (
    IDENTIFIER_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    handle_webhook,
)
from tracker.web.auth import public
from tracker.web.responses import json_response

LOG = logging.getLogger(__name__)

#: Jira issue payloads are a few kilobytes; anything near this is not one.
MAX_DELIVERY_BYTES = 1024 * 1024
DISABLED = (
    "Jira webhooks are disabled until TRACKER_JIRA_WEBHOOK_SECRET is set (with TRACKER_JIRA_URL "
    "and its credentials); give the same secret to the Jira webhook."
)

webhooks = Blueprint("webhooks", __name__)


@webhooks.post("/webhooks/jira")
@public
def jira_delivery() -> Response:
    """Verify a delivery's signature, drop repeats, and store the issue change."""
    try:
        settings = jira_settings()
    except ValidationError as error:
        return _error(503, "webhooks_disabled", f"{DISABLED} The settings are invalid: {error}")
    if settings is None or not settings.webhook_secret:
        return _error(503, "webhooks_disabled", DISABLED)
    if (request.content_length or 0) > MAX_DELIVERY_BYTES:
        return _error(413, "payload_too_large", "A Jira webhook delivery is at most 1 MB.")
    request.max_content_length = MAX_DELIVERY_BYTES
    try:
        raw_body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _error(413, "payload_too_large", "A Jira webhook delivery is at most 1 MB.")
    headers = {
        name: value
        for name in (SIGNATURE_HEADER, IDENTIFIER_HEADER)
        if (value := request.headers.get(name)) is not None
    }
    session = get_session()
    try:
        with session.begin():
            outcome = handle_webhook(
                session=session,
                raw_body=raw_body,
                headers=headers,
                secret=settings.webhook_secret,
                jira_url=settings.url,
            )
    except SignatureError as error:
        LOG.warning("Refused a Jira webhook from %s: %s", request.remote_addr, error)
        return _error(401, "bad_signature", f"{error} Nothing was stored.")
    except ValidationError as error:
        return _error(400, "bad_request", f"{error} Nothing was stored.")
    except IntegrityError:
        # The same delivery or issue stored by a concurrent request: a retry will settle it.
        return _error(409, "conflict", "A concurrent change got there first; retry the delivery.")
    return json_response(
        {
            "event": outcome.event,
            "issue": outcome.issue_key,
            "duplicate": outcome.duplicate,
            "stale": outcome.stale,
            "message": outcome.message,
        }
    )


def _error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"status": status, "code": code, "message": message}}, status)
