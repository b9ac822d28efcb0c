"""Benchmark: Jira sync and push against the local sandbox holding 10,000 epics.

Run: python bench/jira_sync.py [--epics 10000] [--mode cloud|datacenter] [--database-url URL]

Everything goes through the real paths: the jira client over loopback HTTP to the sandbox,
the sync and push services, the bundled catalog. Request counts come from the sandbox's
own counters, so they are what a Jira site would see.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, func
from sqlmodel import Session, SQLModel, select

from tracker import create_app, migrate
from tracker.catalog import read_catalog
from tracker.config import DEFAULT_CATALOG_PATH, TestConfig
from tracker.db import get_engine, session_scope
from tracker.domain.access import cli_actor
from tracker.integrations.jira_gateway import RestJiraGateway
from tracker.integrations.jira_records import JiraSettings
from tracker.models import RemoteLinkState, WorkItem, WorkItemLink
from tracker.sandbox import SandboxAuth, SandboxServer, SandboxState, seed_generated
from tracker.services.catalog import load_catalog
from tracker.services.jira_push import push_links
from tracker.services.jira_sync import sync_jira

EMAIL = "bench@example.test"
TOKEN = "bench-token"
PAT = "bench-pat"
JQL = "project in (PRIV, APP, WEB) AND issuetype = Epic"
PUBLIC_URL = "http://127.0.0.1:5000"
SHOWN_KINDS = (
    "server_info",
    "myself",
    "search",
    "issue_get",
    "project_versions",
    "remotelink_get",
    "remotelink_post",
    "remotelink_put",
    "remotelink_delete",
    "total",
)


def machine() -> dict[str, Any]:
    """Return the CPU model, core count and memory of this machine."""
    model = platform.processor() or "unknown"
    memory_kb = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def requests_by_kind(state: SandboxState) -> dict[str, int]:
    stats = state.stats()
    return {kind: stats.get(kind, 0) for kind in SHOWN_KINDS if stats.get(kind, 0)}


def measure(
    name: str, state: SandboxState, action: Callable[[], Any], statements: list[str]
) -> dict[str, Any]:
    """Run one phase with fresh counters; return its time, requests and SQL statements."""
    state.reset_stats()
    statements.clear()
    started = time.perf_counter()
    outcome = action()
    seconds = time.perf_counter() - started
    result = {
        "phase": name,
        "seconds": round(seconds, 3),
        "requests": requests_by_kind(state),
        "sql_statements": len(statements),
        "summary": outcome.summary(),
    }
    print(f"{name}: {seconds:.2f} s; {outcome.summary()}")
    print(f"  requests: {result['requests']}; SQL statements: {len(statements)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epics", type=int, default=10_000)
    parser.add_argument("--mode", choices=("cloud", "datacenter"), default="cloud")
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app(TestConfig, DATABASE_URL=url, PUBLIC_URL=PUBLIC_URL)
        engine = get_engine(app)
        if args.database_url:
            SQLModel.metadata.drop_all(engine)
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        migrate.upgrade(engine)
        with session_scope(engine) as session:
            load_catalog(
                session=session,
                catalog=read_catalog(DEFAULT_CATALOG_PATH),
                actor=cli_actor("bench"),
            )

        state = SandboxState()
        started = time.perf_counter()
        seed_generated(state, args.epics)
        print(f"Seeded {state.issue_count()} epics in {time.perf_counter() - started:.1f} s")
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

        auth = SandboxAuth(email=EMAIL, token=TOKEN, pat=PAT)
        with SandboxServer(state, mode=args.mode, auth=auth) as server:
            if args.mode == "cloud":
                settings = JiraSettings(url=server.url, email=EMAIL, api_token=TOKEN, jql=JQL)
            else:
                settings = JiraSettings(url=server.url, pat=PAT, jql=JQL)

            def sync(full: bool) -> Callable[[], Any]:
                return lambda: sync_jira(
                    actor=cli_actor("test"),
                    engine=engine,
                    gateway=RestJiraGateway(settings),
                    jql=JQL,
                    full=full,
                )

            def push() -> Any:
                return push_links(
                    actor=cli_actor("test"),
                    engine=engine,
                    gateway=RestJiraGateway(settings),
                    public_url=PUBLIC_URL,
                )

            phases = [
                measure("full sync", state, sync(True), statements),
                measure("incremental sync, nothing changed", state, sync(False), statements),
                measure("push of every remote link", state, push, statements),
                measure("push again, nothing changed", state, push, statements),
                measure("incremental sync after the push", state, sync(False), statements),
            ]
        with Session(engine) as session:
            counts = {
                "work_items": session.exec(select(func.count()).select_from(WorkItem)).one(),
                "links": session.exec(select(func.count()).select_from(WorkItemLink)).one(),
                "remote_links": session.exec(
                    select(func.count()).select_from(RemoteLinkState)
                ).one(),
            }
    print(f"Stored: {counts}")
    report = {
        "mode": args.mode,
        "epics": args.epics,
        "database": engine.dialect.name,
        "machine": machine(),
        "stored": counts,
        "phases": phases,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["machine"]))


if __name__ == "__main__":
    main()
