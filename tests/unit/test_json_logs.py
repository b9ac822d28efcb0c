"""JSON log lines: one object per record, RFC 3339 UTC times, the request id that is bound."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from tracker.logs import (
    JsonFormatter,
    bound_request_id,
    configure_logging,
    current_request_id,
    log_format,
    request_id_from,
)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record of the process as JSON lines into a buffer, as TRACKER_LOG_FORMAT=json does."""
    root = logging.getLogger()
    level = root.level
    werkzeug_level = logging.getLogger("werkzeug").level
    buffer = io.StringIO()
    configure_logging("json", stream=buffer)
    yield buffer
    configure_logging("text")
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(werkzeug_level)


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_time_level_logger_message_and_request_id(
    json_lines: io.StringIO,
) -> None:
    with bound_request_id("job-42"):
        logging.getLogger("tracker.jobs.runner").info("Synced %d pages\nof Jira", 3)
    logging.getLogger("tracker.other").warning("outside any request")
    first, second = _lines(json_lines)
    assert first["level"] == "INFO"
    assert first["logger"] == "tracker.jobs.runner"
    assert first["message"] == "Synced 3 pages\nof Jira"  # one line still: the newline is escaped
    assert first["request_id"] == "job-42"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", str(first["time"]))
    assert second["request_id"] is None
    assert len(json_lines.getvalue().splitlines()) == 2


def test_an_exception_goes_into_its_own_field(json_lines: io.StringIO) -> None:
    try:
        raise RuntimeError("the queue fell over")
    except RuntimeError:
        logging.getLogger("tracker").exception("Job failed")
    (line,) = _lines(json_lines)
    assert line["message"] == "Job failed"
    assert "RuntimeError: the queue fell over" in str(line["exception"])


def test_configuring_twice_keeps_one_handler(json_lines: io.StringIO) -> None:
    configure_logging("json", stream=json_lines)
    logging.getLogger("tracker").warning("once")
    assert len(_lines(json_lines)) == 1


def test_the_formatter_leaves_out_fields_a_record_does_not_carry() -> None:
    record = logging.LogRecord("tracker", logging.ERROR, __file__, 1, "plain", None, None)
    line = json.loads(JsonFormatter().format(record))
    assert set(line) == {"time", "level", "logger", "message", "request_id"}


def test_a_safe_incoming_request_id_is_kept_and_anything_else_replaced() -> None:
    assert request_id_from("abc-123_X.y") == "abc-123_X.y"
    assert request_id_from("a" * 64) == "a" * 64
    for unsafe in (None, "", "a" * 65, "two words", "line\nbreak", "é", "x;rm -rf"):
        replaced = request_id_from(unsafe)
        assert re.fullmatch(r"[0-9a-f]{32}", replaced), unsafe
    assert request_id_from(None) != request_id_from(None)


def test_the_request_id_is_unbound_after_the_block() -> None:
    with bound_request_id("outer"):
        with bound_request_id("inner"):
            assert current_request_id() == "inner"
        assert current_request_id() == "outer"
    assert current_request_id() is None


def test_the_log_format_is_text_or_json() -> None:
    assert log_format(None) == "text"
    assert log_format(" JSON ") == "json"
    with pytest.raises(ValueError, match="TRACKER_LOG_FORMAT must be text or json, not 'xml'"):
        log_format("xml")
