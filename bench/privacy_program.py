"""Benchmark: the privacy program at 500 processing activities and 3,000 obligations.

Times what grows with the data map: reading and validating it, loading it (with the retention
duties and the applicability proposals it triggers), the proposals alone (the pure function,
and the stored refresh), and the pages that show it: the risk register, the applicability list,
the retention schedule, an activity's page.

The catalog carries the matrix benchmark's links: one work item per obligation and 30,000 tests
with a result each, so the statuses the pages show are computed from real evidence.

Run: python bench/privacy_program.py [--activities 500] [--obligations 3000] [--tests 30000]
     [--runs 15]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

INSTRUMENTS = 10
ROLES = ["controller", "processor", "business", "service_provider", "covered_entity"]
JURISDICTIONS = ["EU", "EEA", "US", "US-CA", "BR", "UK"]
CATALOG_CATEGORIES = [
    "personal_data",
    "personal_information",
    "special_category_data",
    "sensitive_personal_information",
    "children_data",
    "ephi",
]
SURFACES = ["web", "mobile", "backend_services", "data_platform", "support_tooling", "vendors"]
FIDES_CATEGORIES = [
    "user.contact.email",
    "user.contact.phone_number",
    "user.name",
    "user.device.cookie_id",
    "user.device.ip_address",
    "user.behavior.browsing_history",
    "user.location.precise",
    "user.financial.credit_card",
    "user.health_and_medical",
    "user.biometric",
    "user.childrens",
    "user.government_id",
]
SUBJECTS = ["customer", "employee", "prospect", "patient", "anonymous_user"]


def write_catalog(folder: Path, obligations: int, rng: random.Random) -> None:
    """Write INSTRUMENTS catalog files whose obligations carry varied applicability tags."""
    per_file = obligations // INSTRUMENTS
    for index in range(INSTRUMENTS):
        code = f"LAW{index}"
        entries = []
        for number in range(per_file):
            entries.append(
                {
                    "id": f"{code}-{number}.1",
                    "citation": f"Art. {number}(1)",
                    "title": f"Synthetic obligation {number}",
                    "summary": "A synthetic obligation used to measure how the tracker scales.",
                    "official_url": "https://example.org/law",
                    "severity": "medium",
                    "evidence": [{"type": "automated_test", "description": "A synthetic test."}],
                    "applicability": {
                        "roles": rng.sample(ROLES, 2),
                        "jurisdictions": rng.sample(JURISDICTIONS, 2),
                        "data_categories": rng.sample(CATALOG_CATEGORIES, 1),
                        "surfaces": rng.sample(SURFACES, 2),
                    },
                }
            )
        document = {
            "instrument": {
                "id": code,
                "title": f"Synthetic instrument {index}",
                "jurisdiction": "EU",
                "official_url": "https://example.org/law",
            },
            "obligations": entries,
        }
        (folder / f"{code.lower()}.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")


def write_data_map(
    folder: Path, activities: int, obligation_ids: list[str], rng: random.Random
) -> None:
    """Write a data map of `activities` activities on 50 systems, a DPIA for every fifth."""
    systems = [
        {
            "id": f"system-{number}",
            "name": f"System {number}",
            "jira": {"project": "PRIV"},
            "surfaces": rng.sample(SURFACES, 2),
            "hosted_in": [rng.choice(JURISDICTIONS)],
        }
        for number in range(50)
    ]
    entries = []
    dpias = []
    for number in range(activities):
        categories = rng.sample(FIDES_CATEGORIES, 3)
        own_systems = rng.sample([system["id"] for system in systems], 2)
        entries.append(
            {
                "id": f"activity-{number}",
                "name": f"Activity {number}",
                "purpose": "A synthetic processing activity for the benchmark.",
                "owner": f"owner{number % 7}@example.com",
                "data_categories": categories,
                "data_subjects": rng.sample(SUBJECTS, 2),
                "systems": own_systems,
                "jurisdictions": rng.sample(JURISDICTIONS, 2),
                "roles": rng.sample(ROLES, 2),
                "retention": [
                    {"data_categories": categories[:2], "period": "2 years", "trigger": "collected"}
                ],
                "dpia": {"required": number % 5 == 0, "reason": "Synthetic reason for the bench."},
            }
        )
        if number % 5 == 0:
            dpias.append(
                {
                    "id": f"dpia-{number}",
                    "activity": f"activity-{number}",
                    "title": f"DPIA of activity {number}",
                    "description": "A synthetic impact assessment.",
                    "necessity": "Synthetic necessity and proportionality notes.",
                    "risks": [
                        {
                            "id": f"R{risk}",
                            "title": f"Synthetic risk {risk}",
                            "likelihood": rng.randint(1, 5),
                            "impact": rng.randint(1, 5),
                            "mitigations": [
                                {
                                    "description": "A synthetic mitigation.",
                                    "obligations": rng.sample(obligation_ids, 2),
                                    "reduces_likelihood": 1,
                                }
                            ],
                        }
                        for risk in range(1, 6)
                    ],
                }
            )
    (folder / "systems.yaml").write_text(yaml.safe_dump({"systems": systems}), encoding="utf-8")
    (folder / "activities.yaml").write_text(
        yaml.safe_dump({"activities": entries}), encoding="utf-8"
    )
    (folder / "dpias.yaml").write_text(yaml.safe_dump({"dpias": dpias}), encoding="utf-8")


def timed(action: Callable[[], Any], runs: int) -> dict[str, float]:
    """Run action `runs` times; return the median and fastest wall time in milliseconds."""
    figures = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        figures.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": statistics.median(figures), "min_ms": min(figures)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=500)
    parser.add_argument("--obligations", type=int, default=3000)
    parser.add_argument("--tests", type=int, default=30000, help="tests linked to obligations")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as scratch:
        run(Path(scratch), args, rng)


def run(folder: Path, args: argparse.Namespace, rng: random.Random) -> None:
    """Fill a database and time each step (see the module docstring)."""
    from tracker import create_app, migrate
    from tracker.catalog import read_catalog
    from tracker.config import TestConfig
    from tracker.data_map.reader import read_data_map
    from tracker.db import get_engine, session_scope
    from tracker.domain.access import Role, cli_actor
    from tracker.services.accounts import create_user
    from tracker.services.applicability_refresh import compute_proposals, refresh_proposals
    from tracker.services.catalog import load_catalog
    from tracker.services.data_map import load_data_map
    from tracker.web.caching import CACHE_KEY

    sys.path.insert(0, str(Path(__file__).parent))
    from matrix import seed_links

    actor = cli_actor("bench")
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    app = create_app(TestConfig, DATABASE_URL=url, WTF_CSRF_ENABLED=False)
    engine = get_engine(app)
    migrate.upgrade(engine)
    catalog_dir = folder / "catalog"
    map_dir = folder / "data_map"
    catalog_dir.mkdir()
    map_dir.mkdir()
    write_catalog(catalog_dir, args.obligations, rng)
    catalog = read_catalog(catalog_dir)
    assert catalog.ok, catalog.problems[:3]
    with session_scope(engine) as session:
        load_catalog(session=session, catalog=catalog, actor=actor)
    ids = sorted(located.spec.id for located in catalog.obligations)
    seed_links(engine, ids, args.tests)  # the matrix benchmark's links, tests and results
    write_data_map(map_dir, args.activities, ids, rng)
    known = frozenset(ids)

    figures: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    data_map = read_data_map(map_dir, known_obligations=known)
    figures["read and validate the data map"] = _once(started)
    assert data_map.ok, data_map.problems[:3]
    started = time.perf_counter()
    with session_scope(engine) as session:
        report = load_data_map(session=session, data_map=data_map, actor=actor)
    figures["first load (with retention duties and proposals)"] = _once(started)
    print(report.summary())
    started = time.perf_counter()
    with session_scope(engine) as session:
        load_data_map(session=session, data_map=data_map, actor=actor)
    figures["load again, unchanged"] = _once(started)

    runs = args.runs
    with session_scope(engine) as session:
        proposals = compute_proposals(session)
        figures["applicability proposals (read + propose)"] = timed(
            lambda: compute_proposals(session), runs
        )
        figures["refresh of the stored proposals, unchanged"] = timed(
            lambda: refresh_proposals(session=session, actor=actor), runs
        )
    applicable = sum(1 for proposal in proposals if proposal.proposal == "applicable")
    print(f"{len(proposals)} proposals, {applicable} applicable")

    with session_scope(engine) as session:
        create_user(
            session=session,
            email="viewer@bench.example",
            role=Role.VIEWER,
            actor=actor,
            password=BENCH_PASSWORD,
        )
    client = app.test_client()
    answer = client.post(
        "/login", data={"email": "viewer@bench.example", "password": BENCH_PASSWORD}
    )
    assert answer.status_code == 302, answer.status_code

    def page(path: str, cold: bool) -> Callable[[], Any]:
        def fetch() -> None:
            if cold:  # an empty matrix cache, as after every write
                app.extensions.pop(CACHE_KEY, None)
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return fetch

    paths = (
        "/risks",
        "/applicability",
        "/retention",
        "/data-map",
        "/data-map/activities/activity-0",
    )
    for path in paths:
        page(path, cold=True)()  # the templates, once
        figures[f"GET {path}, nothing cached (as after a write)"] = timed(page(path, True), runs)
        page("/matrix", cold=True)()  # the matrix page computes and shares the whole matrix
        figures[f"GET {path}, whole matrix cached"] = timed(page(path, cold=False), runs)

    width = max(len(name) for name in figures)
    print(f"{args.activities} activities, {args.obligations} obligations, {runs} runs")
    for name, values in figures.items():
        line = f"{name:<{width}}  p50 {values['p50_ms']:8.1f} ms"
        if "min_ms" in values and values["min_ms"] != values["p50_ms"]:
            line += f"  (fastest {values['min_ms']:.1f} ms)"
        print(line)


BENCH_PASSWORD = "bench passphrase, not a secret"


def _once(started: float) -> dict[str, float]:
    elapsed = (time.perf_counter() - started) * 1000
    return {"p50_ms": elapsed, "min_ms": elapsed}


if __name__ == "__main__":
    main()
