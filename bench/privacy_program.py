"""Benchmark: the privacy program at 500 processing activities and 3,000 obligations.

Times what grows with the data map: reading and validating it, loading it (with the retention
duties and the applicability proposals it triggers), the proposals alone (the pure function,
and the stored refresh), and the pages that show it: the risk register, the applicability list,
the retention schedule, an activity's page.

Run: python bench/privacy_program.py [--activities 500] [--obligations 3000] [--runs 15]
"""

from __future__ import annotations

import argparse
import random
import statistics
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
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as scratch:
        run(Path(scratch), args, rng)


def run(folder: Path, args: argparse.Namespace, rng: random.Random) -> None:
    """Fill a database and time each step (see the module docstring)."""
    raise SystemExit("the timing part is written once the services it times exist")


if __name__ == "__main__":
    main()
