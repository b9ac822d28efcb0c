"""Releases: listed from Jira fix versions and the tracker, created by compliance, in the API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import signed_in_client
from tests.helpers import transaction
from tracker.domain.access import cli_actor
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_records import IssueRecord, VersionRecord
from tracker.models import AuditEvent, JiraVersion, TrackerRelease
from tracker.services.jira_sync import sync_jira


def _versions(session: Session) -> None:
    with transaction(session):
        session.add(
            JiraVersion(id="1", project_key="APP", name="2026.12", release_date=date(2026, 12, 15))
        )
        session.add(JiraVersion(id="2", project_key="WEB", name="2026.12", released=True))
        session.add(
            JiraVersion(
                id="3",
                project_key="APP",
                name="2026.10",
                released=True,
                release_date=date(2026, 10, 1),
            )
        )


def _form(client: Any, data: dict[str, str]) -> Any:
    page = client.get("/releases").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    return client.post("/releases", data={"csrf_token": token.group(1), **data})


def test_the_releases_page_lists_fix_versions_once_per_name(client: Any, session: Session) -> None:
    _versions(session)
    text = client.get("/releases").get_data(as_text=True)
    assert text.count('<th scope="row"><a href="/releases/2026.12">2026.12</a></th>') == 1
    assert "Jira fix version in APP, WEB" in text
    assert text.index("2026.12") < text.index("2026.10")
    assert 'href="/matrix?release=2026.12"' in text


def test_compliance_creates_a_release_and_it_is_audited(app: Any, session: Session) -> None:
    compliance = signed_in_client(app, "compliance")
    response = _form(compliance, {"name": " 2027.03 ", "date": "2027-03-31"})
    assert response.status_code == 302
    assert session.exec(select(TrackerRelease)).one().release_date == date(2027, 3, 31)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "release.created")).one()
    assert (event.entity_id, event.actor_role) == ("2027.03", "compliance")
    again = _form(compliance, {"name": "2027.03"})
    assert again.status_code == 400 and "exists already" in again.get_data(as_text=True)
    bad = _form(compliance, {"name": "2027.04", "date": "next spring"})
    assert bad.status_code == 400 and "year-month-day" in bad.get_data(as_text=True)
    assert len(session.exec(select(TrackerRelease)).all()) == 1


def test_only_compliance_and_admin_see_the_form(app: Any) -> None:
    assert "Add a release" not in signed_in_client(app, "legal").get("/releases").get_data(
        as_text=True
    )
    assert "Add a release" in signed_in_client(app, "compliance").get("/releases").get_data(
        as_text=True
    )


def test_the_api_lists_releases(client: Any, session: Session) -> None:
    _versions(session)
    body = client.get("/api/v1/releases").get_json()
    assert [release["name"] for release in body["releases"]] == ["2026.12", "2026.10"]
    assert body["releases"][0]["jira_projects"] == ["APP", "WEB"]


def test_the_cli_creates_and_lists_releases(runner: Any, session: Session) -> None:
    _versions(session)
    created = runner.invoke(args=["releases", "create", "2027.03", "--date", "2027-03-31"])
    assert created.exit_code == 0 and "Release 2027.03 created." in created.output
    listed = runner.invoke(args=["releases", "list"]).output.splitlines()
    assert listed[0].startswith("2027.03  2027-03-31  unreleased  (tracker)")
    assert listed[1].startswith("2026.12  2026-12-15  unreleased  (APP, WEB)")
    duplicate = runner.invoke(args=["releases", "create", "2026.12"])
    assert duplicate.exit_code == 1 and "exists already" in duplicate.output


def test_a_fix_version_is_a_release_whose_page_opens_or_is_left_out_saying_why(
    client: Any, engine: Engine
) -> None:
    longest = "2027." + "x" * 195  # as long as a release name can be
    too_long = "2028." + "y" * 225  # Jira allows 255 characters
    fake = FakeJiraGateway(
        issues=[
            IssueRecord(
                key="PRIV-1",
                id="1",
                summary="Work",
                issue_type="Epic",
                status="To Do",
                status_category="new",
                fix_versions=(longest, too_long),
                labels=(),
                assignee=None,
                url="https://jira.example.test/browse/PRIV-1",
                updated=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
                project_key="PRIV",
            )
        ],
        versions=[
            VersionRecord("PRIV", "1", longest, False, None, False),
            VersionRecord("PRIV", "2", too_long, False, None, False),
            VersionRecord("PRIV", "3", "2029\x0001", False, None, False),
        ],
    )
    report = sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    assert report.status == "succeeded with problems"
    assert report.problems[0].startswith("The fix version '2028.yyy")
    assert report.problems[0].endswith(
        "…' of PRIV was left out of the releases: its name has 230 characters, and a release "
        "name at most 200. Rename it in Jira to track it as a release."
    )
    assert "'2029?01' of PRIV was left out" in report.problems[1]
    assert "holds a control character" in report.problems[1]
    listed = client.get("/releases").get_data(as_text=True)
    assert f'href="/releases/{longest}"' in listed
    assert too_long not in listed and "2029" not in listed
    assert client.get(f"/releases/{longest}").status_code == 200
    assert client.get(f"/releases/{too_long}").status_code == 404
