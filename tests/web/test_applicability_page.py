"""The applicability page: proposals with their reasons, filters, and legal's bulk confirmation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import client_as
from tests.evidence_helpers import snapshot
from tests.helpers import csrf_token, transaction
from tracker.catalog import read_catalog
from tracker.data_map.reader import read_data_map
from tracker.domain.access import Role, cli_actor
from tracker.domain.applicability_decisions import DecisionState
from tracker.domain.applicability_vocabulary import ProposalKind
from tracker.models import ApplicabilityDecision
from tracker.services.applicability_proposals import list_proposals, proposal_for
from tracker.services.applicability_refresh import refresh_proposals
from tracker.services.catalog import load_catalog
from tracker.services.data_map import load_data_map

ROOT = Path(__file__).parents[2]
HIPAA_SECURITY = "HIPAA-164.312.a.1"
CHECKBOX = re.compile(r'<input type="checkbox" name="obligation" value="([^"]+)"')


@pytest.fixture
def loaded(session: Session, tmp_path: Path) -> None:
    """The bundled catalog and data map, loaded (with their proposals)."""
    shutil.copytree(ROOT / "data_map", tmp_path / "data_map")
    with transaction(session):
        actor = cli_actor("setup")
        load_catalog(
            session=session, catalog=read_catalog(ROOT / "requirements_catalog"), actor=actor
        )
        refresh_proposals(session=session, actor=actor)
        load_data_map(session=session, data_map=read_data_map(tmp_path / "data_map"), actor=actor)
    session.rollback()


def page(client: Any, query: str = "") -> str:
    response = client.get(f"/applicability{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return str(response.get_data(as_text=True))


def test_a_viewer_sees_every_proposal_with_reasons_and_no_checkboxes(
    app: Flask, engine: Engine, loaded: None
) -> None:
    html = page(client_as(app, engine, Role.VIEWER), "?instrument=HIPAA")
    assert HIPAA_SECURITY in html
    assert "No activity processes ePHI (user.health_and_medical, user.biometric.health)." in html
    assert "Does not apply" in html and "Not decided" in html
    assert CHECKBOX.search(html) is None
    assert "Confirm selected" not in html
    assert 'action="/applicability/confirm"' not in html


def test_a_viewer_may_not_confirm(app: Flask, engine: Engine, loaded: None) -> None:
    viewer = client_as(app, engine, Role.VIEWER)
    token = csrf_token(viewer, "/logout")
    before = snapshot(engine)
    response = viewer.post(
        "/applicability/confirm", data={"csrf_token": token, "obligation": HIPAA_SECURITY}
    )
    assert response.status_code == 403
    assert snapshot(engine) == before


def test_legal_confirms_the_selected_proposals(
    app: Flask, engine: Engine, session: Session, loaded: None
) -> None:
    legal = client_as(app, engine, Role.LEGAL, email="legal@example.com")
    html = page(legal, "?instrument=HIPAA&proposal=not_applicable")
    boxes = CHECKBOX.findall(html)
    assert f"{HIPAA_SECURITY}:not_applicable" in boxes and len(boxes) == len(
        list_proposals(session, instrument="HIPAA").rows
    )
    token = csrf_token(legal, "/applicability")
    response = legal.post(
        "/applicability/confirm",
        data={
            "csrf_token": token,
            "obligation": [f"{HIPAA_SECURITY}:not_applicable", "HIPAA-164.312.b:not_applicable"],
            "instrument": "HIPAA",
            "proposal": "not_applicable",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        "/applicability?proposal=not_applicable&instrument=HIPAA"
    )
    after = legal.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirmed 2 proposal(s)." in after
    assert not any(box.startswith(HIPAA_SECURITY + ":") for box in CHECKBOX.findall(after))
    decisions = session.exec(select(ApplicabilityDecision)).all()
    assert {decision.obligation_id for decision in decisions} == {
        HIPAA_SECURITY,
        "HIPAA-164.312.b",
    }
    assert all(decision.decided_by == "legal@example.com" for decision in decisions)
    detail = proposal_for(session, HIPAA_SECURITY)
    assert detail is not None and detail.row.state is DecisionState.CONFIRMED


def test_a_proposal_the_data_map_cannot_decide_has_no_box_and_is_refused(
    app: Flask, engine: Engine, session: Session, loaded: None
) -> None:
    unknown = list_proposals(session, proposal=ProposalKind.UNKNOWN).rows[0].obligation_id
    legal = client_as(app, engine, Role.LEGAL)
    html = page(legal, "?proposal=unknown")
    assert unknown in html and CHECKBOX.search(html) is None
    before = snapshot(engine)
    response = legal.post(
        "/applicability/confirm",
        data={
            "csrf_token": csrf_token(legal, "/applicability"),
            "obligation": f"{unknown}:applicable",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Nothing was confirmed." in text and "cannot decide" in text
    assert snapshot(engine) == before


def test_a_row_whose_proposal_changed_since_the_page_was_shown_is_refused(
    app: Flask, engine: Engine, loaded: None
) -> None:
    legal = client_as(app, engine, Role.LEGAL)
    before = snapshot(engine)
    for shown in (f"{HIPAA_SECURITY}:applicable", HIPAA_SECURITY):  # not what it says now; none
        response = legal.post(
            "/applicability/confirm",
            data={"csrf_token": csrf_token(legal, "/applicability"), "obligation": shown},
        )
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "changed after the page was shown" in text or "reload the page" in text
    assert snapshot(engine) == before


def test_confirming_nothing_says_what_to_do(app: Flask, engine: Engine, loaded: None) -> None:
    legal = client_as(app, engine, Role.LEGAL)
    response = legal.post(
        "/applicability/confirm", data={"csrf_token": csrf_token(legal, "/applicability")}
    )
    assert response.status_code == 400
    assert "Choose at least one obligation" in response.get_data(as_text=True)


def test_a_confirmation_without_the_csrf_token_is_refused(
    app: Flask, engine: Engine, loaded: None
) -> None:
    legal = client_as(app, engine, Role.LEGAL)
    before = snapshot(engine)
    for data in ({}, {"csrf_token": "forged"}):
        response = legal.post("/applicability/confirm", data={**data, "obligation": HIPAA_SECURITY})
        assert response.status_code == 400
        assert "security token" in response.get_data(as_text=True)
    assert snapshot(engine) == before


def test_filters_and_counts(app: Flask, engine: Engine, session: Session, loaded: None) -> None:
    viewer = client_as(app, engine, Role.VIEWER)
    html = page(viewer, "?proposal=applicable&q=erasure")
    assert "GDPR-17.1" in html
    assert HIPAA_SECURITY not in html
    counts = list_proposals(session, text="erasure").by_proposal
    assert f"Applies: {counts[ProposalKind.APPLICABLE]}" in html
    bad = viewer.get("/applicability?proposal=maybe")
    assert bad.status_code == 400
    assert "Use one of: applicable, not_applicable, unknown" in bad.get_data(as_text=True)


def test_nothing_proposed_yet_says_how_to_get_proposals(app: Flask, engine: Engine) -> None:
    html = page(client_as(app, engine, Role.VIEWER))
    assert "Nothing is proposed yet" in html and "tracker datamap load" in html


def test_the_obligation_page_explains_why_it_applies(
    app: Flask, engine: Engine, loaded: None
) -> None:
    html = client_as(app, engine, Role.VIEWER).get("/obligations/GDPR-17.1").get_data(as_text=True)
    section = html.split('id="why-it-applies"', 1)[1].split("</section>", 1)[0]
    assert "Applies" in section
    assert (
        "GDPR-17.1 applies: activity <code>sign-up</code> processes <code>user.contact.email</code>"
        in section
    )
    assert '<a href="/data-map/activities/sign-up">Account sign-up and sign-in</a>' in section
    assert "Not decided" in section
