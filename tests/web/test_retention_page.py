"""The retention schedule page: duties by data category, their evidence, filters and scope."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.evidence_helpers import HOSTILE, case, ingest, link_done_work_item, report
from tests.helpers import transaction
from tests.retention_helpers import EMAIL, EMAIL_BACKUPS, SENSOR, write_data_map
from tracker.data_map.reader import read_data_map
from tracker.domain.access import cli_actor
from tracker.services.data_map import load_data_map


def load(engine: Engine, folder: Path) -> None:
    with Session(engine) as session, transaction(session):
        load_data_map(session=session, data_map=read_data_map(folder), actor=cli_actor("privacy"))


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    load(engine, write_data_map(tmp_path))
    with Session(engine) as session:
        link_done_work_item(session, SENSOR, "APP-12")
        ingest(
            session,
            report(
                case("test_sensor_readings_are_purged_after_a_year", SENSOR),
                case("test_closed_accounts_lose_their_email", EMAIL, outcome="failed"),
            ),
            release="2026.12",
        )
    return engine


def row_of(page: str, obligation_id: str) -> str:
    match = re.search(rf'<tr id="{re.escape(obligation_id)}">(.*?)</tr>', page, re.DOTALL)
    assert match, f"no row for {obligation_id}"
    return match.group(1)


def test_the_schedule_lists_each_duty_by_category_with_its_evidence_and_status(
    client: Any, loaded: Engine
) -> None:
    response = client.get("/retention")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Grouped by data category: e-mail addresses in two systems, then the sensor readings.
    groups = re.findall(r'<th scope="rowgroup" colspan="6"><code>([^<]+)</code>', page)
    assert groups == ["user.contact.email", "user.sensor"]
    sensor = row_of(page, SENSOR)
    assert "Health sync service" in sensor and "1 year after <code>collected</code>" in sensor
    assert 'href="/obligations/RETENTION-healthSyncService.user.sensor"' in sensor
    assert 'href="/data-map/activities/health-sync"' in sensor
    assert "APP-12" in sensor and "Passed" in sensor
    assert "test_sensor_readings_are_purged_after_a_year" in sensor
    assert 'class="badge st-verified">Verified' in sensor
    email = row_of(page, EMAIL)
    assert "Failed" in email and 'class="badge st-failing">Failing' in email
    backups = row_of(page, EMAIL_BACKUPS)
    # The longest period applies; sign-up's shorter one is a note under it.
    assert "2 years after <code>unsubscribed</code>" in backups
    assert "Also" in backups and "30 days after account_closed" in backups
    assert "None linked" in backups and 'class="badge st-gap">Gap' in backups
    assert "<strong>3</strong> of 3 retention duties shown." in page


def test_the_schedule_filters_by_system_and_status(client: Any, loaded: Engine) -> None:
    page = client.get("/retention?system=backups").get_data(as_text=True)
    assert EMAIL_BACKUPS in page and SENSOR not in page and f'id="{EMAIL}"' not in page
    assert '<option value="backups" selected>' in page
    page = client.get("/retention?status=verified").get_data(as_text=True)
    assert f'id="{SENSOR}"' in page and f'id="{EMAIL}"' not in page
    page = client.get("/retention?system=web-storefront").get_data(as_text=True)
    assert "No retention duty matches these filters." in page


def test_an_unknown_status_is_refused_with_the_choices(client: Any, loaded: Engine) -> None:
    response = client.get("/retention?status=DONE")
    assert response.status_code == 400
    assert "Unknown status" in response.get_data(as_text=True)
    assert "VERIFIED" in response.get_data(as_text=True)


def test_the_evidence_scope_follows_the_release_chosen(client: Any, loaded: Engine) -> None:
    page = client.get("/retention?release=2026.12").get_data(as_text=True)
    assert "release 2026.12" in page and '<option value="2026.12" selected>' in page
    assert "Passed" in row_of(page, SENSOR)
    # In a release with no run, the linked tests have not run there.
    page = client.get("/retention?release=2027.03").get_data(as_text=True)
    assert "Passed" not in row_of(page, SENSOR) and "Not run" in row_of(page, SENSOR)


def test_an_empty_schedule_says_how_to_fill_it(client: Any) -> None:
    page = client.get("/retention").get_data(as_text=True)
    assert "No retention duties yet" in page and "tracker datamap load" in page
    assert 'href="/retention" aria-current="page"' in page


def test_text_from_the_data_map_is_escaped(client: Any, engine: Engine, tmp_path: Path) -> None:
    load(engine, write_data_map(tmp_path, backups_name=HOSTILE.replace('"', "'")))
    page = client.get("/retention").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_duty_opens_as_an_obligation_and_shows_in_the_matrix(client: Any, loaded: Engine) -> None:
    page = client.get(f"/obligations/{SENSOR}").get_data(as_text=True)
    assert "Delete user.sensor from Health sync service 1 year after collected" in page
    assert "retention period" in page and "APP-12" in page
    matrix = client.get("/matrix?instrument=RETENTION").get_data(as_text=True)
    assert SENSOR in matrix and EMAIL_BACKUPS in matrix and "GDPR-" not in matrix
