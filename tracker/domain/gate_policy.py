"""The release gate's policy file: which statuses block, per severity and instrument."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.release_verdict import Policy
from tracker.domain.status import Status

STATUS_NAMES = [status.value for status in Status]


class PolicySpec(BaseModel):
    """A gate policy as written in YAML (every key optional; unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    block: list[Status] = Field(
        default_factory=lambda: sorted(set(Status) - {Status.VERIFIED, Status.NOT_APPLICABLE}),
        description="Statuses that block the release (default: all but VERIFIED and "
        "NOT_APPLICABLE).",
    )
    by_severity: dict[str, list[Status]] = Field(
        default_factory=dict,
        description="Blocking statuses for obligations of a severity (replaces `block`).",
    )
    by_instrument: dict[str, list[Status]] = Field(
        default_factory=dict,
        description="Blocking statuses for an instrument, e.g. HIPAA (wins over severity).",
    )
    require_signoff: bool = Field(
        default=False, description="Every obligation in scope needs a valid legal sign-off."
    )
    max_evidence_age_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Passing test results older than this do not verify (the stricter of this "
        "and the obligation's own freshness window applies).",
    )
    block_overdue_reviews: bool = Field(
        default=False, description="Overdue reviews of obligations in scope block the release."
    )

    def policy(self) -> Policy:
        """Return the policy the verdict applies."""
        return Policy(
            block=frozenset(self.block),
            by_severity={name: frozenset(values) for name, values in self.by_severity.items()},
            by_instrument={name: frozenset(values) for name, values in self.by_instrument.items()},
            require_signoff=self.require_signoff,
        )


def policy_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of policy files, for editors."""
    schema = PolicySpec.model_json_schema()
    schema["title"] = "Release gate policy"
    return schema
