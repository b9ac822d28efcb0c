"""In a real browser (Chromium): sign in, see only what the role allows, sign out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy.engine import Engine
from werkzeug.serving import make_server

from tests.auth_helpers import PASSWORD, make_user
from tests.evidence_helpers import load_small_catalog
from tracker.domain.access import Role

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/obligations/ALPHA-1.1")
    assert page.url.startswith(f"{base}/login?next=")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_legal_signs_in_decides_applicability_and_signs_out(
    served: str, browser: Any, engine: Engine, session: Any
) -> None:
    load_small_catalog(session)
    make_user(engine, Role.LEGAL, email="lea@example.com")
    page = browser.new_page()
    _sign_in(page, served, "lea@example.com")
    assert page.url == f"{served}/obligations/ALPHA-1.1"
    assert "lea@example.com" in page.inner_text("header")
    assert page.locator("text=Link work item").count() == 0  # linking is for engineers
    page.click("summary:has-text('It does not apply')")
    page.fill("#justification", "We sell only to businesses; no consumer data is processed.")
    page.click("button:has-text('Mark as not applicable')")
    assert "Recorded that ALPHA-1.1 does not apply." in page.inner_text("main")
    assert "lea@example.com (legal)" in page.inner_text("#applicability ~ p")
    page.click("header button:has-text('Sign out')")
    assert page.url == f"{served}/login"
    page.goto(f"{served}/matrix")
    assert page.url.startswith(f"{served}/login")


def test_a_viewer_sees_no_forms_and_a_wrong_password_is_told_plainly(
    served: str, browser: Any, engine: Engine, session: Any
) -> None:
    load_small_catalog(session)
    make_user(engine, Role.VIEWER, email="vic@example.com")
    page = browser.new_page()
    _sign_in(page, served, "vic@example.com", "not my password at all")
    assert "The e-mail or the password is not right" in page.inner_text("main")
    assert page.input_value("#email") == "vic@example.com"
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    assert page.url == f"{served}/obligations/ALPHA-1.1"
    main = page.inner_text("main")
    assert "Mark as not applicable" not in main and "Link test" not in main
    assert "decided by someone with the legal or admin role" in main
    page.goto(f"{served}/admin/users")
    assert "This needs the admin role; you are signed in with the viewer role." in page.inner_text(
        "main"
    )
