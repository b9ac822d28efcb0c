"""Serve the sandbox over real HTTP on a loopback port, in a background thread or the foreground."""

from __future__ import annotations

import ipaddress
import threading
from types import TracebackType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tracker.sandbox.app import create_sandbox_app
from tracker.sandbox.context import SandboxContext, sandbox_context
from tracker.sandbox.representation import CLOUD
from tracker.sandbox.state import SandboxState


class _QuietRequestHandler(WSGIRequestHandler):
    """Skip the per-request access log line; errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class SandboxServer:
    """A running sandbox: `with SandboxServer(state, mode="cloud") as jira: JIRA(jira.url)`.

    The socket is bound in the constructor (port 0 picks a free one) and, unless
    `start=False`, requests are served from a daemon thread at once. Extra keyword
    options go to `create_sandbox_app` (auth, webhook, max_results_cap, ...).
    """

    def __init__(
        self,
        state: SandboxState | None = None,
        mode: str = CLOUD,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        start: bool = True,
        quiet: bool = True,
        **opts: Any,
    ) -> None:
        require_loopback_host(host)
        self.state = state if state is not None else SandboxState()
        self.mode = mode
        self.app: Flask = create_sandbox_app(self.state, mode=mode, **opts)
        handler = _QuietRequestHandler if quiet else WSGIRequestHandler
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=handler
        )
        self.host = host
        self.port = int(self._server.server_port)
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{self.port}"
        self.context: SandboxContext = sandbox_context(self.app)
        if self.context.base_url is None:
            self.context.base_url = self.url
        self._thread: threading.Thread | None = None
        self._stopped = False
        if start:
            self.start()

    def start(self) -> None:
        """Serve from a background daemon thread (idempotent)."""
        if self._thread is not None or self._stopped:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"jira-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C), then release the port."""
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving, close the socket and the webhook worker (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self.context.close()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def require_loopback_host(host: str) -> None:
    """Raise ValueError unless `host` is a loopback address or 'localhost'."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the Jira sandbox binds loopback addresses only, not {host!r}")
