"""Slowing down repeated failed log-ins (Flask-Limiter: memory by default, Redis when set)."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def init_app(app: Flask) -> None:
    """Store counts in Redis when TRACKER_REDIS_URL is set (shared by every worker)."""
    redis_url = app.config.get("REDIS_URL")
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)


def failed_login(response: Response) -> bool:
    """Count only failed attempts: a person who types the password right is never slowed."""
    return response.status_code == 401


def login_email_key() -> str:
    """Key failed attempts by the e-mail typed, so one account cannot be guessed from many IPs."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return "login-email:" + email
