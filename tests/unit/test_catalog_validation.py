"""Catalog validation lists every problem with file, line, obligation id and field."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tracker.catalog import known_obligation_ids, read_catalog, yaml_documents
from tracker.cli.catalog import render_schema
from tracker.config import DEFAULT_CATALOG_PATH
from tracker.errors import CatalogError

HEADER = """instrument:
  id: GDPR
  title: General Data Protection Regulation
  jurisdiction: EU
  official_url: https://eur-lex.europa.eu/eli/reg/2016/679/oj
obligations:
"""
GOOD = """  - id: {id}
    citation: Art. 17(1)
    title: Right to erasure
    summary: Delete a person's data without undue delay when they ask and a ground applies.
    official_url: https://eur-lex.europa.eu/eli/reg/2016/679/oj
    severity: high
    evidence: [{{type: automated_test, description: End-to-end erasure test.}}]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[tuple[str, int | None, str | None, str | None, str]]:
    return [
        (Path(p.file or "").name, p.line, p.obligation_id, p.field, p.message)
        for p in read_catalog(path).problems
    ]


def test_the_bundled_catalog_is_valid_and_large_enough() -> None:
    catalog = read_catalog(DEFAULT_CATALOG_PATH)
    assert catalog.ok, [str(p) for p in catalog.problems]
    counts: dict[str, int] = {}
    for located in catalog.obligations:
        if located.spec.assessable:
            counts[located.instrument_id] = counts.get(located.instrument_id, 0) + 1
    assert counts["GDPR"] >= 60
    assert counts.get("CCPA", 0) + counts.get("CCPAREGS", 0) >= 20
    assert counts["LGPD"] >= 12
    assert counts["HIPAA"] >= 10
    mappings = sum(len(located.spec.mappings) for located in catalog.obligations)
    assert mappings >= 10
    assert {"CCPAREGS-7025.c.1", "GDPR-33.1"} <= catalog.ids


def test_broken_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "gdpr.yaml", HEADER + GOOD.format(id="GDPR-17.1") + "  - id: [unclosed\n")
    [(file, line, _, _, message)] = problems_of(tmp_path)
    assert file == "gdpr.yaml"
    assert line == 15
    assert message.startswith("YAML syntax error")


def test_every_schema_problem_is_listed_at_once_with_field_and_line(tmp_path: Path) -> None:
    bad = GOOD.format(id="GDPR-17.2").replace("severity: high", "severity: huge")
    bad = bad.replace("summary: Delete", "summry: Delete")
    write(
        tmp_path,
        "gdpr.yaml",
        HEADER + GOOD.format(id="GDPR-17.1") + bad + "    effective_date: '2018-02-30'\n",
    )
    found = {(line, ob, field) for _, line, ob, field, _ in problems_of(tmp_path)}
    assert found == {
        (17, "GDPR-17.2", "summry"),  # unknown field, at its own line
        (14, "GDPR-17.2", "summary"),  # missing field, at the obligation's line
        (19, "GDPR-17.2", "severity"),
        (21, "GDPR-17.2", "effective_date"),
    }


def test_duplicate_ids_across_files_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", HEADER + GOOD.format(id="GDPR-17.1"))
    write(tmp_path, "b.yaml", HEADER.replace("id: GDPR", "id: GDPR") + GOOD.format(id="GDPR-17.1"))
    messages = [m for _, _, _, _, m in problems_of(tmp_path)]
    assert any("duplicate id: already defined at" in m for m in messages)
    assert any("instrument GDPR is also defined" in m for m in messages)


def test_unknown_parent_mapping_target_and_wrong_prefix_are_reported(tmp_path: Path) -> None:
    text = HEADER + GOOD.format(id="GDPR-17.1") + "    parent: GDPR-17\n"
    text += "    mappings: [{target: CCPA-1798.105.c, relationship: intersects-with}]\n"
    text += GOOD.format(id="LGPD-18.VI")
    write(tmp_path, "gdpr.yaml", text)
    found = {(ob, field, message) for _, _, ob, field, message in problems_of(tmp_path)}
    assert ("GDPR-17.1", "parent", "unknown parent 'GDPR-17'") in found
    assert ("GDPR-17.1", "mappings", "mappings[0]: unknown target 'CCPA-1798.105.c'") in found
    assert any(ob == "LGPD-18.VI" and "must start with" in m for ob, _, m in found)


def test_parent_cycles_are_reported(tmp_path: Path) -> None:
    text = (
        HEADER
        + GOOD.format(id="GDPR-1")
        + "    parent: GDPR-2\n"
        + GOOD.format(id="GDPR-2")
        + "    parent: GDPR-1\n"
    )
    write(tmp_path, "gdpr.yaml", text)
    messages = [m for _, _, _, _, m in problems_of(tmp_path)]
    assert any(m.startswith("parent cycle: ") for m in messages)


def test_duplicate_keys_in_one_obligation_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "gdpr.yaml", HEADER + GOOD.format(id="GDPR-17.1") + "    severity: low\n")
    [(_, line, _, field, message)] = problems_of(tmp_path)
    assert (line, field) == (14, "severity")
    assert "appears twice" in message


def test_assessable_obligation_without_evidence_is_an_error(tmp_path: Path) -> None:
    text = HEADER + GOOD.format(id="GDPR-17.1").replace(
        "    evidence: [{type: automated_test, description: End-to-end erasure test.}]\n", ""
    )
    write(tmp_path, "gdpr.yaml", text)
    [(_, _, ob, _, message)] = problems_of(tmp_path)
    assert ob == "GDPR-17.1"
    assert "evidence" in message


def test_known_obligation_ids_refuses_an_invalid_catalog(tmp_path: Path) -> None:
    write(tmp_path, "gdpr.yaml", "instrument: [")
    with pytest.raises(CatalogError) as error:
        known_obligation_ids(tmp_path)
    assert error.value.problems


def test_exported_json_schema_is_up_to_date() -> None:
    stored = (DEFAULT_CATALOG_PATH / "schema.json").read_text(encoding="utf-8")
    assert stored == render_schema(), (
        "requirements_catalog/schema.json is stale: run `tracker catalog schema`"
    )
    schema = json.loads(stored)
    assert "instrument" in schema["properties"]


def test_a_bad_severity_does_not_hide_an_unknown_mapping_target(tmp_path: Path) -> None:
    bad = GOOD.format(id="GDPR-17.2").replace("severity: high", "severity: huge")
    bad += "    mappings: [{target: CCPA-1798.105.c, relationship: intersects-with}]\n"
    write(tmp_path, "gdpr.yaml", HEADER + GOOD.format(id="GDPR-17.1") + bad)
    found = {(file, line, ob, field) for file, line, ob, field, _ in problems_of(tmp_path)}
    assert found == {
        ("gdpr.yaml", 19, "GDPR-17.2", "severity"),
        ("gdpr.yaml", 21, "GDPR-17.2", "mappings"),
    }
    messages = [m for *_, m in problems_of(tmp_path)]
    assert "mappings[0]: unknown target 'CCPA-1798.105.c'" in messages


def test_a_bad_field_does_not_hide_a_missing_severity_or_a_duplicate_id(tmp_path: Path) -> None:
    bad = GOOD.format(id="GDPR-17.1").replace("    severity: high\n", "")
    bad = bad.replace("official_url: https://eur-lex", "official_url: ftp://eur-lex")
    write(tmp_path, "gdpr.yaml", HEADER + GOOD.format(id="GDPR-17.1") + bad)
    found = {(line, ob, field) for _, line, ob, field, _ in problems_of(tmp_path)}
    assert found == {
        (18, "GDPR-17.1", "official_url"),
        (14, "GDPR-17.1", "severity"),  # the rule of the whole entry, at its line
        (14, "GDPR-17.1", "id"),  # the duplicate, though the entry is invalid too
    }


def test_a_mapping_to_an_invalid_entry_is_not_called_unknown(tmp_path: Path) -> None:
    good = GOOD.format(id="GDPR-17.1")
    good += "    mappings: [{target: GDPR-17.2, relationship: intersects-with}]\n"
    bad = GOOD.format(id="GDPR-17.2").replace("severity: high", "severity: huge")
    write(tmp_path, "gdpr.yaml", HEADER + good + bad)
    assert [(ob, field) for _, _, ob, field, _ in problems_of(tmp_path)] == [
        ("GDPR-17.2", "severity")
    ]


#: libyaml composes when it refuses deep nesting itself (0.2.6 and newer); PyYAML's composer,
#: counting the depth, otherwise. The hostile documents below go through both.
COMPOSERS = [
    pytest.param(False, id="pyyaml-composer"),
    pytest.param(
        True,
        id="libyaml-composer",
        marks=pytest.mark.skipif(
            not yaml_documents._LineLoader.c_composer,
            reason="this libyaml has no nesting limit of its own",
        ),
    ),
]


@pytest.fixture(params=COMPOSERS)
def composer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(yaml_documents._LineLoader, "c_composer", request.param)
    return bool(request.param)


def test_yaml_nested_500_levels_is_a_problem_with_its_line(tmp_path: Path, composer: bool) -> None:
    write(tmp_path, "gdpr.yaml", HEADER + "  - id: " + "[" * 500 + "]" * 500 + "\n")
    [(file, line, _, _, message)] = problems_of(tmp_path)
    assert (file, line) == ("gdpr.yaml", 7)
    assert "nested more than 50 levels deep" in message


@pytest.mark.parametrize("style", ["flow", "block"])
def test_yaml_nested_100000_levels_is_the_same_problem_not_a_crash(
    tmp_path: Path, composer: bool, style: str
) -> None:
    deep = "[" * 100_000 + "]" * 100_000 if style == "flow" else "\n      " + "- " * 100_000 + "x"
    write(tmp_path, "gdpr.yaml", HEADER + "  - id: GDPR-1\n    x: " + deep + "\n")
    [(file, _, _, _, message)] = problems_of(tmp_path)
    assert file == "gdpr.yaml"
    assert "nested more than 50 levels deep" in message


def test_billion_laughs_aliases_are_refused_quickly(tmp_path: Path, composer: bool) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    write(tmp_path, "laughs.yaml", "\n".join(lines) + "\n")
    started = time.monotonic()
    [(_, line, _, _, message)] = problems_of(tmp_path)
    assert time.monotonic() - started < 2
    assert "aliases expand to more than 100,000 values" in message
    assert line is not None and line <= 10


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path, composer: bool) -> None:
    write(tmp_path, "gdpr.yaml", HEADER + "  - &entry {id: GDPR-1, parent: *entry}\n")
    [(_, line, _, _, message)] = problems_of(tmp_path)
    assert line == 7
    assert "used inside its own anchor" in message


def test_anchors_and_aliases_within_the_limits_still_work(tmp_path: Path) -> None:
    text = HEADER.replace("obligations:\n", "x-evidence: &evidence\n")
    text += "  - {type: automated_test, description: End-to-end erasure test.}\nobligations:\n"
    text += GOOD.format(id="GDPR-17.1").replace(
        "    evidence: [{type: automated_test, description: End-to-end erasure test.}]\n",
        "    evidence: *evidence\n",
    )
    write(tmp_path, "gdpr.yaml", text)
    catalog = read_catalog(tmp_path)
    # the extra top-level key is the only problem: the alias itself was read
    assert [p.field for p in catalog.problems] == ["x-evidence"]
    assert catalog.obligations[0].spec.evidence[0].type == "automated_test"


def test_lgpd_titles_name_each_article_not_its_chapter() -> None:
    catalog = read_catalog(DEFAULT_CATALOG_PATH)
    titles = [item.spec.title for item in catalog.obligations if item.instrument_id == "LGPD"]
    assert len(titles) >= 12
    assert len(set(titles)) == len(titles), "two LGPD entries share a title"
    chapter_headings = {
        "Disposições Preliminares",
        "Dos Requisitos para o Tratamento de Dados Pessoais",
        "Do Tratamento de Dados Pessoais de Crianças e de Adolescentes",
        "Dos Direitos do Titular",
        "Do Controlador e do Operador",
        "Do Encarregado pelo Tratamento de Dados Pessoais",
        "Da Segurança e do Sigilo de Dados",
    }
    assert chapter_headings.isdisjoint(titles)


def test_the_catalog_size_counts_obligations_and_the_groups_they_sit_in(tmp_path: Path) -> None:
    group = GOOD.format(id="GDPR-17").replace(
        "    severity: high\n    evidence: [{type: automated_test, description: End-to-end erasure test.}]\n",
        "    assessable: false\n",
    )
    write(
        tmp_path,
        "gdpr.yaml",
        HEADER + group + GOOD.format(id="GDPR-17.1") + GOOD.format(id="GDPR-17.2"),
    )
    assert read_catalog(tmp_path).size() == "3 entries (2 obligations in 1 group)"


def test_a_mapping_into_an_unreadable_file_is_not_called_unknown(tmp_path: Path) -> None:
    bad = GOOD.format(id="GDPR-17.1").replace("severity: high", "severity: huge")
    bad += "    mappings: [{target: LGPD-18.VI, relationship: equivalent-to}]\n"
    write(tmp_path, "gdpr.yaml", HEADER + bad)
    write(tmp_path, "lgpd.yaml", "instrument: {id: LGPD\n")
    found = {(file, field) for file, _, _, field, _ in problems_of(tmp_path)}
    # The broken file is what to fix; the mapping into it is not a second, false problem.
    assert found == {("gdpr.yaml", "severity"), ("lgpd.yaml", None)}


@pytest.mark.parametrize(("version", "composes"), [((0, 2, 5), False), ((0, 2, 6), True)])
def test_libyaml_composes_only_where_it_limits_nesting_itself(
    monkeypatch: pytest.MonkeyPatch, version: tuple[int, int, int], composes: bool
) -> None:
    # libyaml 0.2.5's recursive composer has no limit: a deep document would crash the process.
    from yaml import _yaml

    monkeypatch.setattr(_yaml, "get_version", lambda: version)
    assert yaml_documents._libyaml_bounds_nesting() is composes
