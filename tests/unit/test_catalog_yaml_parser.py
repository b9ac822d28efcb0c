"""The catalog reader parses YAML with libyaml (C) and still bounds what the composer builds."""

from __future__ import annotations

from pathlib import Path

import yaml

from tracker.catalog import read_catalog
from tracker.catalog.yaml_documents import LineLoader


def test_the_reader_parses_with_libyaml_when_pyyaml_has_it() -> None:
    expected = yaml.cyaml.CParser if yaml.__with_libyaml__ else yaml.reader.Reader
    assert issubclass(LineLoader, expected)


def test_a_character_yaml_refuses_is_a_problem_on_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("instrument:\n  id: X\n  title: Bell \x07\n")
    [problem] = read_catalog(tmp_path).problems
    assert problem.line == 3
    assert "#x0007" in problem.message and "position" not in problem.message


def test_keys_keep_their_lines_and_dates_stay_text() -> None:
    loader = LineLoader("first: 1\nnested:\n  when: 2026-12-01\n")
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    assert data.key_lines == {"first": 1, "nested": 2}
    assert data["nested"].key_lines == {"when": 3}
    assert data["nested"]["when"] == "2026-12-01"
