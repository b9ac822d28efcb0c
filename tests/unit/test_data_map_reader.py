"""Reading the data map: every problem in one run, each at its file:line, id and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.catalog import read_catalog
from tracker.cli.datamap import SCHEMA_FILE, render_schema
from tracker.config import DEFAULT_CATALOG_PATH, DEFAULT_DATA_MAP_PATH
from tracker.data_map.reader import read_data_map
from tracker.domain.data_map_vocabulary import SURFACES
from tracker.errors import Problem

SYSTEMS = """\
systems:
  - id: web-app
    name: Web app
    hosted_in: [EU]
  - id: web-app
    name: Web app again
    hosted_in: [EU]
"""

ACTIVITIES = """\
activities:
  - id: sign-up
    name: Account sign-up
    purpose: Create the customer's account so that they can shop.
    data_categories: [user.contact.email, user.contact.emial]
    data_subjects: [customer]
    systems: [web-app, billing]
    jurisdictions: [EU, XX]
    roles: [controller]
    retention:
      - data_categories: [user.contact.email]
        period: 3 fortnights
        trigger: account_closed
    dpia:
      required: false
      reason: Ordinary account data, no profiling.
    colour: blue
"""

DPIAS = """\
dpias:
  - id: dpia-sign-up
    activity: sign-up
    title: Sign-up
    description: What the sign-up does with the data it takes.
    necessity: Only what an account needs is asked for.
    risks:
      - id: R1
        title: Accounts are taken over
        likelihood: 7
        impact: 3
        mitigations:
          - description: Passwords are hashed and sign-in is rate limited.
            obligations: [GDPR-32.1, GDPR-99.9]
"""

BROKEN_YAML = """\
activities:
  - id: broken
    name: [unclosed
"""


@pytest.fixture
def broken_map(tmp_path: Path) -> Path:
    folder = tmp_path / "data_map"
    folder.mkdir()
    for name, text in {
        "systems.yaml": SYSTEMS,
        "activities.yaml": ACTIVITIES,
        "dpias.yaml": DPIAS,
        "zz-broken.yaml": BROKEN_YAML,
    }.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _find(problems: tuple[Problem, ...], *words: str) -> Problem:
    found = [p for p in problems if all(word in str(p) for word in words)]
    assert len(found) == 1, f"{words}: {[str(p) for p in problems]}"
    return found[0]


def test_every_bad_input_is_reported_in_one_run_with_its_file_line_id_and_field(
    broken_map: Path,
) -> None:
    data_map = read_data_map(broken_map, known_obligations=frozenset({"GDPR-32.1"}))
    problems = data_map.problems
    assert not data_map.ok

    category = _find(problems, "unknown data category 'user.contact.emial'")
    assert category.file and category.file.endswith("activities.yaml")
    assert (category.line, category.obligation_id, category.field) == (
        5,
        "sign-up",
        "data_categories.1",
    )
    assert "did you mean user.contact.email" in category.message

    system = _find(problems, "unknown system 'billing'")
    assert (system.line, system.field) == (7, "systems.1")

    place = _find(problems, "unknown jurisdiction 'XX'")
    assert (place.line, place.field) == (8, "jurisdictions.1")
    assert "EU, EEA, UK" in place.message

    period = _find(problems, "3 fortnights")
    assert (period.line, period.obligation_id) == (12, "sign-up")
    assert "30 days" in period.message

    unknown_field = _find(problems, "colour")
    assert (unknown_field.line, unknown_field.field) == (17, "colour")

    duplicate = _find(problems, "duplicate system id 'web-app'")
    assert duplicate.file and duplicate.file.endswith("systems.yaml")
    assert duplicate.line == 5 and "systems.yaml:2" in duplicate.message

    scale = _find(problems, "1-5 scale")
    assert scale.file and scale.file.endswith("dpias.yaml")
    assert (scale.line, scale.obligation_id) == (10, "dpia-sign-up")
    assert scale.field and scale.field.endswith("likelihood")
    assert "5 almost certain" in scale.message

    obligation = _find(problems, "unknown obligation 'GDPR-99.9'")
    assert (obligation.line, obligation.field) == (14, "risks.0.mitigations.0.obligations")

    syntax = _find(problems, "YAML syntax error")
    assert syntax.file and syntax.file.endswith("zz-broken.yaml")
    assert syntax.line is not None and syntax.line >= 3

    # Each problem prints as file:line: id: field: message, which is what the CLI shows.
    assert str(system).endswith("activities.yaml:7: sign-up: systems.1: " + system.message)
    # Nothing else is wrong in these files: the list is exactly the problems above.
    assert len(problems) == 9, [str(p) for p in problems]


def test_the_known_obligations_are_checked_only_when_given(broken_map: Path) -> None:
    problems = read_data_map(broken_map).problems
    assert not [p for p in problems if "unknown obligation" in p.message]


def test_a_missing_folder_is_an_error_that_says_what_to_give(tmp_path: Path) -> None:
    from tracker.errors import CatalogError

    with pytest.raises(CatalogError, match="give a folder of YAML files"):
        read_data_map(tmp_path / "nowhere")


def test_the_bundled_data_map_is_valid_against_the_bundled_catalog() -> None:
    catalog = read_catalog(DEFAULT_CATALOG_PATH)
    known = frozenset(located.spec.id for located in catalog.obligations)
    data_map = read_data_map(DEFAULT_DATA_MAP_PATH, known_obligations=known)
    assert data_map.problems == ()
    ids = {item.spec.id for item in data_map.activities}
    assert {"sign-up", "payments", "product-analytics", "customer-support", "health-sync"} <= ids
    health = next(item.spec for item in data_map.activities if item.spec.id == "health-sync")
    # The demo adds health data to this activity to show HIPAA being proposed.
    assert "user.health_and_medical" not in health.data_categories


def test_the_bundled_schema_json_is_up_to_date() -> None:
    stored = (DEFAULT_DATA_MAP_PATH / SCHEMA_FILE).read_text(encoding="utf-8")
    assert stored == render_schema(), "run `tracker datamap schema` and commit data_map/schema.json"


def test_a_system_surface_outside_the_list_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "systems.yaml").write_text(
        "systems:\n  - id: web-app\n    name: Web app\n    surfaces: [webb, mobile]\n",
        encoding="utf-8",
    )
    problems = [str(problem) for problem in read_data_map(tmp_path).problems]
    assert any(
        "systems.yaml:4: web-app: surfaces.0: unknown surface 'webb': did you mean web?" in p
        for p in problems
    ), problems


def test_every_surface_the_bundled_catalog_uses_is_in_the_list() -> None:
    catalog = read_catalog(DEFAULT_CATALOG_PATH)
    used = {
        surface
        for located in catalog.obligations
        for surface in located.spec.applicability.surfaces
    }
    assert used and used <= set(SURFACES)


@pytest.mark.parametrize("text", ["=1+1", " =1+1", "\u00a0@SUM(A1)", "+1", "-2", "\tx"])
def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(text: str) -> None:
    from tracker.integrations.art30_export import csv_cell

    assert csv_cell(text) == "'" + text
    assert csv_cell("Sign-up = accounts") == "Sign-up = accounts"
