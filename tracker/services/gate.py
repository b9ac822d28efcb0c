"""The release gate for CI: its verdict as text, JSON or JUnit XML (a test per obligation)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from tracker.domain.release_verdict import ObligationVerdict
from tracker.services.release_readiness import Readiness


def gate_json(readiness: Readiness) -> dict[str, Any]:
    """Return the gate's verdict as JSON: ready, counts, and every obligation that blocks."""
    verdicts = {item.id: item for item in readiness.verdict.obligations}
    counts: dict[str, int] = {}
    for item in readiness.verdict.obligations:
        counts[item.verdict] = counts.get(item.verdict, 0) + 1
    return {
        "release": readiness.release.name,
        "ready": readiness.verdict.ready,
        "signed_off": readiness.verdict.signed_off,
        "evidence": readiness.evidence,
        "policy": readiness.policy.model_dump(mode="json"),
        "counts": dict(sorted(counts.items())),
        "obligations": len(readiness.rows),
        "blocking": [
            _blocking_json(row.id, row.title, verdicts[row.id]) | {"severity": row.severity}
            for row in readiness.rows
            if verdicts[row.id].blocking
        ],
        "expired_exceptions": list(readiness.verdict.expired_exceptions),
    }


def gate_text(readiness: Readiness) -> str:
    """Return the verdict for a person reading a CI log."""
    data = gate_json(readiness)
    lines = [
        f"Release {data['release']}: "
        + ("READY" if data["ready"] else f"BLOCKED by {len(data['blocking'])} obligation(s)"),
        f"{data['obligations']} obligations in scope; evidence: {data['evidence']}.",
        "Counts: " + ", ".join(f"{name} {count}" for name, count in data["counts"].items()),
    ]
    for item in data["blocking"]:
        lines.append(f"  {item['id']} ({item['verdict']}): {' '.join(item['reasons'])}")
    if data["expired_exceptions"]:
        expired = ", ".join(f"#{number}" for number in data["expired_exceptions"])
        lines.append(f"Expired exceptions no longer count: {expired}.")
    return "\n".join(lines) + "\n"


def gate_junit(readiness: Readiness) -> str:
    """Return a JUnit XML report with one test case per obligation, failed when it blocks."""
    verdicts = {item.id: item for item in readiness.verdict.obligations}
    blocking = sum(1 for item in readiness.verdict.obligations if item.blocking)
    suite = ElementTree.Element(
        "testsuite",
        name=f"release gate {readiness.release.name}",
        tests=str(len(readiness.rows)),
        failures=str(blocking),
        errors="0",
        skipped="0",
    )
    for row in readiness.rows:
        verdict = verdicts[row.id]
        case = ElementTree.SubElement(
            suite, "testcase", classname=f"release.{row.instrument}", name=f"{row.id} {row.title}"
        )
        if verdict.blocking:
            failure = ElementTree.SubElement(
                case, "failure", message=f"{verdict.verdict}: {' '.join(verdict.reasons)}"
            )
            failure.text = row.result.explanation
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    body = ElementTree.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _blocking_json(ob_id: str, title: str, verdict: ObligationVerdict) -> dict[str, Any]:
    return {
        "id": ob_id,
        "title": title,
        "verdict": verdict.verdict,
        "signoff": verdict.signoff.value,
        "reasons": list(verdict.reasons),
    }
