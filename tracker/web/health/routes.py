"""The probes and the metrics: open without sign-in, answering nothing a stranger could use.

/healthz and /readyz are public on purpose: a load balancer or Kubernetes probes them without
credentials, and they answer only ok/failing with generic reasons. /metrics needs no session
either (Prometheus has none) but checks its own bearer token or the caller's address.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from flask import Blueprint, Response, current_app, request

from tracker.errors import ForbiddenError
from tracker.web.auth import public, remote_address_in
from tracker.web.inputs import reads_no_input
from tracker.web.responses import json_response

health = Blueprint("health", __name__)

NO_STORE = {"Cache-Control": "no-store"}
#: Where /metrics is served without a token when TRACKER_METRICS_ALLOW is not set.
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
#: Headers a reverse proxy adds: behind one on this host, every caller looks like loopback.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-Ip")
METRICS_REFUSED = (
    "Metrics are served only to the addresses in TRACKER_METRICS_ALLOW (loopback by default) "
    "or with the metrics token: send 'Authorization: Bearer <TRACKER_METRICS_TOKEN>'."
)


@health.get("/healthz")
@public
@reads_no_input
def healthz() -> Response:
    """Answer that the process is alive (no database, no queue, nothing else)."""
    return json_response({"status": "ok"}, headers=NO_STORE)


@health.get("/readyz")
@public
@reads_no_input
def readyz() -> Response:
    """Answer 200 when the database, its schema and the queue are usable, 503 naming what is not."""
    from tracker.health import readiness

    checks = readiness(current_app._get_current_object())  # type: ignore[attr-defined]
    ready = all(check.ok for check in checks)
    document = {
        "status": "ready" if ready else "not ready",
        "checks": {check.name: check.as_json() for check in checks},
    }
    return json_response(document, status=200 if ready else 503, headers=NO_STORE)


@health.get("/metrics")
@public  # guarded below by its own token or address rule: Prometheus has no session
@reads_no_input
def metrics() -> Response:
    """Serve the metrics in Prometheus text format to an allowed address or the token."""
    if not metrics_allowed():
        raise ForbiddenError(METRICS_REFUSED)
    from tracker.metrics import exposition

    body, content_type = exposition(current_app._get_current_object())  # type: ignore[attr-defined]
    return Response(body, content_type=content_type, headers=NO_STORE)


def metrics_allowed() -> bool:
    """Return whether this request brings the metrics token or comes from an allowed address."""
    token: str | None = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            secret.strip().encode(), token.encode()
        ):
            return True
    networks: list[Any] | None = current_app.config.get("METRICS_ALLOW_NETWORKS")
    if networks is None:
        if any(name in request.headers for name in FORWARDING_HEADERS):
            return False  # relayed by a proxy: the loopback address is the proxy's, not theirs
        networks = list(LOOPBACK)
    return remote_address_in(networks)
