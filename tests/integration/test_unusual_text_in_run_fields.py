"""Run fields follow the one text rule: unusual but real characters are kept, non-text refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.evidence_helpers import case, ingest, load_small_catalog, report, snapshot
from tracker.errors import ValidationError
from tracker.models import TestRun


@pytest.mark.parametrize(
    "branch",
    ["release\u00a0candidate", "release\u2028candidate", "Größe-ünd-東京"],
    ids=["a non-breaking space", "a line separator (U+2028)", "letters of other scripts"],
)
def test_a_run_option_with_unusual_but_real_characters_is_stored_as_given(
    session: Session, branch: str
) -> None:
    done = ingest(session, report(case("test_erasure")), branch=branch)
    run = session.get(TestRun, done.run_id)
    assert run is not None and run.branch == branch


def test_a_run_option_with_half_a_surrogate_pair_is_refused_as_not_text(
    session: Session, engine: Engine
) -> None:
    before = snapshot(engine)
    with pytest.raises(ValidationError, match="branch holds characters that are not valid text"):
        ingest(session, report(case("test_erasure")), branch="main\udcff")
    session.rollback()
    assert snapshot(engine) == before


def test_undecodable_bytes_in_a_command_line_argument_are_a_usage_error_naming_it(
    runner: Any, session: Session, tmp_path: Path
) -> None:
    load_small_catalog(session)
    file = tmp_path / "report.xml"
    file.write_bytes(report(case("test_a", "ALPHA-1.1")))
    # How Python hands over an argument whose bytes are not UTF-8 (b"main\xff"): a lone surrogate.
    result = runner.invoke(args=["results", "ingest", str(file), "--branch", "main\udcff"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--branch'" in result.output
    assert "not valid text" in result.output
    assert "Unexpected error" not in result.output and "Traceback" not in result.output
    session.rollback()
    assert session.exec(select(TestRun)).all() == []
