"""`tracker catalog export`: the bundled catalog as OSCAL, validated and resolved with trestle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from trestle.core.profile_resolver import ProfileResolver
from trestle.oscal.catalog import Catalog
from trestle.oscal.profile import Profile

from tests.helpers import transaction
from tracker import resources
from tracker.domain.access import cli_actor
from tracker.services.links import decide_applicability

BUNDLED = resources.catalog_path()
EXCLUDED = "HIPAA-164.312.a.1"
OVERRIDDEN = "GDPR-17.1"


def export(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["catalog", "export", *args])


def load_bundled_catalog(runner: Any) -> None:
    result = runner.invoke(args=["catalog", "load", str(BUNDLED)], catch_exceptions=False)
    assert "246 entries" in result.output, result.output


def load_bundled_data_map(runner: Any) -> None:
    result = runner.invoke(
        args=["datamap", "load", str(resources.data_map_path())], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output


def decide(session: Session) -> None:
    """Legal follows the data map on HIPAA's access control and departs from it on erasure."""
    with transaction(session):
        decide_applicability(
            session=session,
            obligation_id=EXCLUDED,
            not_applicable=True,
            justification="No activity processes health data in the US.",
            actor=cli_actor("legal review"),
        )
        decide_applicability(
            session=session,
            obligation_id=OVERRIDDEN,
            not_applicable=True,
            justification="Erasure is handled by the parent company's platform.",
            actor=cli_actor("legal review"),
        )


def control_ids(items: list[Any]) -> list[str]:
    found = []
    for item in items or []:
        found.append(item.id)
        found += control_ids(item.controls)
    return found


def test_the_bundled_catalog_exports_as_a_valid_oscal_catalog_of_all_246_entries(
    runner: Any, tmp_path: Path
) -> None:
    load_bundled_catalog(runner)
    target = tmp_path / "catalog.json"
    result = export(runner, "--format", "oscal-catalog", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "OSCAL catalog of 246 entries" in result.stderr
    catalog = Catalog.model_validate(json.loads(target.read_text(encoding="utf-8"))["catalog"])
    assert [group.id for group in catalog.groups or []] == [
        "ccpa",
        "ccparegs",
        "gdpr",
        "hipaa",
        "lgpd",
    ]
    ids = [cid for group in catalog.groups or [] for cid in control_ids(group.controls or [])]
    assert len(ids) == len(set(ids)) == 246
    gdpr = next(group for group in catalog.groups or [] if group.id == "gdpr")
    article = next(control for control in gdpr.controls or [] if control.id == "gdpr-17")
    assert [child.id for child in article.controls or []][:1] == ["gdpr-17.1"]
    # Exporting again, from the same database, gives the same bytes.
    again = export(runner, "--format", "oscal-catalog")
    assert again.stdout == target.read_text(encoding="utf-8")


def test_the_profile_selects_what_applies_and_trestle_resolves_it_against_the_catalog(
    runner: Any, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_bundled_catalog(runner)
    load_bundled_data_map(runner)
    decide(session)
    catalog_file, profile_file = tmp_path / "catalog.json", tmp_path / "profile.json"
    assert export(runner, "--format", "oscal-catalog", "--output", str(catalog_file)).exit_code == 0
    result = export(runner, "--format", "oscal-profile", "--output", str(profile_file))
    assert result.exit_code == 0, result.output
    catalog = json.loads(catalog_file.read_text(encoding="utf-8"))["catalog"]
    retention = next(group for group in catalog["groups"] if group["id"] == "retention")
    assert retention["class"] == "retention-duties" and retention["controls"]
    entries = 246 + len(retention["controls"])
    assert f"{entries - 2} catalog entries apply, 2 excluded." in result.stderr

    document = json.loads(profile_file.read_text(encoding="utf-8"))["profile"]
    Profile.model_validate(document)
    assert document["imports"][0]["href"] == "catalog.json"
    assert document["imports"][0]["exclude-controls"] == [
        {"with-ids": ["gdpr-17.1", "hipaa-164.312.a.1"]}
    ]
    reasons = {
        prop["value"]: prop["remarks"]
        for prop in document["metadata"]["props"]
        if prop["name"] == "excluded-control"
    }
    # HIPAA: the bundled health-sync activity processes sensor data, not health data.
    assert reasons["hipaa-164.312.a.1"].endswith(
        "No activity processes health data in the US. "
        "The data map proposes: not applicable; decision state: confirmed."
    )
    assert reasons["gdpr-17.1"].endswith(
        "The data map proposes: applicable; decision state: overridden."
    )
    alters = {alter["control-id"]: alter["adds"][0] for alter in document["modify"]["alters"]}
    sign_up = [
        prop["value"]
        for prop in alters["gdpr-17.2"]["props"]
        if prop["name"] == "data-map-activity"
    ]
    assert "sign-up" in sign_up
    assert "gdpr-17.1" not in alters

    # The profile's relative import is resolved next to it, as a GRC tool would.
    (tmp_path / ".trestle").mkdir()
    monkeypatch.chdir(tmp_path)
    resolved = ProfileResolver.get_resolved_profile_catalog(tmp_path, str(profile_file))
    ids = [cid for group in resolved.groups or [] for cid in control_ids(group.controls or [])]
    assert len(ids) == entries - 2
    assert "hipaa-164.312.a.1" not in ids and "gdpr-17.1" not in ids and "gdpr-17.2" in ids


def test_the_catalog_href_option_points_the_import_elsewhere(runner: Any) -> None:
    load_bundled_catalog(runner)
    href = "https://grc.example/oscal/privacy-catalog.json"
    result = export(runner, "--format", "oscal-profile", "--catalog-href", href)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["profile"]["imports"][0]["href"] == href


def test_the_catalog_href_goes_with_the_profile_only(runner: Any) -> None:
    result = export(runner, "--format", "oscal-catalog", "--catalog-href", "x.json")
    assert result.exit_code == 2
    assert "--catalog-href goes with --format oscal-profile only" in result.output


@pytest.mark.parametrize(
    ("href", "message"),
    [("my catalog.json", "without spaces"), ("a\x01b", "control character")],
)
def test_a_catalog_href_that_is_no_address_is_refused(runner: Any, href: str, message: str) -> None:
    load_bundled_catalog(runner)
    result = export(runner, "--format", "oscal-profile", "--catalog-href", href)
    assert result.exit_code in {1, 2}
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_export_before_any_catalog_is_loaded_says_what_to_do(runner: Any) -> None:
    for fmt in ("oscal-catalog", "oscal-profile"):
        result = export(runner, "--format", fmt)
        assert result.exit_code == 1
        assert "load it with `tracker catalog load`" in result.output


def test_an_output_file_that_cannot_be_written_is_a_clear_error(
    runner: Any, tmp_path: Path
) -> None:
    load_bundled_catalog(runner)
    result = export(
        runner, "--format", "oscal-catalog", "--output", str(tmp_path / "no" / "c.json")
    )
    assert result.exit_code == 1
    assert "Cannot write" in result.output
