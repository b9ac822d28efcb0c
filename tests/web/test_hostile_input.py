"""Hostile input to every route: a 4xx with a message (JSON on JSON endpoints), nothing written.

Each route of the app is fed, in each path variable, query parameter and form field it reads,
a NUL byte, another control character, 10,000 characters, ids of 2^31, 2^63 and -1, an
impossible date and values one over their column; JSON endpoints get deep, wrong-typed and
NUL-holding bodies, the upload API hostile JUnit reports. Run it on PostgreSQL too
(TRACKER_TEST_DATABASE_URL), which refuses what SQLite silently stores.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask, request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from werkzeug.routing import Rule

from tests.auth_helpers import make_user
from tests.evidence_helpers import case, ingest, load_small_catalog, new_token, report, snapshot
from tests.helpers import csrf_token, transaction
from tests.web.test_permissions import ROUTES
from tracker.domain.access import Role, cli_actor
from tracker.integrations.jira_records import JiraSettings
from tracker.models import WorkItem
from tracker.services.jira_webhooks import IDENTIFIER_HEADER, SIGNATURE_HEADER
from tracker.services.links import link_work_item
from tracker.services.releases import create_release
from tracker.web import csrf
from tracker.web.auth import public
from tracker.web.inputs import NO_INPUT_ATTRIBUTE

TEXT = {"a NUL byte": "a\x00b", "an escape character": "a\x1bb", "10,000 characters": "x" * 10_000}
INTEGERS = {"2^31": str(2**31), "2^63": str(2**63), "-1": "-1"}
DATES = {"an impossible date": "9999-12-31T23:59:59-23:59", "a day in 10000": "10000-01-01"}
SECRET = "whsec-hostile-7f3a"

# Valid values: the hostile one replaces one of them at a time.
URL_VALUES = {
    "obligation_id": "ALPHA-1.1",
    "key": "PRIV-1",
    "run_id": "1",
    "test_case_id": "1",
    "token_id": "1",
    "exception_id": "1",
    "snapshot_id": "1",
    "filename": "tracker.css",
    "name": "2026.12",
    "job_id": "1",
    "activity_id": "sign-up",
    "dpia_id": "dpia-newsletter",
    "campaign_id": "1",
    "review_id": "1",
    "item_kind": "obligation",
    "item_id": "ALPHA-1.1",
}
FORMS: dict[str, dict[str, str]] = {
    "reviews.create": {
        "name": "Annual review",
        "due_on": "2099-01-01",
        "reviewer": "target@example.com",
        "selection": "listed",
        "ids": "ALPHA-1.1",
        "note": "Look at the erasure flow.",
    },
    "reviews.record": {"outcome": "not_conforming", "finding": "Backups are not erased."},
    "reviews.record_item": {"outcome": "not_conforming", "finding": "Backups are not erased."},
    "risks.sign_off": {"next_review_on": "2027-06-30", "note": "Reviewed with the DPO."},
    "reviews.open_issue": {"project": "PRIV"},
    "obligations.add_work_item": {"key": "PRIV-9"},
    "obligations.add_test": {"test_id": "pytest/tests.test_privacy/test_b"},
    "obligations.remove_test": {"test_id": "pytest/tests.test_privacy/test_a"},
    "obligations.applicability": {
        "decision": "not_applicable",
        "justification": "We sell to businesses only, no consumers.",
    },
    "jira.create_epic_for": {"project": "PRIV"},
    "jira.create_epics_for_gaps": {"project": "PRIV"},
    "accounts.login_submit": {"email": "target@example.com", "password": "not the password"},
    "accounts.users_create": {"email": "new@example.com", "role": "viewer", "name": "New"},
    "accounts.users_set_role": {"email": "target@example.com", "role": "legal"},
    "accounts.users_set_active": {"email": "target@example.com", "active": "0"},
    "accounts.users_reset_password": {"email": "target@example.com"},
    "accounts.tokens_create": {
        "name": "ci",
        "scope": "read",
        "expires_in": "30d",
        "owner": "",
        "suites": "",
        "branches": "",
    },
    "applicability.confirm": {
        "obligation": "ALPHA-1.1:applicable",
        "proposal": "applicable",
        "q": "era",
    },
    "releases.create": {"name": "2027.01", "date": "2027-01-15"},
    "releases.sign": {"obligation": "ALPHA-1.1", "statement": "Checked by legal for 2026.12."},
    "releases.request_risk": {
        "obligation": "ALPHA-1.2",
        "justification": "The fix ships in the next release.",
        "compensating_control": "Manual review of every erasure request.",
        "risk_owner": "Head of Legal",
        "expires_on": "2026-12-31",
    },
}

# The query parameters and form fields each route reads, by kind (a route not listed reads
# none; every route also gets an unknown parameter, which the check refuses just the same).
SCOPE = ("release", "branch", "environment")
MATRIX = ("status", "sort", "order", "q", "instrument", "tag", *SCOPE)
RUN_FIELDS = ("suite", "commit", "branch", "release", "environment")
AUDIT = ("actor", "object", "object_id", "action")
QUERY_TEXT: dict[str, tuple[str, ...]] = {
    "dashboard.index": SCOPE,
    "matrix.index": MATRIX,
    "matrix.export_csv": MATRIX,
    "matrix.export_json": MATRIX,
    "matrix.export_markdown": MATRIX,
    "obligations.show": SCOPE,
    "evidence.runs": ("suite", *SCOPE),
    "evidence.obligation": ("suite", *SCOPE),
    "api.list_obligations": MATRIX,
    "api.get_obligation": SCOPE,
    "api.matrix": MATRIX,
    "test_runs_api.list_test_runs": ("suite", *SCOPE),
    "test_runs_api.create_run": RUN_FIELDS,
    "releases.show": ("instrument",),
    "releases.diff": ("from",),
    "audit.index": AUDIT,
    "audit.export": AUDIT,
    "applicability.index": ("proposal", "decision", "instrument", "q"),
    "retention.index": ("system", "status", *SCOPE),
    "risks.index": ("release",),
    "risks.heat_map_svg": ("release", "view"),
    "risks.dpia": ("release",),
    "jobs.index": ("kind", "state"),
    "accounts.login": ("next",),
    "accounts.sso_start": ("next",),
}
QUERY_INTEGERS: dict[str, tuple[str, ...]] = {
    "evidence.runs": ("page",),
    "evidence.run": ("page",),
    "api.list_obligations": ("limit", "offset"),
    "test_runs_api.list_test_runs": ("limit", "offset"),
    "test_runs_api.get_run": ("limit", "offset"),
    "audit.index": ("offset",),
    "applicability.index": ("page",),
}
QUERY_DATES: dict[str, tuple[str, ...]] = {
    "audit.index": ("since", "until"),
    "audit.export": ("since", "until"),
}
FORM_DATES: dict[str, tuple[str, ...]] = {
    "reviews.create": ("due_on",),
    "risks.sign_off": ("next_review_on",),
    "releases.create": ("date",),
    "releases.request_risk": ("expires_on",),
}
# One over what the column (or the rule in front of it) holds.
OVER_THE_COLUMN: dict[str, dict[str, str]] = {
    "dashboard.index": {"release": "r" * 201, "environment": "e" * 201},
    "evidence.runs": {"suite": "s" * 301, "branch": "b" * 201},
    "test_runs_api.list_test_runs": {"suite": "s" * 301},
    "test_runs_api.create_run": {"commit": "c" * 65, "suite": "s" * 301},
    "audit.index": {"object": "o" * 33, "action": "a" * 65, "actor": "a" * 201},
    "releases.diff": {"from": "r" * 201},
    "releases.show": {"instrument": "I" * 33},
    "applicability.index": {"instrument": "I" * 33, "q": "q" * 201},
    "applicability.confirm": {"obligation": "O" * 81},
    "retention.index": {"system": "s" * 81, "release": "r" * 201},
    "risks.index": {"release": "r" * 201},
    "risks.heat_map_svg": {"release": "r" * 201, "view": "v" * 17},
    "risks.dpia": {"release": "r" * 201},
    "risks.sign_off": {"note": "n" * 2001},
    "reviews.create": {"name": "n" * 201, "reviewer": "r" * 255, "note": "n" * 2001},
    "reviews.record": {"finding": "f" * 4001},
    "reviews.record_item": {"finding": "f" * 4001},
    "obligations.add_work_item": {"key": "P" * 60 + "-1234"},
    "obligations.add_test": {"test_id": "t" * 1001},
    "obligations.applicability": {"justification": "j" * 4001},
    "accounts.users_create": {"email": "e" * 243 + "@example.com", "name": "n" * 201},
    "accounts.tokens_create": {"name": "n" * 101},
    "releases.create": {"name": "r" * 201},
    "releases.sign": {"obligation": "O" * 81, "statement": "s" * 4001},
    "releases.request_risk": {"obligation": "O" * 81, "risk_owner": "r" * 201},
}


@pytest.fixture
def world(app: Flask, engine: Engine, session: Session) -> dict[str, str]:
    """A catalog, a run, a linked work item, a release, a second account and an upload token."""
    load_small_catalog(session)
    ingest(
        session,
        report(case("test_a", "ALPHA-1.1"), case("test_b", "ALPHA-1.2", outcome="failed")),
        release="2026.12",
    )
    with transaction(session):
        session.add(
            WorkItem(key="PRIV-1", summary="Erasure", status="Done", status_category="done")
        )
        session.flush()
        link_work_item(
            session=session, obligation_id="ALPHA-1.1", key="PRIV-1", actor=cli_actor("eng")
        )
        create_release(session=session, name="2026.12", release_date=None, actor=cli_actor("c"))
    session.rollback()
    make_user(engine, Role.VIEWER, email="target@example.com")
    return {"token": new_token(session, name="uploads")}


@dataclass
class Sender:
    """Sends one request to a route with one value replaced, and checks the answer."""

    app: Flask
    engine: Engine
    client: Any
    rule: Rule
    token: str

    @property
    def method(self) -> str:
        methods = (self.rule.methods or set()) - {"HEAD", "OPTIONS"}
        return "POST" if "POST" in methods else sorted(methods)[0]

    def check(
        self,
        what: str,
        expected: set[int],
        path: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> None:
        url = self._url(path or {})
        where = f"{self.rule.endpoint} with {what} ({self.method} {url[:120]})"
        before = snapshot(self.engine)
        response = self._send(url, query or {}, form or {})
        assert response.status_code in expected, f"{where}: {response.status_code}"
        assert_message(response, url, where)
        assert snapshot(self.engine) == before, f"{where} changed the database"

    def _url(self, path: dict[str, str]) -> str:
        values = {name: path.get(name, URL_VALUES[name]) for name in self.rule.arguments}
        return re.sub(
            r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>",
            lambda match: quote(values[match.group(1)], safe=""),
            self.rule.rule,
        )

    def _send(self, url: str, query: dict[str, str], form: dict[str, str]) -> Any:
        target = f"{url}?{urlencode(query)}" if query else url
        if self.rule.endpoint == "test_runs_api.create_run":
            return self._upload(target, form)
        if self.method == "GET":
            return self.client.get(target)
        data = {"csrf_token": self._csrf(), **FORMS.get(self.rule.endpoint, {}), **form}
        return self.client.post(target, data=data)

    def _upload(self, target: str, form: dict[str, str]) -> Any:
        uploader = self.app.test_client()
        headers = {"Authorization": f"Bearer {self.token}"}
        body = report(case("test_hostile", "ALPHA-1.1"), suite="hostile")
        if not form:
            return uploader.post(
                target, data=body, headers={**headers, "Content-Type": "application/xml"}
            )
        fields: dict[str, Any] = {"report": (io.BytesIO(body), "report.xml"), **form}
        return uploader.post(target, data=fields, headers=headers)

    def _csrf(self) -> str:
        if not hasattr(self, "_token"):
            self._token = csrf_token(self.client, "/logout")
        return self._token


def assert_message(response: Any, url: str, where: str) -> None:
    """Assert the answer says what is wrong: a JSON error object, or a page with an alert."""
    text = response.get_data(as_text=True)
    assert "Traceback" not in text, where
    if is_json_endpoint(url):
        assert response.is_json, f"{where}: {response.content_type}"
        error = json.loads(text)["error"]
        assert error["status"] == response.status_code, where
        assert len(error["message"]) > 10, where
        return
    assert response.mimetype == "text/html", f"{where}: {response.content_type}"
    alert = re.search(r'role="alert"[^>]*>(.*?)</(?:div|p)>', text, re.DOTALL)
    words = re.sub(r"<[^>]+>|\s+", " ", alert.group(1)).strip() if alert else ""
    assert len(words) > 10, f"{where}: no message on the page"


def is_json_endpoint(url: str) -> bool:
    path = url.split("?")[0]
    return path.startswith(("/api/", "/webhooks/")) or path.endswith((".json", ".jsonl"))


def _rule(app: Flask, endpoint: str) -> Rule:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    assert rules, f"{endpoint} is in the route table but not in the app"
    return rules[0]


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_hostile_values_in_each_path_query_and_form_input_are_a_4xx_with_a_message(
    endpoint: str, app: Flask, engine: Engine, client: Any, world: dict[str, str]
) -> None:
    rule = _rule(app, endpoint)
    if getattr(app.view_functions[endpoint], NO_INPUT_ATTRIBUTE, False):
        # The probes and /metrics read no input: what a load balancer appends is ignored.
        for label, value in TEXT.items():
            response = client.get(rule.rule, query_string={"unknown": value, value: "1"})
            assert response.status_code in {200, 503}, f"{endpoint} with {label}"
            assert value not in response.get_data(as_text=True), f"{endpoint} with {label}"
        return
    sender = Sender(app, engine, client, rule, world["token"])
    for variable in sorted(rule.arguments):
        whole_number = type(rule._converters[variable]).__name__ == "IdConverter"
        # No id matches: no page (or, where a wider rule matches the address, not this method).
        no_such_id = {404, 405}
        for label, value in TEXT.items():
            expected = no_such_id if whole_number else {404} if len(value) > 1000 else {400}
            sender.check(f"{label} in <{variable}>", expected, path={variable: value})
        if whole_number:
            for label, value in INTEGERS.items():
                sender.check(f"{label} as <{variable}>", no_such_id, path={variable: value})
    for name in ("unknown", *QUERY_TEXT.get(endpoint, ())):
        for label, value in TEXT.items():
            sender.check(f"{label} in ?{name}", {400}, query={name: value})
    sender.check("a NUL byte in a parameter's name", {400}, query={"a\x00b": "1"})
    for name in QUERY_INTEGERS.get(endpoint, ()):
        for label, value in INTEGERS.items():
            sender.check(f"{label} as ?{name}", {400}, query={name: value})
    for name in QUERY_DATES.get(endpoint, ()):
        for label, value in DATES.items():
            sender.check(f"{label} as ?{name}", {400}, query={name: value})
    if sender.method == "POST":
        for name in ("unknown", *FORMS.get(endpoint, {}), *_upload_fields(endpoint)):
            for label, value in TEXT.items():
                sender.check(f"{label} in the field {name}", {400}, form={name: value})
        for name in FORM_DATES.get(endpoint, ()):
            for label, value in DATES.items():
                sender.check(f"{label} in the field {name}", {400}, form={name: value})
    for name, value in OVER_THE_COLUMN.get(endpoint, {}).items():
        in_form = sender.method == "POST" and endpoint != "test_runs_api.create_run"
        inputs = {"form": {name: value}} if in_form else {"query": {name: value}}
        sender.check(f"{len(value)} characters in {name}", {400}, **inputs)


def _upload_fields(endpoint: str) -> tuple[str, ...]:
    return RUN_FIELDS if endpoint == "test_runs_api.create_run" else ()


def test_the_table_of_inputs_names_only_routes_of_the_app() -> None:
    tables = (QUERY_TEXT, QUERY_INTEGERS, QUERY_DATES, FORM_DATES, OVER_THE_COLUMN, FORMS)
    named = {endpoint for table in tables for endpoint in table}
    assert named <= set(ROUTES), sorted(named - set(ROUTES))


# --- uploads: hostile JUnit reports and file names ---------------------------------------------


def _with_case(name: str = "test_x", classname: str = "tests.hostile") -> bytes:
    return report(case(name, "ALPHA-1.1", classname=classname), suite="hostile")


HOSTILE_REPORTS = {
    "a test id over 1,000 characters": _with_case(classname="c" * 1001),
    "a NUL byte in an attribute": _with_case().replace(b"test_x", b"test\x00x"),
    "a NUL character reference": _with_case().replace(b"test_x", b"test&#0;x"),
    "an escape character reference": _with_case().replace(b"test_x", b"test&#27;x"),
    "encoding UTF-7": _with_case().replace(b"encoding='utf-8'", b"encoding='UTF-7'"),
    "gzip of a NUL byte in an attribute": gzip.compress(
        _with_case().replace(b"test_x", b"test\x00x")
    ),
}


@pytest.mark.parametrize("label", sorted(HOSTILE_REPORTS))
def test_a_hostile_junit_report_is_a_400_json_error_and_writes_nothing(
    label: str, app: Flask, engine: Engine, world: dict[str, str]
) -> None:
    body = HOSTILE_REPORTS[label]
    kind = "application/gzip" if body[:2] == b"\x1f\x8b" else "application/xml"
    before = snapshot(engine)
    response = app.test_client().post(
        "/api/v1/test-runs",
        data=body,
        headers={"Authorization": f"Bearer {world['token']}", "Content-Type": kind},
    )
    where = f"upload of a report with {label}"
    assert response.status_code == 400, f"{where}: {response.status_code}"
    assert_message(response, "/api/v1/test-runs", where)
    assert snapshot(engine) == before, f"{where} changed the database"


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("an impossible timestamp", "9999-12-31T23:59:59-23:59"),
        ("a timestamp in year 1 with an offset", "0001-01-01T00:00:00+23:59"),
        ("a duration of 2^63 seconds", str(2**63)),
    ],
)
def test_a_report_with_an_impossible_time_is_refused_or_stored_within_bounds(
    label: str, value: str, app: Flask, engine: Engine, world: dict[str, str]
) -> None:
    body = _with_case()
    if "timestamp" in label:
        body = body.replace(b"<testsuite ", f"<testsuite timestamp='{value}' ".encode())
    else:
        body = body.replace(b"time='0.25'", f"time='{value}'".encode())
    before = snapshot(engine)
    response = app.test_client().post(
        "/api/v1/test-runs",
        data=body,
        headers={"Authorization": f"Bearer {world['token']}", "Content-Type": "application/xml"},
    )
    where = f"upload of a report with {label}"
    assert response.status_code in (201, 400), f"{where}: {response.status_code}"
    if response.status_code == 400:
        assert_message(response, "/api/v1/test-runs", where)
        assert snapshot(engine) == before, f"{where} changed the database"
    else:
        started = json.loads(response.get_data(as_text=True))["started_at"]
        assert started is None or 1900 <= int(started[:4]) <= 2999, started


@pytest.mark.parametrize(
    "file_name", ["report\x00.xml", "report\x1b.xml", "r" * 10_000 + ".xml"], ids=repr
)
def test_a_hostile_file_name_in_a_multipart_upload_is_a_400(
    file_name: str, app: Flask, engine: Engine, world: dict[str, str]
) -> None:
    before = snapshot(engine)
    response = app.test_client().post(
        "/api/v1/test-runs",
        data={"report": (io.BytesIO(_with_case()), file_name)},
        headers={"Authorization": f"Bearer {world['token']}"},
    )
    assert response.status_code == 400
    assert_message(response, "/api/v1/test-runs", "a hostile file name")
    assert snapshot(engine) == before


# --- webhooks: hostile JSON bodies, signed ------------------------------------------------------


def _issue(**fields: Any) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "id": "10001",
        "key": "PRIV-1",
        "fields": {
            "summary": "Erasure pipeline",
            "issuetype": {"name": "Epic"},
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "labels": ["obligation-ALPHA-1.1"],
            "updated": "2026-11-20T10:15:30.000+0000",
            "project": {"key": "PRIV"},
        },
    }
    for name, value in fields.items():
        if name in ("id", "key"):
            issue[name] = value
        else:
            issue["fields"][name] = value
    return issue


def _delivery(issue: Any) -> bytes:
    return json.dumps({"webhookEvent": "jira:issue_updated", "issue": issue}).encode()


HOSTILE_DELIVERIES = {
    "JSON nested 100,000 deep": b'{"webhookEvent": "jira:issue_updated", "issue": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
    "a NUL in the summary": _delivery(_issue(summary="a\x00b")),
    "half a surrogate pair in the summary": _delivery(_issue(summary="a\ud800b")),
    "an escape character in the key": _delivery(_issue(key="PRIV-\x1b1")),
    "the issue as a string": _delivery("PRIV-1"),
    "fields as a string": _delivery({"id": "10001", "key": "PRIV-1", "fields": "Done"}),
    "status as a string": _delivery(_issue(status="Done")),
    "labels as a string": _delivery(_issue(labels="obligation-ALPHA-1.1")),
    "a key over 64 characters": _delivery(_issue(key="PRIV-" + "1" * 60)),
    "an id over 32 characters": _delivery(_issue(id="1" * 33)),
    "an issue type over 64 characters": _delivery(_issue(issuetype={"name": "E" * 65})),
    "an impossible updated time": _delivery(_issue(updated="9999-12-31T23:59:59-23:59")),
    "a list, not an object": b"[]",
    "a string, not an object": b'"jira:issue_updated"',
}


@pytest.fixture
def webhooks_on(app: Flask, world: dict[str, str]) -> Any:
    app.config["JIRA_SETTINGS"] = JiraSettings(
        url="https://jira.example.test", pat="pat-x", webhook_secret=SECRET
    )
    return app.test_client()


@pytest.mark.parametrize("label", sorted(HOSTILE_DELIVERIES))
def test_a_hostile_signed_webhook_delivery_is_a_400_json_error_and_writes_nothing(
    label: str, webhooks_on: Any, engine: Engine
) -> None:
    raw = HOSTILE_DELIVERIES[label]
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    before = snapshot(engine)
    response = webhooks_on.post(
        "/webhooks/jira",
        data=raw,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature,
            IDENTIFIER_HEADER: f"hostile-{label}",
        },
    )
    where = f"webhook with {label}"
    assert response.status_code == 400, f"{where}: {response.status_code}"
    assert_message(response, "/webhooks/jira", where)
    assert snapshot(engine) == before, f"{where} changed the database"


def test_a_webhook_body_over_one_megabyte_is_a_413_json_error(
    webhooks_on: Any, engine: Engine
) -> None:
    raw = _delivery(_issue(summary="x" * (1024 * 1024)))
    before = snapshot(engine)
    response = webhooks_on.post(
        "/webhooks/jira", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert_message(response, "/webhooks/jira", "a webhook over 1 MB")
    assert snapshot(engine) == before


# --- every error of a JSON endpoint is JSON; pages keep HTML ------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/api/v1/no-such-thing", 404),
        ("GET", "/api/v1/obligations/NOPE-1", 404),
        ("GET", "/api/v1/test-runs/2147483648", 404),
        ("DELETE", "/api/v1/matrix", 405),
        ("GET", "/webhooks/jira", 405),
        ("GET", "/snapshots/999.json", 404),
        ("GET", "/matrix.json?status=NOPE", 400),
        ("GET", "/audit.jsonl?since=yesterday", 400),
        ("GET", "/api/v1/obligations/%00", 400),
    ],
)
def test_json_endpoints_answer_every_error_as_json(
    client: Any, world: dict[str, str], method: str, url: str, status: int
) -> None:
    response = client.open(url, method=method)
    assert response.status_code == status
    assert_message(response, url, f"{method} {url}")


@pytest.mark.parametrize(
    ("url", "status"),
    [("/no-such-page", 404), ("/evidence/runs/2147483648", 404), ("/matrix?status=NOPE", 400)],
)
def test_pages_answer_errors_as_html_pages(
    client: Any, world: dict[str, str], url: str, status: int
) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert_message(response, url, url)


def test_a_validation_error_names_its_field_in_the_json_error(client: Any, world: Any) -> None:
    response = client.get("/api/v1/obligations?limit=" + str(2**63))
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["field"] == "limit"
    assert "limit must be a whole number from 1 to 1000." in error["message"]


def test_an_unexpected_error_is_logged_and_answered_without_its_details(
    app: Flask, anonymous: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @public
    def broken() -> str:
        raise RuntimeError("password=hunter2 in a stack frame")

    app.add_url_rule("/api/v1/broken", "broken_api", broken)
    app.add_url_rule("/broken", "broken_page", broken)
    with caplog.at_level(logging.ERROR):
        api = anonymous.get("/api/v1/broken")
        page = anonymous.get("/broken")
    assert api.status_code == 500 and page.status_code == 500
    error = api.get_json()["error"]
    assert error["code"] == "internal_error" and "logged" in error["message"]
    assert page.mimetype == "text/html" and "Something went wrong" in page.get_data(as_text=True)
    for response in (api, page):
        assert "hunter2" not in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)
    assert "hunter2" in caplog.text and "Traceback" in caplog.text  # the log has the details


def test_a_json_body_is_refused_when_too_deep_or_not_text_a_column_holds(
    app: Flask, anonymous: Any
) -> None:
    @public
    def echo() -> Any:
        return {"received": request.get_json()}

    app.add_url_rule("/api/v1/echo", "echo", csrf.exempt(echo), methods=["POST"])

    def post(body: str) -> Any:
        return anonymous.post("/api/v1/echo", data=body, content_type="application/json")

    flat = post('{"a": [1, {"b": 2}]}')
    assert flat.status_code == 200 and flat.get_json() == {"received": {"a": [1, {"b": 2}]}}
    refused = post("[" * 100_000 + "]" * 100_000)
    assert refused.status_code == 400
    assert "nested more than 64 levels" in refused.get_json()["error"]["message"]
    nul = post('{"a": "x\\u0000"}')
    assert nul.status_code == 400 and "NUL" in nul.get_json()["error"]["message"]
    half = post('["\\ud83d"]')
    assert half.status_code == 400 and "surrogate" in half.get_json()["error"]["message"]
    pair = post('["\\ud83d\\ude00"]')
    assert pair.status_code == 200 and pair.get_json() == {"received": ["\U0001f600"]}
    escaped = post('{"a": "x\\\\u0000"}')
    assert escaped.status_code == 200 and escaped.get_json() == {"received": {"a": "x\\u0000"}}


def test_line_breaks_and_tabs_are_fine_in_form_text_but_not_in_the_address_or_query(
    client: Any, world: dict[str, str], engine: Engine
) -> None:
    token = csrf_token(client, "/logout")
    justification = "We sell to businesses only.\r\n\tNo consumer data is processed."
    decided = client.post(
        "/obligations/ALPHA-2/applicability",
        data={"csrf_token": token, "decision": "not_applicable", "justification": justification},
    )
    assert decided.status_code == 303
    assert client.get("/matrix?q=a%0Ab").status_code == 400
    assert client.get("/obligations/ALPHA%0A1").status_code == 400
