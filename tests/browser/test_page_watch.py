"""The page watch itself: it must see what the browser tests promise to fail on."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask, redirect
from playwright.sync_api import Browser
from werkzeug.serving import make_server

from tests.browser.browsing import PageWatch

BROKEN_PAGE = """<!doctype html><title>broken</title>
<a href="/fine">fine</a> <a href="/fine#part">the same, further down</a>
<a href="/missing">missing</a> <a href="/moved">moved</a> <a href="/away">away</a>
<a href="https://example.org/">elsewhere</a> <a href="mailto:dpo@example.org">mail</a>
<img src="/no-image.png" alt="">
<script>console.error("the widget broke"); notDefinedAnywhere();</script>
"""


@pytest.fixture(scope="module")
def broken_site() -> Iterator[str]:
    site = Flask("broken_site")
    site.add_url_rule("/", "index", lambda: BROKEN_PAGE)
    site.add_url_rule("/fine", "fine", lambda: "fine")
    site.add_url_rule("/moved", "moved", lambda: redirect("/missing"))
    site.add_url_rule("/away", "away", lambda: redirect("https://example.org/"))
    site.add_url_rule("/favicon.ico", "favicon", lambda: ("", 204))
    server = make_server("127.0.0.1", 0, site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _watch(browser: Browser, base: str, checked: set[str]) -> PageWatch:
    return PageWatch(browser.new_page(), base, checked).attach()


def test_the_watch_reports_console_and_page_errors_failed_answers_and_broken_links(
    browser: Browser, broken_site: str
) -> None:
    checked: set[str] = set()
    watch = _watch(browser, broken_site, checked)
    try:
        watch.page.goto(broken_site)
        watch.page.wait_for_load_state("load")
        watch.check_links()
        problems = watch.problems()
    finally:
        watch.page.close()
    assert "console error on /: the widget broke" in problems
    assert any(p.startswith("page error on /:") and "notDefinedAnywhere" in p for p in problems)
    assert "GET /no-image.png answered 404 (on /)" in problems
    assert any("status of 404" in p and "/no-image.png" in p for p in problems)
    assert "broken link on /: /missing answered 404" in problems
    assert "broken link on /: /moved (redirected to /missing) answered 404" in problems
    assert len(problems) == 6, problems
    # Links that worked are not fetched again in the same module; outside links never are.
    assert checked == {f"{broken_site}/fine", f"{broken_site}/away"}


def test_a_deliberate_answer_is_allowed_once_expected_and_missed_when_it_never_comes(
    browser: Browser, broken_site: str
) -> None:
    watch = _watch(browser, broken_site, set())
    try:
        watch.expect(404, "/no-image.png")
        watch.expect(403, "/admin")
        watch.page.goto(broken_site)
        watch.page.wait_for_load_state("load")
        problems = watch.problems()
    finally:
        watch.page.close()
    assert not any("/no-image.png" in p for p in problems), problems
    assert "expected a 403 answer for /admin, none came" in problems
