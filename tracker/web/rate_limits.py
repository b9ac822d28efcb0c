"""Slowing down repeated failed log-ins (Flask-Limiter: memory by default, Redis when set)."""

from __future__ import annotations

import ipaddress

from flask import Flask, request
from flask_limiter import Limiter
from werkzeug.wrappers import Response


def client_network() -> str:
    """Return the client's address, IPv6 ones as their /64 (one household or host, many IPs)."""
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


limiter = Limiter(key_func=client_network, default_limits=[], headers_enabled=True)


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
    """Key failed attempts by the e-mail typed, across every address (a slow, wide guess)."""
    return "login-email:" + _typed_email()


def login_email_from_here_key() -> str:
    """Key failed attempts by the e-mail and the address: a guesser here does not lock the
    account for its owner elsewhere."""
    return f"login-email:{_typed_email()}:from:{client_network()}"


def _typed_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254]
