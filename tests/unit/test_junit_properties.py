"""Property: whatever bytes arrive, the JUnit reader answers with cases or the tracker's errors."""

from __future__ import annotations

import gzip
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.errors import TrackerError
from tracker.integrations.junit import JUnitReader
from tracker.services.report_cases import TextStore, gather_cases, result_rows

TAGS = (
    "testsuites",
    "testsuite",
    "testcase",
    "failure",
    "error",
    "skipped",
    "flakyFailure",
    "flakyError",
    "rerunFailure",
    "rerunError",
    "system-out",
    "system-err",
    "properties",
    "property",
    "stackTrace",
    "x",
)
ATTRIBUTES = (
    "name",
    "classname",
    "time",
    "timestamp",
    "hostname",
    "file",
    "line",
    "message",
    "value",
    "requirement",
)
ENCODINGS = ("utf-8", "UTF-16", "ISO-8859-1", "US-ASCII", "UTF-7", "cp1252", "bogus", "")
PROPERTY_NAMES = ("obligations", "requirements", "test_key", "other")

# Characters XML allows (reports() breaks some of them on purpose, now and then).
xml_chars = st.one_of(
    st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from("\t\n\r<>&\"'")
)
any_text = st.text(xml_chars, max_size=40)
values = st.one_of(
    any_text,
    st.sampled_from(
        (
            "GDPR-17.1",
            "GDPR-17.1, CCPA-1798.105.c",
            "PRIV-1,PRIV-2",
            "1,234.5",
            "-1",
            "nan",
            "1e999",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+14:00",
            "/abs/path/suite",
            "C:\\suite",
            "٣",
            "",
        )
    ),
    st.sampled_from(PROPERTY_NAMES),
)


def _attributes(draw: st.DrawFn, taken: tuple[str, ...] = ()) -> str:
    names = draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=4, unique=True))
    parts = []
    for name in (name for name in names if name not in taken):
        value = draw(values)
        raw = draw(st.integers(0, 29)) == 0  # now and then a value that breaks the XML
        parts.append(f' {name}="{value}"' if raw else f" {name}={quoteattr(value)}")
    return "".join(parts)


@st.composite
def element(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    attributes = _attributes(draw)
    if depth > 4 or draw(st.integers(0, 3)) == 0:
        return f"<{tag}{attributes}/>"
    children = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 19))
        if kind < 5:
            children.append(draw(element(depth + 1)))
        elif kind < 14:
            children.append(escape(draw(any_text)))
        elif kind < 17:
            children.append(f"<![CDATA[{draw(any_text).replace(']]>', '')}]]>")
        elif kind < 19:
            children.append(f"<!--{draw(any_text).replace('-', '')}-->")
        else:
            children.append(draw(any_text))  # unescaped: often not XML
    return f"<{tag}{attributes}>{''.join(children)}</{tag}>"


@st.composite
def case_element(draw: st.DrawFn) -> str:
    """A <testcase> with a realistic shape: results, reruns, properties, output, anything."""
    name = draw(st.sampled_from(("t", "u", draw(any_text))))
    children = draw(st.lists(element(1), max_size=4))
    attributes = _attributes(draw, taken=("name",))
    return f"<testcase name={quoteattr(name)}{attributes}>{''.join(children)}</testcase>"


@st.composite
def suite(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(("", ' hostname="chromium"', ' hostname="firefox"')))
    cases = draw(st.lists(st.one_of(case_element(), element(1)), max_size=6))
    attributes = _attributes(draw, taken=("name", "hostname"))
    return f'<testsuite name="s"{host}{attributes}>{"".join(cases)}</testsuite>'


@st.composite
def reports(draw: st.DrawFn) -> bytes:
    encoding = draw(st.one_of(st.just(""), st.just("utf-8"), st.sampled_from(ENCODINGS)))
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else ""
    shape = draw(st.integers(0, 3))
    if shape == 0:
        body = draw(element())
    else:
        body = (
            f"<testsuites>{''.join(draw(st.lists(suite(), min_size=1, max_size=3)))}</testsuites>"
        )
    text = declaration + body
    if text and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=3)) + text[at:]
    codec = draw(st.sampled_from(("utf-8", "utf-8", "utf-16", "utf-16-be", "latin-1")))
    data = text.encode(codec, "replace")
    cut = draw(st.one_of(st.none(), st.none(), st.integers(0, len(data))))
    if cut is not None:
        data = data[:cut]
    if draw(st.booleans()):
        data = gzip.compress(data)
        if draw(st.integers(0, 4)) == 0:
            data = data[: draw(st.integers(0, len(data)))]
    return data


def read_and_store(data: bytes) -> None:
    """Read a report and build its result rows, as an ingest does, without a database."""
    reader = JUnitReader(data, text_limit=64)
    texts = TextStore()
    try:
        parsed = list(reader.cases())
        assert reader.summary.total == len(parsed)
        cases = gather_cases(parsed, texts)
        assert len(cases) == len({case.test_id for case in parsed})
        ids = {test_id: number for number, test_id in enumerate(cases)}
        for rows in result_rows(1, list(cases), cases, ids, texts, 64):
            for row in rows:
                assert row["outcome"] in ("passed", "failed", "error", "skipped")
                message = row["message"]
                assert message is None or len(message.encode()) <= 64
    finally:
        texts.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_xml_like_reports_give_cases_or_the_trackers_errors(data: bytes) -> None:
    try:
        read_and_store(data)
    except TrackerError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.booleans())
def test_random_bytes_give_cases_or_the_trackers_errors(data: bytes, compress: bool) -> None:
    try:
        read_and_store(gzip.compress(data) if compress else data)
    except TrackerError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_bytes_after_a_gzip_magic_give_the_trackers_errors(data: bytes) -> None:
    try:
        read_and_store(b"\x1f\x8b" + data)
    except TrackerError:
        pass
