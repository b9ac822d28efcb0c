"""Benchmark: ingest one JUnit report of 100,000 test cases (about 40 MB) with obligation tags.

Run: python bench/ingest.py [--cases 100000] [--database-url URL]

Each measurement runs in its own process so that peak resident memory belongs to it alone:
the full ingest (parse, results, links, one transaction), our parser alone, and a bare parse
of the same file with the standard library's xml.etree.ElementTree.iterparse.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tracker.domain.access import cli_actor

OBLIGATIONS = 300


def write_report(path: Path, cases: int) -> None:
    """Write a pytest-style report; every case names one or two obligations."""
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests">\n')
        out.write(
            f'<testsuite name="pytest" errors="0" failures="0" skipped="0" tests="{cases}" time="1.0">\n'
        )
        for index in range(cases):
            first = f"BENCH-{index % OBLIGATIONS}"
            second = f",BENCH-{(index * 7) % OBLIGATIONS}" if index % 3 == 0 else ""
            body = ""
            if index % 50 == 0:
                body = '<failure message="AssertionError: value mismatch">Traceback (most recent call last):\n  File "tests/test_module.py", line 10, in test\nAssertionError: value mismatch</failure>'
            elif index % 97 == 0:
                body = (
                    '<skipped type="pytest.skip" message="not on this platform">skipped</skipped>'
                )
            if not body and index % 3 == 0:
                body = (
                    "<system-out>INFO consent-service: stored receipt for synthetic user "
                    f"{index}\nINFO erasure-worker: queue drained in 12 ms\n"
                    "DEBUG audit: event written to the append-only log</system-out>"
                )
            out.write(
                f'<testcase classname="tests.integration.privacy.area{index % 40}.test_module_{index % 400}" '
                f'name="test_behaviour_{index}_handles_personal_data_as_documented[param-{index % 5}]" '
                f'file="tests/integration/privacy/area{index % 40}/test_module_{index % 400}.py" '
                f'line="{index % 300}" time="0.0{index % 9}">'
                f'<properties><property name="obligations" value="{first}{second}"/></properties>'
                f"{body}</testcase>\n"
            )
        out.write("</testsuite>\n</testsuites>\n")


def write_catalog(folder: Path) -> None:
    lines = [
        "instrument:",
        "  id: BENCH",
        "  title: Benchmark instrument",
        "  jurisdiction: EU",
        "  official_url: https://example.org/bench",
        "obligations:",
    ]
    for number in range(OBLIGATIONS):
        lines += [
            f"  - id: BENCH-{number}",
            f"    citation: Art. {number}",
            f"    title: Benchmark obligation {number}",
            "    summary: A synthetic obligation used to measure report ingestion at scale.",
            "    official_url: https://example.org/bench",
            "    severity: low",
            "    evidence: [{type: automated_test, description: A synthetic test.}]",
        ]
    (folder / "bench.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_ingest(report: Path, url: str) -> dict[str, float]:
    from tracker.db import make_engine, session_scope
    from tracker.services.ingest import RunOptions, ingest_report

    engine = make_engine(url)
    started = time.perf_counter()
    with session_scope(engine) as session:
        result = ingest_report(
            session=session,
            source=report,
            options=RunOptions(source_name=report.name),
            uploaded_by=cli_actor("bench"),
        )
    seconds = time.perf_counter() - started
    assert result.total > 0 and not result.unknown_ids, result.summary()
    return {
        "seconds": seconds,
        "rss_mib": peak_rss_mib(),
        "links": result.links_added,
        "total": result.total,
    }


def phase_parser(report: Path) -> dict[str, float]:
    from tracker.integrations.junit import JUnitReader

    started = time.perf_counter()
    reader = JUnitReader(report, max_bytes=None)
    count = sum(1 for _ in reader.cases())
    return {"seconds": time.perf_counter() - started, "rss_mib": peak_rss_mib(), "total": count}


def phase_bare(report: Path) -> dict[str, float]:
    import xml.etree.ElementTree as ET  # noqa: S405 - the baseline being compared against

    started = time.perf_counter()
    count = 0
    for _event, element in ET.iterparse(report, events=("end",)):  # noqa: S314
        if element.tag == "testcase":
            count += 1
            element.clear()
    return {"seconds": time.perf_counter() - started, "rss_mib": peak_rss_mib(), "total": count}


def run_phase(*args: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        name, report, *rest = args.phase
        result = {
            "ingest": lambda: phase_ingest(Path(report), rest[0]),
            "parser": lambda: phase_parser(Path(report)),
            "bare": lambda: phase_bare(Path(report)),
        }[name]()
        print(json.dumps(result))
        return

    from sqlmodel import SQLModel

    from tracker.catalog import read_catalog
    from tracker.db import make_engine, session_scope
    from tracker.migrate import upgrade
    from tracker.services.catalog import load_catalog

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = folder / "report.xml"
        write_report(report, args.cases)
        size_mib = os.path.getsize(report) / 1024 / 1024
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        engine = make_engine(url)
        if args.database_url:
            SQLModel.metadata.drop_all(engine)
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(engine)
        write_catalog(folder)
        with session_scope(engine) as session:
            load_catalog(
                session=session,
                catalog=read_catalog(folder / "bench.yaml"),
                actor=cli_actor("bench"),
            )
        engine.dispose()

        bare = run_phase("bare", str(report))
        ours = run_phase("parser", str(report))
        ingest = run_phase("ingest", str(report), url)
        print(f"database: {make_engine(url).url.get_backend_name()}")
        print(f"report: {args.cases} test cases, {size_mib:.1f} MiB")
        print(
            f"ingest (parse + store results and links, one transaction): {ingest['seconds']:.2f} s, peak RSS {ingest['rss_mib']:.0f} MiB, {ingest['links']:.0f} links"
        )
        print(
            f"our streaming parser alone: {ours['seconds']:.2f} s, peak RSS {ours['rss_mib']:.0f} MiB"
        )
        print(f"bare stdlib iterparse: {bare['seconds']:.2f} s, peak RSS {bare['rss_mib']:.0f} MiB")
        print(f"ratio parser / bare iterparse: {ours['seconds'] / bare['seconds']:.2f}x")
        print(f"ratio full ingest / bare iterparse: {ingest['seconds'] / bare['seconds']:.2f}x")


if __name__ == "__main__":
    main()
