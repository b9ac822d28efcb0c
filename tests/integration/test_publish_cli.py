"""`tracker publish`: a fresh database to the matrix in one process, as a CI job runs it."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from html import unescape
from pathlib import Path

from tests.helpers import SMALL_CATALOG
from tracker.domain.status import STATUS_LABELS, Status

TRACKER = [sys.executable, "-c", "from tracker.cli import main; main(prog_name='tracker')"]

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuite name="privacy" tests="2">
<testcase classname="tests.t" name="test_erasure">
<properties><property name="obligations" value="ALPHA-1.1"/></properties></testcase>
<testcase classname="tests.t" name="test_notice">
<properties><property name="obligations" value="BETA-7"/></properties>
<failure message="no notice">assert False</failure></testcase>
</testsuite>
"""

ROW = re.compile(
    r'<tr><th scope="row">([^<]+)</th>.*?<span class="badge st-[a-z-]+">([^<]+)</span>'
)


def _publish(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _tracker(tmp_path, "publish", *args)


def _tracker(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TRACKER_INSTANCE_PATH": str(tmp_path / "instance"),
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'ci.db'}",
        "TRACKER_TEST_MAPPING": "",
    }
    env.pop("TRACKER_CATALOG_PATH", None)
    return subprocess.run([*TRACKER, *args], capture_output=True, text=True, env=env, cwd=tmp_path)


def _statuses(page: Path) -> dict[str, str]:
    text = page.read_text(encoding="utf-8")
    return {unescape(i): unescape(s) for i, s in ROW.findall(text)}


def test_publish_builds_the_matrix_from_a_new_database(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    report.write_text(REPORT, encoding="utf-8")
    done = _publish(tmp_path, str(report), "--catalog", str(SMALL_CATALOG))
    assert done.returncode == 0, done.stderr
    assert "Database schema is at revision" in done.stdout
    assert "2 tests, 1 passed, 1 failed" in done.stdout
    # The database is one file a CI job can keep: nothing is left in SQLite's write-ahead log.
    assert not (tmp_path / "ci.db-wal").exists()
    statuses = _statuses(tmp_path / "traceability-matrix.html")  # the default file name
    assert statuses["BETA-7"] == "Failing"
    # The page is what `tracker matrix` says of the same database afterwards.
    exported = _tracker(tmp_path, "matrix", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    assert statuses == {
        row["id"]: STATUS_LABELS[Status(row["status"])]
        for row in json.loads(exported.stdout)["rows"]
    }

    # Run again, as a retried CI job does: the catalog is unchanged, the same report is not
    # stored twice, and the matrix is written again.
    again = _publish(tmp_path, str(report), "--catalog", str(SMALL_CATALOG), "--format", "md")
    assert again.returncode == 0, again.stderr
    assert "0 created" in again.stdout
    assert "This report was already ingested as run #1; nothing was added." in again.stdout
    markdown = (tmp_path / "traceability-matrix.md").read_text(encoding="utf-8")
    assert "ALPHA-1.1" in markdown
    with sqlite3.connect(tmp_path / "ci.db") as connection:
        assert connection.execute("SELECT count(*) FROM testrun").fetchone() == (1,)


def test_a_catalog_with_problems_stops_before_anything_is_loaded(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(SMALL_CATALOG, catalog)
    alpha = catalog / "alpha.yaml"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("severity: high", "severity: huge"))
    report = tmp_path / "report.xml"
    report.write_text(REPORT, encoding="utf-8")
    done = _publish(tmp_path, str(report), "--catalog", str(catalog))
    assert done.returncode == 1
    assert "severity" in done.stderr and "nothing was loaded" in done.stderr
    assert not (tmp_path / "traceability-matrix.html").exists()
    with sqlite3.connect(tmp_path / "ci.db") as connection:
        assert connection.execute("SELECT count(*) FROM obligation").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM testrun").fetchone() == (0,)


def test_a_report_that_cannot_be_read_stores_nothing_and_writes_no_matrix(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuite><testcase name='x'>", encoding="utf-8")
    done = _publish(tmp_path, str(broken), "--catalog", str(SMALL_CATALOG))
    assert done.returncode == 1
    assert "Nothing was stored for this file." in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "traceability-matrix.html").exists()


def test_an_output_in_a_folder_that_does_not_exist_is_refused_before_any_step(
    tmp_path: Path,
) -> None:
    done = _publish(tmp_path, "--catalog", str(SMALL_CATALOG), "--output", "missing/m.html")
    assert done.returncode == 2
    assert "cannot write the matrix to missing/m.html" in done.stderr
    assert not (tmp_path / "ci.db").exists()
