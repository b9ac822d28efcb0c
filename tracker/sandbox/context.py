"""Settings and services shared by the sandbox's views: mode, credentials, search, webhooks."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app, g, request

from tracker.sandbox.representation import CLOUD, Renderer
from tracker.sandbox.search import SearchEngine
from tracker.sandbox.state import SandboxState
from tracker.sandbox.webhooks import WebhookDispatcher

EXTENSION_KEY = "jira_sandbox"
API_PREFIX = '/rest/api/<any("2","3","latest"):api_version>'


@dataclass(frozen=True)
class SandboxAuth:
    """Credentials the sandbox accepts: Basic email + API token and/or a Bearer PAT."""

    email: str | None = None
    token: str | None = None
    pat: str | None = None

    def __post_init__(self) -> None:
        if bool(self.email) != bool(self.token):
            raise ValueError("Basic auth needs both an email and an API token")
        if not (self.token or self.pat):
            raise ValueError("configure an email + token, a PAT, or both")

    def accepts(self, header: str) -> bool:
        """Return whether an Authorization header carries the configured credentials."""
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "basic" and self.email and self.token:
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            expected = f"{self.email}:{self.token}"
            return hmac.compare_digest(decoded.encode(), expected.encode())
        if scheme.lower() == "bearer" and self.pat:
            return hmac.compare_digest(value.encode(), self.pat.encode())
        return False


@dataclass
class SandboxContext:
    """Per-app settings and services, reachable from views through `sandbox_context()`."""

    state: SandboxState
    mode: str
    auth: SandboxAuth | None
    search: SearchEngine
    deployment_type: str
    max_results_cap: int = 100
    max_result_window: int = 10_000
    base_url: str | None = None
    webhooks: WebhookDispatcher | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_cloud(self) -> bool:
        """Return whether the sandbox plays Jira Cloud."""
        return self.mode == CLOUD

    def renderer(self, base_url: str | None = None) -> Renderer:
        """Return a renderer for the current request's API version and base URL."""
        base = base_url or self.base_url or request.host_url
        version = g.get("api_version", "2")
        return Renderer(self.state, base, self.mode, version)

    def close(self) -> None:
        """Stop the webhook worker, if any."""
        if self.webhooks is not None:
            self.webhooks.close()


def sandbox_context(app: Flask | None = None) -> SandboxContext:
    """Return the sandbox context of `app` (default: the current app)."""
    target = app if app is not None else current_app
    context: SandboxContext = target.extensions[EXTENSION_KEY]
    return context


def api_blueprint(name: str) -> Blueprint:
    """Return a blueprint serving under /rest/api/2, /rest/api/3 and /rest/api/latest."""
    blueprint = Blueprint(name, __name__, url_prefix=API_PREFIX)

    @blueprint.url_value_preprocessor
    def take_api_version(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.api_version = str((values or {}).pop("api_version", "2"))

    return blueprint
