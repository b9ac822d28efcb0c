"""Where the running app finds its Jira settings and gateway, and what to say when it has none."""

from __future__ import annotations

from flask import Flask, current_app

from tracker.config import jira_environment
from tracker.errors import JiraError, ValidationError
from tracker.integrations.jira_gateway import JiraGateway, make_gateway
from tracker.integrations.jira_records import JiraSettings

NOT_CONFIGURED = (
    "Jira is not configured. Set TRACKER_JIRA_URL and either TRACKER_JIRA_EMAIL with "
    "TRACKER_JIRA_API_TOKEN (Jira Cloud) or TRACKER_JIRA_PAT (Data Center), and "
    "TRACKER_JIRA_JQL for the issues to follow (for example: project in (PRIV, APP) AND "
    "issuetype = Epic). `tracker jira-sandbox` serves a local stand-in Jira to try it."
)


def jira_settings(app: Flask | None = None) -> JiraSettings | None:
    """Return the app's Jira settings (from TRACKER_JIRA_* unless set in config), or None."""
    config = (app or current_app).config
    if "JIRA_SETTINGS" in config:
        settings: JiraSettings | None = config["JIRA_SETTINGS"]
        return settings
    # Read when Jira is used, not at start-up: invalid settings must not stop the app.
    return JiraSettings.from_env(jira_environment())


def public_url(app: Flask | None = None) -> str:
    """Return the tracker's address as links in Jira show it (TRACKER_PUBLIC_URL, no final /)."""
    return str((app or current_app).config["PUBLIC_URL"]).rstrip("/")


def require_gateway(app: Flask | None = None) -> tuple[JiraSettings, JiraGateway]:
    """Return settings and a gateway, or raise JiraError saying how to configure Jira."""
    try:
        settings = jira_settings(app)
    except ValidationError as exc:
        raise JiraError(str(exc)) from exc
    if settings is None:
        raise JiraError(NOT_CONFIGURED)
    factory = (app or current_app).config.get("JIRA_GATEWAY_FACTORY") or make_gateway
    return settings, factory(settings)
