"""The records the JUnit reader yields, and the outcome and property names they use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: Failure text kept per result (UTF-8 bytes), unless the caller sets another limit.
DEFAULT_TEXT_LIMIT = 64 * 1024
#: Longest tag (with its attributes), comment or processing instruction read (bytes).
MARKUP_LIMIT = 1024 * 1024
#: Deepest nesting of elements read; real reports nest a handful of levels.
DEPTH_LIMIT = 256
#: Most obligation ids or Jira keys one test case may name.
LINKS_PER_CASE_LIMIT = 200
#: Longest test id, suite and obligation id (the columns' sizes, in characters).
TEST_ID_LIMIT = 1000
SUITE_LIMIT = 300
OBLIGATION_ID_LIMIT = 80
#: Longest invalid value listed as it is (longer ones are shortened with "…").
INVALID_ID_SHOWN = 200
INVALID_ID_LIMIT = 1000

OUTCOME_PASSED = "passed"
OUTCOME_FAILED = "failed"
OUTCOME_ERROR = "error"
OUTCOME_SKIPPED = "skipped"

OBLIGATIONS_PROPERTY = "obligations"
XRAY_REQUIREMENTS_PROPERTY = "requirements"
XRAY_TEST_KEY_PROPERTY = "test_key"


class Attempt(NamedTuple):
    """One attempt of a test that a re-running tool reported inside one <testcase>.

    message_size is the message's full size in UTF-8 bytes when it was cut to the text
    limit, and None when the message is whole.
    """

    outcome: str
    duration: float | None
    message: str | None
    message_size: int | None


class ParsedCase(NamedTuple):
    """One <testcase> of a report, reduced to what traceability needs.

    A named tuple: a report can hold a hundred thousand cases, and a tuple is several times
    cheaper to create than a frozen dataclass while just as immutable.

    test_id is "suite/classname/name" and is stable across runs: it never contains times,
    timestamps, hostnames or file paths. "suite" is the name of the innermost enclosing
    <testsuite> that has a non-empty name (a joined path would change whenever a tool's
    grouping or configuration changes); absolute-path suite names keep only their last part.
    What that gives per producer:

    - pytest (xunit1/xunit2): "pytest/<dotted module>[.<Class>]/<test>[<params>]";
      the suite is always "pytest" unless junit_suite_name is set.
    - Maven Surefire, Gradle: "<fq class>/<fq class>/<method>" (suite = test class).
    - jest-junit: "<describe title or file>/<classname template>/<title template>".
    - mocha-junit-reporter, Cypress: "<describe title>/<test title>/<full title>";
      the empty "Root Suite" holds no cases.
    - go-junit-report, gotestsum: "<package path>/<package path>/<TestName[/subtest]>".
    - JunitXml.TestLogger (.NET): "<assembly>.dll/<namespace.Class>/<Method(args)>".
    - Catch2: "<binary>/<binary>.global/<test case name>".
    - cargo-nextest: "<crate or binary id>/<crate>/<module::test>".
    - PHPUnit: "<Class>/<Namespace.Class>/<method>"; data-provider cases sit in a
      "<Class>::<method>" suite, which then is the suite part.
    - Playwright: "<spec file>/<spec file>/<describe › title>"; the browser project is
      only in the hostname attribute, so one test run in several projects yields
      several cases with the same test_id (aggregate them when storing).

    Missing attributes become empty strings, so the parts stay positional. Re-run tools
    that repeat a <testcase> (gotestsum --rerun-fails, Gradle without mergeReruns,
    pytest-rerunfailures) also yield repeated test_ids; deciding the final result is the
    ingest layer's job. Tools that write the reruns inside one <testcase> (Surefire, Gradle
    with mergeReruns, cargo-nextest: <flakyFailure>, <rerunFailure> ...) give the case its
    attempts in the order they ran, the last one deciding outcome; attempts is empty for a
    case that ran once. host is the hostname of the innermost suite that names one (for
    Playwright, the browser project).

    message is cut to the reader's text limit; message_size then gives its full size.
    """

    suite: str
    classname: str
    name: str
    test_id: str
    outcome: str
    flaky: bool
    duration: float | None
    message: str | None
    obligation_ids: tuple[str, ...]
    requirement_keys: tuple[str, ...]
    test_key: str | None
    file: str | None
    line: int | None
    message_size: int | None = None
    attempts: tuple[Attempt, ...] = ()
    host: str | None = None


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """Report-level facts, counted from the cases actually read (never from suite attributes)."""

    suites: tuple[str, ...]
    timestamp: str | None
    hostname: str | None
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    invalid_ids: tuple[str, ...]
    warnings: tuple[str, ...] = ()
