"""Benchmark: the same job as a requirements tool's export, as whole `tracker` processes.

Run: python bench/same_job.py [--obligations 1000] [--tests 2000] [--runs 5] [--format html]
     [--strictdoc PATH-TO-strictdoc] [--json FILE]
     [--tracker PATH]  (another `tracker` command, e.g. an older checkout's, to compare; a
                       script that puts another tree first on sys.path: compile that tree's
                       modules yourself, `python -m compileall`)
     [--no-publish]  (only the four commands, for a `tracker` that has no `publish`)

The job, on a fresh SQLite database: `tracker db upgrade`, `tracker catalog load` of a
synthetic catalog (10 instruments), `tracker results ingest` of a JUnit report whose every
test names one obligation, and the matrix as HTML to a file. It runs twice per round: as four
commands, each a new process, and as one process, `tracker publish report.xml` (the same steps).
With --strictdoc, the same requirements and tests (each test a node linked to its obligation
as its parent) are written as .sdoc files and exported by `strictdoc export --formats html`
(one process, like `tracker publish`), alternating with the tracker's runs, and the ratio of the
medians is reported.

Before measuring, the tracker's own modules and migrations are compiled to bytecode (`compileall`), as
`pip install` does for an installed tracker: a source checkout run with PYTHONDONTWRITEBYTECODE
would otherwise compile them again in every process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRACKER = str(Path(sys.executable).parent / "tracker")
STEPS = ("db upgrade", "catalog load", "results ingest", "matrix")
#: Obligations are spread over this many instruments (files), tests over as many reports.
INSTRUMENTS = 10


def write_catalog(folder: Path, obligations: int) -> None:
    """Write a synthetic catalog: INSTRUMENTS files with the obligations spread evenly."""
    per_file = obligations // INSTRUMENTS
    for index in range(INSTRUMENTS):
        code = f"LAW{index}"
        lines = [
            "instrument:",
            f"  id: {code}",
            f"  title: Synthetic instrument {index}",
            "  jurisdiction: EU",
            "  official_url: https://example.org/law",
            "obligations:",
        ]
        for number in range(per_file):
            lines += [
                f"  - id: {code}-{number}.1",
                f"    citation: Art. {number}(1)",
                f"    title: Synthetic obligation {number}",
                "    summary: A synthetic obligation used to measure how the tracker scales.",
                "    official_url: https://example.org/law",
                "    severity: medium",
                "    evidence: [{type: automated_test, description: A synthetic automated test.}]",
                "    tags: [synthetic]",
            ]
        (folder / f"{code.lower()}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def obligation_ids(obligations: int) -> list[str]:
    """Return the ids write_catalog gives its obligations, in file order."""
    per_file = obligations // INSTRUMENTS
    return [f"LAW{index}-{number}.1" for index in range(INSTRUMENTS) for number in range(per_file)]


def write_report(path: Path, ids: list[str], tests: int) -> None:
    """Write a pytest-style JUnit report: each test names one obligation; 10 % fail."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<testsuites><testsuite name="privacy" tests="{tests}">',
    ]
    for index in range(tests):
        failure = (
            '<failure message="assert False">assert False</failure>' if index % 10 == 9 else ""
        )
        lines.append(
            f'<testcase classname="tests.mod{index % 97}" name="test_{index}" time="0.01">'
            f'<properties><property name="obligations" value="{ids[index % len(ids)]}"/>'
            f"</properties>{failure}</testcase>"
        )
    lines.append("</testsuite></testsuites>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_sdoc(folder: Path, ids: list[str], tests: int) -> None:
    """Write the same obligations and tests as StrictDoc documents, tests linked to parents."""
    per_file = len(ids) // INSTRUMENTS
    for index in range(INSTRUMENTS):
        parts = ["[DOCUMENT]", f"TITLE: Synthetic instrument {index}", ""]
        for number, obligation in enumerate(ids[index * per_file : (index + 1) * per_file]):
            parts += [
                "[REQUIREMENT]",
                f"UID: {obligation}",
                f"TITLE: Synthetic obligation {number}",
                "STATEMENT: >>>",
                "A synthetic obligation used to measure how the tracker scales with size.",
                "<<<",
                "",
            ]
        (folder / f"law{index}.sdoc").write_text("\n".join(parts), encoding="utf-8")
    per_file = tests // INSTRUMENTS
    for index in range(INSTRUMENTS):
        parts = ["[DOCUMENT]", f"TITLE: Tests {index}", ""]
        for number in range(index * per_file, (index + 1) * per_file):
            parts += [
                "[REQUIREMENT]",
                f"UID: TEST-{number}",
                f"TITLE: test_{number}",
                "STATEMENT: >>>",
                f"tests.mod{number % 97}.test_{number}",
                "<<<",
                "RELATIONS:",
                "- TYPE: Parent",
                f"  VALUE: {ids[number % len(ids)]}",
                "",
            ]
        (folder / f"tests{index}.sdoc").write_text("\n".join(parts), encoding="utf-8")


def job_environment(folder: Path) -> dict[str, str]:
    """Start from no instance folder, hence a new SQLite database; return the job's variables."""
    instance = folder / "instance"
    shutil.rmtree(instance, ignore_errors=True)
    return {
        **os.environ,
        "TRACKER_INSTANCE_PATH": str(instance),
        "TRACKER_DATABASE_URL": f"sqlite:///{instance / 'job.db'}",
        "TRACKER_CATALOG_PATH": str(folder / "catalog"),
    }


def run_publish(folder: Path, fmt: str, tracker: str = TRACKER) -> tuple[float, float]:
    """Run the job once as one process, `tracker publish`, on a new database."""
    env = job_environment(folder)
    output = str(folder / f"published.{fmt}")
    command = [tracker, "publish", str(folder / "report.xml"), "--format", fmt, "--output", output]
    return timed(command, env=env, cwd=folder)


def run_job(folder: Path, fmt: str, tracker: str = TRACKER) -> dict[str, float]:
    """Run the job once on a new database in folder; return each step's wall time."""
    env = job_environment(folder)
    commands = {
        "db upgrade": [tracker, "db", "upgrade"],
        "catalog load": [tracker, "catalog", "load"],
        "results ingest": [tracker, "results", "ingest", str(folder / "report.xml")],
        "matrix": [tracker, "matrix", "--format", fmt, "--output", str(folder / f"matrix.{fmt}")],
    }
    times = {}
    for step in STEPS:
        times[step], times[f"{step} cpu"] = timed(commands[step], env=env, cwd=folder)
    times["total"] = sum(times[step] for step in STEPS)
    times["total cpu"] = sum(times[f"{step} cpu"] for step in STEPS)
    return times


def timed(command: list[str], **options: object) -> tuple[float, float]:
    """Run a command; return its wall time and its CPU time (user + system).

    On a machine shared with other work the wall time grows with the load; the CPU time much
    less, so it is the closer estimate of what the same run takes on a quiet machine.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **options
    )  # type: ignore[call-overload]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def compile_tracker(tracker: str) -> None:
    """Compile the tracker's modules to bytecode, as an installation from a wheel has them."""
    python = Path(tracker).parent / "python"  # the tracker's own virtual environment
    command = [
        str(python if python.exists() else sys.executable),
        "-c",
        "import compileall, pathlib, tracker, tracker.resources; "
        "compileall.compile_dir(pathlib.Path(tracker.__file__).parent, quiet=1); "
        "compileall.compile_dir(tracker.resources.migrations_path(), quiet=1)",
    ]
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_strictdoc(strictdoc: str, folder: Path) -> tuple[float, float]:
    """Export the .sdoc files to HTML into a new folder (no cache from a run before)."""
    output = folder / "strictdoc-out"
    shutil.rmtree(output, ignore_errors=True)
    command = [strictdoc, "export", "--formats", "html", "--output-dir", str(output), "sdoc"]
    return timed(command, cwd=folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--obligations", type=int, default=1000)
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--format", default="html", choices=["html", "md", "json", "csv"])
    parser.add_argument("--strictdoc", help="path of the strictdoc command, to run it alongside")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--tracker", default=TRACKER, help="the tracker command to measure")
    parser.add_argument("--no-publish", action="store_true", help="only the four commands")
    args = parser.parse_args()
    compile_tracker(args.tracker)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "catalog").mkdir()
        write_catalog(folder / "catalog", args.obligations)
        ids = obligation_ids(args.obligations)
        write_report(folder / "report.xml", ids, args.tests)
        if args.strictdoc:
            (folder / "sdoc").mkdir()
            write_sdoc(folder / "sdoc", ids, args.tests)
        runs: list[dict[str, float]] = []
        publish_runs: list[tuple[float, float]] = []
        strictdoc_runs: list[tuple[float, float]] = []
        for _ in range(args.runs):
            runs.append(run_job(folder, args.format, args.tracker))
            if not args.no_publish:
                publish_runs.append(run_publish(folder, args.format, args.tracker))
            if args.strictdoc:
                strictdoc_runs.append(run_strictdoc(args.strictdoc, folder))
    names = [*STEPS, "total"]
    medians = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    print(f"{len(ids)} obligations, {args.tests} linked tests, median of {args.runs} runs")
    print(f"  {'':<28} {'wall':>7} {'cpu':>7}")
    for name in names:
        print(f"  {'tracker ' + name:<28} {medians[name]:6.2f}s {medians[name + ' cpu']:6.2f}s")
    print(f"  {'(wall totals of each run)':<28} " + " ".join(f"{r['total']:.2f}" for r in runs))
    figures: dict[str, object] = {"tracker": medians, "runs": runs}
    one = (medians["total"], medians["total cpu"])
    if publish_runs:
        one = (
            statistics.median(run[0] for run in publish_runs),
            statistics.median(run[1] for run in publish_runs),
        )
        print(f"  {'tracker publish (one)':<28} {one[0]:6.2f}s {one[1]:6.2f}s")
        print(f"  {'(wall of each run)':<28} " + " ".join(f"{r[0]:.2f}" for r in publish_runs))
        figures["publish"] = {"wall": one[0], "cpu": one[1], "runs": publish_runs}
    if strictdoc_runs:
        wall = statistics.median(run[0] for run in strictdoc_runs)
        cpu = statistics.median(run[1] for run in strictdoc_runs)
        print(f"  {'strictdoc export html':<28} {wall:6.2f}s {cpu:6.2f}s")
        print(
            f"  {'strictdoc / four commands':<28} {wall / medians['total']:6.1f}x "
            f"{cpu / medians['total cpu']:6.1f}x"
        )
        if publish_runs:
            print(
                f"  {'strictdoc / tracker publish':<28} {wall / one[0]:6.1f}x {cpu / one[1]:6.1f}x"
            )
        figures["strictdoc"] = {"wall": wall, "cpu": cpu, "runs": strictdoc_runs}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
