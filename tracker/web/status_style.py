"""How statuses and verifications look on the pages: their CSS classes and labels."""

from __future__ import annotations

from tracker.domain.status import Status, Verification

VERIFICATION_LABELS: dict[Verification, str] = {
    Verification.UNCOVERED: "Uncovered",
    Verification.NOT_RUN: "Not run",
    Verification.STALE: "Stale",
    Verification.PASSING: "Passing",
    Verification.FAILING: "Failing",
}
VERIFICATION_CSS: dict[Verification, str] = {
    verification: "vf-" + verification.value.replace(" ", "-") for verification in Verification
}
STATUS_CSS: dict[Status, str] = {
    status: "st-" + status.value.lower().replace("_", "-") for status in Status
}


def status_css(status: Status | str) -> str:
    """Return the CSS class that colours a status (the label is always shown too)."""
    return STATUS_CSS[Status(status)]
