"""The JUnit XML reader: producer shapes, links, hostile input, gzip and streaming."""

from __future__ import annotations

import gzip
import io
import tracemalloc
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.errors import ReportError
from tracker.integrations.junit import (
    DEFAULT_TEXT_LIMIT,
    JUnitReader,
    ParsedCase,
    ReportSummary,
    content_sha256,
    is_obligation_id,
    parse_report,
    read_report,
)

JUNIT = Path(__file__).resolve().parents[1] / "data" / "junit"

P, F, E, S = "passed", "failed", "error", "skipped"


def outcomes(cases: list[ParsedCase]) -> list[tuple[str, str]]:
    return [(case.name, case.outcome) for case in cases]


def by_name(cases: list[ParsedCase]) -> dict[str, ParsedCase]:
    return {case.name: case for case in cases}


def counts(summary: ReportSummary) -> tuple[int, int, int, int, int, int]:
    return (
        summary.total,
        summary.passed,
        summary.failed,
        summary.errors,
        summary.skipped,
        summary.flaky,
    )


# --- every producer sample: exact counts --------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        # total, passed, failed, errors, skipped, flaky
        ("pytest_xunit1.xml", (8, 3, 2, 1, 2, 0)),
        ("pytest_xunit2.xml", (8, 3, 2, 1, 2, 0)),
        ("surefire.xml", (5, 2, 1, 1, 1, 1)),
        ("gradle.xml", (4, 2, 1, 0, 1, 1)),
        ("jest.xml", (5, 3, 1, 0, 1, 0)),
        ("mocha.xml", (4, 2, 1, 0, 1, 0)),
        ("go_junit_report.xml", (5, 2, 1, 1, 1, 0)),
        ("gotestsum.xml", (5, 2, 2, 0, 1, 0)),
        ("dotnet.xml", (4, 2, 1, 0, 1, 0)),
        ("catch2.xml", (5, 3, 1, 0, 1, 0)),
        ("nextest.xml", (5, 4, 1, 0, 0, 1)),
        ("phpunit.xml", (5, 2, 1, 1, 1, 0)),
        ("cypress.xml", (3, 2, 1, 0, 0, 0)),
        ("playwright.xml", (4, 2, 1, 0, 1, 0)),
        ("non_ascii.xml", (3, 2, 1, 0, 0, 0)),
    ],
)
def test_each_producer_sample_is_counted_exactly(sample: str, expected: tuple[int, ...]) -> None:
    cases, summary = read_report(JUNIT / sample)
    assert counts(summary) == expected
    assert len(cases) == summary.total
    assert all(case.test_id == f"{case.suite}/{case.classname}/{case.name}" for case in cases)


# --- pytest ---------------------------------------------------------------------------------------


def test_pytest_xunit1_outcomes_follow_pytest_semantics() -> None:
    cases, summary = read_report(JUNIT / "pytest_xunit1.xml")
    assert outcomes(cases) == [
        ("test_gpc_header_honoured", S),  # xfail
        ("test_gpc_cookie_honoured", F),  # strict XPASS
        ("test_consent_log", P),
        ("test_erasure_deletes_profile[postgres]", P),
        ("test_erasure_deletes_profile[sqlite]", F),
        ("test_retention_job_purges", E),  # fixture error in setup
        ("test_export_is_machine_readable", P),
        ("test_export_is_encrypted", S),
    ]
    cases_by_name = by_name(cases)
    assert cases_by_name["test_gpc_header_honoured"].message == "known bug PRIV-7"
    assert cases_by_name["test_gpc_cookie_honoured"].message is not None
    assert cases_by_name["test_gpc_cookie_honoured"].message.startswith("[XPASS(strict)]")
    error = cases_by_name["test_retention_job_purges"].message
    assert error is not None and error.startswith('failed on setup with "RuntimeError')
    assert summary.suites == ("pytest",)
    assert summary.hostname == "ci-runner-12"
    assert summary.timestamp == "2026-11-27T16:45:22.617181+00:00"


def test_pytest_xunit1_links_testcase_properties() -> None:
    cases = by_name(list(parse_report(JUNIT / "pytest_xunit1.xml")))
    erasure = cases["test_erasure_deletes_profile[sqlite]"]
    assert erasure.obligation_ids == ("CCPA-1798.105.c", "GDPR-17.1")
    assert erasure.test_id == "pytest/tests.test_erasure/test_erasure_deletes_profile[sqlite]"
    assert (erasure.file, erasure.line) == ("tests/test_erasure.py", 6)
    assert erasure.duration == 0.0
    export = cases["test_export_is_machine_readable"]
    assert export.obligation_ids == ("GDPR-20.1",)
    assert export.requirement_keys == ("PRIV-101", "PRIV-102")
    assert export.test_key == "PRIV-900"
    assert export.classname == "tests.test_portability.TestExport"
    assert cases["test_export_is_encrypted"].obligation_ids == ("HIPAA-164.312.a.2.iv",)
    assert cases["test_retention_job_purges"].obligation_ids == ("LGPD-18.VI",)


def test_repeated_properties_are_merged_deduplicated_and_invalid_ids_reported() -> None:
    cases, summary = read_report(JUNIT / "pytest_xunit1.xml")
    consent = by_name(cases)["test_consent_log"]
    # Three "obligations" properties: "CCPAREGS-7025.c.1", "GDPR-7.1 gdpr-7(1)" and
    # "GDPR-7.1, LGPD-8.P5".
    assert consent.obligation_ids == ("CCPAREGS-7025.c.1", "GDPR-7.1", "LGPD-8.P5")
    assert summary.invalid_ids == ("gdpr-7(1)",)


def test_pytest_xunit2_suite_property_applies_to_every_case() -> None:
    cases, _ = read_report(JUNIT / "pytest_xunit2.xml")
    assert all(case.obligation_ids[0] == "GDPR-5.1.f" for case in cases)
    assert by_name(cases)["test_erasure_deletes_profile[postgres]"].obligation_ids == (
        "GDPR-5.1.f",
        "CCPA-1798.105.c",
        "GDPR-17.1",
    )
    # xunit2 drops file and line.
    assert {(case.file, case.line) for case in cases} == {(None, None)}


# --- JVM ------------------------------------------------------------------------------------------


def test_surefire_flaky_and_rerun_failures() -> None:
    cases, summary = read_report(JUNIT / "surefire.xml")
    assert outcomes(cases) == [
        ("deletesAccount", P),
        ("purgesBackups", F),
        ("notifiesProcessors", P),
        ("exportsArchiveBeforeDeletion", S),
        ("auditsDeletion", E),
    ]
    cases_by_name = by_name(cases)
    flaky = cases_by_name["notifiesProcessors"]
    assert flaky.flaky is True
    assert flaky.message is not None and flaky.message.startswith("Connection refused\n")
    assert "retrying processor notification" not in flaky.message
    assert cases_by_name["purgesBackups"].flaky is False
    assert cases_by_name["purgesBackups"].message == (
        "expected: <0> but was: <2>\norg.opentest4j.AssertionFailedError: expected: <0> but was: "
        "<2>\n\tat com.acme.privacy.ErasureServiceTest.purgesBackups(ErasureServiceTest.java:58)"
    )
    # Surefire writes system properties at suite level; "obligations" among them links every case.
    assert {case.obligation_ids for case in cases} == {("GDPR-17.1",)}
    assert cases[0].test_id == (
        "com.acme.privacy.ErasureServiceTest/com.acme.privacy.ErasureServiceTest/deletesAccount"
    )
    assert summary.suites == ("com.acme.privacy.ErasureServiceTest",)
    assert summary.invalid_ids == ()


def test_gradle_merged_reruns_mark_flaky_and_keep_final_failure() -> None:
    cases, _ = read_report(JUNIT / "gradle.xml")
    assert [(c.name, c.outcome, c.flaky) for c in cases] == [
        ("recordsConsent()", P, False),
        ("honoursGpcHeader()", P, True),
        ("withdrawsConsent()", F, False),
        ("exportsConsentHistory()", S, False),
    ]
    assert by_name(cases)["exportsConsentHistory()"].message is None


# --- JavaScript -----------------------------------------------------------------------------------


def test_jest_testcase_properties_and_suite_names() -> None:
    cases, summary = read_report(JUNIT / "jest.xml")
    assert summary.suites == ("checkout GPC", "account deletion")
    toggle = cases[1]
    assert toggle.outcome == F
    assert toggle.obligation_ids == ("CCPAREGS-7025.c.1", "CCPA-1798.120.a")
    assert toggle.message is not None and "Do Not Sell or Share" in toggle.message
    assert toggle.test_id == (
        "checkout GPC/checkout GPC hides the sale toggle/checkout GPC hides the sale toggle"
    )
    assert cases[2].obligation_ids == ()  # the skipped test has no properties
    assert cases[4].obligation_ids == ()


@pytest.mark.parametrize("sample", ["mocha.xml", "cypress.xml"])
def test_mocha_root_suite_holds_no_cases_and_suite_properties_link_all(sample: str) -> None:
    cases, summary = read_report(JUNIT / sample)
    assert summary.suites[0] == "Root Suite"
    assert all(case.suite != "Root Suite" for case in cases)
    assert len({case.obligation_ids for case in cases}) == 1
    assert cases[0].obligation_ids in {("GDPR-17.1",), ("GDPR-7.3",)}


def test_mocha_test_id_uses_describe_title_then_test_title() -> None:
    cases, _ = read_report(JUNIT / "mocha.xml")
    assert [case.test_id for case in cases][:1] == [
        "Erasure API/deletes the profile/Erasure API deletes the profile"
    ]
    assert outcomes(cases) == [
        ("Erasure API deletes the profile", P),
        ("Erasure API purges backups", F),
        ("Erasure API deadlines answers within one month", P),
        ("Erasure API deadlines extends the deadline with notice", S),
    ]


def test_playwright_annotations_text_properties_and_projects() -> None:
    cases, summary = read_report(JUNIT / "playwright.xml")
    assert [(c.name, c.outcome) for c in cases] == [
        ("GPC › honours the Sec-GPC header", P),
        ("GPC › suppresses third-party pixels", F),
        ("GPC › honours the Sec-GPC header", P),
        ("GPC › suppresses third-party pixels", S),
    ]
    honours = cases[0]
    assert honours.obligation_ids == ("CCPAREGS-7025.c.1",)
    assert honours.test_key == "PRIV-1203"
    assert honours.requirement_keys == ("PRIV-1001", "PRIV-1002")
    # Text-content property with one id per line.
    assert cases[1].obligation_ids == ("CCPAREGS-7025.c.1", "CCPA-1798.135.b.1")
    assert cases[1].message is not None and "toHaveLength" in cases[1].message
    # The browser project is only in hostname, so chromium and firefox share a test_id.
    assert cases[0].test_id == cases[2].test_id
    assert summary.hostname == "chromium"


# --- Go, .NET, C++, Rust, PHP ---------------------------------------------------------------------


def test_go_junit_report_suite_properties_and_build_failure() -> None:
    cases, summary = read_report(JUNIT / "go_junit_report.xml")
    assert summary.suites == (
        "github.com/acme/privacy/erasure",
        "github.com/acme/privacy/erasure/backups",
    )
    assert {case.obligation_ids for case in cases} == {("GDPR-17.1",)}
    build = cases[-1]
    assert (build.name, build.outcome) == ("[build failed]", E)
    assert build.message == "Build error\nbackups/purge.go:14:2: undefined: bucket"
    assert cases[1].test_id == (
        "github.com/acme/privacy/erasure/github.com/acme/privacy/erasure/"
        "TestDeleteAccount/purges_backups"
    )


def test_gotestsum_reruns_appear_as_repeated_test_ids() -> None:
    cases, _ = read_report(JUNIT / "gotestsum.xml")
    reruns = [case for case in cases if case.name == "TestOptOut/cookie"]
    assert [case.outcome for case in reruns] == [F, P]
    assert reruns[0].test_id == reruns[1].test_id
    skipped = by_name(cases)["TestSlowAudit"]
    assert skipped.outcome == S
    assert skipped.message is not None and "skipped in -short mode" in skipped.message


def test_dotnet_logger_cases_have_assembly_suite_and_no_links() -> None:
    cases, summary = read_report(JUNIT / "dotnet.xml")
    assert outcomes(cases) == [
        ("ReturnsAllCategories", P),
        ("RespondsWithinDeadline(days: 30)", F),
        ("RespondsWithinDeadline(days: 45)", P),
        ("ExportsJson", S),
    ]
    assert cases[0].test_id == (
        "Acme.Privacy.Tests.dll/Acme.Privacy.Tests.AccessRequestTests/ReturnsAllCategories"
    )
    assert all(case.obligation_ids == () for case in cases)
    assert cases[3].message == "Waiting for the export service sandbox"
    assert summary.hostname == "runner-win-2"


def test_catch2_sections_failures_and_skips() -> None:
    cases, _ = read_report(JUNIT / "catch2.xml")
    assert outcomes(cases) == [
        ("Records are encrypted at rest", P),
        ("Records are encrypted at rest/keys rotate", F),
        ("Audit log is append-only", P),
        ("Backups are encrypted", S),
        ("Emergency access is logged", P),
    ]
    failure = cases[1].message
    assert failure is not None and failure.startswith("key.version() == 2\nFAILED:")
    assert cases[3].message == "SKIPPED\nat backup.tests.cpp:12"
    # Catch2's "random-seed" and "filters" suite properties are not links.
    assert all(case.obligation_ids == () for case in cases)


def test_nextest_flaky_and_retried_failures() -> None:
    cases, summary = read_report(JUNIT / "nextest.xml")
    assert [(c.name, c.outcome, c.flaky) for c in cases] == [
        ("erasure::deletes_account", P, False),
        ("erasure::purges_backups", F, False),
        ("consent::gpc_header_is_honoured", P, True),
        ("retention::expires_records", P, False),
        ("export_roundtrip", P, False),
    ]
    assert (
        cases[4].test_id == "privacy-core::integration/privacy-core::integration/export_roundtrip"
    )
    assert summary.timestamp == "2026-03-02T10:30:00.000+00:00"


def test_phpunit_nested_suites_use_innermost_named_suite() -> None:
    cases, summary = read_report(JUNIT / "phpunit.xml")
    assert summary.suites == (
        "Unit",
        "Acme\\Privacy\\Tests\\RectificationTest",
        "Acme\\Privacy\\Tests\\RectificationTest::testRejectsInvalidField",
    )
    assert [case.suite for case in cases] == [
        "Acme\\Privacy\\Tests\\RectificationTest",
        "Acme\\Privacy\\Tests\\RectificationTest::testRejectsInvalidField",
        "Acme\\Privacy\\Tests\\RectificationTest::testRejectsInvalidField",
        "Acme\\Privacy\\Tests\\RectificationTest",
        "Acme\\Privacy\\Tests\\RectificationTest",
    ]
    assert outcomes(cases) == [
        ("testUpdatesEmail", P),
        ('testRejectsInvalidField with data set "name"', P),
        ('testRejectsInvalidField with data set "ssn"', F),
        ("testNotifiesRecipients", S),
        ("testWritesAuditTrail", E),
    ]
    assert (cases[0].file, cases[0].line) == ("/var/www/app/tests/RectificationTest.php", 14)


def test_non_ascii_names_survive_and_lookalike_ids_are_invalid() -> None:
    cases, summary = read_report(JUNIT / "non_ascii.xml")
    assert cases[0].test_id == "pytest/tests.test_titular/test_exclusão_dos_dados[ação-judicial]"
    assert cases[2].test_id == "pytest/tests.test_個人情報/test_削除要求_🗑️"
    assert cases[1].message is not None and "«consentimento»" in cases[1].message
    assert cases[2].obligation_ids == ("APPI-35.1",)
    assert summary.invalid_ids == ("ＧＤＰＲ-17.1",)  # full-width letters
    assert summary.hostname == "são-paulo-01"


def test_declared_legacy_encoding_is_honoured() -> None:
    xml = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        '<testsuite name="suíte"><testcase classname="ação" name="exclusão"/></testsuite>'
    ).encode("iso-8859-1")
    cases, _ = read_report(xml)
    assert cases[0].test_id == "suíte/ação/exclusão"


# --- shapes the samples do not cover --------------------------------------------------------------


def test_missing_attributes_give_empty_parts_and_no_duration() -> None:
    cases, summary = read_report(b"<testsuites><testsuite><testcase/></testsuite></testsuites>")
    case = cases[0]
    assert (case.suite, case.classname, case.name, case.test_id) == ("", "", "", "//")
    assert (case.duration, case.file, case.line, case.message) == (None, None, None, None)
    assert summary.suites == ()


def test_suite_ids_are_inherited_through_nested_suites_and_outer_file() -> None:
    xml = b"""<testsuites>
      <properties><property name="obligations" value="GDPR-5.1.a"/></properties>
      <testsuite name="outer" file="spec/outer.js">
        <properties><property name="obligations" value="GDPR-17.1"/>
          <property name="requirements" value="PRIV-1"/></properties>
        <testsuite name="inner">
          <properties><property name="obligations">GDPR-17.1 GDPR-17.2</property></properties>
          <testcase classname="c" name="deep" requirement="PRIV-9">
            <properties><property name="obligations" value="CCPA-1798.105.c"/></properties>
          </testcase>
        </testsuite>
        <testcase classname="c" name="shallow"/>
      </testsuite>
      <testsuite name="sibling"><testcase classname="c" name="alone"/></testsuite>
    </testsuites>"""
    deep, shallow, alone = list(parse_report(xml))
    assert deep.suite == "inner"
    assert deep.obligation_ids == ("GDPR-5.1.a", "GDPR-17.1", "GDPR-17.2", "CCPA-1798.105.c")
    assert deep.requirement_keys == ("PRIV-1", "PRIV-9")
    assert deep.file == "spec/outer.js"
    assert (shallow.suite, shallow.obligation_ids) == ("outer", ("GDPR-5.1.a", "GDPR-17.1"))
    assert (alone.suite, alone.obligation_ids) == ("sibling", ("GDPR-5.1.a",))


def test_suite_properties_after_cases_apply_only_later_and_warn() -> None:
    xml = b"""<testsuite name="s">
      <testcase classname="c" name="before"/>
      <properties><property name="obligations" value="GDPR-17.1"/></properties>
      <testcase classname="c" name="after"/>
    </testsuite>"""
    reader = JUnitReader(xml)
    before, after = list(reader.cases())
    assert (before.obligation_ids, after.obligation_ids) == ((), ("GDPR-17.1",))
    assert len(reader.summary.warnings) == 1
    assert "after 1 test cases" in reader.summary.warnings[0]


def test_default_namespace_is_tolerated() -> None:
    xml = b"""<testsuites xmlns="urn:example:junit"><testsuite name="s">
      <testcase classname="c" name="t"><failure message="m"/></testcase></testsuite></testsuites>"""
    cases, _ = read_report(xml)
    assert [(case.test_id, case.outcome) for case in cases] == [("s/c/t", F)]


@pytest.mark.parametrize(
    ("time", "expected"),
    [("0.25", 0.25), ("1,234.5", 1234.5), ("", None), ("abc", None), ("nan", None), ("-1", None)],
)
def test_durations_are_parsed_leniently(time: str, expected: float | None) -> None:
    xml = f'<testsuite><testcase name="t" time="{time}"/></testsuite>'.encode()
    cases, _ = read_report(xml)
    assert cases[0].duration == expected


def test_failure_message_is_cut_at_the_text_limit_and_its_full_size_kept() -> None:
    body = "x" * (DEFAULT_TEXT_LIMIT * 3)
    xml = f'<testsuite><testcase name="t"><failure message="m">{body}</failure></testcase>'
    cases, _ = read_report((xml + "</testsuite>").encode())
    assert cases[0].message is not None
    assert len(cases[0].message.encode()) == DEFAULT_TEXT_LIMIT
    assert cases[0].message.startswith("m\nxxx")
    assert cases[0].message_size == len("m\n") + len(body)


def test_a_short_message_is_whole_and_has_no_size() -> None:
    xml = (
        b'<testsuite><testcase name="t"><failure message="m">boom</failure></testcase></testsuite>'
    )
    cases, _ = read_report(xml)
    assert (cases[0].message, cases[0].message_size) == ("m\nboom", None)


def test_error_wins_over_failure_and_failure_over_skip() -> None:
    xml = b"""<testsuite>
      <testcase name="both"><failure message="f"/><error message="teardown"/></testcase>
      <testcase name="err-skip"><skipped/><error message="e"/></testcase>
      <testcase name="fail-skip"><skipped/><failure message="f2"/></testcase>
    </testsuite>"""
    cases, _ = read_report(xml)
    assert [(c.outcome, c.message) for c in cases] == [(E, "teardown"), (E, "e"), (F, "f2")]


def test_unknown_elements_and_suite_level_test_key_are_ignored() -> None:
    xml = b"""<testsuite name="s"><properties><property name="test_key" value="X-1"/></properties>
      <testcase name="t"><custom><nested/></custom><system-out>noise</system-out></testcase>
      <extra/></testsuite>"""
    cases, _ = read_report(xml)
    assert (cases[0].outcome, cases[0].test_key, cases[0].message) == (P, None, None)


def test_absolute_path_suite_names_keep_their_last_part() -> None:
    xml = b"""<testsuites>
      <testsuite name="/home/runner/work/app/bin/App.Tests.dll"><testcase name="a"/></testsuite>
      <testsuite name="C:\\agent\\_work\\1\\s\\App.Tests.dll"><testcase name="b"/></testsuite>
      <testsuite name="src/relative/spec.ts"><testcase name="c"/></testsuite>
    </testsuites>"""
    cases, _ = read_report(xml)
    assert [case.suite for case in cases] == [
        "App.Tests.dll",
        "App.Tests.dll",
        "src/relative/spec.ts",
    ]


# --- hostile and broken input ---------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["billion_laughs.xml", "xxe.xml", "dtd.xml"])
def test_dtds_and_entities_are_refused(sample: str) -> None:
    with pytest.raises(ReportError, match="contains a DTD/entity declaration") as caught:
        list(parse_report(JUNIT / sample))
    assert caught.value.line == 2
    assert caught.value.column is not None


def test_internal_entity_without_doctype_keyword_cannot_sneak_in() -> None:
    with pytest.raises(ReportError, match="undefined entity"):
        list(parse_report(b"<testsuite><testcase name='&secret;'/></testsuite>"))


def test_malformed_xml_reports_line_and_column() -> None:
    with pytest.raises(ReportError) as caught:
        list(parse_report(JUNIT / "malformed.xml"))
    error = caught.value
    # Line 5 closes <testcase> while <failure> is open; expat points at the end tag's name.
    assert (error.line, error.column) == (5, 103)
    assert "mismatched tag at line 5, column 103" in str(error)


def test_cases_before_the_break_are_still_yielded() -> None:
    cases: list[ParsedCase] = []
    with pytest.raises(ReportError):
        cases.extend(parse_report(JUNIT / "malformed.xml"))
    assert [case.name for case in cases] == ["test_passes"]


@pytest.mark.parametrize("content", [b"", b"   \n", b"<testsuites><testsuite>"])
def test_empty_or_truncated_report_says_so(content: bytes) -> None:
    with pytest.raises(ReportError, match="ends before its XML is complete"):
        list(parse_report(content))


def test_control_characters_get_a_hint() -> None:
    with pytest.raises(ReportError, match="terminal colour codes") as caught:
        list(parse_report(b"<testsuite><testcase name='a'>\x1b[31m</testcase></testsuite>"))
    assert caught.value.line == 1


def test_wrong_root_element_is_refused() -> None:
    with pytest.raises(ReportError, match="root element is <html>") as caught:
        list(parse_report(b"<html><body/></html>"))
    assert (caught.value.line, caught.value.column) == (1, 1)


def test_missing_file_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="cannot be opened"):
        list(parse_report(tmp_path / "absent.xml"))


def test_size_limit_applies_after_decompression() -> None:
    xml = (JUNIT / "jest.xml").read_bytes()
    with pytest.raises(ReportError, match="larger than the 100 bytes allowed"):
        list(parse_report(gzip.compress(xml), max_bytes=100))
    assert len(list(parse_report(xml, max_bytes=len(xml)))) == 5


# --- gzip, streams, API -----------------------------------------------------------------------


def test_gzip_input_is_detected_by_magic_bytes(tmp_path: Path) -> None:
    plain_cases, plain_summary = read_report(JUNIT / "surefire.xml")
    packed = tmp_path / "report.xml.gz"
    packed.write_bytes(gzip.compress((JUNIT / "surefire.xml").read_bytes()))
    gz_cases, gz_summary = read_report(packed)
    assert gz_cases == plain_cases
    assert gz_summary == plain_summary


def test_gzip_with_several_members_is_read_whole() -> None:
    xml = (JUNIT / "jest.xml").read_bytes()
    middle = len(xml) // 2
    packed = gzip.compress(xml[:middle]) + gzip.compress(xml[middle:])
    assert len(list(parse_report(packed))) == 5


def test_truncated_gzip_is_a_report_error() -> None:
    packed = gzip.compress((JUNIT / "jest.xml").read_bytes())
    with pytest.raises(ReportError, match="cannot be decompressed"):
        list(parse_report(packed[: len(packed) // 2]))


class _TrickleStream(io.RawIOBase):
    """A non-seekable stream that hands out at most a few bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._position = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._step if size < 0 else min(size, self._step)
        chunk = self._data[self._position : self._position + size]
        self._position += len(chunk)
        return chunk

    @property
    def position(self) -> int:
        return self._position


@pytest.mark.parametrize("compress", [False, True])
def test_non_seekable_streams_that_return_short_reads_work(compress: bool) -> None:
    data = (JUNIT / "phpunit.xml").read_bytes()
    if compress:
        data = gzip.compress(data)
    cases, summary = read_report(_TrickleStream(data, step=1 if compress else 7))  # type: ignore[arg-type]
    assert summary.total == 5 == len(cases)


def test_parsing_streams_cases_before_reading_the_whole_input() -> None:
    body = "".join(
        f'<testcase classname="c" name="t{i}" time="0.1"><system-out>{"o" * 200}</system-out>'
        "</testcase>"
        for i in range(20_000)
    )
    data = f"<testsuites><testsuite name='s'>{body}</testsuite></testsuites>".encode()
    stream = _TrickleStream(data, step=len(data))
    first = next(parse_report(stream))  # type: ignore[arg-type]
    assert first.name == "t0"
    assert stream.position < len(data) / 4


def test_memory_stays_flat_while_streaming_many_cases() -> None:
    case = (
        '<testcase classname="tests.module.TestClass" name="test_{i}" time="0.01">'
        '<properties><property name="obligations" value="GDPR-17.1,CCPA-1798.105.c"/>'
        "</properties><system-out>{out}</system-out></testcase>"
    )
    body = "".join(case.format(i=i, out="x" * 150) for i in range(20_000))
    data = f"<testsuites><testsuite name='pytest'>{body}</testsuite></testsuites>".encode()
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        reader = JUnitReader(stream)
        total = sum(1 for _ in reader.cases())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == reader.summary.total == 20_000
    # The input is ~6 MB; a tree or a list of all cases would need far more than this.
    assert peak < 3 * 1024 * 1024


def test_summary_is_available_only_after_the_cases_are_read() -> None:
    reader = JUnitReader(JUNIT / "jest.xml")
    with pytest.raises(RuntimeError, match="after cases"):
        _ = reader.summary
    iterator = reader.cases()
    next(iterator)
    with pytest.raises(RuntimeError):
        _ = reader.summary
    list(iterator)
    assert reader.summary.total == 5
    with pytest.raises(RuntimeError, match="only once"):
        list(reader.cases())


def test_records_are_frozen() -> None:
    case = next(parse_report(JUNIT / "jest.xml"))
    with pytest.raises(AttributeError):
        case.outcome = "passed"  # type: ignore[misc]


def test_content_sha256_hashes_raw_bytes(tmp_path: Path) -> None:
    path = JUNIT / "jest.xml"
    assert content_sha256(path) == content_sha256(path.read_bytes())
    assert content_sha256(b"") == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    stream = io.BytesIO(b"ignored" + path.read_bytes())
    stream.seek(len(b"ignored"))
    assert content_sha256(stream) == content_sha256(path)
    assert len(list(parse_report(stream))) == 5  # put back where it was, ready to parse
    with pytest.raises(ValueError, match="seekable"):
        content_sha256(_TrickleStream(b"<testsuite/>", step=4))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("GDPR-17.1", True),
        ("CCPA-1798.105.c", True),
        ("CCPAREGS-7025.c.1", True),
        ("LGPD-18.VI", True),
        ("HIPAA-164.312.a.2.iv", True),
        ("gdpr-17.1", False),
        ("GDPR-17.", False),
        ("GDPR17.1", False),
        ("G-1", False),
        ("GDPR-17.1\n", False),
        ("GDPR-17(1)", False),
    ],
)
def test_obligation_id_shape(value: str, valid: bool) -> None:
    assert is_obligation_id(value) is valid


# --- properties -----------------------------------------------------------------------------------

_VALID_IDS = st.from_regex(r"\A[A-Z][A-Z0-9]{1,15}-[0-9A-Za-z]+(\.[0-9A-Za-z]+){0,3}\Z")
_INVALID_IDS = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
        blacklist_characters=",\ufffe\uffff",
    ),
    min_size=1,
    max_size=12,
).filter(lambda token: not is_obligation_id(token) and not token.isspace())
_XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    tokens=st.lists(st.one_of(_VALID_IDS, _INVALID_IDS), min_size=1, max_size=8),
    separators=st.lists(st.sampled_from([",", " ", ", ", "\n", ",,"]), min_size=8, max_size=8),
    as_text=st.booleans(),
)
def test_property_values_split_into_valid_links_and_reported_invalid_ids(
    tokens: list[str], separators: list[str], as_text: bool
) -> None:
    value = "".join(token + separator for token, separator in zip(tokens, separators, strict=False))
    if as_text:
        prop = f'<property name="obligations">{escape(value)}</property>'
    else:
        prop = f'<property name="obligations" value={quoteattr(value)}/>'
    xml = f"<testsuite><testcase name='t'><properties>{prop}</properties></testcase></testsuite>"
    cases, summary = read_report(xml.encode())
    valid = [token for token in tokens if is_obligation_id(token)]
    invalid = [token for token in tokens if not is_obligation_id(token)]
    assert cases[0].obligation_ids == tuple(dict.fromkeys(valid))
    assert summary.invalid_ids == tuple(dict.fromkeys(token.strip() for token in invalid))


@settings(max_examples=60, deadline=None)
@given(suite=_XML_TEXT, classname=_XML_TEXT, name=_XML_TEXT)
def test_any_text_names_round_trip_into_the_test_id(suite: str, classname: str, name: str) -> None:
    xml = (
        f"<testsuites><testsuite name={quoteattr(suite)}>"
        f"<testcase classname={quoteattr(classname)} name={quoteattr(name)}/>"
        "</testsuite></testsuites>"
    )
    cases, _ = read_report(xml.encode("utf-8"))
    case = cases[0]
    assert (case.classname, case.name) == (classname, name)
    assert case.test_id.endswith(f"/{classname}/{name}")
