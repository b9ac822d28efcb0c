"""Property: no JSON-like payload makes the webhook parser raise anything but the tracker's errors.

And what it does return is bounded: every value fits its column and holds no control character,
so nothing it accepts can fail in the database (PostgreSQL refuses NUL and over-long strings).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tracker.errors import TrackerError
from tracker.integrations.jira_parsing import issue_record
from tracker.integrations.jira_records import IssueRecord
from tracker.services.jira_webhooks import ISSUE_EVENTS, read_delivery

URL = "https://jira.example.test"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


#: Short text of any characters, or long text past a column's bound.
texts = st.text(max_size=30) | st.integers(60, 1200).map(lambda length: "x" * length)
keys = st.from_regex(r"[A-Z][A-Z0-9_]{0,70}-[0-9]{1,6}", fullmatch=True)
times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.000") + "+0000") | st.sampled_from(
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-11-20", "2026-11-20T10:15"]
)

#: A well-formed delivery; each example replaces or removes a few of its values.
VALID: dict[str, Any] = {
    "webhookEvent": "jira:issue_updated",
    "issue": {
        "id": "10001",
        "key": "PRIV-1",
        "fields": {
            "summary": "Erasure pipeline",
            "issuetype": {"name": "Epic"},
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "fixVersions": [{"name": "2026.12"}],
            "labels": ["obligation-ALPHA-1.1"],
            "assignee": {"displayName": "Ada"},
            "updated": "2026-11-20T10:15:30.000+0000",
            "project": {"key": "PRIV"},
        },
    },
}
PATHS: list[tuple[str | int, ...]] = [
    ("webhookEvent",),
    ("issue",),
    ("issue", "key"),
    ("issue", "id"),
    ("issue", "fields"),
    *(("issue", "fields", name) for name in VALID["issue"]["fields"]),
    ("issue", "fields", "issuetype", "name"),
    ("issue", "fields", "status", "name"),
    ("issue", "fields", "status", "statusCategory"),
    ("issue", "fields", "status", "statusCategory", "key"),
    ("issue", "fields", "fixVersions", 0),
    ("issue", "fields", "fixVersions", 0, "name"),
    ("issue", "fields", "labels", 0),
    ("issue", "fields", "assignee", "displayName"),
    ("issue", "fields", "project", "key"),
]
REMOVE = object()
EVENTS = st.sampled_from([*ISSUE_EVENTS, "comment_created"])


def values_for(path: tuple[str | int, ...]) -> st.SearchStrategy[Any]:
    """Values of the shape the path expects (text, a key, a time), or anything at all."""
    plausible = {"webhookEvent": EVENTS, "key": keys, "updated": times}.get(str(path[-1]), texts)
    return st.one_of(plausible, plausible, json_values, st.just(REMOVE))


changes = st.lists(
    st.sampled_from(PATHS).flatmap(lambda path: st.tuples(st.just(path), values_for(path))),
    min_size=1,
    max_size=3,
)


def changed(replacements: list[tuple[tuple[str | int, ...], Any]]) -> dict[str, Any]:
    """Return VALID with each path set to its value (or removed), where the path still exists."""
    document = copy.deepcopy(VALID)
    for path, value in replacements:
        parent: Any = document
        for step in path[:-1]:
            parent = _child(parent, step)
        last = path[-1]
        if _child(parent, last) is None and not isinstance(parent, dict):
            continue
        if value is REMOVE:
            if isinstance(parent, dict):
                parent.pop(last, None)
        elif isinstance(parent, dict) or (isinstance(parent, list) and isinstance(last, int)):
            parent[last] = value
    return document


def _child(parent: Any, step: str | int) -> Any:
    if isinstance(parent, dict) and isinstance(step, str):
        return parent.get(step)
    if isinstance(parent, list) and isinstance(step, int) and step < len(parent):
        return parent[step]
    return None


def assert_bounded(record: IssueRecord) -> None:
    limits = {"key": 64, "id": 32, "issue_type": 64, "status": 64, "project_key": 32}
    for name, limit in limits.items():
        assert len(getattr(record, name)) <= limit, name
    assert len(record.summary) <= 1000 and len(record.assignee or "") <= 200
    assert len(record.url) <= 500
    texts_of = [record.key, record.id, record.issue_type, record.status, record.project_key]
    texts_of += [*record.labels, *record.fix_versions, record.summary, record.assignee or ""]
    for text in texts_of:
        assert "\x00" not in text
        assert not any("\ud800" <= character <= "\udfff" for character in text)
    assert datetime(1970, 1, 1, tzinfo=UTC) <= record.updated <= NOW + timedelta(days=1)


@EXAMPLES
@given(changes.map(changed))
@example(changed([(("issue", "fields", "updated"), "9999-12-31T23:59:59-23:59")]))
@example(changed([(("issue", "fields"), "Done")]))
@example(changed([(("issue", "fields", "status"), "Done")]))
@example(changed([(("issue", "key"), "P" * 63 + "-12")]))
@example(changed([(("issue", "fields", "summary"), "a\x00b")]))
def test_any_delivery_is_read_or_refused_with_the_trackers_own_error(
    document: dict[str, Any],
) -> None:
    raw = json.dumps(document).encode()
    try:
        delivery = read_delivery(raw, URL, now=NOW)
    except TrackerError as error:
        assert str(error)
        return
    if delivery.issue is not None:
        assert_bounded(delivery.issue)


@EXAMPLES
@given(json_values)
def test_any_json_value_as_an_issue_is_read_or_refused_with_the_trackers_own_error(
    value: Any,
) -> None:
    try:
        record = issue_record(value, URL, now=NOW)
    except TrackerError:
        return
    assert_bounded(record)


@EXAMPLES
@given(st.binary(max_size=300) | json_values.map(lambda value: json.dumps(value).encode()))
def test_any_body_is_read_or_refused_with_the_trackers_own_error(raw: bytes) -> None:
    try:
        read_delivery(raw, URL, now=NOW)
    except TrackerError as error:
        assert str(error)
