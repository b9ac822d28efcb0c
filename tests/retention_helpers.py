"""A small data map for the retention tests, written as YAML: three systems, three activities."""

from __future__ import annotations

from pathlib import Path

SENSOR = "RETENTION-healthSyncService.user.sensor"
EMAIL = "RETENTION-accountsService.user.contact.email"
EMAIL_BACKUPS = "RETENTION-backups.user.contact.email"

SYSTEMS = """
systems:
  - {{id: accounts-service, name: Accounts service, owner: engineer@demo.example}}
  - {{id: backups, name: "{backups_name}"}}
  - {{id: health-sync-service, name: Health sync service}}
"""

ACTIVITIES = """
activities:
  - id: sign-up
    name: Account sign-up
    purpose: Create and secure a customer account.
    data_categories: [user.contact.email, user.name]
    data_subjects: [customer]
    systems: [accounts-service, backups]
    jurisdictions: [EU]
    roles: [controller]
    retention:
      - data_categories: [user.contact.email]
        period: {email_period}
        trigger: account_closed
    dpia: {{required: false, reason: Ordinary account data only.}}
  - id: newsletter
    name: Newsletter
    purpose: Send the newsletter to those who asked for it.
    data_categories: [user.contact.email]
    data_subjects: [customer]
    systems: [backups]
    jurisdictions: [EU]
    roles: [controller]
    retention:
      - data_categories: [user.contact.email]
        period: 2 years
        trigger: unsubscribed
    dpia: {{required: false, reason: Ordinary contact data only.}}
  - id: health-sync
    name: Wellness tab
    purpose: Show customers their daily activity from wearables.
    data_categories: [user.sensor]
    data_subjects: [customer]
    systems: [health-sync-service]
    jurisdictions: [EU]
    roles: [controller]
{sensor_rules}
    dpia: {{required: false, reason: Daily activity counts only and no health data.}}
"""

SENSOR_RULE = """    retention:
      - data_categories: [user.sensor]
        period: 1 year
        trigger: collected"""


def write_data_map(
    folder: Path,
    *,
    email_period: str = "30 days",
    sensor: bool = True,
    backups_name: str = "Encrypted backups",
) -> Path:
    """Write systems.yaml and activities.yaml into folder; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    systems = SYSTEMS.format(backups_name=backups_name)
    (folder / "systems.yaml").write_text(systems, encoding="utf-8")
    rules = SENSOR_RULE if sensor else "    retention: []"
    text = ACTIVITIES.format(email_period=email_period, sensor_rules=rules)
    (folder / "activities.yaml").write_text(text, encoding="utf-8")
    return folder
