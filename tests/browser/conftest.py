"""Browser fixtures: one Chromium per session, a live server on a fresh SQLite file per module.

Each test gets a new browser context (no cookies) and a watched page: the test fails on any
console or page error, any request that fails or answers 4xx/5xx (unless the test expects it
with `watch.expect`), and any same-origin link on a visited page that does not answer 2xx/3xx.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.browser.browsing import LiveServer, PageWatch
from tests.helpers import SMALL_CATALOG
from tracker import create_app, migrate
from tracker.config import TestConfig
from tracker.db import make_engine
from tracker.services import accounts

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
#: How long a click or a wait may take before the test fails (the server is local).
TIMEOUT_MS = 10_000


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server_config() -> dict[str, Any]:
    """Settings of the module's app beyond the test defaults (a module may override this)."""
    return {"JIRA_SETTINGS": None}  # no Jira, whatever TRACKER_JIRA_* the shell has


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, server_config: dict[str, Any]
) -> Iterator[LiveServer]:
    # Always a file of its own, whatever database the rest of the suite uses: the server's
    # threads and the test share it, and each module starts from an empty schema.
    database: Path = tmp_path_factory.mktemp("browser") / "tracker.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    app = create_app(
        TestConfig, DATABASE_URL=url, ENGINE=engine, CATALOG_PATH=SMALL_CATALOG, **server_config
    )
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with pytest.MonkeyPatch.context() as patch:
        # Accounts made for the module hash their passwords cheaply, as in the rest of the suite.
        patch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        try:
            yield LiveServer(url=base, app=app, engine=engine)
        finally:
            server.shutdown()
            thread.join(timeout=5)
            engine.dispose()


@pytest.fixture
def watch(browser: Browser, live_server: LiveServer) -> Iterator[PageWatch]:
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    watched = PageWatch(context.new_page(), live_server.url, live_server.checked_links).attach()
    try:
        yield watched
    finally:
        context.close()


@pytest.fixture
def page(watch: PageWatch) -> Page:
    return watch.page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a browser test's own checks pass, fail it on anything its page watch saw."""
    watch = getattr(item, "funcargs", {}).get("watch")
    if not isinstance(watch, PageWatch):
        return (yield)
    try:
        result = yield
    except BaseException:
        # The test failed on its own; what the browser saw until then helps to see why.
        item.add_report_section("call", "browser", "\n".join(watch.problems()) or "no problem")
        raise
    _assert_nothing_went_wrong(watch)
    return result


def _assert_nothing_went_wrong(watch: PageWatch) -> None:
    watch.check_links()
    problems = watch.problems()
    assert not problems, "The browser saw problems:\n" + "\n".join(problems)
