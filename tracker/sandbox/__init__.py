"""A local stand-in for Jira's REST API, for demos, integration tests and benchmarks."""

from __future__ import annotations

from tracker.sandbox.app import create_sandbox_app
from tracker.sandbox.context import SandboxAuth, sandbox_context
from tracker.sandbox.faults import Fault
from tracker.sandbox.seed import seed_demo, seed_generated
from tracker.sandbox.server import SandboxServer
from tracker.sandbox.state import SandboxState
from tracker.sandbox.webhooks import WebhookConfig

__all__ = [
    "Fault",
    "SandboxAuth",
    "SandboxServer",
    "SandboxState",
    "WebhookConfig",
    "create_sandbox_app",
    "sandbox_context",
    "seed_demo",
    "seed_generated",
]
