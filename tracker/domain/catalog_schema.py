"""The catalog file format as pydantic models; the JSON Schema for editors is exported from here."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Re-exported: the schema is where readers look for them; the readers of test reports import
# them from id_patterns without building these pydantic models.
from tracker.domain.id_patterns import INSTRUMENT_ID_PATTERN as INSTRUMENT_ID_PATTERN
from tracker.domain.id_patterns import OBLIGATION_ID_PATTERN as OBLIGATION_ID_PATTERN

URL_PATTERN = r"^https?://\S+$"
WORD_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

Severity = Literal["critical", "high", "medium", "low"]
Lifecycle = Literal["active", "proposed", "retired"]
Relationship = Literal["equivalent-to", "subset-of", "superset-of", "intersects-with"]
EvidenceType = Literal[
    "automated_test",
    "manual_test",
    "config_check",
    "document",
    "monitoring",
    "attestation",
    "contract",
]
ParameterUnit = Literal[
    "hours", "days", "business_days", "months", "years", "count", "usd", "percent"
]
RELATIONSHIP_INVERSES: dict[str, str] = {
    "equivalent-to": "equivalent-to",
    "subset-of": "superset-of",
    "superset-of": "subset-of",
    "intersects-with": "intersects-with",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class InstrumentSpec(_Strict):
    """The law or regulation a file is about."""

    id: str = Field(pattern=INSTRUMENT_ID_PATTERN, description="Short id, e.g. GDPR.")
    title: str = Field(min_length=3, max_length=300, description="Official title.")
    short_name: str | None = Field(default=None, max_length=64)
    jurisdiction: str = Field(min_length=2, max_length=64, description="e.g. EU, US-CA, BR, US.")
    official_url: str = Field(pattern=URL_PATTERN, max_length=500)
    effective_date: date | None = Field(default=None, description="Date it applies from.")
    attribution: str | None = Field(default=None, max_length=500)
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who reviews its obligations (an e-mail or a team), unless one names its own.",
    )
    review_every_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="How often its obligations are reviewed, in days (default 365).",
    )


class Parameter(_Strict):
    """A number the law sets, such as a deadline."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    value: float = Field(description="The number, e.g. 72.")
    unit: ParameterUnit
    note: str | None = Field(default=None, max_length=500)


class Evidence(_Strict):
    """What kind of evidence verifies the obligation."""

    type: EvidenceType
    description: str = Field(min_length=10, max_length=1000)


class Mapping(_Strict):
    """A relationship to an obligation of another (or the same) instrument."""

    target: str = Field(pattern=OBLIGATION_ID_PATTERN)
    relationship: Relationship
    notes: str | None = Field(default=None, max_length=1000)


class Applicability(_Strict):
    """Who and what the obligation applies to."""

    roles: list[str] = Field(default_factory=list)
    jurisdictions: list[str] = Field(default_factory=list)
    data_categories: list[str] = Field(default_factory=list)
    surfaces: list[str] = Field(default_factory=list)


class ObligationSpec(_Strict):
    """One obligation (or a grouping node when assessable is false)."""

    id: str = Field(pattern=OBLIGATION_ID_PATTERN, description="Stable id, e.g. GDPR-17.1.")
    parent: str | None = Field(default=None, pattern=OBLIGATION_ID_PATTERN)
    citation: str = Field(min_length=2, max_length=200, description="e.g. Art. 17(1).")
    title: str = Field(min_length=3, max_length=300, description="Official heading.")
    summary: str = Field(min_length=40, max_length=4000, description="Our plain-language words.")
    official_url: str = Field(pattern=URL_PATTERN, max_length=500)
    assessable: bool = True
    applicability: Applicability = Field(default_factory=Applicability)
    parameters: list[Parameter] = Field(default_factory=list)
    severity: Severity | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    freshness_days: int = Field(default=30, ge=1, le=3650)
    mappings: list[Mapping] = Field(default_factory=list)
    status: Lifecycle = "active"
    effective_date: date | None = None
    tags: list[str] = Field(default_factory=list)
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who reviews it (an e-mail or a team); default: the instrument's owner.",
    )
    review_every_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="How often it is reviewed, in days; default: the instrument's, else 365.",
    )

    @model_validator(mode="after")
    def _assessable_needs_evidence(self) -> ObligationSpec:
        missing = completeness_problems(
            assessable=self.assessable,
            status=self.status,
            has_evidence=bool(self.evidence),
            has_severity=self.severity is not None,
        )
        if missing:
            raise ValueError("; ".join(message for _, message in missing))
        return self


def completeness_problems(
    *, assessable: object, status: object, has_evidence: bool, has_severity: bool
) -> list[tuple[str, str]]:
    """Return (field, message) for what an assessable, active obligation lacks.

    The reader also applies it to an entry whose other fields are invalid, where pydantic
    would not run the model validator, so that every problem shows in one run.
    """
    if assessable is not True or status != "active":
        return []
    problems = []
    if not has_evidence:
        problems.append(
            ("evidence", "an assessable, active obligation needs at least one evidence item")
        )
    if not has_severity:
        problems.append(("severity", "an assessable obligation needs a severity"))
    return problems


class CatalogFile(_Strict):
    """One catalog file: an instrument and its obligations."""

    instrument: InstrumentSpec
    obligations: list[ObligationSpec] = Field(default_factory=list)


def catalog_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a catalog file, for editors."""
    schema = CatalogFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Privacy obligation catalog file"
    schema["description"] = (
        "One instrument (law or regulation) and its obligations. "
        "Validate with `tracker catalog validate`."
    )
    return schema


#: Fields whose change makes a new version and turns existing links suspect.
NORMATIVE_FIELDS: tuple[str, ...] = (
    "citation",
    "title",
    "summary",
    "applicability",
    "parameters",
    "evidence",
    "freshness_days",
    "status",
    "effective_date",
)
