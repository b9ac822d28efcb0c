"""The Jira gateway a job uses: the app's settings, closed when the job is done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tracker.integrations.jira_setup import require_gateway

if TYPE_CHECKING:
    from flask import Flask

    from tracker.integrations.jira_gateway import JiraGateway
    from tracker.integrations.jira_records import JiraSettings


@contextmanager
def jira_gateway(app: Flask) -> Iterator[tuple[JiraSettings, JiraGateway]]:
    """Yield the settings and a gateway (JiraError says how to configure Jira); close it after."""
    settings, gateway = require_gateway(app)
    try:
        yield settings, gateway
    finally:
        close = getattr(gateway, "close", None)
        if callable(close):
            close()
