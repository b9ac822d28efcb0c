"""The YAML mapping from test-id globs to obligations, for tests that cannot be annotated."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.errors import ValidationError
from tracker.integrations.junit import read_report
from tracker.integrations.result_mapping import (
    MappingRule,
    TestMapping,
    load_test_mapping,
    parse_test_mapping,
)

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = DATA / "mapping" / "test_mapping.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_mapping_loads_every_entry() -> None:
    mapping = load_test_mapping(SAMPLE)
    assert len(mapping) == 8
    assert mapping.rules[0] == MappingRule(
        patterns=("Acme.Privacy.Tests.dll/Acme.Privacy.Tests.AccessRequestTests/*",),
        obligations=("GDPR-15.1",),
        note="JunitXml.TestLogger does not write xUnit traits as properties.",
    )
    assert mapping.rules[2].patterns == (
        "privacy-tests/*/Records are encrypted at rest*",
        "privacy-tests/*/Backups are encrypted",
    )
    assert mapping.rules[7].obligations == ("GDPR-17.2",)  # a single id may be plain text
    assert "CCPAREGS-7025.c.1" in mapping.obligation_ids()


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (
            "dotnet.xml",
            {
                "ReturnsAllCategories": ("GDPR-15.1",),
                "RespondsWithinDeadline(days: 30)": ("GDPR-15.1",),
                "RespondsWithinDeadline(days: 45)": ("GDPR-15.1",),
                "ExportsJson": (),
            },
        ),
        (
            "gotestsum.xml",
            {
                "TestGPCHeader": (),
                "TestOptOut/cookie": ("CCPA-1798.120.a",),
                "TestOptOut": ("CCPA-1798.120.a",),
                "TestSlowAudit": (),
            },
        ),
        (
            "catch2.xml",
            {
                "Records are encrypted at rest": ("HIPAA-164.312.a.2.iv",),
                "Records are encrypted at rest/keys rotate": ("HIPAA-164.312.a.2.iv",),
                "Audit log is append-only": (),
                "Backups are encrypted": ("HIPAA-164.312.a.2.iv",),
                "Emergency access is logged": (),
            },
        ),
        (
            "nextest.xml",
            {
                "erasure::deletes_account": ("GDPR-17.1", "CCPA-1798.105.c"),
                "erasure::purges_backups": ("GDPR-17.1", "CCPA-1798.105.c", "GDPR-17.2"),
                "consent::gpc_header_is_honoured": (),
                "retention::expires_records": (),
                "export_roundtrip": (),
            },
        ),
        (
            "phpunit.xml",
            {
                "testUpdatesEmail": ("GDPR-16",),
                'testRejectsInvalidField with data set "name"': ("GDPR-16",),
                'testRejectsInvalidField with data set "ssn"': ("GDPR-16",),
                "testNotifiesRecipients": ("GDPR-16",),
                "testWritesAuditTrail": ("GDPR-16",),
            },
        ),
    ],
)
def test_sample_mapping_links_tests_whose_runner_writes_no_properties(
    sample: str, expected: dict[str, tuple[str, ...]]
) -> None:
    mapping = load_test_mapping(SAMPLE)
    cases, _ = read_report(DATA / "junit" / sample)
    assert {case.name: mapping.obligations_for(case.test_id) for case in cases} == expected


def test_globs_follow_fnmatch_and_are_case_sensitive() -> None:
    mapping = TestMapping(
        [
            MappingRule(("checkout/*/test_gpc_*",), ("CCPAREGS-7025.c.1",)),
            MappingRule(("pytest/tests.test_?rasure/*",), ("GDPR-17.1",)),
            MappingRule(("pytest/tests.test_[ab]*/*",), ("GDPR-5.1.a",)),
        ]
    )
    assert mapping.obligations_for("checkout/gpc/deep/test_gpc_header") == ("CCPAREGS-7025.c.1",)
    assert mapping.obligations_for("checkout/x/TEST_GPC_header") == ()
    assert mapping.obligations_for("Checkout/x/test_gpc_header") == ()
    assert mapping.obligations_for("pytest/tests.test_erasure/test_x") == ("GDPR-17.1",)
    assert mapping.obligations_for("pytest/tests.test_alpha/test_x") == ("GDPR-5.1.a",)
    assert mapping.obligations_for("pytest/tests.test_c/test_x") == ()
    assert mapping.obligations_for("") == ()


def test_matches_from_several_rules_merge_in_file_order_without_duplicates() -> None:
    mapping = TestMapping(
        [
            MappingRule(("a/*",), ("GDPR-17.1", "CCPA-1798.105.c")),
            MappingRule(("a/b/c",), ("LGPD-18.VI", "GDPR-17.1")),
            MappingRule(("*/c",), ("CCPA-1798.105.c", "HIPAA-164.312.a.2.iv")),
            MappingRule(("z/*",), ("GDPR-20.1",)),
        ]
    )
    assert mapping.obligations_for("a/b/c") == (
        "GDPR-17.1",
        "CCPA-1798.105.c",
        "LGPD-18.VI",
        "HIPAA-164.312.a.2.iv",
    )


def test_literal_brackets_and_backslashes_in_exact_patterns() -> None:
    mapping = TestMapping(
        [
            MappingRule(("pytest/tests.t/test_a[postgres]",), ("GDPR-17.1",)),
            MappingRule(("Acme\\Tests\\X/c/n",), ("GDPR-16",)),
        ]
    )
    # "[postgres]" is a character class in fnmatch, as in the shell.
    assert mapping.obligations_for("pytest/tests.t/test_a[postgres]") == ()
    assert mapping.obligations_for("pytest/tests.t/test_ap") == ("GDPR-17.1",)
    assert mapping.obligations_for("Acme\\Tests\\X/c/n") == ("GDPR-16",)


def test_an_empty_mapping_links_nothing(tmp_path: Path) -> None:
    mapping = load_test_mapping(write(tmp_path, "mappings: []\n"))
    assert len(mapping) == 0
    assert mapping.obligations_for("any/test/id") == ()


def test_every_problem_is_listed_with_its_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
mappings:
  - tests: "checkout/*"
    obligations: [GDPR-17.1, gdpr-17]
  - tests: "billing/*"
  - obligations: [GDPR-17.1]
  - tests: ["ok/*", ""]
    obligations: [CCPA-1798.105.c]
    owner: privacy-team
  - just a string
  - tests: "x/*"
    obligations: [17]
extra: true
""",
    )
    with pytest.raises(ValidationError) as caught:
        load_test_mapping(path)
    message = str(caught.value)
    assert "has 8 problem(s)" in message
    assert "unknown top-level key 'extra'" in message
    assert "mappings[0] (tests: 'checkout/*'): 'gdpr-17' is not an obligation id" in message
    assert "mappings[1] (tests: 'billing/*'): 'obligations' is missing" in message
    assert "mappings[2]: 'tests' is missing" in message
    assert "mappings[3]: 'tests' has an empty pattern" in message
    assert "mappings[3]: unknown key 'owner'" in message
    assert "mappings[4] must be a mapping" in message
    assert "mappings[5] (tests: 'x/*'): 'obligations' must be text or a non-empty list" in message
    assert caught.value.field == "mappings"


@pytest.mark.parametrize(
    "text",
    ["", "[]\n", "mappings: {tests: x}\n", "mapping:\n  - tests: x\n"],
)
def test_a_file_without_a_mappings_list_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValidationError, match="expected a mapping with a 'mappings' list"):
        load_test_mapping(write(tmp_path, text))


def test_yaml_syntax_errors_give_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "mappings:\n  - tests: [unclosed\n    obligations: x\n")
    with pytest.raises(ValidationError, match=r"not valid YAML at line \d+, column \d+"):
        load_test_mapping(path)


def test_python_object_tags_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mappings:\n  - tests: !!python/object/apply:os.system ['true']\n"
        "    obligations: [GDPR-17.1]\n",
    )
    with pytest.raises(ValidationError, match="not valid YAML"):
        load_test_mapping(path)


def test_missing_and_undecodable_files_are_validation_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be read"):
        load_test_mapping(tmp_path / "absent.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00mappings")
    with pytest.raises(ValidationError, match="not UTF-8"):
        load_test_mapping(binary)


def test_parse_test_mapping_accepts_loaded_data() -> None:
    mapping = parse_test_mapping(
        {"mappings": [{"tests": " spaced/* ", "obligations": ["GDPR-17.1", "GDPR-17.1"]}]}
    )
    assert mapping.rules == (MappingRule(("spaced/*",), ("GDPR-17.1",)),)
