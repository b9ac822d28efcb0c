"""The obligations pytest plugin, run in an inner pytest, and its JUnit output read back."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import tracker
from tracker.domain.catalog_schema import OBLIGATION_ID_PATTERN as DOMAIN_PATTERN
from tracker.integrations.junit import read_report
from tracker.pytest_plugin import OBLIGATION_ID_PATTERN as PLUGIN_PATTERN

pytest_plugins = ["pytester"]

USAGE_ERROR = pytest.ExitCode.USAGE_ERROR
# The hypothesis plugin's terminal summary costs about a second per in-process run.
_QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

TAGGED_TESTS = """
import pytest

pytestmark = pytest.mark.obligation("GDPR-5.1.f")


@pytest.mark.obligation("GDPR-17.1", "CCPA-1798.105.c")
@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_erasure(backend):
    assert backend == "postgres"


@pytest.mark.obligation("LGPD-18.VI")
class TestPortability:
    @pytest.mark.obligation("LGPD-18.VI", "GDPR-20.1")
    def test_export(self):
        pass

    @pytest.mark.xfail(reason="known bug")
    def test_archive(self):
        assert False


def test_untagged_module_level_only():
    pass
"""


def _plugin_args() -> list[str]:
    """Load the plugin explicitly only when its entry point will not load it anyway."""
    installed = any(ep.value == "tracker.pytest_plugin" for ep in entry_points(group="pytest11"))
    if installed and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return []
    return ["-p", "tracker.pytest_plugin"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run an inner pytest in this process (fast)."""
    return pytester.runpytest(*_plugin_args(), *_QUIET, *args)


def run_fresh(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> pytest.RunResult:
    """Run an inner pytest in a new process, as CI does, so warnings are those of a real run."""
    project = Path(tracker.__file__).resolve().parents[1]
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(project), os.environ.get("PYTHONPATH")]))
    )
    return pytester.runpytest_subprocess(*_plugin_args(), *_QUIET, *args)


def write_catalog(folder: Path, obligation_ids: list[str]) -> Path:
    """Write a tiny valid catalog (one instrument file) the real loader accepts."""
    folder.mkdir(parents=True, exist_ok=True)
    instrument = obligation_ids[0].split("-", 1)[0]
    lines = [
        "instrument:",
        f"  id: {instrument}",
        "  title: Test instrument for the pytest plugin",
        "  jurisdiction: EU",
        "  official_url: https://example.org/instrument",
        "obligations:",
    ]
    for obligation_id in obligation_ids:
        lines += [
            f"  - id: {obligation_id}",
            f"    citation: Art. {obligation_id.split('-', 1)[1]}",
            "    title: A duty used by the plugin tests",
            "    summary: A plain-language summary long enough for the catalog schema to accept.",
            "    official_url: https://example.org/instrument#duty",
            "    severity: high",
            "    evidence:",
            "      - {type: automated_test, description: An automated test verifies this duty.}",
        ]
    (folder / f"{instrument.lower()}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_plugin_pattern_matches_the_catalog_schema() -> None:
    assert PLUGIN_PATTERN == DOMAIN_PATTERN


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_marker_ids_reach_junit_and_round_trip_through_the_parser(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, family: str
) -> None:
    pytester.makepyfile(test_privacy=TAGGED_TESTS)
    result = run_fresh(
        pytester,
        monkeypatch,
        "-o",
        f"junit_family={family}",
        "--junitxml=report.xml",
        "-W",
        "error",
    )
    result.assert_outcomes(passed=3, failed=1, xfailed=1)
    assert "warning" not in result.stdout.str().lower()

    cases, summary = read_report(pytester.path / "report.xml")
    links = {case.test_id: case.obligation_ids for case in cases}
    assert links == {
        "pytest/test_privacy/test_erasure[postgres]": (
            "CCPA-1798.105.c",
            "GDPR-17.1",
            "GDPR-5.1.f",
        ),
        "pytest/test_privacy/test_erasure[sqlite]": (
            "CCPA-1798.105.c",
            "GDPR-17.1",
            "GDPR-5.1.f",
        ),
        "pytest/test_privacy.TestPortability/test_export": (
            "GDPR-20.1",
            "GDPR-5.1.f",
            "LGPD-18.VI",
        ),
        "pytest/test_privacy.TestPortability/test_archive": ("GDPR-5.1.f", "LGPD-18.VI"),
        "pytest/test_privacy/test_untagged_module_level_only": ("GDPR-5.1.f",),
    }
    outcome = {case.name: case.outcome for case in cases}
    assert outcome["test_erasure[sqlite]"] == "failed"
    assert outcome["test_archive"] == "skipped"
    assert summary.invalid_ids == ()


def test_property_is_written_sorted_and_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.obligation("GDPR-17.1", "CCPA-1798.105.c", "GDPR-17.1")
        @pytest.mark.obligation("CCPA-1798.105.c")
        def test_one():
            pass
        """
    )
    run(pytester, "--junitxml=report.xml").assert_outcomes(passed=1)
    xml = (pytester.path / "report.xml").read_text()
    assert xml.count('<property name="obligations"') == 1
    assert '<property name="obligations" value="CCPA-1798.105.c,GDPR-17.1" />' in xml


def test_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.obligation("GDPR-17.1")
        def test_one():
            pass
        """
    )
    run(pytester, "--strict-markers").assert_outcomes(passed=1)
    markers = run(pytester, "--markers").stdout.str()
    assert "@pytest.mark.obligation(*ids)" in markers


def test_plugin_is_inert_for_suites_that_do_not_use_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        def test_plain():
            pass

        def test_other(request):
            assert request.node.user_properties == []
        """
    )
    result = run_fresh(pytester, monkeypatch, "--junitxml=report.xml", "-W", "error")
    result.assert_outcomes(passed=2)
    assert "warning" not in result.stdout.str().lower()
    assert "<properties>" not in (pytester.path / "report.xml").read_text()
    assert not list(pytester.path.glob("*.json"))


@pytest.mark.parametrize(
    ("marker", "complaint"),
    [
        ('"gdpr-17.1"', "'gdpr-17.1' is not an obligation id"),
        ('"GDPR-17.1,CCPA-1798.105.c"', "one id per argument"),
        ("17", "17 is not an obligation id"),
        ('["GDPR-17.1"]', "['GDPR-17.1'] is not an obligation id"),
        ("", "needs at least one obligation id"),
    ],
)
def test_malformed_marker_ids_fail_collection_naming_the_test(
    pytester: pytest.Pytester, marker: str, complaint: str
) -> None:
    pytester.makepyfile(
        test_bad=f"""
        import pytest

        @pytest.mark.obligation({marker})
        def test_typo():
            pass

        def test_fine():
            pass
        """
    )
    result = run(pytester)
    assert result.ret == USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: Invalid obligation markers", "*test_bad.py::test_typo: *"])
    assert complaint in result.stderr.str()


def test_unknown_ids_fail_against_the_real_catalog(pytester: pytest.Pytester) -> None:
    catalog = write_catalog(pytester.path / "catalog", ["GDPR-17.1", "GDPR-20.1"])
    pytester.makepyfile(
        test_links="""
        import pytest

        @pytest.mark.obligation("GDPR-17.1")
        def test_known():
            pass

        @pytest.mark.obligation("GDPR-17.1", "GDPR-99.9")
        @pytest.mark.parametrize("n", [1, 2])
        def test_unknown(n):
            pass

        class TestMore:
            pytestmark = pytest.mark.obligation("CCPA-1798.105.c")

            def test_other_law(self):
                pass
        """
    )
    result = run(pytester, "--obligations-catalog", str(catalog.relative_to(pytester.path)))
    assert result.ret == USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: Obligation ids not in the catalog at catalog (test: id)",
            "  test_links.py::test_unknown[[]1[]]: GDPR-99.9",
            "  test_links.py::test_unknown[[]2[]]: GDPR-99.9",
            "  test_links.py::TestMore::test_other_law: CCPA-1798.105.c",
        ]
    )
    assert "test_known" not in result.stderr.str()


def test_known_ids_pass_the_catalog_check_even_with_collect_only(
    pytester: pytest.Pytester,
) -> None:
    catalog = write_catalog(pytester.path / "catalog", ["GDPR-17.1", "GDPR-20.1"])
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.obligation("GDPR-17.1", "GDPR-20.1")
        def test_known():
            pass

        def test_untagged():
            pass
        """
    )
    run(pytester, "--obligations-catalog", str(catalog)).assert_outcomes(passed=2)
    collect = run(pytester, "--collect-only", "-q", "--obligations-catalog", str(catalog))
    assert collect.ret == pytest.ExitCode.OK


def test_an_invalid_catalog_is_a_usage_error_with_its_problems(pytester: pytest.Pytester) -> None:
    catalog = pytester.path / "catalog"
    catalog.mkdir()
    (catalog / "broken.yaml").write_text("instrument: {id: lower}\nobligations: []\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.obligation("GDPR-17.1")
        def test_one():
            pass
        """
    )
    result = run(pytester, "--obligations-catalog", str(catalog))
    assert result.ret == USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --obligations-catalog: The catalog at * problem(s)*"])
    assert "broken.yaml" in result.stderr.str()


def test_a_missing_catalog_fails_the_run_even_without_tagged_tests(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    missing = pytester.path / "no-catalog-here"
    result = run(pytester, "--obligations-catalog", str(missing))
    assert result.ret == USAGE_ERROR
    assert "No catalog at" in result.stderr.str()
    run(pytester).assert_outcomes(passed=1)


def test_link_report_lists_tests_and_obligations(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_privacy=TAGGED_TESTS)
    result = run(pytester, "--obligations-report", "out/links.json", "-k", "not archive")
    result.assert_outcomes(passed=3, failed=1)
    report = json.loads((pytester.path / "out" / "links.json").read_text(encoding="utf-8"))
    assert set(report) == {"generated_at", "tests", "obligations"}
    # RFC 3339 in UTC with a Z, as every JSON timestamp of the tracker, to the second.
    generated = report["generated_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", generated), generated
    assert datetime.fromisoformat(generated).utcoffset() == timedelta(0)
    assert report["tests"] == [
        {
            "test_id": "test_privacy.py::test_erasure[postgres]",
            "obligations": ["CCPA-1798.105.c", "GDPR-17.1", "GDPR-5.1.f"],
        },
        {
            "test_id": "test_privacy.py::test_erasure[sqlite]",
            "obligations": ["CCPA-1798.105.c", "GDPR-17.1", "GDPR-5.1.f"],
        },
        {
            "test_id": "test_privacy.py::TestPortability::test_export",
            "obligations": ["GDPR-20.1", "GDPR-5.1.f", "LGPD-18.VI"],
        },
        {
            "test_id": "test_privacy.py::test_untagged_module_level_only",
            "obligations": ["GDPR-5.1.f"],
        },
    ]
    assert list(report["obligations"]) == sorted(report["obligations"])
    assert report["obligations"]["GDPR-20.1"] == ["test_privacy.py::TestPortability::test_export"]
    assert report["obligations"]["LGPD-18.VI"] == ["test_privacy.py::TestPortability::test_export"]
    assert len(report["obligations"]["GDPR-5.1.f"]) == 4


def test_link_report_is_written_by_collect_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_collect_only="""
        import pytest

        @pytest.mark.obligation("HIPAA-164.312.a.2.iv")
        def test_encrypted():
            pass
        """
    )
    result = run(pytester, "--collect-only", "-q", "--obligations-report", "links.json")
    assert result.ret == pytest.ExitCode.OK
    report = json.loads((pytester.path / "links.json").read_text(encoding="utf-8"))
    assert report["obligations"] == {
        "HIPAA-164.312.a.2.iv": ["test_collect_only.py::test_encrypted"]
    }
