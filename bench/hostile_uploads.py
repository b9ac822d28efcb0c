"""Benchmark: small gzip uploads that expand into hostile JUnit reports.

Run: python bench/hostile_uploads.py [--only text,attribute,...] [--json FILE]

Each case is written once as a gzip file, then read in a new process per measurement, so that
the peak resident memory (ru_maxrss) is that measurement's alone:

- "read": the JUnit reader alone goes through the report (what any ingest does first);
- "upload": a whole upload through the API (Flask test client, token, SQLite in a temporary
  folder), as one web worker handles it: spooling the body, ingesting, answering.

"baseline" uploads a one-test report, for the memory a worker holds anyway. A measurement that
runs past --timeout seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

MIB = 1024 * 1024
BLOCK = MIB


def _repeat(out: IO[bytes], unit: bytes, total: int) -> None:
    block = unit * max(1, BLOCK // len(unit))
    written = 0
    while written + len(block) <= total:
        out.write(block)
        written += len(block)
    while written < total:
        out.write(unit)
        written += len(unit)


def write_text_bomb(out: IO[bytes]) -> None:
    """One failing test whose failure text is 190 MB of one repeated letter."""
    out.write(b'<testsuites><testsuite name="pytest"><testcase classname="c" name="t">')
    out.write(b'<failure message="boom">')
    _repeat(out, b"x", 190 * MIB)
    out.write(b"</failure></testcase></testsuite></testsuites>")


def write_attribute_bomb(out: IO[bytes]) -> None:
    """One test case whose name attribute is 150 MB long."""
    out.write(b'<testsuites><testsuite name="pytest"><testcase classname="c" name="')
    _repeat(out, b"a", 150 * MIB)
    out.write(b'"/></testsuite></testsuites>')


def write_many_failures(out: IO[bytes]) -> None:
    """3,000 failing tests, each with 64 KiB of failure text (190 MB in all)."""
    out.write(b'<testsuites><testsuite name="pytest">')
    body = b"x" * 64 * 1024
    for index in range(3000):
        out.write(f'<testcase classname="c" name="t{index}"><failure message="boom">'.encode())
        out.write(body)
        out.write(b"</failure></testcase>")
    out.write(b"</testsuite></testsuites>")


def write_deep_nesting(out: IO[bytes]) -> None:
    """Four million nested elements (12 MB)."""
    out.write(b'<testsuites><testsuite name="pytest">')
    _repeat(out, b"<a>", 12 * MIB)


def write_element_flood(out: IO[bytes]) -> None:
    """One test case holding 190 MB of empty elements (50 million of them)."""
    out.write(b'<testsuites><testsuite name="pytest"><testcase classname="c" name="t">')
    _repeat(out, b"<a/>", 190 * MIB)
    out.write(b"</testcase></testsuite></testsuites>")


def write_baseline(out: IO[bytes]) -> None:
    out.write(b'<testsuites><testsuite name="pytest"><testcase classname="c" name="t"/>')
    out.write(b"</testsuite></testsuites>")


CASES: dict[str, tuple[str, Callable[[IO[bytes]], None]]] = {
    "baseline": ("one passing test", write_baseline),
    "text": ("190 MB of failure text", write_text_bomb),
    "attribute": ("one 150 MB attribute", write_attribute_bomb),
    "many": ("3,000 failures of 64 KiB each", write_many_failures),
    "nesting": ("4 million nested elements", write_deep_nesting),
    "flood": ("50 million empty elements", write_element_flood),
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_read(path: Path) -> dict[str, Any]:
    from tracker.errors import TrackerError
    from tracker.integrations.junit import JUnitReader

    started = time.perf_counter()
    outcome = "read"
    try:
        reader = JUnitReader(path)
        count = sum(1 for _ in reader.cases())
        outcome = f"read, {count} test cases"
    except TrackerError as exc:
        outcome = f"refused: {exc}"
    return {"seconds": time.perf_counter() - started, "rss_mib": peak_rss_mib(), "answer": outcome}


def phase_upload(path: Path, folder: Path) -> dict[str, Any]:
    from tracker import create_app, migrate
    from tracker.config import TestConfig
    from tracker.db import get_engine, session_scope
    from tracker.domain.access import Scope, cli_actor
    from tracker.services.tokens import create_token

    url = f"sqlite:///{folder / 'upload.db'}"
    app = create_app(TestConfig, DATABASE_URL=url, WTF_CSRF_ENABLED=False)
    engine = get_engine(app)
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        secret = create_token(
            session=session, name="ci", actor=cli_actor("bench"), scopes=[Scope.RESULTS_WRITE]
        ).secret
    body = path.read_bytes()
    client = app.test_client()
    started = time.perf_counter()
    response = client.post(
        "/api/v1/test-runs",
        data=body,
        content_type="application/gzip",
        headers={"Authorization": f"Bearer {secret}"},
    )
    seconds = time.perf_counter() - started
    answer = response.get_json(silent=True) or {}
    message = (answer.get("error") or {}).get("message") or answer.get("summary") or ""
    return {
        "seconds": seconds,
        "rss_mib": peak_rss_mib(),
        "answer": f"{response.status_code} {message}"[:300],
    }


def run_phase(timeout: float, *args: str) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--phase", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": timeout, "rss_mib": float("nan"), "answer": "stopped: timeout"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"seconds": float("nan"), "rss_mib": float("nan"), "answer": f"crashed: {tail[0]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="comma-separated cases: " + ", ".join(CASES))
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        name, path, *rest = args.phase
        if name == "read":
            result = phase_read(Path(path))
        else:
            result = phase_upload(Path(path), Path(rest[0]))
        print(json.dumps(result))
        return

    names = args.only.split(",") if args.only else list(CASES)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in names:
            title, write = CASES[name]
            path = folder / f"{name}.xml.gz"
            with gzip.open(path, "wb", compresslevel=9) as out:
                write(out)
            size_kib = path.stat().st_size / 1024
            read = run_phase(args.timeout, "read", str(path))
            work = folder / name
            work.mkdir()
            upload = run_phase(args.timeout, "upload", str(path), str(work))
            figures[name] = {"title": title, "gzip_kib": size_kib, "read": read, "upload": upload}
            print(f"{name}: {title}, gzip {size_kib:,.0f} KiB")
            for phase, result in (("read", read), ("upload", upload)):
                print(
                    f"  {phase:6} {result['seconds']:6.2f} s  peak RSS {result['rss_mib']:5.0f} MiB"
                    f"  {result['answer'][:160]}"
                )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
