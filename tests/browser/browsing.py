"""What every browser test watches: console and page errors, failed requests, broken links."""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from flask import Flask
from playwright.sync_api import ConsoleMessage, Error, Page, Request, Response
from sqlalchemy.engine import Engine

from tests.auth_helpers import PASSWORD, make_user
from tracker.domain.access import Role

#: What Chromium writes in the console for every answer of 400 or more.
_FAILED_TO_LOAD = re.compile(
    r"Failed to load resource: the server responded with a status of (\d+)"
)
#: Same-origin redirects followed by hand when a link is checked (never to another host).
MAX_HOPS = 5


@dataclass
class LiveServer:
    """The tracker served over HTTP on 127.0.0.1 for one test module."""

    url: str
    app: Flask
    engine: Engine
    checked_links: set[str] = field(default_factory=set)

    def user(self, role: Role, email: str) -> str:
        """Create an account of the role (password: auth_helpers.PASSWORD); return its e-mail."""
        make_user(self.engine, role, email=email)
        return email


@dataclass
class Expected:
    """A 4xx/5xx answer the test provokes on purpose, and whether it came."""

    status: int
    path: str
    seen: int = 0


@dataclass
class PageWatch:
    """Collect what went wrong in one page while a test drives it; `problems()` lists it all."""

    page: Page
    base: str
    #: Links already answered 2xx/3xx in this module's server: each is fetched once.
    checked: set[str]
    errors: list[str] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # link -> the page it was found on
    documents: list[_Document] = field(default_factory=list)  # pages seen, links not read
    downloads: set[str] = field(default_factory=set)
    aborted: list[str] = field(default_factory=list)  # navigations the browser gave up

    def attach(self) -> PageWatch:
        """Listen to the page's console, errors, requests and answers."""
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("download", lambda download: self.downloads.add(download.url))
        return self

    def expect(self, status: int, path: str) -> None:
        """Allow one deliberate answer (status for a path); the test fails if it never comes."""
        self.expected.append(Expected(status, path))

    def check_links(self) -> None:
        """Fetch every same-origin link on the pages seen so far; record each that fails."""
        documents, self.documents = self.documents, []
        for document in documents:
            self._collect_links(document)
        pending = {link: origin for link, origin in self.links.items() if link not in self.checked}
        self.links.clear()
        for link, origin in sorted(pending.items()):
            problem = self._fetch(link)
            if problem:
                self.errors.append(f"broken link on {self._path(origin)}: {problem}")
            else:
                self.checked.add(link)

    def problems(self) -> list[str]:
        """Return every error seen, and every deliberate answer that never came."""
        missing = [
            f"expected a {item.status} answer for {item.path}, none came"
            for item in self.expected
            if not item.seen
        ]
        aborted = [
            f"navigation aborted: {self._path(url)}"
            for url in self.aborted
            if url not in self.downloads
        ]
        return self.errors + aborted + missing

    # --- listeners: record what happened (a page's HTML is read at once, see _keep_page) ------

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            source = message.location.get("url") or ""
            answered = _FAILED_TO_LOAD.match(message.text)
            if answered and self._deliberate(int(answered.group(1)), source):
                return  # the browser's own line about an answer the test provoked
            about = f" ({self._path(source)})" if source and source != self.page.url else ""
            self.errors.append(
                f"console error on {self._path(self.page.url)}: {message.text}{about}"
            )

    def _on_page_error(self, error: Error) -> None:
        self.errors.append(f"page error on {self._path(self.page.url)}: {error}")

    def _on_request_failed(self, request: Request) -> None:
        if request.is_navigation_request() and request.failure == "net::ERR_ABORTED":
            # A download ends its navigation this way; problems() tells the two apart.
            self.aborted.append(request.url)
            return
        if "favicon" in self._path(request.url) and request.failure == "net::ERR_ABORTED":
            # The browser cancels its own favicon fetch when the page navigates on (a click
            # on "Sign out" right after the page loaded); the page asked for nothing that failed.
            return
        self.errors.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        path = self._path(response.url)
        if response.status >= 400:
            expected = self._deliberate(response.status, response.url)
            if expected is not None:
                expected.seen += 1
                return
            self.errors.append(
                f"{response.request.method} {path} answered {response.status} "
                f"(on {self._path(self.page.url)})"
            )
            return
        if response.request.resource_type == "document" and self._same_origin(response.url):
            self._keep_page(response)

    def _deliberate(self, status: int, url: str) -> Expected | None:
        path = urlsplit(url).path
        for item in self.expected:
            if item.status == status and self._same_origin(url) and path == item.path:
                return item
        return None

    def _keep_page(self, response: Response) -> None:
        """Read a page's HTML now: the browser lets go of it once the next page loads."""
        if 300 <= response.status < 400:
            return  # a redirect: its target is a page of its own
        if not response.headers.get("content-type", "").startswith("text/html"):
            return
        document = _Document(response)
        self.documents.append(document)
        with suppress(Error):
            document.html = response.text()

    def _collect_links(self, document: _Document) -> None:
        if document.html is None:
            try:
                document.html = document.response.text()
            except Error:
                # The browser let go of the page before its event read it: read it again.
                document.html = self.page.request.get(document.response.url).text()
        finder = _LinkFinder()
        finder.feed(document.html)
        url = document.response.url
        for href in finder.hrefs:
            link = urldefrag(urljoin(url, href)).url
            if self._same_origin(link):
                self.links.setdefault(link, url)

    # --- fetching ------------------------------------------------------------------------------

    def _fetch(self, link: str) -> str | None:
        """Return None if the link answers 2xx (after same-origin redirects), else what failed."""
        url = link
        for _hop in range(MAX_HOPS):
            answer = self.page.request.get(url, max_redirects=0)
            status = answer.status
            location = answer.headers.get("location")
            answer.dispose()
            if 300 <= status < 400 and location:
                url = urljoin(url, location)
                if not self._same_origin(url):
                    return None  # leaves the tracker: not fetched from a test
                continue
            if status < 400:
                return None
            shown = self._path(link) + (
                "" if url == link else f" (redirected to {self._path(url)})"
            )
            return f"{shown} answered {status}"
        return f"{self._path(link)} redirects more than {MAX_HOPS} times"

    def _same_origin(self, url: str) -> bool:
        return urlsplit(url)[:2] == urlsplit(self.base)[:2]

    def _path(self, url: str) -> str:
        """Return a same-origin URL as its path and query (what a person reads in a report)."""
        if not url.startswith(self.base):
            return url
        return url[len(self.base) :] or "/"


@dataclass
class _Document:
    """A page the browser loaded, and its HTML once read."""

    response: Response
    html: str | None = None


class _LinkFinder(HTMLParser):
    """The href of every <a> of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and not re.match(r"^(mailto|tel|javascript):", href, re.I):
            self.hrefs.append(href)


def sign_in(page: Page, base: str, email: str, path: str = "/", password: str = PASSWORD) -> None:
    """Open a page, be sent to the sign-in form, sign in with the e-mail and password."""
    page.goto(f"{base}{path}")
    assert page.url.startswith(f"{base}/login?next="), page.url
    page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
