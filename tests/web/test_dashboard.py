"""The dashboard: counts per instrument and status, bars with text, links into the matrix."""

from __future__ import annotations

from flask import Flask
from sqlmodel import Session

from tests.helpers import SMALL_CATALOG, transaction
from tracker.catalog import read_catalog
from tracker.domain.access import cli_actor
from tracker.models import WorkItem
from tracker.services.catalog import load_catalog
from tracker.services.links import link_work_item
from tracker.web import add_nav_item
from tracker.web.dashboard.page import bar_widths


def load_with_one_planned(session: Session) -> None:
    with transaction(session):
        load_catalog(session=session, catalog=read_catalog(SMALL_CATALOG), actor=cli_actor("test"))
        session.add(WorkItem(key="PRIV-1", summary="", status="To Do", status_category="new"))
        session.flush()
        link_work_item(
            session=session, obligation_id="ALPHA-2", key="PRIV-1", actor=cli_actor("test")
        )


def test_dashboard_without_a_catalog_says_how_to_load_it(client):
    response = client.get("/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Load the catalog: <code>tracker catalog load</code>" in text


def test_dashboard_counts_each_instruments_obligations_per_status(client, session):
    load_with_one_planned(session)
    text = client.get("/").get_data(as_text=True)
    alpha = text[
        text.index(
            '<th scope="row" class="instrument-cell"><a href="/matrix?instrument=ALPHA">ALPHA</a>'
        ) :
    ]
    alpha = alpha[: alpha.index("</tr>")]
    assert "Alpha Data Protection Act (test instrument)" in alpha
    assert '<a href="/matrix?instrument=ALPHA&amp;status=GAP"' in alpha
    assert 'aria-label="ALPHA, Gap: 2 of 3 obligations">2</a>' in alpha
    assert 'aria-label="ALPHA, Planned: 1 of 3 obligations">1</a>' in alpha
    assert 'href="/matrix?instrument=ALPHA">3</a>' in alpha
    assert '<a class="seg st-gap w-67" href="/matrix?instrument=ALPHA&amp;status=GAP"' in alpha
    assert '<a class="seg st-planned w-33"' in alpha


def test_dashboard_shows_the_overall_picture_across_instruments(client, session):
    load_with_one_planned(session)
    text = client.get("/").get_data(as_text=True)
    assert "All instruments: 5 obligations" in text
    assert '<a href="/matrix?status=GAP">Gap: 4</a>' in text
    assert '<a href="/matrix?status=PLANNED">Planned: 1</a>' in text
    assert '<span class="muted">Verified: 0</span>' in text


def test_dashboard_bar_segments_have_text_and_link_into_the_matrix(client, session):
    load_with_one_planned(session)
    text = client.get("/").get_data(as_text=True)
    assert (
        '<a class="seg st-gap w-80" href="/matrix?status=GAP" title="Gap: 4 of 5 obligations" '
        'aria-label="Gap: 4 of 5 obligations"></a>' in text
    )
    assert 'class="seg st-planned w-20" href="/matrix?status=PLANNED"' in text
    assert '<span class="badge st-gap">Gap</span>' in text  # the legend names every colour


def test_bar_widths_sum_to_100_and_keep_small_counts_visible():
    assert bar_widths([1, 1, 1]) == [34, 33, 33]
    assert bar_widths([1, 2999, 0]) == [1, 99, 0]
    assert bar_widths([0, 0]) == [0, 0]
    for counts in ([3, 7, 0, 11, 1], [1] * 8, [500, 1, 1, 1, 1, 1, 1, 1]):
        widths = bar_widths(counts)
        assert sum(widths) == 100
        assert all(width >= 1 for width, count in zip(widths, counts, strict=True) if count)


def test_navigation_is_rendered_from_a_list_later_blueprints_extend(app: Flask, client):
    app.add_url_rule("/jira", "jira_overview", lambda: "jira")
    add_nav_item(app, "Jira", "jira_overview")
    text = client.get("/").get_data(as_text=True)
    assert '<li><a href="/" aria-current="page">Dashboard</a></li>' in text
    assert '<li><a href="/matrix">Matrix</a></li>' in text
    assert '<li><a href="/jira">Jira</a></li>' in text
    text = client.get("/matrix").get_data(as_text=True)
    assert '<li><a href="/matrix" aria-current="page">Matrix</a></li>' in text


def test_header_and_footer_name_the_product(client):
    text = client.get("/").get_data(as_text=True)
    assert '<a class="brand" href="/">Privacy obligations tracker</a>' in text
    assert '<footer class="site-footer">' in text
    assert '<link rel="stylesheet" href="/assets/tracker.css">' in text


def test_style_sheet_is_served_from_the_package(client):
    response = client.get("/assets/tracker.css")
    assert response.status_code == 200
    assert ".st-verified" in response.get_data(as_text=True)
