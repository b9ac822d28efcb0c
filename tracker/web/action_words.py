"""How audit events read on the pages: actions and objects in words, changes in one line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_SUMMARY = 300

ACTION_WORDS = {
    "obligation.created": "Added to the catalog",
    "obligation.new_version": "New version from the catalog",
    "obligation.updated": "Updated from the catalog (no new version)",
    "obligation.retired": "Retired",
    "obligation.restored": "Restored",
    "link.added": "Link added",
    "link.removed": "Link removed",
    "link.reviewed": "Links reviewed",
    "applicability.decided": "Applicability decided",
    "applicability.proposals_refreshed": "Applicability proposed again from the data map",
    "work_item.missing": "Work item missing in Jira",
    "jira.sync_started": "Jira sync started",
    "jira.sync_finished": "Jira sync finished",
    "jira.push_started": "Push to Jira started",
    "jira.push_finished": "Push to Jira finished",
    "jira.epic_created": "Epic created in Jira",
    "jira.epic_found": "Existing epic linked",
    "test_run.ingested": "Test results received",
    "user.created": "Account created",
    "user.role_changed": "Role changed",
    "user.disabled": "Account disabled",
    "user.enabled": "Account enabled",
    "user.password_reset": "Password reset",
    "user.logged_in": "Signed in",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "release.created": "Release created",
    "activity.created": "Added to the data map",
    "activity.new_version": "New version from the data map",
    "activity.retired": "Removed from the data map",
    "activity.restored": "Back in the data map",
    "data_system.created": "Added to the data map",
    "data_system.updated": "Updated from the data map",
    "data_system.retired": "Removed from the data map",
    "data_system.restored": "Back in the data map",
    "dpia.created": "Added to the data map",
    "dpia.new_version": "New version from the data map",
    "dpia.retired": "Removed from the data map",
    "dpia.restored": "Back in the data map",
}

OBJECT_WORDS = {
    "obligation": "Obligation",
    "link": "Link",
    "work_item": "Work item",
    "sync_run": "Jira run",
    "test_run": "Test run",
    "user": "Account",
    "token": "API token",
    "release": "Release",
    "applicability": "Applicability proposals",
    "activity": "Processing activity",
    "data_system": "System",
    "dpia": "DPIA",
}


def action_words(action: str) -> str:
    """Return the words for an action (the code itself when it has none)."""
    return ACTION_WORDS.get(action, action)


def summarise(values: Mapping[str, Any] | None) -> str:
    """Return a dict as 'name: value; ...' in one short line."""
    if not values:
        return ""
    parts = []
    for name, value in values.items():
        if isinstance(value, list | tuple):
            text = ", ".join(str(item) for item in value) or "none"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif value is None:
            text = "none"
        else:
            text = str(value)
        parts.append(f"{name.replace('_', ' ')}: {text}")
    line = "; ".join(parts)
    return line if len(line) <= MAX_SUMMARY else line[: MAX_SUMMARY - 1] + "…"
