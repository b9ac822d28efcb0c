"""What a JUnit report may make the reader hold or do: text, tags, nesting, ids, encodings, time."""

from __future__ import annotations

import codecs
import gzip
import io
import time
import tracemalloc

import pytest

from tracker.errors import ReportError
from tracker.integrations.junit import (
    DEFAULT_TEXT_LIMIT,
    MARKUP_LIMIT,
    JUnitReader,
    read_report,
)
from tracker.integrations.junit_records import (
    DEPTH_LIMIT,
    INVALID_ID_SHOWN,
    LINKS_PER_CASE_LIMIT,
    OBLIGATION_ID_LIMIT,
    SUITE_LIMIT,
    TEST_ID_LIMIT,
)
from tracker.models import Obligation, TestCase, TestRun, column_length

MIB = 1024 * 1024


class _Generated(io.RawIOBase):
    """A stream of a head, a body repeated to a size, and a tail; counts what was read."""

    def __init__(self, head: bytes, unit: bytes, size: int, tail: bytes) -> None:
        self._parts = [head, (unit, size), tail]
        self._buffer = b""
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        while len(self._buffer) < max(size, 1) and self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                self._buffer += part
                self._parts.pop(0)
                continue
            unit, left = part
            block = unit * max(1, (64 * 1024) // len(unit))
            take = block[:left]
            self._buffer += take
            if left - len(take) > 0:
                self._parts[0] = (unit, left - len(take))
            else:
                self._parts.pop(0)
        size = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        self.position += len(data)
        return data


def failing(text_size: int, unit: bytes = b"x") -> _Generated:
    return _Generated(
        b'<testsuite name="s"><testcase classname="c" name="t"><failure message="boom">',
        unit,
        text_size,
        b"</failure></testcase></testsuite>",
    )


def test_failure_text_is_cut_while_streaming_so_memory_stays_small() -> None:
    tracemalloc.start()
    try:
        cases, _ = read_report(failing(40 * MIB))  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (case,) = cases
    assert case.outcome == "failed"
    assert case.message is not None and case.message.startswith("boom\nxxx")
    assert len(case.message.encode()) == DEFAULT_TEXT_LIMIT
    assert case.message_size == len("boom\n") + 40 * MIB
    # The text is 40 MiB; what is held at once is the limit plus a chunk or two.
    assert peak < 4 * MIB


def test_the_cut_never_splits_a_character_and_counts_utf8_bytes() -> None:
    cases, _ = read_report(failing(300_000, "é".encode()), text_limit=1001)  # type: ignore[arg-type]
    (case,) = cases
    assert case.message is not None
    kept = case.message.encode()
    assert len(kept) <= 1001 and kept.decode() == case.message
    assert case.message_size == len("boom\n") + 300_000


def test_text_limit_is_the_callers_choice() -> None:
    cases, _ = read_report(failing(5000), text_limit=100)  # type: ignore[arg-type]
    assert cases[0].message is not None and len(cases[0].message) == 100
    assert cases[0].message_size == 5005


def test_captured_output_is_not_kept_and_does_not_cut_the_failure() -> None:
    xml = (
        b'<testsuite name="s"><testcase name="t"><failure message="m">why</failure>'
        b"<system-out>" + b"o" * (3 * MIB) + b"</system-out></testcase></testsuite>"
    )
    cases, _ = read_report(xml)
    assert (cases[0].message, cases[0].message_size) == ("m\nwhy", None)


def test_a_huge_attribute_is_refused_before_it_is_read_in_full() -> None:
    stream = _Generated(b'<testsuite name="s">\n<testcase name="', b"a", 150 * MIB, b'"/>')
    started = time.perf_counter()
    with pytest.raises(ReportError, match="A tag on line 2 of the report is longer than 1 MiB"):
        list(JUnitReader(stream).cases())  # type: ignore[arg-type]
    assert time.perf_counter() - started < 2
    assert stream.position < 2 * MARKUP_LIMIT


def test_a_huge_attribute_in_gzip_is_refused_early() -> None:
    data = gzip.compress(b'<testsuite name="s"><testcase name="' + b"a" * (20 * MIB) + b'"/>')
    with pytest.raises(ReportError, match="longer than 1 MiB") as caught:
        list(JUnitReader(data).cases())
    assert caught.value.line == 1


@pytest.mark.parametrize(
    ("opening", "unit"),
    [(b"<!--", b"c"), (b"<?pi ", b"p"), (b'<testcase name="t" message="a > b', b"q")],
    ids=["comment", "processing instruction", "attribute holding a >"],
)
def test_other_long_markup_is_refused(opening: bytes, unit: bytes) -> None:
    stream = _Generated(b'<testsuite name="s">' + opening, unit, 3 * MIB, b"-->")
    with pytest.raises(ReportError, match="longer than 1 MiB"):
        list(JUnitReader(stream).cases())  # type: ignore[arg-type]


def test_long_cdata_with_markup_inside_is_text_not_a_tag() -> None:
    # Logs in CDATA hold "<", quotes and "<!--" that are not markup.
    log = b'<html lang="en"> <!-- a "quote\n' * 200_000  # about 6 MiB
    xml = (
        b'<testsuite name="s"><testcase name="t"><failure><![CDATA['
        + log
        + b"]]></failure></testcase></testsuite>"
    )
    cases, _ = read_report(xml)
    assert cases[0].message is not None and cases[0].message.startswith('<html lang="en">')
    assert cases[0].message_size is not None and cases[0].message_size > 5 * MIB


def test_tags_cut_by_chunk_boundaries_are_tracked_across_chunks() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = data
            self._at = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1, /) -> bytes:
            part = self._data[self._at : self._at + 3]
            self._at += len(part)
            return part

    attribute = "a > b 'c' " * 50
    xml = (
        f'<testsuite name="s"><!-- note --><testcase name="t" message="{attribute}">'
        '<failure message="m"><![CDATA[x]]></failure></testcase></testsuite>'
    ).encode()
    cases = list(JUnitReader(Trickle(xml)).cases())  # type: ignore[arg-type]
    assert [(case.name, case.outcome) for case in cases] == [("t", "failed")]


def test_deep_nesting_is_refused() -> None:
    xml = b'<testsuites><testsuite name="s">' + b"<a>" * (DEPTH_LIMIT + 5)
    with pytest.raises(ReportError, match=f"more than {DEPTH_LIMIT} levels deep"):
        read_report(xml)


def test_nesting_within_the_limit_is_read() -> None:
    depth = DEPTH_LIMIT - 3
    xml = (
        b'<testsuites><testsuite name="s"><testcase name="t"/>'
        + b"<a>" * depth
        + b"</a>" * depth
        + b"</testsuite></testsuites>"
    )
    cases, _ = read_report(xml)
    assert len(cases) == 1


def test_the_limits_are_the_columns_sizes() -> None:
    assert TEST_ID_LIMIT == column_length(TestCase, "test_id")
    assert SUITE_LIMIT == column_length(TestRun, "suite")
    assert OBLIGATION_ID_LIMIT == column_length(Obligation, "id")


def test_an_obligation_shaped_id_longer_than_any_obligation_is_invalid() -> None:
    long_id = "GDPR-" + "1" * OBLIGATION_ID_LIMIT
    xml = (
        '<testsuite name="s"><testcase name="t"><properties><property name="obligations" '
        f'value="GDPR-17.1 {long_id}"/></properties></testcase></testsuite>'
    )
    cases, summary = read_report(xml.encode())
    assert cases[0].obligation_ids == ("GDPR-17.1",)
    assert summary.invalid_ids == (long_id,)


def test_a_test_id_longer_than_its_column_is_refused_naming_the_line() -> None:
    name = "n" * (TEST_ID_LIMIT - len("s/c/") + 1)
    xml = f'<testsuite name="s">\n<testcase classname="c" name="t"/>\n<testcase classname="c" name="{name}"/></testsuite>'
    with pytest.raises(ReportError, match="1,001 characters long") as caught:
        read_report(xml.encode())
    assert caught.value.line == 3
    assert "line 3" in str(caught.value) and "never cut" in str(caught.value)


def test_a_test_id_as_long_as_its_column_is_kept_whole() -> None:
    name = "n" * (TEST_ID_LIMIT - len("s/c/"))
    cases, _ = read_report(
        f'<testsuite name="s"><testcase classname="c" name="{name}"/></testsuite>'.encode()
    )
    assert len(cases[0].test_id) == TEST_ID_LIMIT


def test_a_suite_name_longer_than_its_column_is_refused() -> None:
    with pytest.raises(ReportError, match="suite's name is 301 characters"):
        read_report(f'<testsuite name="{"s" * 301}"><testcase name="t"/></testsuite>'.encode())


def test_too_many_links_for_one_test_are_refused() -> None:
    ids = ",".join(f"GDPR-{number}" for number in range(LINKS_PER_CASE_LIMIT + 1))
    xml = (
        '<testsuite name="s"><properties><property name="obligations" '
        f'value="{ids}"/></properties><testcase name="t"/></testsuite>'
    )
    with pytest.raises(ReportError, match=f"at most {LINKS_PER_CASE_LIMIT} per test"):
        read_report(xml.encode())


def test_long_invalid_ids_are_shortened_for_the_list() -> None:
    value = "x" * 5000
    xml = (
        '<testsuite name="s"><testcase name="t"><properties><property name="obligations" '
        f'value="{value}"/></properties></testcase></testsuite>'
    )
    _, summary = read_report(xml.encode())
    (shown,) = summary.invalid_ids
    assert len(shown) == INVALID_ID_SHOWN and shown.endswith("…")


@pytest.mark.parametrize(
    ("xml", "hint"),
    [
        (b'<testsuite name="s"><testcase name="a\x00b"/></testsuite>', "raw control characters"),
        (b'<testsuite name="s"><testcase name="a&#0;b"/></testsuite>', "even escaped"),
        (b'<testsuite name="s"><testcase name="a&#x1b;b"/></testsuite>', "even escaped"),
    ],
    ids=["raw NUL", "NUL reference", "escape reference"],
)
def test_control_characters_are_refused_with_a_hint(xml: bytes, hint: str) -> None:
    with pytest.raises(ReportError, match="not well-formed") as caught:
        read_report(xml)
    assert hint in str(caught.value) and caught.value.line == 1


@pytest.mark.parametrize("declared", ["UTF-7", "Shift_JIS", "EBCDIC-US", "cp1252", "x-bogus"])
def test_an_encoding_the_tracker_does_not_read_is_a_clear_error(declared: str) -> None:
    xml = f'<?xml version="1.0" encoding="{declared}"?><testsuite name="s"/>'.encode()
    with pytest.raises(ReportError, match=f'declares encoding="{declared}", which the tracker'):
        read_report(xml)


def test_a_hostile_encoding_name_is_shown_harmlessly() -> None:
    xml = b'<?xml version="1.0" encoding="a\tb"?><testsuite name="s"/>'
    with pytest.raises(ReportError, match='encoding="a\\?b"'):
        read_report(xml)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_reports_are_read_with_or_without_byte_order_mark(codec: str) -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<testsuite name="suíte"><testcase classname="個人情報" name="t">'
        '<failure message="«x»"/></testcase></testsuite>'
    )
    cases, _ = read_report(xml.encode(codec))
    assert cases[0].test_id == "suíte/個人情報/t" and cases[0].message == "«x»"


def test_utf8_with_byte_order_mark_and_ascii_and_latin1_are_read() -> None:
    body = '<testsuite name="s"><testcase name="ação"/></testsuite>'
    assert read_report(codecs.BOM_UTF8 + body.encode())[0][0].name == "ação"
    ascii_xml = b'<?xml version="1.0" encoding="US-ASCII"?><testsuite name="s"><testcase name="a"/></testsuite>'
    assert read_report(ascii_xml)[0][0].name == "a"
    latin = ('<?xml version="1.0" encoding="latin1"?>' + body).encode("iso-8859-1")
    assert read_report(latin)[0][0].name == "ação"


def test_a_report_that_is_not_in_its_declared_encoding_says_so() -> None:
    xml = '<?xml version="1.0" encoding="US-ASCII"?><testsuite name="ação"/>'.encode()
    with pytest.raises(ReportError, match="not valid US-ASCII: byte"):
        read_report(xml)
    with pytest.raises(ReportError, match="is not written in UTF-16"):
        read_report(b'<?xml version="1.0" encoding="UTF-16"?><testsuite name="s"/>')
    with pytest.raises(ReportError, match="UTF-32"):
        read_report('<testsuite name="s"/>'.encode("utf-32"))


def test_reading_gives_up_past_its_time_budget() -> None:
    many = "".join(f'<testcase classname="c" name="t{index}"/>' for index in range(30_000))
    xml = f'<testsuite name="s">{many}</testsuite>'.encode()
    with pytest.raises(ReportError, match="longer than the 0 seconds an upload may take"):
        list(JUnitReader(xml, max_seconds=0).cases())
    assert len(list(JUnitReader(xml, max_seconds=60).cases())) == 30_000
