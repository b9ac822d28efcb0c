"""Outbound Jira-style webhooks of the sandbox: signed issue events POSTed to a loopback URL.

Deliveries follow Jira Cloud admin webhooks: body as in the issue payload, headers
`X-Atlassian-Webhook-Identifier` (stable across retries), `X-Atlassian-Webhook-Flow`,
`X-Atlassian-Webhook-Retry` (from the first retry on) and, with a secret,
`X-Hub-Signature: sha256=<lowercase hex HMAC-SHA256 of the raw body>`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from tracker.sandbox.representation import ALL_FIELDS, FieldSelection
from tracker.sandbox.state import IssueEvent, SandboxState

if TYPE_CHECKING:
    from tracker.sandbox.representation import Renderer

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 425, 429})
EVENT_NAMES = {
    "created": "jira:issue_created",
    "updated": "jira:issue_updated",
    "deleted": "jira:issue_deleted",
}


@dataclass(frozen=True)
class WebhookConfig:
    """Where and how to deliver webhooks; only loopback URLs are accepted."""

    url: str
    secret: str | None = None
    max_attempts: int = 3
    retry_delay_seconds: float = 0.5
    timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        require_loopback_url(self.url)
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")


@dataclass(frozen=True)
class Delivery:
    """The outcome of one webhook delivery (all its attempts)."""

    identifier: str
    event: str
    issue_key: str
    attempts: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Return whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


def require_loopback_url(url: str) -> None:
    """Raise ValueError unless `url` is http(s) on a loopback host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook URL must be http(s)://host:port/...: {url!r}")
    host = parts.hostname
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the sandbox only delivers webhooks to loopback hosts, not {host!r}")


def sign(body: bytes, secret: str) -> str:
    """Return the X-Hub-Signature value for a raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def build_payload(event: IssueEvent, renderer: Renderer) -> dict[str, Any]:
    """Return the JSON payload Jira sends for an issue event."""
    payload: dict[str, Any] = {
        "timestamp": int(event.timestamp.timestamp() * 1000),
        "webhookEvent": EVENT_NAMES[event.kind],
        "issue_event_type_name": event.event_type_name,
        "user": renderer.user(event.user),
        "issue": renderer.issue(event.issue, FieldSelection(ALL_FIELDS)),
    }
    if event.changelog:
        payload["changelog"] = {"id": str(event.changelog_id), "items": list(event.changelog)}
    if event.comment is not None:
        payload["comment"] = renderer.comment(event.issue, event.comment)
    return payload


class WebhookDispatcher:
    """Subscribes to a state and delivers its events in order from one background thread."""

    def __init__(
        self,
        config: WebhookConfig,
        state: SandboxState,
        renderer_factory: Callable[[], Renderer],
    ) -> None:
        self.config = config
        self.state = state
        self._renderer_factory = renderer_factory
        self._queue: queue.Queue[IssueEvent | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._session = requests.Session()

    def start(self) -> None:
        """Subscribe to the state and start the delivery thread."""
        if self._thread is not None:
            return
        self._unsubscribe = self.state.subscribe(self._queue.put)
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, finish queued deliveries (bounded by `timeout`) and stop."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        self._session.close()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event has been delivered or given up; True if drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def deliveries(self) -> list[Delivery]:
        """Return the outcomes so far, oldest first."""
        with self._lock:
            return list(self._deliveries)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                self._deliver(event)
            except Exception:  # the worker must survive any single bad event
                log.exception("webhook delivery crashed")
            finally:
                self._queue.task_done()

    def _deliver(self, event: IssueEvent) -> None:
        payload = build_payload(event, self._renderer_factory())
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        identifier = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": identifier,
            "X-Atlassian-Webhook-Flow": "Primary",
        }
        if self.config.secret:
            headers["X-Hub-Signature"] = sign(body, self.config.secret)
        status: int | None = None
        error: str | None = None
        attempt = 0
        for attempt in range(1, self.config.max_attempts + 1):
            if attempt > 1:
                headers["X-Atlassian-Webhook-Retry"] = str(attempt - 1)
                time.sleep(self.config.retry_delay_seconds * (attempt - 1))
            status, error = self._post(body, headers)
            if status is not None and not (status in RETRY_STATUSES or status >= 500):
                break
        outcome = Delivery(
            identifier, EVENT_NAMES[event.kind], event.issue.key, attempt, status, error
        )
        if not outcome.ok:
            log.warning(
                "webhook %s for %s not delivered after %d attempt(s): %s",
                outcome.event,
                outcome.issue_key,
                attempt,
                error or f"HTTP {status}",
            )
        with self._lock:
            self._deliveries.append(outcome)

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        timeout = (min(2.0, self.config.timeout_seconds), self.config.timeout_seconds)
        try:
            response = self._session.post(
                self.config.url, data=body, headers=headers, timeout=timeout
            )
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}"
        return response.status_code, None
