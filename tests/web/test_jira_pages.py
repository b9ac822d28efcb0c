"""The Jira page, Sync now and Push to Jira, and the "Create epic in Jira" button for gaps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.auth_helpers import signed_in_client
from tests.helpers import SMALL_CATALOG, csrf_token, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_records import IssueRecord, JiraSettings
from tracker.integrations.jira_setup import NOT_CONFIGURED
from tracker.models import AuditEvent, EpicRequest, Job, SyncRun, User, WorkItem, WorkItemLink
from tracker.services.catalog import load_catalog
from tracker.services.jira_sync import sync_jira
from tracker.services.links import link_work_item
from tracker.services.sync_lock import held_lock

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
API_TOKEN = "tok-NEVER-SHOWN-4b1d9e"
WEBHOOK_SECRET = "whsec-NEVER-SHOWN-77aa3c"
PAT = "pat-NEVER-SHOWN-0c5e21"
JIRA_VARIABLES = (
    "TRACKER_JIRA_URL",
    "TRACKER_JIRA_EMAIL",
    "TRACKER_JIRA_API_TOKEN",
    "TRACKER_JIRA_PAT",
    "TRACKER_JIRA_JQL",
    "TRACKER_JIRA_WEBHOOK_SECRET",
    "TRACKER_JIRA_PUSH",
    "TRACKER_JIRA_TIMEOUT",
)


def epic(key: str, labels: tuple[str, ...] = (), minutes: int = 0) -> IssueRecord:
    return IssueRecord(
        key=key,
        id=str(10_000 + int(key.rsplit("-", 1)[1])),
        summary=f"Work {key}",
        issue_type="Epic",
        status="In Progress",
        status_category="indeterminate",
        fix_versions=("2026.12",),
        labels=labels,
        assignee=None,
        url=f"https://jira.example.test/browse/{key}",
        updated=T0 + timedelta(minutes=minutes),
        project_key=key.split("-")[0],
    )


@pytest.fixture
def loaded(session: Session) -> Session:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("legal"))
    return session


@pytest.fixture
def fake() -> FakeJiraGateway:
    return FakeJiraGateway(
        issues=[
            epic("PRIV-1", ("obligation-ALPHA-1.1",)),
            epic("PRIV-2", ("obligation-NOPE-1",), minutes=1),
        ]
    )


@pytest.fixture
def jira_app(app: Flask, fake: FakeJiraGateway) -> Flask:
    app.config["JIRA_SETTINGS"] = JiraSettings(
        url="https://jira.example.test",
        email="bot@example.test",
        api_token=API_TOKEN,
        jql="project in (PRIV, APP) AND issuetype = Epic",
        webhook_secret=WEBHOOK_SECRET,
    )
    app.config["JIRA_GATEWAY_FACTORY"] = lambda settings: fake
    return app


@pytest.fixture
def jira_client(jira_app: Flask) -> FlaskClient:
    return signed_in_client(jira_app)


def text_of(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Post with a valid CSRF token, then follow the redirect (which shows the flash)."""
    if not hasattr(client, "form_token"):
        client.form_token = csrf_token(client, "/obligations/ALPHA-1.1")  # type: ignore[attr-defined]
    data = {"csrf_token": client.form_token, **(data or {})}  # type: ignore[attr-defined]
    response = client.post(url, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def flashes(page: str) -> list[str]:
    block = re.search(r'<ul class="flash" role="status">(.*?)</ul>', page, flags=re.DOTALL)
    return re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), flags=re.DOTALL) if block else []


# --- the page -------------------------------------------------------------------------------


def test_without_jira_the_page_says_how_to_configure_it(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in JIRA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    text = text_of(client, "/jira")
    assert '<h2 id="setup-heading">Jira is not configured</h2>' in text
    assert NOT_CONFIGURED in text
    for name in JIRA_VARIABLES:
        assert f"<code>{name}</code>" in text
    assert "Sync now</button>" not in text
    assert '<a href="/jira" aria-current="page">Jira</a>' in text


def test_an_invalid_jira_environment_shows_the_problem_but_no_secret(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in JIRA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_JIRA_URL", "https://jira.example.test")
    monkeypatch.setenv("TRACKER_JIRA_API_TOKEN", API_TOKEN)
    monkeypatch.setenv("TRACKER_JIRA_WEBHOOK_SECRET", WEBHOOK_SECRET)
    text = text_of(client, "/jira")
    assert "The Jira settings are invalid." in text
    assert "TRACKER_JIRA_API_TOKEN is set but TRACKER_JIRA_EMAIL is not" in text
    assert API_TOKEN not in text and WEBHOOK_SECRET not in text


def test_configured_page_shows_the_connection_and_lists_runs(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    sync_jira(engine=engine, gateway=fake, jql="x", actor=cli_actor("nightly job"))
    with transaction(loaded):
        link_work_item(session=loaded, obligation_id="BETA-7", key="PRIV-1", actor=cli_actor("eng"))
    del fake.issues["PRIV-1"]
    sync_jira(engine=engine, gateway=fake, jql="x", full=True, actor=cli_actor("nightly job"))

    text = text_of(jira_client, "/jira")
    assert "<dt>Jira</dt><dd>https://jira.example.test</dd>" in text
    assert "Jira Cloud (email and API token)" in text
    assert "<code>project in (PRIV, APP) AND issuetype = Epic</code>" in text
    assert "Enabled: the secret is set." in text
    assert "<code>http://127.0.0.1:5000/webhooks/jira</code>" in text
    assert "Sync now</button>" in text and "Push to Jira</button>" in text
    viewer = text_of(signed_in_client(jira_client.application, "viewer"), "/jira")
    assert "Sync now</button>" not in viewer and "engineer or admin role" in viewer
    runs = text[text.index('id="runs"') : text.index('id="missing"')]
    assert runs.index('<th scope="row">#2</th>') < runs.index('<th scope="row">#1</th>')
    assert '<span class="badge run-warn">succeeded with problems</span>' in runs
    assert "by nightly job" in runs and "full" in runs and "incremental" in runs
    assert "<summary>1 problem</summary>" in runs
    assert "PRIV-2 has the label &#39;obligation-NOPE-1&#39;" in runs
    assert "PRIV-1 is missing in Jira" in runs
    missing = text[text.index('id="missing"') :]
    assert '<a href="/work-items/PRIV-1">PRIV-1</a><br>' in missing
    assert 'aria-label="Open PRIV-1 in Jira (new tab)">Open in Jira</a></th>' in missing
    assert '<a href="/obligations/ALPHA-1.1">ALPHA-1.1</a>, ' in missing
    assert '<a href="/obligations/BETA-7">BETA-7</a>' in missing
    assert "PRIV-2" not in missing


def test_no_secret_appears_on_any_page(
    engine: Engine, loaded: Session, jira_app: Flask, fake: FakeJiraGateway
) -> None:
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    for settings in (
        jira_app.config["JIRA_SETTINGS"],
        JiraSettings(url="https://dc.example.test", pat=PAT, webhook_secret=WEBHOOK_SECRET),
    ):
        jira_app.config["JIRA_SETTINGS"] = settings
        client = signed_in_client(jira_app)
        for url in ("/", "/matrix", "/jira", "/obligations/ALPHA-1.1", "/obligations/BETA-9"):
            text = text_of(client, url)
            for secret in (API_TOKEN, WEBHOOK_SECRET, PAT):
                assert secret not in text, (url, secret)
    assert "Jira Data Center (personal access token)" in text_of(client, "/jira")


def test_the_jira_page_escapes_jira_text_and_has_no_inline_script_or_style(
    engine: Engine, loaded: Session, jira_client: FlaskClient
) -> None:
    with transaction(loaded):
        loaded.add(
            WorkItem(
                key="PRIV-9",
                summary="<script>alert(1)</script>",
                missing=True,
                url="javascript:alert(1)",
            )
        )
    text = text_of(jira_client, "/jira")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script" not in text and "style=" not in text and "javascript:" not in text


# --- Sync now and Push to Jira: they queue a job and answer with its page -------------------
# The test configuration runs a job at once where it is queued (JOBS_IMMEDIATE), so the job's
# page shows how it ended; tests/integration/test_jobs_*.py run the same jobs on real workers.


def job_state(page: str) -> str:
    found = re.search(r'<span class="badge [^"]+" id="job-state">([a-z]+)</span>', page)
    assert found, page
    return found.group(1)


def job_text(page: str, element: str) -> str:
    found = re.search(rf'id="job-{element}">(.*?)</(?:p|div)>', page, flags=re.DOTALL)
    return found.group(1).strip() if found else ""


def test_sync_now_queues_a_sync_job_whose_page_shows_the_outcome(
    engine: Engine, loaded: Session, jira_client: FlaskClient
) -> None:
    response = jira_client.post("/jira/sync", data={"csrf_token": token_of(jira_client)})
    assert response.status_code == 303 and response.headers["Location"] == "/jobs/1"
    page = jira_client.get("/jobs/1").get_data(as_text=True)
    assert flashes(page) == ["Jira sync queued as job #1."]
    assert job_state(page) == "succeeded"
    summary = job_text(page, "summary")
    assert summary.startswith("1 page(s): 2 created"), summary
    assert 'href="/jira#runs">Run #1 on the Jira page</a>' in page
    assert 'http-equiv="refresh"' not in page  # finished: nothing to wait for
    loaded.rollback()
    assert {item.key for item in loaded.exec(select(WorkItem)).all()} == {"PRIV-1", "PRIV-2"}
    run = loaded.exec(select(SyncRun)).one()
    assert run.actor == "admin@example.com (Sync now)" and run.finished_at is not None
    assert run.status == "succeeded with problems"
    assert '<th scope="row">#1</th>' in text_of(jira_client, "/jira")


def token_of(client: FlaskClient) -> str:
    if not hasattr(client, "form_token"):
        client.form_token = csrf_token(client, "/obligations/ALPHA-1.1")  # type: ignore[attr-defined]
    return str(client.form_token)  # type: ignore[attr-defined]


def test_sync_now_and_push_need_a_csrf_token_and_do_nothing_without_it(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    for url in ("/jira/sync", "/jira/push", "/jira/epics", "/obligations/BETA-9/create-epic"):
        for data in ({}, {"csrf_token": "forged"}):
            response = jira_client.post(url, data={**data, "project": "PRIV"})
            assert response.status_code == 400, url
            assert "security token" in response.get_data(as_text=True)
    assert fake.calls == []
    loaded.rollback()
    assert loaded.exec(select(SyncRun)).all() == []
    assert loaded.exec(select(EpicRequest)).all() == []
    assert loaded.exec(select(Job)).all() == []


def test_sync_now_while_another_sync_runs_records_a_clear_failure_without_retrying(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    with held_lock(engine, "Jira sync", "tracker jira sync (cron)"):
        page = post(jira_client, "/jira/sync")
    assert job_state(page) == "failed"
    failure = job_text(page, "failure")
    assert failure.startswith("Another Jira sync is running")
    assert "by tracker jira sync (cron)" in failure and failure.endswith("This job did nothing.")
    assert fake.calls_to("search") == []
    loaded.rollback()
    assert loaded.exec(select(Job)).one().attempts == 1


def test_sync_now_on_a_busy_jira_records_the_failed_run_and_waits_to_retry(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    from tracker.errors import JiraError

    fake.fail(
        "search", JiraError("Jira failed to search issues (HTTP 503).", status=503, retryable=True)
    )
    page = post(jira_client, "/jira/sync")
    assert job_state(page) == "retrying"
    failure = job_text(page, "failure")
    assert failure.startswith("Sync run #1 failed: Jira failed to search issues (HTTP 503).")
    assert failure.endswith("Attempt 1 of 6 failed; the next starts in 30 s.")
    assert 'http-equiv="refresh"' in page and "Waiting to try again." in page
    loaded.rollback()
    assert loaded.exec(select(SyncRun)).one().status == "failed"


def test_sync_now_refused_by_jira_fails_at_once(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    from tracker.errors import JiraError

    fake.fail("search", JiraError("Jira refused to search issues (HTTP 400).", status=400))
    page = post(jira_client, "/jira/sync")
    assert job_state(page) == "failed"
    assert job_text(page, "failure") == (
        "Sync run #1 failed: Jira refused to search issues (HTTP 400)."
    )
    assert 'class="alert alert-error"' in page


def test_sync_now_without_jira_configured_says_how_to_configure_it(
    app: Flask, client: FlaskClient, loaded: Session
) -> None:
    app.config["JIRA_SETTINGS"] = None
    page = post(client, "/jira/sync")
    assert flashes(page) == [NOT_CONFIGURED]
    loaded.rollback()
    assert loaded.exec(select(Job)).all() == []


def test_sync_now_queues_a_push_too_when_push_after_sync_is_on(
    engine: Engine, loaded: Session, jira_app: Flask, fake: FakeJiraGateway
) -> None:
    from dataclasses import replace

    jira_app.config["JIRA_SETTINGS"] = replace(
        jira_app.config["JIRA_SETTINGS"], push_after_sync=True
    )
    client = signed_in_client(jira_app)
    page = post(client, "/jira/sync")
    assert '<a href="/jobs/2">Push job #2</a>' in page
    push = text_of(client, "/jobs/2")
    assert job_state(push) == "succeeded"
    assert job_text(push, "summary") == "1 remote link change(s) made, 0 unchanged."
    assert set(fake.links["PRIV-1"]) == {"privacy-tracker:obligation=ALPHA-1.1"}


def test_push_to_jira_puts_remote_links_and_a_second_push_changes_nothing(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    sync_jira(actor=cli_actor("test"), engine=engine, gateway=fake, jql="x")
    first = post(jira_client, "/jira/push")
    assert flashes(first) == ["Push to Jira queued as job #1."]
    assert job_text(first, "summary") == "1 remote link change(s) made, 0 unchanged."
    assert '<p id="job-progress">Sending remote links to Jira: 1 of 1</p>' in first
    link = fake.links["PRIV-1"]["privacy-tracker:obligation=ALPHA-1.1"]
    assert link.url == "http://127.0.0.1:5000/obligations/ALPHA-1.1"
    calls = len(fake.calls)
    second = post(jira_client, "/jira/push")
    assert job_text(second, "summary") == "0 remote link change(s) made, 1 unchanged."
    assert len(fake.calls) == calls
    runs = text_of(jira_client, "/jira")
    assert runs.count('Push<br><span class="muted small">remote links</span>') == 2


# --- the "Create epic in Jira" button -------------------------------------------------------


def test_create_epic_button_is_shown_only_for_a_gap_when_jira_is_configured(
    app: Flask, jira_client: FlaskClient, loaded: Session
) -> None:
    with transaction(loaded):
        link_work_item(
            session=loaded, obligation_id="ALPHA-2", key="PRIV-5", actor=cli_actor("eng")
        )
    gap = text_of(jira_client, "/obligations/BETA-9")
    assert "Create epic in Jira</button>" in gap
    assert 'action="/obligations/BETA-9/create-epic"' in gap
    assert 'name="project" value="PRIV"' in gap  # the first project of the JQL
    assert "Create epic in Jira" not in text_of(jira_client, "/obligations/ALPHA-2")
    assert "Create epic in Jira" not in text_of(jira_client, "/obligations/ALPHA-1")
    app.config["JIRA_SETTINGS"] = None
    assert "Create epic in Jira" not in text_of(jira_client, "/obligations/BETA-9")


def test_create_epic_twice_makes_one_epic_and_says_so(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    first = post(jira_client, "/obligations/BETA-9/create-epic", {"project": "priv"})
    assert flashes(first) == ["Create epic queued as job #1."]
    assert job_text(first, "summary") == "Created PRIV-3 for BETA-9 and linked it."
    assert '<a href="/work-items/PRIV-3">PRIV-3</a>' in first
    assert '<a href="/obligations/BETA-9">BETA-9</a>' in first
    second = post(jira_client, "/obligations/BETA-9/create-epic", {"project": "PRIV"})
    assert job_text(second, "summary") == (
        "PRIV-3 already covers BETA-9. No second epic was created."
    )
    assert len(fake.calls_to("create_epic")) == 1
    assert "obligation-BETA-9" in fake.issues["PRIV-3"].labels
    loaded.rollback()
    link = loaded.exec(select(WorkItemLink).where(WorkItemLink.obligation_id == "BETA-9")).one()
    assert (link.work_item_key, link.origin) == ("PRIV-3", "jira")
    # Linked work: no longer a gap.
    assert "Create epic in Jira" not in text_of(jira_client, "/obligations/BETA-9")


def test_create_epics_for_all_gaps_makes_one_each_and_a_second_run_none(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    from tracker.domain.status import Status
    from tracker.services.matrix import build_matrix

    gaps = sorted(
        row.id for row in build_matrix(session=loaded).rows if row.result.status is Status.GAP
    )
    assert gaps, "the small catalog has gaps"
    page = post(jira_client, "/jira/epics", {"project": "priv"})
    assert flashes(page) == ["Create epics for gaps queued as job #1."]
    assert job_state(page) == "succeeded"
    # ALPHA-1.1 is a gap until a sync brings PRIV-1, which Jira already labels with it:
    # that epic is adopted, not made twice.
    assert "ALPHA-1.1" in gaps
    assert job_text(page, "summary") == (
        f"{len(gaps) - 1} epic(s) created, 1 found already, 0 no longer a gap, 0 failed."
    )
    assert f"{len(gaps)} of {len(gaps)}" in job_text(page, "progress")
    assert len(fake.calls_to("create_epic")) == len(gaps) - 1
    again = post(jira_client, "/jira/epics", {"project": "PRIV"})
    assert job_text(again, "summary") == (
        "0 epic(s) created, 0 found already, 0 no longer a gap, 0 failed."
    )
    assert len(fake.calls_to("create_epic")) == len(gaps) - 1
    loaded.rollback()
    linked = loaded.exec(select(WorkItemLink.obligation_id)).all()
    assert sorted(linked) == gaps


def test_create_epic_with_a_bad_project_key_creates_nothing(
    engine: Engine, loaded: Session, jira_client: FlaskClient, fake: FakeJiraGateway
) -> None:
    page = post(jira_client, "/obligations/BETA-9/create-epic", {"project": "not a key"})
    assert flashes(page) == [
        "No epic was created. &#39;NOT A KEY&#39; is not a Jira project key (e.g. PRIV)."
    ]
    assert fake.calls_to("create_epic") == []
    loaded.rollback()
    assert loaded.exec(select(EpicRequest)).all() == []


def test_create_epic_for_an_unknown_obligation_is_a_404(
    loaded: Session, jira_client: FlaskClient
) -> None:
    token = csrf_token(jira_client, "/obligations/ALPHA-1.1")
    response = jira_client.post(
        "/obligations/NOPE-1/create-epic", data={"csrf_token": token, "project": "PRIV"}
    )
    assert response.status_code == 404


def test_sync_push_and_epics_are_in_the_audit_trail_with_the_engineer_and_role(
    engine: Engine, loaded: Session, jira_app: Flask, fake: FakeJiraGateway
) -> None:
    engineer = signed_in_client(jira_app, "engineer", email="eng@example.com")
    post(engineer, "/jira/sync")
    post(engineer, "/jira/push")
    post(engineer, "/obligations/BETA-9/create-epic", {"project": "PRIV"})
    loaded.rollback()
    events = loaded.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("jira."))).all()
    assert [event.action for event in events] == [
        "jira.sync_started",
        "jira.sync_finished",
        "jira.push_started",
        "jira.push_finished",
        "jira.epic_created",
    ]
    user_id = loaded.exec(select(User.id).where(User.email == "eng@example.com")).one()
    assert {(e.actor_ref, e.actor_role) for e in events} == {(f"user:{user_id}", "engineer")}
    assert events[-1].entity_id == "BETA-9" and events[-1].after["project"] == "PRIV"
