"""End to end: the pytest plugin's JUnit report, uploaded with a token, decides the matrix."""

from __future__ import annotations

import json
import os
from importlib.metadata import entry_points

import pytest

from tests.evidence_helpers import link_done_work_item, load_small_catalog, new_token

pytest_plugins = ["pytester"]

# The hypothesis plugin's terminal summary costs about a second per in-process run.
_QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

PRIVACY_TESTS = """
import pytest


@pytest.mark.obligation("ALPHA-1.1")
def test_erasure_deletes_every_copy():
    assert True


@pytest.mark.obligation("ALPHA-1.2", "ALPHA-77")
def test_recipients_are_told():
    assert False, "no deletion event was sent"
"""


def _plugin_args() -> list[str]:
    """Load the plugin explicitly only when its entry point will not load it anyway."""
    installed = any(ep.value == "tracker.pytest_plugin" for ep in entry_points(group="pytest11"))
    if installed and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return []
    return ["-p", "tracker.pytest_plugin"]


def test_the_plugins_report_feeds_straight_back_into_the_matrix(
    pytester: pytest.Pytester, client, session
):
    load_small_catalog(session)
    link_done_work_item(session, "ALPHA-1.1", "PRIV-1")
    token = new_token(session)
    pytester.makepyfile(test_privacy=PRIVACY_TESTS)
    inner = pytester.runpytest(*_plugin_args(), *_QUIET, "--junitxml=report.xml")
    inner.assert_outcomes(passed=1, failed=1)

    upload = client.post(
        "/api/v1/test-runs?commit=e2e0001&branch=main",
        data=(pytester.path / "report.xml").read_bytes(),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/xml",
    )
    assert upload.status_code == 201, upload.get_data(as_text=True)
    run = json.loads(upload.get_data(as_text=True))
    assert run["counts"]["passed"] == 1 and run["counts"]["failed"] == 1
    assert run["unknown_ids"] == ["ALPHA-77"]

    matrix = json.loads(client.get("/api/v1/matrix?instrument=ALPHA").get_data(as_text=True))
    rows = {row["id"]: row for row in matrix["rows"]}
    assert rows["ALPHA-1.1"]["verification"] == "passing"
    assert rows["ALPHA-1.1"]["status"] == "VERIFIED"
    explanation = rows["ALPHA-1.1"]["explanation"]
    assert "pytest/test_privacy/test_erasure_deletes_every_copy passed in run #" in explanation
    assert "at commit e2e0001" in explanation
    assert rows["ALPHA-1.2"]["verification"] == "failing"
    assert rows["ALPHA-1.2"]["status"] == "FAILING"
    assert rows["ALPHA-2"]["verification"] == "uncovered"
