"""Benchmark: release readiness page, `tracker gate`, freezing and offline verify at scale.

Run: python bench/releases.py --obligations 3000 --tests 30000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from matrix import BENCH_PASSWORD, seed_links, write_catalog
from sqlalchemy import insert

from tracker import create_app, migrate
from tracker.catalog import read_catalog
from tracker.config import TestConfig
from tracker.db import get_engine, session_scope
from tracker.domain.access import Role, cli_actor
from tracker.models import JiraVersion
from tracker.services.accounts import create_user
from tracker.services.catalog import load_catalog
from tracker.services.release_readiness import release_readiness
from tracker.services.snapshots import freeze_release

RELEASE = "2026.12"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--obligations", type=int, default=3000)
    parser.add_argument("--tests", type=int, default=30000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        app = create_app(TestConfig, DATABASE_URL=url, WTF_CSRF_ENABLED=False)
        engine = get_engine(app)
        migrate.upgrade(engine)
        (folder / "catalog").mkdir()
        write_catalog(folder / "catalog", args.obligations)
        catalog = read_catalog(folder / "catalog")
        with session_scope(engine) as session:
            load_catalog(session=session, catalog=catalog, actor=cli_actor("bench"))
            create_user(
                session=session,
                email="cora@bench.example",
                role=Role.COMPLIANCE,
                actor=cli_actor("bench"),
                password=BENCH_PASSWORD,
            )
        ids = sorted(located.spec.id for located in catalog.obligations)
        seed_links(engine, ids, args.tests)
        with engine.begin() as connection:
            connection.execute(
                insert(JiraVersion),
                [
                    {
                        "id": "1",
                        "project_key": "PRIV",
                        "name": RELEASE,
                        "release_date": date(2026, 12, 15),
                        "released": False,
                        "archived": False,
                    }
                ],
            )

        client = app.test_client()
        client.post("/login", data={"email": "cora@bench.example", "password": BENCH_PASSWORD})
        page = f"/releases/{RELEASE}"
        assert client.get(page).status_code == 200  # warm-up
        times = []
        for _ in range(args.requests):
            begin = time.perf_counter()
            response = client.get(page)
            times.append(time.perf_counter() - begin)
            assert response.status_code == 200
        size = len(response.data)

        env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_SECRET_KEY": "bench"}
        gate_times = []
        for _ in range(3):
            begin = time.perf_counter()
            gate = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from tracker.cli import main; main()",
                    "gate",
                    "--release",
                    RELEASE,
                    "--format",
                    "json",
                    "--output",
                    str(folder / "gate.json"),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            gate_times.append(time.perf_counter() - begin)
            assert gate.returncode in (0, 1), gate.stderr

        begin = time.perf_counter()
        with session_scope(engine) as session:
            readiness = release_readiness(session=session, release=RELEASE)
            snapshot = freeze_release(
                session=session, readiness=readiness, actor=cli_actor("bench")
            )
        freeze_seconds = time.perf_counter() - begin
        snapshot_file = folder / "snapshot.json"
        snapshot_file.write_text(snapshot.document, encoding="utf-8")

        verify_times = []
        clean_env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp}
        for _ in range(3):
            begin = time.perf_counter()
            verified = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from tracker.cli import main; main()",
                    "snapshot",
                    "verify",
                    str(snapshot_file),
                ],
                env=clean_env,
                cwd=tmp,
                capture_output=True,
                text=True,
                check=False,
            )
            verify_times.append(time.perf_counter() - begin)
            assert verified.returncode == 0, verified.stderr

        print(f"obligations: {len(ids)}  tests: {args.tests}")
        print(
            f"readiness page: p50 {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms over {args.requests} requests ({size / 1024:.0f} KiB)"
        )
        print(f"tracker gate (whole process): median {statistics.median(gate_times):.2f} s")
        print(
            f"freeze: {freeze_seconds:.2f} s; snapshot {len(snapshot.document) / 1024 / 1024:.1f} MiB"
        )
        print(
            f"tracker snapshot verify (whole process): median {statistics.median(verify_times):.2f} s"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
