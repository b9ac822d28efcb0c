"""Benchmark: gunicorn on PostgreSQL and Redis under an open-loop load at fixed request rates.

Run: python bench/load.py [--rates 50,100,200] [--seconds 60] [--sizes demo,3000]

For each size it creates a PostgreSQL database of its own (dropped afterwards unless --keep),
runs the migrations and fills it: "demo" is the demo's data (`prepare_demo`, with the Jira
sandbox), "3000" is bench/matrix.py's synthetic catalog of 3,000 obligations with one work
item each and 30,000 tests with a result each. It creates an API token (read and
results:write) and signs in four demo accounts (viewer, engineer, legal, compliance) through
the log-in form; each then keeps the cookies the answers set, as a browser does. Each rate then gets a fresh `gunicorn --workers 4 tracker.wsgi:app` (with
TRACKER_DATABASE_URL and TRACKER_REDIS_URL), warmed for a few seconds at 10 requests per
second: a server that fell behind at one rate would otherwise still be working off abandoned
requests at the next.

The load is open-loop: request i is due at start + i / rate whatever happened to the ones
before, and its latency is measured from that due time, so a slow server shows as latency
instead of as fewer requests (no coordinated omission). Each second carries one report upload
(POST /api/v1/test-runs, a small JUnit report naming a few obligations, a new run each time);
the other requests are, at random with fixed weights, obligation pages (random ids), the
dashboard, the matrix page and GET /api/v1/matrix, pages with one of the signed-in sessions
and the API with the token. The client is the standard library's asyncio streams (one
connection per request, `Connection: close`, as a proxy in front of gunicorn does by
default), so the bench needs nothing beyond the tracker's own dependencies.

An answer other than 2xx, a refused connection or no answer within --timeout seconds is an
error. Achieved rate is successful answers per second of the window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/3"
DATABASE_NAME = "tracker_load"
SIGNED_IN_ROLES = ("viewer", "engineer", "legal", "compliance")
BENCH_PASSWORD = "load bench passphrase, not a secret"  # noqa: S105 - a throwaway database
#: Weights of the read requests; one upload a second comes on top of them.
MIX = {"obligation": 45, "dashboard": 20, "matrix": 20, "api_matrix": 15}


@dataclass
class Target:
    """What the load needs to know about a prepared database."""

    database_url: str
    obligation_ids: list[str]
    token: str
    #: Each signed-in browser's cookies (name to value), updated from every answer's
    #: Set-Cookie as a browser does.
    cookies: list[dict[str, str]] = field(default_factory=list)


# --- set-up --------------------------------------------------------------------------------------


def recreate_database(name: str, admin_url: str) -> str:
    """Drop and create the database; return its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def database_exists(name: str, admin_url: str) -> bool:
    """Return whether the PostgreSQL server has a database of this name."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
    engine.dispose()
    return found is not None


def drop_database(name: str, admin_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def prepare(size: str, database_url: str, tracker_url: str, fill: bool = True) -> Target:
    """Fill the database for one size (unless reused); return the obligation ids and a token."""
    from sqlmodel import select

    from tracker import create_app, migrate
    from tracker.config import Config
    from tracker.db import get_engine, session_scope
    from tracker.domain.access import Role, Scope, cli_actor
    from tracker.errors import NotFoundError
    from tracker.models import Obligation
    from tracker.services.accounts import create_user, find_user
    from tracker.services.tokens import create_token

    app = create_app(Config, DATABASE_URL=database_url, PUBLIC_URL=tracker_url)
    engine = get_engine(app)
    actor = cli_actor("load bench")
    if not fill:
        migrate.upgrade(engine)  # a reused database follows the migrations added since
    elif size == "demo":
        from tracker.demo import DEMO_EMAIL, DEMO_JQL, prepare_demo
        from tracker.integrations.jira_records import JiraSettings
        from tracker.sandbox.context import SandboxAuth
        from tracker.sandbox.seed import seed_demo
        from tracker.sandbox.server import SandboxServer
        from tracker.sandbox.state import SandboxState

        # The demo's sandbox, without webhooks: nothing listens for them while setting up.
        state = SandboxState()
        seed_demo(state)
        sandbox_token = "load-bench"  # noqa: S105 - a loopback sandbox for this run only
        jira = SandboxServer(
            state, mode="cloud", auth=SandboxAuth(email=DEMO_EMAIL, token=sandbox_token)
        )
        settings = JiraSettings(
            url=jira.url, email=DEMO_EMAIL, api_token=sandbox_token, jql=DEMO_JQL, timeout=10.0
        )
        try:
            prepare_demo(app, settings)
        finally:
            jira.stop()
    else:
        from matrix import seed_links, write_catalog

        from tracker.catalog import read_catalog
        from tracker.services.catalog import load_catalog

        migrate.upgrade(engine)
        with tempfile.TemporaryDirectory() as folder:
            write_catalog(Path(folder), int(size))
            catalog = read_catalog(Path(folder))
        with session_scope(engine) as session:
            load_catalog(session=session, catalog=catalog, actor=actor)
        ids = sorted(located.spec.id for located in catalog.obligations)
        seed_links(engine, ids, int(size) * 10)
        with engine.begin() as connection:
            # seed_links gives explicit ids: move the sequences past them for the uploads.
            for table in ("testcase", "testrun"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    with session_scope(engine) as session:
        for role in SIGNED_IN_ROLES:
            email = f"{role}@load.example"
            try:
                find_user(session, email)
            except NotFoundError:
                create_user(
                    session=session,
                    email=email,
                    role=Role(role),
                    display_name=f"Load {role}",
                    password=BENCH_PASSWORD,
                    actor=actor,
                )
        token = create_token(
            session=session, name="load", actor=actor, scopes=[Scope.READ, Scope.RESULTS_WRITE]
        )
        ids = list(session.exec(select(Obligation.id)).all())
    engine.dispose()
    return Target(database_url=database_url, obligation_ids=ids, token=token.secret)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(args: argparse.Namespace, target: Target, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        TRACKER_DATABASE_URL=target.database_url,
        TRACKER_REDIS_URL=args.redis_url,
        TRACKER_SECRET_KEY="load-bench-secret-key-not-for-production",  # noqa: S106
        TRACKER_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--workers",
        str(args.workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        args.worker_class,
        "--log-level",
        "warning",
    ]
    if args.threads:
        command += ["--threads", str(args.threads)]
    command += args.gunicorn_arg
    command.append("tracker.wsgi:app")
    log = open(args.server_log, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, env=env, stdout=log, stderr=log)  # noqa: S603


async def wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _, _ = await fetch(port, "GET", "/login", timeout=5)
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("gunicorn did not answer GET /login within a minute; see the server log")


async def sign_in(port: int, role: str) -> dict[str, str]:
    """Log in through the form (CSRF token included) and follow the redirect to the dashboard,
    as a browser does; return the cookies it then holds."""
    jar: dict[str, str] = {}
    status, headers, body = await fetch(port, "GET", "/login", timeout=10)
    keep_cookies(jar, headers)
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    if status != 200 or match is None:
        raise SystemExit(f"GET /login answered {status} without a CSRF token")
    form = urllib.parse.urlencode(
        {
            "csrf_token": match.group(1).decode(),
            "email": f"{role}@load.example",
            "password": BENCH_PASSWORD,
            "next": "/",
        }
    ).encode()
    status, headers, _ = await fetch(
        port,
        "POST",
        "/login",
        body=form,
        headers={"Cookie": cookie_header(jar), "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    if status != 302:
        raise SystemExit(f"log-in as {role} answered {status}, not 302")
    keep_cookies(jar, headers)
    status, headers, _ = await fetch(
        port, "GET", "/", headers={"Cookie": cookie_header(jar)}, timeout=10
    )
    if status != 200:
        raise SystemExit(f"the dashboard after log-in as {role} answered {status}, not 200")
    keep_cookies(jar, headers)
    return jar


def keep_cookies(jar: dict[str, str], headers: list[tuple[str, str]]) -> None:
    """Store the cookies an answer sets, as a browser does."""
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, content = pair.partition("=")
            jar[key.strip()] = content


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


# --- the client ----------------------------------------------------------------------------------


async def fetch(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one HTTP/1.1 request on a new connection; return status, headers and body."""

    async def exchange() -> tuple[int, list[tuple[str, str]], bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        try:
            lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            if body or method == "POST":
                lines.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            raw = await reader.read(-1)
        finally:
            writer.close()
        head, _, content = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ConnectionError(f"no HTTP answer ({len(raw)} bytes)")
        pairs = [tuple(line.split(": ", 1)) for line in header_lines if ": " in line]
        return int(parts[1]), pairs, content  # type: ignore[return-value]

    return await asyncio.wait_for(exchange(), timeout)


def junit_report(number: int, obligation_ids: list[str], rng: random.Random) -> bytes:
    """Return a small report of 20 tests naming a few obligations; unique per number."""
    cases = []
    for index in range(20):
        obligation = rng.choice(obligation_ids)
        failure = '<failure message="boom">assert 1 == 2</failure>' if index == 7 else ""
        cases.append(
            f'<testcase classname="tests.load.test_area{index % 4}" name="test_{index}" '
            f'time="0.01"><properties><property name="obligations" value="{obligation}"/>'
            f"</properties>{failure}</testcase>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="load" '
        f'tests="20" timestamp="2026-12-01T00:00:00" hostname="load-{number}">'
        + "".join(cases)
        + "</testsuite></testsuites>"
    ).encode()


@dataclass
class Sample:
    kind: str
    latency: float  # seconds from the due time to the end of the answer
    ok: bool
    status: int | None
    error: str | None = None
    lag: float = 0.0  # how late the generator sent it (a busy generator shows here)


async def run_rate(
    port: int, target: Target, rate: float, seconds: float, timeout: float, seed: int
) -> tuple[list[Sample], float]:
    """Send rate * seconds requests on schedule; return the samples and the window's length."""
    rng = random.Random(seed)
    kinds = list(MIX)
    weights = [MIX[kind] for kind in kinds]
    per_upload = max(1, round(rate))
    total = int(rate * seconds)
    samples: list[Sample] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int, due: float) -> None:
        jar: dict[str, str] | None = None
        if index % per_upload == per_upload - 1:
            kind = "upload"
            number = int(time.time() * 1000) * 1000 + index
            query = urllib.parse.urlencode(
                {"suite": "load", "commit": f"{number:x}"[:12], "branch": "main"}
            )
            request = (
                "POST",
                f"/api/v1/test-runs?{query}",
                junit_report(number, target.obligation_ids, rng),
                {"Authorization": f"Bearer {target.token}", "Content-Type": "application/xml"},
            )
        else:
            kind = rng.choices(kinds, weights)[0]
            jar = rng.choice(target.cookies)
            cookie = {"Cookie": cookie_header(jar)}
            token = {"Authorization": f"Bearer {target.token}"}
            path, headers = {
                "obligation": (
                    "/obligations/" + urllib.parse.quote(rng.choice(target.obligation_ids)),
                    cookie,
                ),
                "dashboard": ("/", cookie),
                "matrix": ("/matrix", cookie),
                "api_matrix": ("/api/v1/matrix", token),
            }[kind]
            request = ("GET", path, b"", headers)
        method, path, body, headers = request
        lag = time.perf_counter() - due
        try:
            status, answer_headers, _ = await fetch(
                port, method, path, body=body, headers=headers, timeout=timeout
            )
        except TimeoutError:
            samples.append(Sample(kind, time.perf_counter() - due, False, None, "timeout", lag))
            return
        except (OSError, ConnectionError) as exc:
            error = type(exc).__name__
            samples.append(Sample(kind, time.perf_counter() - due, False, None, error, lag))
            return
        samples.append(
            Sample(kind, time.perf_counter() - due, 200 <= status < 300, status, None, lag)
        )
        if jar is not None and kind != "api_matrix":
            keep_cookies(jar, answer_headers)

    start = time.perf_counter() + 0.05
    for index in range(total):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    return samples, max(seconds, time.perf_counter() - start)


# --- figures -------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summarize(samples: list[Sample], rate: float, window: float) -> dict[str, object]:
    latencies = [sample.latency * 1000 for sample in samples]
    errors: dict[str, int] = {}
    for sample in samples:
        if not sample.ok:
            reason = sample.error or str(sample.status)
            errors[reason] = errors.get(reason, 0) + 1
    by_kind = {}
    for kind in [*MIX, "upload"]:
        values = [sample.latency * 1000 for sample in samples if sample.kind == kind]
        if values:
            by_kind[kind] = {
                "requests": len(values),
                "p50": round(statistics.median(values), 1),
                "p99": round(percentile(values, 0.99), 1),
            }
    return {
        "rate": rate,
        "requests": len(samples),
        "p50": round(percentile(latencies, 0.50), 1),
        "p95": round(percentile(latencies, 0.95), 1),
        "p99": round(percentile(latencies, 0.99), 1),
        "max": round(max(latencies, default=float("nan")), 1),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "achieved": round(sum(1 for sample in samples if sample.ok) / window, 1),
        "send_lag_p99": round(percentile([sample.lag * 1000 for sample in samples], 0.99), 1),
        "by_kind": by_kind,
    }


def print_summary(size: str, figures: dict[str, object]) -> None:
    by_kind = figures["by_kind"]
    assert isinstance(by_kind, dict)  # noqa: S101
    kinds = "  ".join(
        f"{kind} {values['p50']:.0f}/{values['p99']:.0f}" for kind, values in by_kind.items()
    )
    print(
        f"{size:>5} {figures['rate']:>5.0f} rps: p50 {figures['p50']:>7.1f}  p95 "
        f"{figures['p95']:>7.1f}  p99 {figures['p99']:>7.1f} ms  errors {figures['errors']}"
        f" {figures['error_kinds'] or ''}  achieved {figures['achieved']} rps"
        f"  (sent up to {figures['send_lag_p99']:.0f} ms late, p99)",
        flush=True,
    )
    print(f"      p50/p99 ms by kind: {kinds}", flush=True)


# --- main ----------------------------------------------------------------------------------------


async def measure(
    args: argparse.Namespace, size: str, target: Target, rate: float, seed: int
) -> dict[str, object]:
    """Run one rate against a fresh server, so an overload before cannot leave work queued."""
    port = free_port()
    server = start_gunicorn(args, target, port)
    try:
        await wait_ready(port)
        if not target.cookies:
            target.cookies = [await sign_in(port, role) for role in SIGNED_IN_ROLES]
        # Warm every worker: templates compiled, connections in the pool.
        await run_rate(port, target, 10, args.warmup, args.timeout, seed=0)
        samples, window = await run_rate(port, target, rate, args.seconds, args.timeout, seed)
    finally:
        stop(server)
    figures = summarize(samples, rate, window) | {"size": size}
    print_summary(size, figures)
    return figures


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rates", default="50,100,200", help="requests per second, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=60, help="length of each rate's run")
    parser.add_argument("--sizes", default="demo,3000", help="demo and/or a number of obligations")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=0, help="gunicorn --threads (gthread)")
    parser.add_argument("--gunicorn-arg", action="append", default=[], help="passed on as is")
    parser.add_argument("--timeout", type=float, default=10, help="seconds before an error")
    parser.add_argument("--warmup", type=float, default=3, help="seconds at 10 rps first")
    parser.add_argument(
        "--admin-url", default=ADMIN_URL, help="a PostgreSQL database to create from"
    )
    parser.add_argument("--database", default=DATABASE_NAME, help="name of the database to create")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--server-log", default=os.path.join(tempfile.gettempdir(), "load-gunicorn.log")
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the size's database if it exists (filled by an earlier --keep or --reuse "
        "run; the uploads of earlier runs stay in it) and keep it",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    args.rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]

    print(
        f"mix: {MIX} plus one upload a second; {args.workers} workers ({args.worker_class}"
        f"{f', {args.threads} threads' if args.threads else ''}); {args.seconds:g} s per rate"
    )
    results = []
    for size in [part.strip() for part in args.sizes.split(",") if part.strip()]:
        name = f"{args.database}_{size}"
        port = free_port()
        reuse = args.reuse and database_exists(name, args.admin_url)
        if reuse:
            database_url = args.admin_url.rsplit("/", 1)[0] + "/" + name
        else:
            database_url = recreate_database(name, args.admin_url)
        begin = time.perf_counter()
        target = prepare(size, database_url, f"http://127.0.0.1:{port}", fill=not reuse)
        print(
            f"{size}: {len(target.obligation_ids)} obligations, set up in "
            f"{time.perf_counter() - begin:.1f} s",
            flush=True,
        )
        try:
            for number, rate in enumerate(args.rates):
                results.append(asyncio.run(measure(args, size, target, rate, seed=number + 1)))
        finally:
            if not (args.keep or args.reuse):
                drop_database(name, args.admin_url)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
