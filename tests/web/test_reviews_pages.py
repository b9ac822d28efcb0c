"""The reviews pages: due per owner, a campaign from the form, recording, a finding's Jira issue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import signed_in_client
from tests.evidence_helpers import load_small_catalog
from tests.helpers import csrf_token, transaction
from tests.integration.test_review_services import add_activity
from tracker.integrations.fake_jira import FakeJiraGateway
from tracker.integrations.jira_records import JiraSettings
from tracker.models import AuditEvent, Review, ReviewCampaign, utcnow

TODAY = utcnow().date()


@pytest.fixture
def world(app: Flask, engine: Engine, session: Session) -> Session:
    """The small catalog, an overdue activity of legal's and one of compliance's, and accounts."""
    load_small_catalog(session)
    with transaction(session):
        add_activity(session, "sign-up", owner="legal@example.com", every=180, days_old=200)
        add_activity(session, "payments", owner="compliance@example.com", every=30, days_old=40)
    session.rollback()
    return session


@pytest.fixture
def compliance(app: Flask, world: Session) -> FlaskClient:
    return signed_in_client(app, "compliance")


@pytest.fixture
def legal(app: Flask, world: Session) -> FlaskClient:
    return signed_in_client(app, "legal")


def text_of(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def post(client: FlaskClient, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client, "/logout"), **data})


def new_campaign(client: FlaskClient, **fields: str) -> int:
    data = {
        "name": "Annual review",
        "due_on": (TODAY + timedelta(days=30)).isoformat(),
        "reviewer": "legal@example.com",
        "selection": "overdue",
        "ids": "",
        "note": "",
        **fields,
    }
    response = post(client, "/reviews/campaigns", data)
    assert response.status_code == 303, response.get_data(as_text=True)
    found = re.search(r"/reviews/campaigns/(\d+)$", response.headers["Location"])
    assert found
    return int(found.group(1))


def test_reviews_page_lists_overdue_reviews_per_owner(app: Flask, world: Session) -> None:
    page = text_of(signed_in_client(app, "viewer"), "/reviews")
    assert '<span class="badge st-failing">2 overdue</span>' in page
    legal_at = page.index('<h3 id="owner-')
    assert "compliance@example.com" in page[legal_at:] and "legal@example.com" in page[legal_at:]
    assert 'href="/data-map/activities/sign-up">sign-up</a>' in page
    assert "20 days overdue" in page and "10 days overdue" in page
    assert 'aria-current="page">Reviews</a>' in page
    assert "Create a review campaign" not in page  # a viewer may not
    assert "No review is assigned to you" in page


def test_compliance_creates_a_campaign_of_every_overdue_review_and_legal_records_it(
    compliance: FlaskClient, legal: FlaskClient, world: Session
) -> None:
    form = text_of(compliance, "/reviews")
    assert "Create a review campaign" in form
    assert '<option value="legal@example.com"' in form
    campaign_id = new_campaign(compliance)
    page = text_of(compliance, f"/reviews/campaigns/{campaign_id}")
    assert "Campaign #1 &#39;Annual review&#39; assigns 2 review(s)" in page
    assert "0 of 2 recorded" in page
    mine = text_of(legal, "/reviews")
    assert len(re.findall(r'action="/reviews/\d+"', mine)) == 2, (
        "legal records both, from My reviews"
    )
    first, second = [row.id for row in world.exec(select(Review).order_by(Review.id)).all()]
    response = post(
        legal,
        f"/reviews/{first}",
        {"outcome": "not_conforming", "finding": "<b>Backups</b> keep erased accounts."},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/reviews/campaigns/{campaign_id}"
    after = text_of(legal, response.headers["Location"])
    assert f"Review #{first} recorded as not conforming." in after
    assert "&lt;b&gt;Backups&lt;/b&gt; keep erased accounts." in after
    assert "<b>Backups</b>" not in after
    assert "1 of 2 recorded (50%), 1 not conforming" in after
    again = post(legal, f"/reviews/{first}", {"outcome": "conforming", "finding": ""})
    assert again.status_code == 409
    assert "was recorded already, as not conforming" in again.get_data(as_text=True)
    world.rollback()
    rows = {row.id: row for row in world.exec(select(Review)).all()}
    assert rows[first].outcome == "not_conforming" and rows[second].outcome is None


def test_an_engineer_may_not_record_someone_elses_review(
    app: Flask, compliance: FlaskClient, legal: FlaskClient, world: Session
) -> None:
    new_campaign(compliance)
    review_id = world.exec(select(Review.id)).first()
    engineer = signed_in_client(app, "engineer")
    page = text_of(engineer, "/reviews/campaigns/1")
    assert 'action="/reviews/' not in page, "no form for someone else's review"
    response = post(engineer, f"/reviews/{review_id}", {"outcome": "conforming"})
    assert response.status_code == 403
    assert "assigned to legal@example.com" in response.get_data(as_text=True)
    world.rollback()
    assert world.exec(select(Review.outcome)).all() == [None, None]


def test_bad_input_shows_the_form_again_with_the_error(
    compliance: FlaskClient, legal: FlaskClient, world: Session
) -> None:
    past = post(
        compliance,
        "/reviews/campaigns",
        {
            "name": "Late",
            "due_on": (TODAY - timedelta(days=1)).isoformat(),
            "reviewer": "legal@example.com",
            "selection": "overdue",
        },
    )
    assert past.status_code == 400
    body = past.get_data(as_text=True)
    assert 'role="alert">The due date' in body and 'value="Late"' in body
    unknown = post(
        compliance,
        "/reviews/campaigns",
        {
            "name": "Listed",
            "due_on": TODAY.isoformat(),
            "reviewer": "legal@example.com",
            "selection": "listed",
            "ids": "ALPHA-2\nNOPE-9",
        },
    )
    assert unknown.status_code == 400
    assert "has the id NOPE-9" in unknown.get_data(as_text=True)
    campaign_id = new_campaign(compliance, selection="listed", ids="ALPHA-2")
    review_id = world.exec(select(Review.id)).one()
    missing = post(legal, f"/reviews/{review_id}", {"outcome": "not_conforming"})
    assert missing.status_code == 400
    text = missing.get_data(as_text=True)
    assert 'role="alert">Describe the finding' in text
    assert f'action="/reviews/{review_id}"' in text, "the campaign page, its form again"
    assert campaign_id == 1
    world.rollback()
    assert len(world.exec(select(ReviewCampaign)).all()) == 1
    assert world.exec(select(Review.outcome)).one() is None


def test_a_form_without_its_csrf_token_changes_nothing(
    compliance: FlaskClient, world: Session
) -> None:
    response = compliance.post(
        "/reviews/campaigns",
        data={"name": "x", "due_on": TODAY.isoformat(), "reviewer": "legal@example.com"},
    )
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    world.rollback()
    assert world.exec(select(ReviewCampaign)).all() == []


@pytest.fixture
def fake(app: Flask) -> FakeJiraGateway:
    gateway = FakeJiraGateway()
    app.config["JIRA_SETTINGS"] = JiraSettings(
        url="https://jira.example.test",
        email="bot@example.test",
        api_token="tok-never-shown",
        jql="project = PRIV AND issuetype = Epic",
        webhook_secret="whsec-never-shown",
    )
    app.config["JIRA_GATEWAY_FACTORY"] = lambda settings: gateway
    return gateway


def test_a_finding_opens_one_jira_issue_through_a_job(
    compliance: FlaskClient, legal: FlaskClient, world: Session, fake: FakeJiraGateway
) -> None:
    campaign_id = new_campaign(compliance, selection="listed", ids="ALPHA-1.1")
    review_id = world.exec(select(Review.id)).one()
    post(
        legal,
        f"/reviews/{review_id}",
        {"outcome": "not_conforming", "finding": "Erasure skips the search index."},
    )
    page = text_of(legal, f"/reviews/campaigns/{campaign_id}")
    assert f'action="/reviews/{review_id}/issue"' in page
    assert 'name="project" type="text" required maxlength="32" size="6" value="PRIV"' in page
    queued = post(legal, f"/reviews/{review_id}/issue", {"project": "priv"})
    assert queued.status_code == 303 and "/jobs/" in queued.headers["Location"]
    job = text_of(legal, queued.headers["Location"])
    assert f"Opened PRIV-1 for the finding of review #{review_id}." in job
    assert "Erasure skips the search index." in fake.descriptions["PRIV-1"]
    after = text_of(legal, f"/reviews/campaigns/{campaign_id}")
    assert '<a href="/work-items/PRIV-1">PRIV-1</a>' in after
    assert f'action="/reviews/{review_id}/issue"' not in after
    again = post(legal, f"/reviews/{review_id}/issue", {"project": "PRIV"})
    assert "No second issue was opened." in text_of(legal, again.headers["Location"])
    assert len(fake.calls_to("create_epic")) == 1
    world.rollback()
    actions = [row.action for row in world.exec(select(AuditEvent)).all()]
    assert actions.count("review.issue_opened") == 1


def test_no_issue_is_queued_for_someone_elses_or_a_conforming_review(
    app: Flask, compliance: FlaskClient, legal: FlaskClient, world: Session, fake: FakeJiraGateway
) -> None:
    new_campaign(compliance, selection="listed", ids="ALPHA-1.1")
    review_id = world.exec(select(Review.id)).one()
    open_review = post(legal, f"/reviews/{review_id}/issue", {"project": "PRIV"})
    assert open_review.status_code == 409
    assert "is not recorded yet" in open_review.get_data(as_text=True)
    post(legal, f"/reviews/{review_id}", {"outcome": "not_conforming", "finding": "Not erased."})
    engineer = signed_in_client(app, "engineer")
    refused = post(engineer, f"/reviews/{review_id}/issue", {"project": "PRIV"})
    assert refused.status_code == 403
    assert fake.calls_to("create_epic") == []
    world.rollback()
    assert world.exec(select(Review.work_item_key)).one() is None


def test_a_reviewed_item_leaves_the_overdue_list(
    app: Flask, compliance: FlaskClient, legal: FlaskClient, world: Session
) -> None:
    new_campaign(compliance, selection="listed", ids="sign-up")
    review_id = world.exec(select(Review.id)).one()
    post(legal, f"/reviews/{review_id}", {"outcome": "conforming", "finding": ""})
    page = text_of(signed_in_client(app, "viewer"), "/reviews")
    assert '<span class="badge st-failing">1 overdue</span>' in page
    assert (
        'href="/data-map/activities/sign-up"'
        not in page.split('id="due"')[1].split('id="campaigns"')[0]
    )


# --- a review outside a campaign, from the list of what is due ---------------------------------

SIGN_UP = "/reviews/items/activity/sign-up"


def test_an_owner_records_a_review_of_their_own_item_and_its_due_date_moves_on(
    legal: FlaskClient, world: Session
) -> None:
    page = text_of(legal, "/reviews")
    assert f'action="{SIGN_UP}"' in page
    assert 'action="/reviews/items/activity/payments"' not in page, "compliance's, not legal's"
    response = post(legal, SIGN_UP, {"outcome": "conforming", "finding": ""})
    assert response.status_code == 303
    assert response.headers["Location"] == "/reviews#due"
    after = text_of(legal, "/reviews")
    due = (TODAY + timedelta(days=180)).isoformat()
    assert (
        f"Recorded review #1 of the processing activity sign-up as conforming; its next review "
        f"is due on {due} (in 180 days)."
    ) in after
    listed = after.split('id="due"')[1].split('id="campaigns"')[0]
    assert 'href="/data-map/activities/sign-up"' not in listed, "no longer overdue nor due soon"
    assert '<span class="badge st-failing">1 overdue</span>' in after
    world.rollback()
    review = world.exec(select(Review)).one()
    assert (review.campaign_id, review.item_kind, review.item_id) == (None, "activity", "sign-up")
    assert (review.reviewer, review.outcome) == ("legal@example.com", "conforming")
    event = world.exec(select(AuditEvent).where(AuditEvent.action == "review.recorded")).one()
    assert event.actor == "legal@example.com"


def test_compliance_may_record_a_review_of_anyones_item(
    compliance: FlaskClient, world: Session
) -> None:
    page = text_of(compliance, "/reviews")
    assert f'action="{SIGN_UP}"' in page and 'action="/reviews/items/activity/payments"' in page
    response = post(compliance, SIGN_UP, {"outcome": "conforming"})
    assert response.status_code == 303
    world.rollback()
    assert world.exec(select(Review.reviewed_by)).one() == "compliance@example.com"


@pytest.mark.parametrize("role", ["viewer", "engineer"])
def test_someone_who_neither_owns_the_item_nor_manages_reviews_gets_a_403(
    app: Flask, world: Session, role: str
) -> None:
    client = signed_in_client(app, role)
    assert 'action="/reviews/items/' not in text_of(client, "/reviews"), "no form offered"
    response = post(client, SIGN_UP, {"outcome": "conforming"})
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    if role == "engineer":
        assert "reviewed by legal@example.com: only its owner" in body
    world.rollback()
    assert world.exec(select(Review)).all() == []


def test_the_review_form_needs_its_csrf_token(legal: FlaskClient, world: Session) -> None:
    response = legal.post(SIGN_UP, data={"outcome": "conforming"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    world.rollback()
    assert world.exec(select(Review)).all() == []


def test_not_conforming_without_a_finding_shows_the_form_again_with_the_message(
    legal: FlaskClient, world: Session
) -> None:
    response = post(legal, SIGN_UP, {"outcome": "not_conforming", "finding": "short"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'role="alert">Describe the finding (at least 10 characters)' in body
    form = body.split(f'action="{SIGN_UP}"')[1].split("</form>")[0]
    assert 'value="not_conforming" checked' in form and ">short</textarea>" in form
    assert "<details open>" in body.split(f'action="{SIGN_UP}"')[0][-300:], "the form stays open"
    world.rollback()
    assert world.exec(select(Review)).all() == []
    assert world.exec(select(AuditEvent).where(AuditEvent.action == "review.recorded")).all() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/reviews/items/campaign/sign-up", "There is no kind of item &#39;campaign&#39;"),
        ("/reviews/items/activity/nope", "There is no processing activity &#39;nope&#39;"),
        ("/reviews/items/dpia/sign-up", "There is no DPIA &#39;sign-up&#39;"),
    ],
)
def test_an_unknown_kind_or_item_is_a_404_with_a_message(
    compliance: FlaskClient, world: Session, url: str, message: str
) -> None:
    response = post(compliance, url, {"outcome": "conforming"})
    assert response.status_code == 404
    assert message in response.get_data(as_text=True)
    world.rollback()
    assert world.exec(select(Review)).all() == []


def test_an_item_that_is_not_reviewed_is_refused(compliance: FlaskClient, world: Session) -> None:
    with transaction(world):
        add_activity(world, "draft-crm", owner="legal@example.com", status="draft")
    world.rollback()
    response = post(compliance, "/reviews/items/activity/draft-crm", {"outcome": "conforming"})
    assert response.status_code == 409
    assert "is not reviewed: it is not active" in response.get_data(as_text=True)


def test_a_finding_outside_a_campaign_opens_a_jira_issue_from_the_reviews_page(
    app: Flask, legal: FlaskClient, world: Session, fake: FakeJiraGateway
) -> None:
    response = post(
        legal,
        SIGN_UP,
        {"outcome": "not_conforming", "finding": "<i>Consent</i> is not logged for sign-ups."},
    )
    assert response.headers["Location"] == "/reviews#findings"
    page = text_of(legal, "/reviews")
    assert "where you can open a Jira issue for it." in page
    findings = page.split('id="findings"')[1].split('id="campaigns"')[0]
    assert "&lt;i&gt;Consent&lt;/i&gt; is not logged for sign-ups." in findings
    assert "<i>Consent</i>" not in page
    review_id = world.exec(select(Review.id)).one()
    assert f'action="/reviews/{review_id}/issue"' in findings
    other = text_of(signed_in_client(app, "engineer"), "/reviews")
    assert "is not logged for sign-ups" in other and f"/reviews/{review_id}/issue" not in other
    queued = post(legal, f"/reviews/{review_id}/issue", {"project": "PRIV"})
    assert queued.status_code == 303
    job = text_of(legal, queued.headers["Location"])
    assert f"Opened PRIV-1 for the finding of review #{review_id}." in job
    after = text_of(legal, "/reviews").split('id="findings"')[1].split('id="campaigns"')[0]
    assert '<a href="/work-items/PRIV-1">PRIV-1</a>' in after
    assert f'action="/reviews/{review_id}/issue"' not in after
