"""Every timestamp in every JSON answer is RFC 3339 UTC (2026-12-01T15:19:59Z) and parses.

The demo's data (a sandbox sync and push, three test runs, sign-offs, an exception, a frozen
release, audit events) fills the database; then every GET route of the app is requested with
real values for its path, and each JSON or JSON Lines body is searched for timestamps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from tests.evidence_helpers import case, new_token, report
from tracker.config import DEFAULT_CATALOG_PATH
from tracker.demo import prepare_demo, start_demo_jira
from tracker.domain.access import cli_actor
from tracker.jobs.queue import submit
from tracker.models import (
    ApplicabilityDecision,
    Dpia,
    Job,
    Obligation,
    ProcessingActivity,
    ReleaseSnapshot,
    Review,
    ReviewCampaign,
    SignOff,
    TestCase,
    TestRun,
    WorkItem,
    WorkItemLink,
)
from tracker.services.releases import list_releases

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?Z")
# A string that looks like a moment (a date and a time), however it is written.
LOOKS_LIKE_A_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")
# Keys that name a moment: their value must be a timestamp (or null).
MOMENT_KEY = re.compile(r"(_at|_time|timestamp|^time|^start|^end)$", re.IGNORECASE)
# Routes whose answers are not the tracker's JSON (the style sheet and scripts).
NOT_JSON_ROUTES = {"web.static"}


def moments(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    """Yield (where, value) for every value named or shaped like a timestamp."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if MOMENT_KEY.search(str(key)) and not isinstance(item, dict | list):
                if item is not None:
                    yield where, item
            else:
                yield from moments(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from moments(item, f"{path}[{index}]")
    elif isinstance(value, str) and LOOKS_LIKE_A_MOMENT.fullmatch(value):
        yield path, value


def bodies(response: Any) -> list[Any]:
    """Return the JSON documents of a response: one, or one per line of JSON Lines."""
    text = response.get_data(as_text=True)
    if response.mimetype == "application/x-ndjson":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


@pytest.fixture
def demo_app(app, engine):  # type: ignore[no-untyped-def]
    app.config["CATALOG_PATH"] = DEFAULT_CATALOG_PATH
    demo = start_demo_jira(sandbox_port=0, tracker_url="http://127.0.0.1:9")
    try:
        prepare_demo(app, demo.settings)
    finally:
        demo.server.stop()
    # A finished job, for the job pages and GET /api/v1/jobs/<id>.
    submit(app, "readiness", {}, cli_actor("timestamps"))
    return app


def path_values(engine) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Return real values for each path argument of the app's routes."""
    with Session(engine) as session:
        linked = sorted(session.exec(select(WorkItemLink.obligation_id).distinct()).all())
        decided = session.exec(select(ApplicabilityDecision.obligation_id)).all()
        signed = session.exec(select(SignOff.obligation_id).limit(1)).all()
        group = session.exec(
            select(Obligation.id).where(Obligation.assessable == False).limit(1)  # noqa: E712
        ).all()
        keys = session.exec(select(WorkItemLink.work_item_key).distinct().limit(3)).all()
        unlinked = session.exec(
            select(WorkItem.key).where(col(WorkItem.key).not_in(keys)).limit(1)
        ).all()
        return {
            "obligation_id": [*linked[:3], *decided, *signed, *group],
            "run_id": [str(run.id) for run in session.exec(select(TestRun)).all()],
            "test_case_id": [str(t.id) for t in session.exec(select(TestCase).limit(3)).all()],
            "name": [release.name for release in list_releases(session=session)],
            "snapshot_id": [str(s.id) for s in session.exec(select(ReleaseSnapshot)).all()],
            "key": [*keys, *unlinked],
            "job_id": [str(job.id) for job in session.exec(select(Job)).all()],
            "dpia_id": list(session.exec(select(Dpia.id)).all()),
            "activity_id": list(session.exec(select(ProcessingActivity.id).limit(2)).all()),
            "campaign_id": [str(c.id) for c in session.exec(select(ReviewCampaign)).all()],
            "review_id": [str(r.id) for r in session.exec(select(Review).limit(2)).all()],
        }


def build(rule_text: str, name: str, value: str) -> str:
    """Return the rule with its one argument replaced by value."""
    return re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + ">", value, rule_text)


def test_every_timestamp_of_every_json_answer_is_rfc3339_utc(demo_app, engine, session) -> None:  # type: ignore[no-untyped-def]
    from tests.auth_helpers import make_user, sign_in

    client = demo_app.test_client()
    sign_in(client, engine, make_user(engine, "admin", email="timestamps@example.com"))
    values = path_values(engine)
    assert all(values.values()), values

    requests: list[tuple[str, str]] = []
    for rule in demo_app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_JSON_ROUTES:
            continue
        arguments = sorted(rule.arguments)
        missing = [name for name in arguments if name not in values]
        assert not missing, f"{rule.rule}: the test has no value for {missing}; add one"
        assert len(arguments) <= 1, f"{rule.rule}: teach the test routes with two arguments"
        if not arguments:
            requests.append((rule.endpoint, rule.rule))
        for name in arguments:
            requests += [(rule.endpoint, build(rule.rule, name, value)) for value in values[name]]
    # The exports and lists also as filtered, and what an unknown id answers.
    with Session(engine) as db:
        frozen = db.exec(select(ReleaseSnapshot.release)).first()
    assert frozen, "the demo freezes a release"
    requests += [
        ("matrix.export_json", f"/matrix.json?release={frozen}"),
        ("api.matrix", f"/api/v1/matrix?release={frozen}"),
        ("api.list_obligations", "/api/v1/obligations?limit=500"),
        ("api.get_obligation", "/api/v1/obligations/GDPR-0.0"),
        ("test_runs_api.get_run", "/api/v1/test-runs/999999"),
    ]

    token = new_token(session, "timestamps")
    upload = client.post(
        "/api/v1/test-runs?suite=timestamps&commit=abc123&branch=main",
        data=report(case("test_erasure", "GDPR-17.1"), days_ago=0.5),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/xml",
    )
    assert upload.status_code == 201, upload.get_data(as_text=True)

    found: list[tuple[str, str, Any]] = [("test_runs_api.create_run", "$", None)]
    json_endpoints = {"test_runs_api.create_run"}
    documents = [("POST /api/v1/test-runs", body) for body in bodies(upload)]
    for endpoint, url in requests:
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        if response.mimetype not in ("application/json", "application/x-ndjson"):
            continue
        json_endpoints.add(endpoint)
        documents += [(url, body) for body in bodies(response)]

    wrong = []
    fractions: dict[str, set[int]] = {}  # digits of the fraction of a second, per answer
    for url, body in documents:
        for where, value in moments(body):
            found.append((url, where, value))
            match = RFC3339_UTC.fullmatch(value) if isinstance(value, str) else None
            if match is None:
                wrong.append(f"{url} {where}: {value!r}")
                continue
            fractions.setdefault(url, set()).add(len(match["fraction"] or ""))
            parsed = datetime.fromisoformat(value)
            assert parsed.utcoffset() == UTC.utcoffset(None), f"{url} {where}: {value!r}"
    assert not wrong, "timestamps that are not RFC 3339 UTC:\n" + "\n".join(wrong)
    mixed = {url: sorted(digits) for url, digits in fractions.items() if len(digits) > 1}
    assert not mixed, f"answers that mix fractions of a second and whole seconds: {mixed}"
    # Not vacuous: the JSON answers were reached, and they do carry timestamps.
    assert {
        "api.matrix",
        "api.list_obligations",
        "api.get_obligation",
        "api.get_work_item",
        "test_runs_api.list_test_runs",
        "test_runs_api.get_run",
        "matrix.export_json",
        "audit.export",
        "releases.api_list",
        "releases.api_gate",
        "releases.snapshot_download",
        "releases.snapshot_oscal",
    } <= json_endpoints
    named = {where.rsplit(".", 1)[-1] for _, where, _ in found[1:]}
    assert {"generated_at", "started_at"} <= named, named
    assert len(found) > 100
