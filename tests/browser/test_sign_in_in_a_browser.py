"""In a real browser (Chromium): sign in, see only what the role allows, sign out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.auth_helpers import PASSWORD
from tests.browser.browsing import LiveServer, PageWatch, sign_in
from tests.evidence_helpers import load_small_catalog
from tracker.domain.access import Role

LEGAL = "lea@example.com"
VIEWER = "vic@example.com"


@pytest.fixture(scope="module", autouse=True)
def product(live_server: LiveServer) -> None:
    with Session(live_server.engine, expire_on_commit=False) as session:
        load_small_catalog(session)
    live_server.user(Role.LEGAL, LEGAL)
    live_server.user(Role.VIEWER, VIEWER)


def test_legal_signs_in_decides_applicability_and_signs_out(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    base = live_server.url
    sign_in(page, base, LEGAL, path="/obligations/ALPHA-1.2")
    assert page.url == f"{base}/obligations/ALPHA-1.2"
    expect(page.get_by_role("banner")).to_contain_text(LEGAL)
    main = page.get_by_role("main")
    expect(main.get_by_role("button", name="Link work item")).to_have_count(0)  # for engineers
    main.get_by_text("It does not apply to our product").click()
    main.get_by_label("Why it does not apply").fill(
        "We sell only to businesses; no consumer data is processed."
    )
    main.get_by_role("button", name="Mark as not applicable").click()
    expect(main).to_contain_text("Recorded that ALPHA-1.2 does not apply.")
    expect(page.get_by_role("region", name="Status")).to_contain_text(f"Decided by {LEGAL} (legal)")
    watch.check_links()  # while signed in: afterwards every page sends to the sign-in form
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/login")
    page.goto(f"{base}/matrix")
    assert page.url.startswith(f"{base}/login")


def test_a_viewer_sees_no_forms_and_a_wrong_password_is_told_plainly(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    base = live_server.url
    watch.expect(401, "/login")
    sign_in(page, base, VIEWER, path="/obligations/ALPHA-1.1", password="not my password at all")
    main = page.get_by_role("main")
    expect(main.get_by_role("alert")).to_contain_text("The e-mail or the password is not right")
    expect(main.get_by_role("textbox", name="E-mail")).to_have_value(VIEWER)
    main.get_by_label("Password", exact=True).fill(PASSWORD)
    main.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/obligations/ALPHA-1.1")
    expect(main.get_by_role("button")).to_have_count(0)
    expect(main).to_contain_text("decided by someone with the legal or admin role")
    watch.expect(403, "/admin/users")
    page.goto(f"{base}/admin/users")
    expect(main).to_contain_text(
        "This needs the admin role; you are signed in with the viewer role."
    )
