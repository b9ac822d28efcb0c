"""The risk register and DPIA pages: the SVG heat map, residual risk, sign-off rights, escaping."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import client_as
from tests.evidence_helpers import HOSTILE, assert_escaped, snapshot
from tests.helpers import csrf_token, transaction
from tests.integration.test_dpia_services import (
    COMPLIANCE,
    LEGAL,
    PRIVACY,
    prepare,
    sign_up_dpia,
    verify,
)
from tracker.domain.access import Role
from tracker.models import DpiaSignOff, utcnow
from tracker.services.release_decisions import approve_exception, request_exception
from tracker.services.releases import create_release

SVG = "{http://www.w3.org/2000/svg}"
DPIA = "/dpias/dpia-sign-up"
SIGN_OFF = DPIA + "/sign-off"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "data_map"


@pytest.fixture
def loaded(session: Session, folder: Path) -> None:
    """The small catalog, the test data map, and ALPHA-1.1 verified (R1's first mitigation)."""
    prepare(session, folder)
    verify(session, "ALPHA-1.1", "PRIV-1")


def inline_svgs(page: str) -> list[Element]:
    """Return each inline SVG of the page, parsed as XML (so it must be well-formed)."""
    return [
        ElementTree.fromstring(found) for found in re.findall(r"<svg.*?</svg>", page, re.DOTALL)
    ]


def cell_counts(svg: Element) -> dict[str, str]:
    """Return the count drawn in each cell with a count, keyed by the cell's title."""
    counts = {}
    for group in svg.iter(f"{SVG}g"):
        title, text = group.find(f"{SVG}title"), group.find(f"{SVG}text")
        if title is not None and text is not None:
            counts[title.text or ""] = text.text or ""
    return counts


def test_the_register_draws_inherent_and_residual_heat_maps_with_labelled_axes(
    client: Any, loaded: None
) -> None:
    response = client.get("/risks")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    inherent, residual = inline_svgs(page)
    assert "<script" not in page
    for svg in (inherent, residual):
        labels = [text.text for text in svg.iter(f"{SVG}text")]
        assert {"5 almost certain", "1 rare", "5 critical", "1 negligible"} <= set(labels)
        assert {"Likelihood", "Impact"} <= set(labels)
        assert len([rect for rect in svg.iter(f"{SVG}rect")]) == 25
    high = "Likelihood 4 (likely), impact 4 (severe): score 16, high: 1 risk"
    medium = "Likelihood 3 (possible), impact 3 (significant): score 9, medium: 1 risk"
    assert cell_counts(inherent) == {high: "1", medium: "1"}
    # ALPHA-1.1 is verified: R1's likelihood falls by 2; R2's mitigation does not count.
    lowered = "Likelihood 2 (unlikely), impact 4 (severe): score 8, medium: 1 risk"
    assert cell_counts(residual) == {lowered: "1", medium: "1"}


def test_the_register_lists_unverified_mitigations_with_links_and_missing_dpias(
    client: Any, loaded: None
) -> None:
    page = client.get("/risks").get_data(as_text=True)
    open_part = page.split('id="open"')[1].split('id="accepted"')[0]
    assert "Risks whose mitigations are not verified (2)" in open_part
    assert 'href="/obligations/ALPHA-1.2"' in open_part and "Gap" in open_part
    assert 'href="/obligations/BETA-7"' in open_part
    assert 'href="/dpias/dpia-sign-up"' in open_part
    missing = page.split('id="missing"')[1]
    assert "DPIA missing (1)" in missing and "analytics" in missing
    assert "Not signed off" in page


def test_an_accepted_risk_shows_its_exception_approver_and_expiry(
    client: Any, session: Session, folder: Path
) -> None:
    prepare(session, folder)
    with transaction(session):
        create_release(session=session, name="2026.12", release_date=None, actor=PRIVACY)
    session.rollback()
    verify(session, "ALPHA-1.1", "PRIV-1", release="2026.12")
    expires = utcnow().date() + timedelta(days=30)
    with transaction(session):
        requested = request_exception(
            session=session,
            release="2026.12",
            obligation_id="ALPHA-1.2",
            justification="Recipients are told by hand until the event ships.",
            compensating_control="The support team e-mails each recipient.",
            risk_owner="Head of Legal",
            expires_on=expires,
            actor=COMPLIANCE,
        )
        approve_exception(session=session, exception_id=requested.id or 0, actor=LEGAL)
    session.rollback()
    page = client.get("/risks?release=2026.12").get_data(as_text=True)
    accepted = page.split('id="accepted"')[1].split('id="dpias"')[0]
    assert "Accepted risks (1)" in accepted
    assert "dpo@example.com" in accepted and expires.isoformat() in accepted
    assert 'href="/releases/2026.12#exceptions"' in accepted
    assert "Risks whose mitigations are not verified (1)" in page  # R2 only


def test_the_heat_map_is_also_an_svg_file(client: Any, loaded: None) -> None:
    response = client.get("/risks/heat-map.svg?view=inherent")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = ElementTree.fromstring(response.get_data())
    assert any("score 16, high: 1 risk" in title for title in cell_counts(svg))
    refused = client.get("/risks/heat-map.svg?view=sideways")
    assert refused.status_code == 400
    assert "?view=residual or ?view=inherent" in refused.get_data(as_text=True)


def test_a_release_that_does_not_exist_is_a_404_that_says_so(client: Any, loaded: None) -> None:
    response = client.get("/risks?release=2099.1")
    assert response.status_code == 404
    assert "no release" in response.get_data(as_text=True)


def test_the_dpia_page_shows_notes_scores_mitigations_and_sign_off(
    client: Any, loaded: None
) -> None:
    response = client.get(DPIA)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Accounts hold e-mail addresses" in page  # description
    assert "Only what the account needs is asked for" in page  # necessity
    r1 = page.split('id="risk-R1"')[1].split("</tr>")[0]
    assert "16 high" in r1 and "8 medium" in r1
    assert "4 likely × 4 severe" in r1 and "2 unlikely × 4 severe" in r1
    assert 'href="/obligations/ALPHA-1.1"' in r1 and "Verified" in r1
    assert "Does not count" in r1
    assert "Not signed off" in page
    assert f'action="{SIGN_OFF}"' in page


def test_legal_signs_off_a_dpia_with_its_next_review_date(
    app: Flask, engine: Engine, session: Session, loaded: None
) -> None:
    legal = client_as(app, engine, Role.LEGAL, email="dpo@example.com")
    review = (utcnow().date() + timedelta(days=200)).isoformat()
    response = legal.post(
        SIGN_OFF,
        data={"csrf_token": csrf_token(legal, DPIA), "next_review_on": review, "note": "Fine."},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(DPIA)
    page = legal.get(DPIA).get_data(as_text=True)
    assert "signed off (version 1); next review on " + review in page
    assert "Signed off by dpo@example.com" in page
    row = session.exec(select(DpiaSignOff)).one()
    assert (row.signed_by, row.signed_role, row.next_review_on.isoformat()) == (
        "dpo@example.com",
        "legal",
        review,
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ENGINEER, Role.COMPLIANCE])
def test_only_legal_or_admin_may_sign_off_a_dpia(
    app: Flask, engine: Engine, loaded: None, role: Role
) -> None:
    other = client_as(app, engine, role)
    page = other.get(DPIA).get_data(as_text=True)
    assert f'action="{SIGN_OFF}"' not in page
    before = snapshot(engine)
    review = (utcnow().date() + timedelta(days=30)).isoformat()
    response = other.post(
        SIGN_OFF, data={"csrf_token": csrf_token(other, "/logout"), "next_review_on": review}
    )
    assert response.status_code == 403
    assert snapshot(engine) == before


def test_a_sign_off_without_a_csrf_token_is_refused_and_writes_nothing(
    client: Any, engine: Engine, loaded: None
) -> None:
    before = snapshot(engine)
    review = (utcnow().date() + timedelta(days=30)).isoformat()
    response = client.post(SIGN_OFF, data={"next_review_on": review})
    assert response.status_code == 400
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Give the date of the next review"),
        ("2001-01-01", "is in the past"),
        ("tomorrow", "year-month-day"),
    ],
)
def test_a_bad_next_review_date_is_a_400_that_says_what_to_do(
    client: Any, engine: Engine, loaded: None, value: str, message: str
) -> None:
    before = snapshot(engine)
    response = client.post(
        SIGN_OFF, data={"csrf_token": csrf_token(client, DPIA), "next_review_on": value}
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text and "Nothing was saved" in text
    assert snapshot(engine) == before


def test_an_unknown_dpia_is_a_404_to_read_and_to_sign(
    client: Any, engine: Engine, loaded: None
) -> None:
    read = client.get("/dpias/dpia-nothing")
    assert read.status_code == 404
    assert "no DPIA &#39;dpia-nothing&#39;" in read.get_data(as_text=True)
    before = snapshot(engine)
    review = (utcnow().date() + timedelta(days=30)).isoformat()
    response = client.post(
        "/dpias/dpia-nothing/sign-off",
        data={"csrf_token": csrf_token(client, DPIA), "next_review_on": review},
    )
    assert response.status_code == 404
    assert "no DPIA &#39;dpia-nothing&#39;" in response.get_data(as_text=True)
    assert snapshot(engine) == before


def test_hostile_text_in_a_dpia_is_escaped_on_every_page_and_in_the_svg(
    client: Any, session: Session, folder: Path
) -> None:
    prepare(session, folder, sign_up_dpia(title=f"DPIA {HOSTILE}", risk_title=f"Risk {HOSTILE}"))
    for url in ("/risks", DPIA):
        page = client.get(url).get_data(as_text=True)
        assert_escaped(page)
        inline_svgs(page)  # still well-formed
    svg = client.get("/risks/heat-map.svg").get_data(as_text=True)
    assert "<script" not in svg


def test_the_obligation_page_names_the_dpia_risks_it_mitigates(client: Any, loaded: None) -> None:
    page = client.get("/obligations/ALPHA-1.1").get_data(as_text=True)
    mitigates = page.split('id="mitigates"')[1].split("</section>")[0]
    assert 'Mitigates risk <a href="/dpias/dpia-sign-up#risk-R1">R1</a>' in mitigates
    assert "Accounts are taken over" in mitigates
    other = client.get("/obligations/BETA-9").get_data(as_text=True)
    assert 'id="mitigates"' not in other


def test_the_register_reads_the_same_statuses_with_or_without_the_shared_matrix(
    app: Flask, client: Any, loaded: None
) -> None:
    from sqlalchemy import event

    from tracker.db import get_engine
    from tracker.web.caching import CACHE_KEY

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    app.extensions.pop(CACHE_KEY, None)
    target = get_engine(app)
    event.listen(target, "before_cursor_execute", count)
    try:
        alone = client.get("/risks").get_data(as_text=True)  # only the DPIAs' obligations
        # The matrix's own read of the obligations (with their freshness windows).
        computed_alone = [s for s in statements if "freshness_days" in s]
        client.get("/matrix")  # computes the whole matrix and shares it
        statements.clear()
        shared = client.get("/risks").get_data(as_text=True)
        computed_shared = [s for s in statements if "freshness_days" in s]
    finally:
        event.remove(target, "before_cursor_execute", count)
    assert computed_alone and not computed_shared  # the second read the shared matrix
    open_part = lambda page: page.split('id="open"')[1].split('id="accepted"')[0]  # noqa: E731
    assert open_part(alone) == open_part(shared)
    assert "Risks whose mitigations are not verified (2)" in open_part(shared)
