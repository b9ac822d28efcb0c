"""Who is acting: the user a fronting proxy authenticated, or the configured actor name."""

from __future__ import annotations

from flask import current_app, request


def current_actor() -> str:
    """Return the name recorded in links, decisions and the audit history for this request."""
    remote_user = (request.remote_user or "").strip()
    if remote_user:
        return remote_user[:200]
    actor: str = current_app.config.get("ACTOR") or "web user"
    return actor
