"""In a real browser, legal walks the privacy program on the bundled catalog and data map: an
activity, the applicability proposals (confirming one), the obligation page's explanation, the
risk register and a DPIA sign-off, the retention schedule and the reviews page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.browser.browsing import LiveServer, PageWatch, sign_in
from tracker.catalog import read_catalog
from tracker.config import DEFAULT_CATALOG_PATH, DEFAULT_DATA_MAP_PATH
from tracker.data_map.reader import read_data_map
from tracker.domain.access import Role, cli_actor
from tracker.services.catalog import load_catalog
from tracker.services.data_map import load_data_map

LEGAL = "lea@example.com"


@pytest.fixture(scope="module", autouse=True)
def product(live_server: LiveServer) -> None:
    """The bundled catalog and demo data map, loaded as `tracker datamap load` does."""
    actor = cli_actor("browser test")
    with Session(live_server.engine, expire_on_commit=False) as session:
        with session.begin():
            load_catalog(session=session, catalog=read_catalog(DEFAULT_CATALOG_PATH), actor=actor)
        with session.begin():
            load_data_map(
                session=session, data_map=read_data_map(DEFAULT_DATA_MAP_PATH), actor=actor
            )
    live_server.user(Role.LEGAL, LEGAL)


def test_legal_sees_why_an_obligation_applies_and_confirms_a_proposal(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    sign_in(page, live_server.url, LEGAL)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy program").click()
    expect(page.get_by_role("heading", name="Data map: processing activities")).to_be_visible()
    page.get_by_role("link", name="Wellness tab (wearable sync)").first.click()
    expect(page.get_by_role("heading", name="Wellness tab (wearable sync)")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("user.sensor")

    page.goto(f"{live_server.url}/applicability?instrument=HIPAA&proposal=not_applicable")
    expect(page.get_by_role("heading", name="Applicability from the data map")).to_be_visible()
    row = page.locator('tr[id="row-HIPAA-164.312.a.1"]')
    expect(row).to_contain_text("No activity processes ePHI")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Confirm selected").click()
    expect(page.get_by_role("main")).to_contain_text("Confirmed 1 proposal(s).")

    page.goto(f"{live_server.url}/obligations/GDPR-17.1")
    section = page.get_by_role("region", name="Does it apply? What the data map says")
    expect(section).to_contain_text("Applies")
    section.get_by_role("link", name="sign-up").first.click()
    expect(page.get_by_role("heading", name="Account sign-up and sign-in")).to_be_visible()


def test_legal_reads_the_risk_register_signs_a_dpia_off_and_records_a_review(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    sign_in(page, live_server.url, LEGAL, path="/risks")
    expect(page.get_by_role("heading", name="Risk register")).to_be_visible()
    expect(page.locator("svg").first).to_be_visible()
    page.get_by_role("link", name="dpia-health-sync").first.click()
    expect(page.get_by_role("main")).to_contain_text("Necessity and proportionality")
    page.get_by_role("button", name=re.compile("^Sign off version 1")).click()
    expect(page.get_by_role("main")).to_contain_text("Signed off by lea@example.com")

    page.get_by_role("link", name="Retention", exact=True).click()
    expect(page.get_by_role("heading", name="Retention and deletion schedule")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("RETENTION-healthSyncService.user.sensor")

    page.get_by_role("link", name="Reviews", exact=True).click()
    expect(page.get_by_role("heading", name="Periodic reviews")).to_be_visible()
