"""The data map's file format as pydantic models: systems, processing activities and DPIAs.

The JSON Schema for editors (`data_map/schema.json`) is exported from here. Rules that need
the whole data map (an activity naming a system, a category Fides does not know) are checked
by `tracker.domain.data_map_rules`, so that every problem shows in one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tracker.domain.data_map_vocabulary import (
    RISK_SCALE_MAX,
    RISK_SCALE_MIN,
    LegalBasis,
    Role,
    TransferMechanism,
)
from tracker.domain.id_patterns import OBLIGATION_ID_PATTERN

#: Ids of systems, activities and DPIAs: lower-case words joined by hyphens (`health-sync`).
ITEM_ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
WORD_PATTERN = r"^[a-z][a-z0-9_]*$"
JIRA_PROJECT_PATTERN = r"^[A-Z][A-Z0-9_]{1,9}$"
RISK_ID_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$"

_PERIOD = re.compile(
    r"^(?P<amount>[1-9][0-9]{0,3})\s*(?P<unit>day|days|week|weeks|month|months|year|years)$"
)
_ISO_PERIOD = re.compile(
    r"^P(?:(?P<years>\d{1,3})Y)?(?:(?P<months>\d{1,4})M)?(?:(?P<days>\d{1,5})D)?$"
)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}

ActivityStatus = Literal["active", "planned", "retired"]
RecipientKind = Literal[
    "processor", "service_provider", "contractor", "third_party", "affiliate", "public_authority"
]


@dataclass(frozen=True)
class RetentionPeriod:
    """A retention period as written (`2 years`, `P90D`), its length in days, and its number
    in the unit it was written in (weeks count in days)."""

    text: str
    days: int
    amount: int
    unit: Literal["days", "months", "years"]


#: The longest period the data map accepts (100 years).
MAX_PERIOD_DAYS = 36_500


def parse_period(text: str) -> RetentionPeriod:
    """Read a period such as `30 days`, `6 months`, `2 years` or ISO 8601 `P1Y6M`.

    Months count as 30 days and years as 365 for ordering and due dates; the text as written
    is what the schedule shows. Raise ValueError with what is accepted otherwise.
    """
    period = _period(text)
    if period is None or not 0 < period.days <= MAX_PERIOD_DAYS:
        raise ValueError(
            f"'{text}' is not a retention period: write a number and a unit (`30 days`, "
            "`6 months`, `2 years`) or an ISO 8601 duration (`P1Y6M`), at most 100 years"
        )
    return period


def _period(text: str) -> RetentionPeriod | None:
    cleaned = " ".join(text.split()).lower()
    match = _PERIOD.fullmatch(cleaned)
    if match:
        amount = int(match["amount"])
        unit = match["unit"].removesuffix("s")
        days = amount * _UNIT_DAYS[unit]
        if unit in ("day", "week"):
            return RetentionPeriod(text.strip(), days, days, "days")
        return RetentionPeriod(text.strip(), days, amount, "months" if unit == "month" else "years")
    iso = _ISO_PERIOD.fullmatch(text.strip().upper())
    if not iso or not any(iso.groupdict().values()):
        return None
    years, months, days = (int(iso[name] or 0) for name in ("years", "months", "days"))
    total = years * 365 + months * 30 + days
    if days:
        return RetentionPeriod(text.strip(), total, total, "days")
    if months:
        return RetentionPeriod(text.strip(), total, years * 12 + months, "months")
    return RetentionPeriod(text.strip(), total, years, "years")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class JiraScope(_Strict):
    """Where a system's work is tracked in Jira."""

    project: str = Field(pattern=JIRA_PROJECT_PATTERN, description="Jira project key, e.g. APP.")
    components: list[str] = Field(default_factory=list, description="Jira components, if any.")


class SystemSpec(_Strict):
    """A system that stores or processes personal data (an application, a database, a vendor)."""

    id: str = Field(pattern=ITEM_ID_PATTERN, max_length=80, description="Stable id, e.g. web-app.")
    name: str = Field(min_length=2, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    owner: str | None = Field(default=None, max_length=200, description="Team or person.")
    jira: JiraScope | None = None
    surfaces: list[str] = Field(
        default_factory=list,
        description="The catalog's surfaces this system is (web, mobile, backend_services, ...).",
    )
    hosted_in: list[str] = Field(
        default_factory=list, description="Jurisdictions where it runs, e.g. EU, US."
    )

    @field_validator("surfaces")
    @classmethod
    def _surface_words(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(WORD_PATTERN, value):
                raise ValueError(f"surface '{value}' must be a lower_snake_case word")
        return values


class Recipient(_Strict):
    """Someone the activity's data is disclosed to."""

    name: str = Field(min_length=2, max_length=200)
    kind: RecipientKind
    country: str | None = Field(default=None, max_length=16, description="Jurisdiction code.")
    purpose: str | None = Field(default=None, max_length=1000)


class Transfer(_Strict):
    """Personal data leaving its jurisdiction, and what makes that lawful."""

    to: str = Field(max_length=16, description="Jurisdiction code of the destination.")
    recipient: str | None = Field(default=None, max_length=200)
    mechanism: TransferMechanism
    note: str | None = Field(default=None, max_length=1000)


class RetentionRule(_Strict):
    """How long data of some categories is kept, and from when."""

    data_categories: list[str] = Field(min_length=1, description="Fides categories it covers.")
    period: str = Field(max_length=32, description="`30 days`, `6 months`, `2 years`, `P1Y6M`.")
    trigger: str = Field(
        pattern=WORD_PATTERN,
        max_length=64,
        description="What starts the period, e.g. account_closed, collected, last_activity.",
    )
    systems: list[str] = Field(
        default_factory=list, description="Where it is kept (default: the activity's systems)."
    )
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("period")
    @classmethod
    def _period_parses(cls, value: str) -> str:
        parse_period(value)
        return value

    def length(self) -> RetentionPeriod:
        """Return the parsed period."""
        return parse_period(self.period)


class DpiaNeed(_Strict):
    """Whether the activity needs a data protection impact assessment, and why."""

    required: bool
    reason: str = Field(min_length=10, max_length=2000)


class ActivitySpec(_Strict):
    """One processing activity: what data, whose, why, where, how long (GDPR Art. 30)."""

    id: str = Field(pattern=ITEM_ID_PATTERN, max_length=80, description="Stable id, e.g. sign-up.")
    name: str = Field(min_length=3, max_length=200)
    purpose: str = Field(min_length=10, max_length=2000)
    owner: str | None = Field(default=None, max_length=200, description="Who reviews it.")
    status: ActivityStatus = "active"
    legal_basis: dict[str, LegalBasis] = Field(
        default_factory=dict, description="Lawful basis per jurisdiction, e.g. {EU: contract}."
    )
    data_categories: list[str] = Field(min_length=1, description="Fides data categories.")
    data_subjects: list[str] = Field(min_length=1, description="Fides data subjects.")
    data_uses: list[str] = Field(default_factory=list, description="Fides data uses (optional).")
    systems: list[str] = Field(min_length=1, description="Ids of the systems it runs on.")
    jurisdictions: list[str] = Field(min_length=1, description="Where its data subjects are.")
    roles: list[Role] = Field(min_length=1, description="The organisation's role(s) in it.")
    recipients: list[Recipient] = Field(default_factory=list)
    transfers: list[Transfer] = Field(default_factory=list)
    retention: list[RetentionRule] = Field(default_factory=list)
    dpia: DpiaNeed
    review_every_days: int | None = Field(default=None, ge=1, le=3650)


class Mitigation(_Strict):
    """A measure that lowers a risk, carried out by obligations (and so by epics and tests)."""

    description: str = Field(min_length=10, max_length=2000)
    obligations: list[str] = Field(min_length=1, description="Obligation ids that implement it.")
    reduces_likelihood: int = Field(default=0, ge=0, le=RISK_SCALE_MAX - RISK_SCALE_MIN)
    reduces_impact: int = Field(default=0, ge=0, le=RISK_SCALE_MAX - RISK_SCALE_MIN)

    @field_validator("obligations")
    @classmethod
    def _obligation_ids(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(OBLIGATION_ID_PATTERN, value):
                raise ValueError(f"'{value}' is not an obligation id (e.g. GDPR-32.1)")
        return values


class Risk(_Strict):
    """A risk to the people whose data is processed, scored on the 1-5 scale."""

    id: str = Field(pattern=RISK_ID_PATTERN, max_length=32, description="e.g. R1.")
    title: str = Field(min_length=3, max_length=300)
    description: str | None = Field(default=None, max_length=4000)
    likelihood: int = Field(
        ge=RISK_SCALE_MIN, le=RISK_SCALE_MAX, description="1 rare - 5 almost certain"
    )
    impact: int = Field(
        ge=RISK_SCALE_MIN, le=RISK_SCALE_MAX, description="1 negligible - 5 critical"
    )
    data_subjects: list[str] = Field(default_factory=list, description="Fides data subjects.")
    mitigations: list[Mitigation] = Field(default_factory=list)


class DpiaSpec(_Strict):
    """A data protection impact assessment of one activity."""

    id: str = Field(pattern=ITEM_ID_PATTERN, max_length=80, description="e.g. dpia-health-sync.")
    activity: str = Field(pattern=ITEM_ID_PATTERN, max_length=80, description="The activity.")
    title: str = Field(min_length=3, max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    description: str = Field(min_length=10, max_length=8000)
    necessity: str = Field(
        min_length=10, max_length=8000, description="Necessity and proportionality notes."
    )
    risks: list[Risk] = Field(min_length=1)
    review_every_days: int | None = Field(default=None, ge=1, le=3650)


class DataMapFile(_Strict):
    """One data map file: any of systems, activities and DPIAs."""

    systems: list[SystemSpec] = Field(default_factory=list)
    activities: list[ActivitySpec] = Field(default_factory=list)
    dpias: list[DpiaSpec] = Field(default_factory=list)


def data_map_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of data map files, for editors (`data_map/schema.json`)."""
    schema = DataMapFile.model_json_schema()
    schema["title"] = "Data map (records of processing activities)"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
