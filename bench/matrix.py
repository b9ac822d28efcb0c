"""Benchmark: catalog load, matrix page and exports at 3,000 obligations and 30,000 tests.

Pages are timed with an empty matrix cache (computed, as after every write) unless they say
"warm cache" (served from the cache) or "304" (a revalidation with the page's ETag).

Run: python bench/matrix.py --obligations 3000 --tests 30000 [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, insert
from sqlmodel import SQLModel

from tracker import create_app, migrate
from tracker.catalog import read_catalog
from tracker.config import TestConfig
from tracker.db import get_engine, session_scope
from tracker.domain.access import Role, cli_actor
from tracker.models import TestCase, TestLink, TestResult, TestRun, WorkItem, WorkItemLink, utcnow
from tracker.services.accounts import create_user
from tracker.services.catalog import load_catalog
from tracker.web.caching import CACHE_KEY

INSTRUMENTS = 10


def write_catalog(folder: Path, obligations: int) -> None:
    """Write a synthetic catalog: INSTRUMENTS files with obligations spread evenly."""
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
                "    summary: A synthetic obligation used to measure how the tracker scales with size.",
                "    official_url: https://example.org/law",
                "    severity: medium",
                "    evidence: [{type: automated_test, description: A synthetic automated test.}]",
                "    tags: [synthetic]",
            ]
        (folder / f"{code.lower()}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def seed_links(engine, obligation_ids: list[str], tests: int) -> None:  # type: ignore[no-untyped-def]
    """Add one work item per obligation and `tests` tests spread over them, with one run."""
    now = utcnow()
    categories = ["new", "indeterminate", "done", "done"]
    outcomes = ["passed"] * 8 + ["failed", "skipped"]
    with engine.begin() as connection:
        connection.execute(
            insert(WorkItem),
            [
                {
                    "key": f"PRIV-{i + 1}",
                    "project_key": "PRIV",
                    "summary": f"Work for {ob}",
                    "issue_type": "Epic",
                    "status": categories[i % 4].title(),
                    "status_category": categories[i % 4],
                    "fix_versions": ["2026.12"],
                    "labels": [],
                    "missing": False,
                }
                for i, ob in enumerate(obligation_ids)
            ],
        )
        connection.execute(
            insert(WorkItemLink),
            [
                {
                    "obligation_id": ob,
                    "work_item_key": f"PRIV-{i + 1}",
                    "origin": "manual",
                    "reviewed_version": 1,
                    "reviewed_fingerprint": "",
                    "created_by": "bench",
                    "created_at": now,
                }
                for i, ob in enumerate(obligation_ids)
            ],
        )
        connection.execute(
            insert(TestCase),
            [
                {
                    "id": i + 1,
                    "test_id": f"suite/tests.mod{i % 97}/test_{i}",
                    "suite": "suite",
                    "classname": f"tests.mod{i % 97}",
                    "name": f"test_{i}",
                    "first_seen_at": now,
                }
                for i in range(tests)
            ],
        )
        connection.execute(
            insert(TestLink),
            [
                {
                    "obligation_id": obligation_ids[i % len(obligation_ids)],
                    "test_case_id": i + 1,
                    "origin": "report",
                    "reviewed_version": 1,
                    "reviewed_fingerprint": "",
                    "created_by": "bench",
                    "created_at": now,
                }
                for i in range(tests)
            ],
        )
        connection.execute(
            insert(TestRun),
            [
                {
                    "id": 1,
                    "suite": "suite",
                    "branch": "main",
                    "content_hash": "bench",
                    "started_at": now,
                    "created_at": now,
                    "source_name": "bench",
                    "uploaded_by": "bench",
                    "unknown_ids": [],
                    "invalid_ids": [],
                }
            ],
        )
        connection.execute(
            insert(TestResult),
            [
                {"run_id": 1, "test_case_id": i + 1, "outcome": outcomes[i % 10], "flaky": False}
                for i in range(tests)
            ],
        )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--obligations", type=int, default=3000)
    parser.add_argument("--tests", type=int, default=30000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        app = create_app(TestConfig, DATABASE_URL=url, WTF_CSRF_ENABLED=False)
        engine = get_engine(app)
        if args.database_url:
            SQLModel.metadata.drop_all(engine)
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        migrate.upgrade(engine)
        catalog_dir = folder / "catalog"
        catalog_dir.mkdir()
        write_catalog(catalog_dir, args.obligations)

        started = time.perf_counter()
        catalog = read_catalog(catalog_dir)
        read_seconds = time.perf_counter() - started
        with session_scope(engine) as session:
            load_catalog(session=session, catalog=catalog, actor=cli_actor("bench"))
        load_seconds = time.perf_counter() - started
        ids = sorted(located.spec.id for located in catalog.obligations)
        seed_links(engine, ids, args.tests)

        # Pages need a signed-in account: sign in as a viewer through the real log-in form,
        # timing Argon2id at its production cost (the session check is in every figure below).
        with session_scope(engine) as session:
            create_user(
                session=session,
                email="viewer@bench.example",
                role=Role.VIEWER,
                actor=cli_actor("bench"),
                password=BENCH_PASSWORD,
            )
        login_times = []
        for _ in range(5):
            client = app.test_client()
            begin = time.perf_counter()
            answer = client.post(
                "/login", data={"email": "viewer@bench.example", "password": BENCH_PASSWORD}
            )
            login_times.append(time.perf_counter() - begin)
            assert answer.status_code == 302, answer.status_code

        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

        def timed(
            path: str, cold: bool = True, headers: dict[str, str] | None = None
        ) -> tuple[float, int, int]:
            if cold:  # an empty matrix cache: the matrix is computed, as on the first request
                app.extensions.pop(CACHE_KEY, None)
            statements.clear()
            begin = time.perf_counter()
            response = client.get(path, headers=headers or {})
            elapsed = time.perf_counter() - begin
            expected = 304 if headers else 200
            assert response.status_code == expected, (path, response.status_code)
            return elapsed, len(statements), len(response.data)

        timed("/matrix")  # warm-up: templates compiled, caches filled
        page_times, queries, size = [], 0, 0
        for _ in range(args.requests):
            elapsed, queries, size = timed("/matrix")
            page_times.append(elapsed)
        json_time, json_queries, json_size = timed("/matrix.json")
        csv_time, _, csv_size = timed("/matrix.csv")
        api_time, _, _ = timed("/api/v1/matrix")
        filtered = [timed("/matrix?instrument=LAW0&status=FAILING") for _ in range(args.requests)]
        filtered_time = statistics.median(item[0] for item in filtered)
        filtered_queries = filtered[0][1]
        timed("/matrix")  # fills the cache
        warm = [timed("/matrix", cold=False) for _ in range(args.requests)]
        tag = client.get("/matrix").headers["ETag"]
        revalidated = [
            timed("/matrix", cold=False, headers={"If-None-Match": tag})
            for _ in range(args.requests)
        ]
        api_warm = [timed("/api/v1/matrix", cold=False) for _ in range(args.requests)]

        print(f"database: {engine.url.get_backend_name()}")
        print(f"obligations: {len(ids)}  tests: {args.tests}  work items: {len(ids)}")
        print(
            f"catalog read+validate: {read_seconds * 1000:.0f} ms; read+validate+load: {load_seconds * 1000:.0f} ms"
        )
        print(
            f"matrix page: p50 {statistics.median(page_times) * 1000:.0f} ms, "
            f"p95 {percentile(page_times, 0.95) * 1000:.0f} ms over {args.requests} requests; "
            f"{size / 1024:.0f} KiB; {queries} SQL queries per request"
        )
        print(
            f"matrix page, filtered: {filtered_time * 1000:.0f} ms, {filtered_queries} SQL queries"
        )
        print(
            f"matrix page, warm cache: p50 {statistics.median(t[0] for t in warm) * 1000:.1f} ms, "
            f"p95 {percentile([t[0] for t in warm], 0.95) * 1000:.1f} ms, "
            f"{warm[0][1]} SQL queries per request"
        )
        print(
            f"matrix page, 304 to If-None-Match: p50 "
            f"{statistics.median(t[0] for t in revalidated) * 1000:.1f} ms, "
            f"{revalidated[0][1]} SQL queries per request"
        )
        print(
            f"API /api/v1/matrix, warm cache: p50 "
            f"{statistics.median(t[0] for t in api_warm) * 1000:.1f} ms"
        )
        print(
            f"JSON export: {json_time * 1000:.0f} ms ({json_size / 1024:.0f} KiB, {json_queries} queries)"
        )
        print(f"CSV export: {csv_time * 1000:.0f} ms ({csv_size / 1024:.0f} KiB)")
        print(f"API /api/v1/matrix: {api_time * 1000:.0f} ms")
        print(
            f"sign-in (POST /login, Argon2id): p50 {statistics.median(login_times) * 1000:.0f} ms"
        )
        engine.dispose()


BENCH_PASSWORD = "bench passphrase, not a secret"


if __name__ == "__main__":
    main()
