"""The OSCAL catalog and profile downloads under the matrix page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from sqlmodel import Session
from trestle.oscal.catalog import Catalog
from trestle.oscal.profile import Profile

from tests.evidence_helpers import load_small_catalog
from tests.helpers import transaction
from tracker.domain.access import cli_actor
from tracker.services.links import decide_applicability

CATALOG_URL = "/matrix/oscal/catalog.json"
PROFILE_URL = "/matrix/oscal/profile.json"


def test_the_catalog_downloads_as_a_valid_oscal_catalog(client: Any, session: Session) -> None:
    load_small_catalog(session)
    response = client.get(CATALOG_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="catalog.json"'
    catalog = Catalog.model_validate(response.get_json()["catalog"])
    assert [group.id for group in catalog.groups or []] == ["alpha", "beta"]
    assert client.get(CATALOG_URL).get_data() == response.get_data()


def test_the_profile_download_imports_the_catalog_download_and_leaves_out_what_does_not_apply(
    client: Any, session: Session
) -> None:
    load_small_catalog(session)
    with transaction(session):
        decide_applicability(
            session=session,
            obligation_id="ALPHA-1.2",
            not_applicable=True,
            justification="We sell to businesses only, no consumers.",
            actor=cli_actor("legal"),
        )
    response = client.get(PROFILE_URL)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="profile.json"'
    profile = response.get_json()["profile"]
    Profile.model_validate(profile)
    selection = profile["imports"][0]
    # Relative to the profile's address, the import is the catalog download.
    assert urljoin(PROFILE_URL, selection["href"]) == CATALOG_URL
    assert selection["exclude-controls"] == [{"with-ids": ["alpha-1.2"]}]
    included = selection["include-controls"][0]["with-ids"]
    assert "alpha-1.2" not in included and "alpha-1.1" in included


def test_the_matrix_page_links_both_downloads(client: Any, session: Session) -> None:
    load_small_catalog(session)
    page = client.get("/matrix").get_data(as_text=True)
    assert f'href="{CATALOG_URL}"' in page
    assert f'href="{PROFILE_URL}"' in page


def test_before_a_catalog_is_loaded_the_downloads_say_what_to_do(client: Any) -> None:
    for url in (CATALOG_URL, PROFILE_URL):
        response = client.get(url)
        assert response.status_code == 404
        text = response.get_data(as_text=True)
        assert "tracker catalog load" in text and "Traceback" not in text
