"""The data map pages and the Art. 30 downloads: what a viewer sees, escaped, and the files."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.auth_helpers import client_as
from tests.evidence_helpers import assert_escaped, count_statements, load_small_catalog
from tests.helpers import DATA, transaction
from tracker.data_map.reader import read_data_map
from tracker.domain.access import Role, cli_actor
from tracker.models import ApplicabilityProposal, RetentionDuty
from tracker.services.data_map import load_data_map

SMALL_MAP = DATA / "data_map_small"
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("https://evil.example","click")'


def load_map(session: Session, path: Path) -> None:
    data_map = read_data_map(path)
    assert data_map.ok, [str(problem) for problem in data_map.problems]
    with transaction(session):
        load_data_map(session=session, data_map=data_map, actor=cli_actor("privacy"))
    session.rollback()


@pytest.fixture
def loaded(session: Session) -> None:
    load_small_catalog(session)
    load_map(session, SMALL_MAP)


@pytest.fixture
def viewer(app: Flask, engine: Engine) -> Any:
    return client_as(app, engine, Role.VIEWER, email="viewer@example.com")


def text_of(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.get_data(as_text=True))


def test_the_activities_page_lists_each_activity_with_its_dpia_need_and_the_exports(
    viewer: Any, loaded: None
) -> None:
    page = text_of(viewer.get("/data-map"))
    assert "2 processing activities on 2 systems, 1 DPIA" in page
    assert 'href="/data-map/activities/sign-up"' in page
    assert "Send the newsletter to customers who asked for it." in page
    assert '<span class="tag">user.contact.email</span>' in page
    assert '<abbr class="tag" title="California">US-CA</abbr>' in page
    # The newsletter needs a DPIA and has one; sign-up needs none.
    assert 'Needed: <a href="/dpias/dpia-newsletter">dpia-newsletter</a>' in page
    assert "Not needed" in page
    assert 'href="/data-map/export.csv"' in page and 'href="/data-map/export.xlsx"' in page
    # The privacy program's tabs and its one navigation entry, marked as the current area.
    assert '<a href="/risks">Risks</a>' in page and '<a href="/reviews">Reviews</a>' in page
    assert '<a href="/data-map" aria-current="page">Privacy program</a>' in page


def test_an_activity_needing_a_dpia_without_one_is_called_out(
    viewer: Any, session: Session, tmp_path: Path
) -> None:
    load_small_catalog(session)
    shutil.copytree(SMALL_MAP, tmp_path / "map")
    (tmp_path / "map" / "dpias.yaml").write_text("dpias: []\n", encoding="utf-8")
    load_map(session, tmp_path / "map")
    page = text_of(viewer.get("/data-map"))
    assert "1 activity needs a DPIA and has none" in page
    detail = text_of(viewer.get("/data-map/activities/newsletter"))
    assert "This activity needs a DPIA and the data map has none for it" in detail


def test_the_activity_page_shows_everything_about_it(
    viewer: Any, loaded: None, session: Session
) -> None:
    # Written over what the applicability refresh proposed, to be independent of its rules.
    with transaction(session):
        session.merge(
            ApplicabilityProposal(
                obligation_id="ALPHA-1.1",
                proposal="applicable",
                reasons=["activity `sign-up` processes user.contact.email in EU as controller"],
                activities=["sign-up"],
                fingerprint="f1",
            )
        )
        # Names another activity whose id starts the same: not shown on sign-up's page.
        session.merge(
            ApplicabilityProposal(
                obligation_id="BETA-9",
                proposal="applicable",
                reasons=["activity `sign-up-extra` ..."],
                activities=["sign-up-extra"],
                fingerprint="f2",
            )
        )
        session.merge(
            RetentionDuty(
                obligation_id="ALPHA-1.2",
                data_category="user.name",
                system_id="crm",
                period="30 days",
                period_days=30,
                trigger="account_closed",
                activities=["sign-up"],
            )
        )
    session.rollback()
    page = text_of(viewer.get("/data-map/activities/sign-up"))
    assert "<h1>Account sign-up</h1>" in page
    assert "Create the customer&#39;s account so that they can shop." in page
    # Systems with their Jira project, the legal basis, recipients and transfers.
    assert "<code>PRIV</code> (web)" in page and "<code>CRM</code>" in page
    assert '<abbr title="European Union">EU</abbr>: contract' in page
    assert "Mail sender Ltd." in page and "standard contractual clauses" in page
    assert '30 days <span class="muted small">(30 days)</span>' in page
    assert "account closed" in page and "web-app, crm" in page
    assert "<strong>Not needed.</strong> Ordinary account data" in page
    # The obligations whose proposal names it, with the reasons, and its retention duties.
    assert 'href="/obligations/ALPHA-1.1"' in page
    assert "Proposed applicable" in page
    assert "activity <code>sign-up</code> processes user.contact.email in EU as controller" in page
    assert "/obligations/BETA-9" not in page
    duties = session.exec(
        select(RetentionDuty).where(col(RetentionDuty.retired_at).is_(None))
    ).all()
    for duty in duties:
        if "sign-up" in duty.activities:
            assert f'href="/obligations/{duty.obligation_id}"' in page


def test_the_activity_page_links_its_dpia(viewer: Any, loaded: None) -> None:
    page = text_of(viewer.get("/data-map/activities/newsletter"))
    assert '<a href="/dpias/dpia-newsletter">Newsletter profiling (dpia-newsletter)</a>' in page


def test_an_unknown_or_removed_activity_is_a_404_page_with_a_message(
    viewer: Any, loaded: None, session: Session, tmp_path: Path
) -> None:
    response = viewer.get("/data-map/activities/no-such-thing")
    assert response.status_code == 404
    assert "no processing activity &#39;no-such-thing&#39;" in response.get_data(as_text=True)
    shutil.copytree(SMALL_MAP, tmp_path / "map")
    text = (tmp_path / "map" / "activities.yaml").read_text(encoding="utf-8")
    (tmp_path / "map" / "activities.yaml").write_text(
        text[: text.index("  - id: newsletter")], encoding="utf-8"
    )
    (tmp_path / "map" / "dpias.yaml").write_text("dpias: []\n", encoding="utf-8")
    load_map(session, tmp_path / "map")
    assert viewer.get("/data-map/activities/newsletter").status_code == 404
    assert "newsletter" not in text_of(viewer.get("/data-map")).split("<tbody>")[1]


def test_the_systems_page_lists_each_system_with_its_jira_project_and_activities(
    viewer: Any, loaded: None
) -> None:
    page = text_of(viewer.get("/data-map/systems"))
    assert "Customer database" in page and "<code>CRM</code>" in page
    assert "<code>PRIV</code><br>web" in page
    crm_row = page[page.index('id="system-crm"') :].split("</tr>")[0]
    assert ">newsletter</a>, <a" in crm_row and ">sign-up</a>" in crm_row


def test_the_pages_read_with_a_fixed_number_of_queries(
    viewer: Any, loaded: None, session: Session, engine: Engine, tmp_path: Path
) -> None:
    counts = []
    for size in (2, 12):
        folder = tmp_path / f"map-{size}"
        shutil.copytree(SMALL_MAP, folder)
        extra = "".join(
            f"""
  - id: extra-{index}
    name: Extra activity {index}
    purpose: One more activity to count the queries of the pages.
    data_categories: [user.contact.email]
    data_subjects: [customer]
    systems: [crm]
    jurisdictions: [EU]
    roles: [controller]
    dpia: {{required: false, reason: Nothing risky in this one at all.}}
"""
            for index in range(size)
        )
        with (folder / "activities.yaml").open("a", encoding="utf-8") as out:
            out.write(extra)
        load_map(session, folder)
        with count_statements(engine) as statements:
            for url in ("/data-map", "/data-map/systems", "/data-map/export.csv"):
                text_of(viewer.get(url))
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_hostile_text_from_the_yaml_is_escaped_on_every_page(
    viewer: Any, session: Session, tmp_path: Path
) -> None:
    load_small_catalog(session)
    folder = tmp_path / "map"
    shutil.copytree(SMALL_MAP, folder)
    quoted = "'" + HOSTILE + "'"
    for name, old in (
        ("activities.yaml", "Account sign-up"),
        ("activities.yaml", "marketing@example.com"),
        ("activities.yaml", "Sends the welcome e-mail"),
        ("activities.yaml", "Ordinary account data, no profiling and no special categories."),
        ("systems.yaml", "The shop's web front end."),
        ("systems.yaml", "Customer database"),
        ("dpias.yaml", "Newsletter profiling"),
    ):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, quoted, 1))
    load_map(session, folder)
    for url in (
        "/data-map",
        "/data-map/activities/sign-up",
        "/data-map/activities/newsletter",
        "/data-map/systems",
    ):
        assert_escaped(text_of(viewer.get(url)))


def test_the_csv_export_is_the_art30_record_and_defuses_formulas(
    viewer: Any, session: Session, tmp_path: Path
) -> None:
    load_small_catalog(session)
    folder = tmp_path / "map"
    shutil.copytree(SMALL_MAP, folder)
    path = folder / "activities.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("name: Newsletter\n", f"name: '{FORMULA}'\n")
    )
    load_map(session, folder)
    response = viewer.get("/data-map/export.csv")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="art30-record-')
    assert disposition.endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header = rows[0]
    assert header[:4] == [
        "Activity id",
        "Name of the processing",
        "Purposes of the processing",
        "Legal basis (per jurisdiction)",
    ]
    assert "Transfers to third countries and safeguards" in header
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_id) == {"newsletter", "sign-up"}
    # A cell a spreadsheet would run as a formula starts with a quote instead.
    assert by_id["newsletter"]["Name of the processing"] == "'" + FORMULA
    assert by_id["newsletter"]["DPIA required"] == "yes"
    assert by_id["sign-up"]["Recipients"] == (
        "Mail sender Ltd. (processor, US): Sends the welcome e-mail"
    )
    assert by_id["sign-up"]["Systems"] == "Web app (web-app); Customer database (crm)"
    assert by_id["sign-up"]["Role of the organisation"] == "controller; business"


def test_the_xlsx_export_opens_with_two_sheets_bold_frozen_headers_and_text_cells(
    viewer: Any, session: Session, tmp_path: Path
) -> None:
    load_small_catalog(session)
    folder = tmp_path / "map"
    shutil.copytree(SMALL_MAP, folder)
    path = folder / "activities.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("name: Newsletter\n", f"name: '{FORMULA}'\n")
    )
    load_map(session, folder)
    response = viewer.get("/data-map/export.xlsx")
    assert response.status_code == 200
    assert response.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Art. 30 record", "Systems"]
    record = book["Art. 30 record"]
    assert record.freeze_panes == "A2"
    assert all(cell.font.bold for cell in record[1])
    assert record.column_dimensions["C"].width >= 30
    rows = list(record.iter_rows(values_only=True))
    assert rows[0][0] == "Activity id" and len(rows) == 3
    by_id = {row[0]: row for row in rows[1:]}
    # Kept as the text it is, and stored as text: the spreadsheet does not run it.
    assert by_id["newsletter"][1] == FORMULA
    assert record["B2"].data_type == "s"
    assert by_id["sign-up"][5] == "user.contact.email\nuser.name"
    systems = list(book["Systems"].iter_rows(values_only=True))
    assert [row[0] for row in systems] == ["System id", "crm", "web-app"]
    assert systems[1][8] == "newsletter\nsign-up"


def test_the_activity_page_shows_the_reasons_that_name_this_activity(
    viewer: Any, loaded: None, session: Session
) -> None:
    with transaction(session):
        session.merge(
            ApplicabilityProposal(
                obligation_id="ALPHA-2",
                proposal="applicable",
                reasons=[
                    "ALPHA-2 applies: activity `newsletter` processes user.contact.email in EU",
                    "ALPHA-2 applies: activity `sign-up` processes user.name in EU",
                ],
                activities=["newsletter", "sign-up"],
                fingerprint="f3",
            )
        )
    session.rollback()
    page = text_of(viewer.get("/data-map/activities/sign-up"))
    assert "activity <code>sign-up</code> processes user.name in EU" in page
    assert "activity <code>newsletter</code> processes" not in page
    other = text_of(viewer.get("/data-map/activities/newsletter"))
    assert "activity <code>newsletter</code> processes user.contact.email in EU" in other
