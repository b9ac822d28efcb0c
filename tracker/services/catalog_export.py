"""Reading the stored catalog, decisions and proposals for the OSCAL catalog and profile exports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from tracker.errors import CatalogError, ValidationError
from tracker.integrations.oscal_catalog import oscal_catalog
from tracker.integrations.oscal_profile import DEFAULT_CATALOG_HREF as DEFAULT_CATALOG_HREF
from tracker.integrations.oscal_profile import oscal_profile
from tracker.integrations.oscal_records import (
    CatalogRecords,
    DecisionRecord,
    EvidenceRecord,
    InstrumentRecord,
    MappingRecord,
    ObligationRecord,
    ParameterRecord,
    ProposalRecord,
    RetentionRecord,
    render_json,
)
from tracker.models import (
    ApplicabilityDecision,
    ApplicabilityProposal,
    Instrument,
    Obligation,
    ObligationMapping,
    RetentionDuty,
    as_utc,
)

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)
MAX_HREF_LENGTH = 500


@dataclass(frozen=True)
class OscalExport:
    """One exported document: its JSON text and what it holds, for a one-line summary."""

    text: str
    kind: str  # "catalog" or "profile"
    controls: int
    excluded: int = 0

    def summary(self) -> str:
        """Return one line a person can read."""
        if self.kind == "catalog":
            return f"OSCAL catalog of {self.controls} entries (obligations and their groups)."
        return f"OSCAL profile: {self.controls} catalog entries apply, {self.excluded} excluded."


def export_oscal_catalog(*, session: Session) -> OscalExport:
    """Return the current catalog (retired entries left out) as OSCAL catalog JSON."""
    records = catalog_records(session=session)
    try:
        document = oscal_catalog(records)
    except ValueError as error:
        raise CatalogError(str(error)) from error
    controls = int(_metadata_prop(document["catalog"]["metadata"], "entries"))
    return OscalExport(render_json(document), "catalog", controls)


def export_oscal_profile(
    *, session: Session, catalog_href: str = DEFAULT_CATALOG_HREF
) -> OscalExport:
    """Return an OSCAL profile of the catalog selecting what applies, as JSON."""
    href = catalog_href.strip()
    if (
        not href
        or len(href) > MAX_HREF_LENGTH
        or any(not char.isprintable() or char.isspace() for char in href)
    ):
        raise ValidationError(
            f"The catalog's address must be a file name or URL of at most {MAX_HREF_LENGTH} "
            "characters, without spaces or control characters.",
            field="catalog_href",
        )
    records = catalog_records(session=session)
    try:
        document = oscal_profile(
            records,
            decisions=current_decisions(session=session),
            proposals=current_proposals(session=session),
            catalog_href=href,
        )
    except ValueError as error:
        raise CatalogError(str(error)) from error
    metadata = document["profile"]["metadata"]
    return OscalExport(
        render_json(document),
        "profile",
        int(_metadata_prop(metadata, "applicable-entries")),
        int(_metadata_prop(metadata, "excluded-entries")),
    )


def catalog_records(*, session: Session) -> CatalogRecords:
    """Return the current instruments and obligations as plain records, in catalog order."""
    instruments = session.exec(
        select(Instrument).where(col(Instrument.retired_at).is_(None)).order_by(col(Instrument.id))
    ).all()
    obligations = session.exec(
        select(Obligation)
        .where(col(Obligation.retired_at).is_(None))
        .order_by(col(Obligation.sort_key), col(Obligation.id))
    ).all()
    mappings: dict[str, list[MappingRecord]] = defaultdict(list)
    for mapping in session.exec(
        select(ObligationMapping).order_by(
            col(ObligationMapping.source_id), col(ObligationMapping.target_id)
        )
    ).all():
        mappings[mapping.source_id].append(
            MappingRecord(mapping.target_id, mapping.relationship, mapping.notes)
        )
    duties = {
        duty.obligation_id: RetentionRecord(
            data_category=duty.data_category,
            system_id=duty.system_id,
            period=duty.period,
            period_days=duty.period_days,
            trigger=duty.trigger,
            activities=tuple(duty.activities or ()),
        )
        for duty in session.exec(
            select(RetentionDuty).where(col(RetentionDuty.retired_at).is_(None))
        ).all()
    }
    moments = [as_utc(ob.updated_at) for ob in obligations]
    return CatalogRecords(
        instruments=tuple(_instrument(row) for row in instruments),
        obligations=tuple(
            _obligation(row, mappings.get(row.id, []), duties.get(row.id)) for row in obligations
        ),
        last_modified=max(moments, default=_NEVER),
    )


def current_decisions(*, session: Session) -> list[DecisionRecord]:
    """Return each obligation's newest applicability decision."""
    newest: dict[str, ApplicabilityDecision] = {}
    for decision in session.exec(
        select(ApplicabilityDecision).order_by(
            col(ApplicabilityDecision.decided_at), col(ApplicabilityDecision.id)
        )
    ).all():
        newest[decision.obligation_id] = decision
    return [
        DecisionRecord(
            obligation_id=row.obligation_id,
            not_applicable=row.not_applicable,
            justification=row.justification,
            decided_by=row.decided_by,
            decided_at=as_utc(row.decided_at),
            decided_role=row.decided_role,
            basis_proposal=row.basis_proposal,
            basis_fingerprint=row.basis_fingerprint,
        )
        for row in newest.values()
    ]


def current_proposals(*, session: Session) -> list[ProposalRecord]:
    """Return the data map's stored applicability proposals (none before a data map loads)."""
    return [
        ProposalRecord(
            obligation_id=row.obligation_id,
            proposal=row.proposal,
            fingerprint=row.fingerprint,
            reasons=tuple(row.reasons or ()),
            activities=tuple(row.activities or ()),
        )
        for row in session.exec(
            select(ApplicabilityProposal).order_by(col(ApplicabilityProposal.obligation_id))
        ).all()
    ]


def _instrument(row: Instrument) -> InstrumentRecord:
    return InstrumentRecord(
        id=row.id,
        title=row.title,
        short_name=row.short_name,
        jurisdiction=row.jurisdiction,
        official_url=row.official_url,
        effective_date=row.effective_date.isoformat() if row.effective_date else None,
        attribution=row.attribution,
    )


def _obligation(
    row: Obligation, mappings: list[MappingRecord], duty: RetentionRecord | None
) -> ObligationRecord:
    applicability = row.applicability or {}
    return ObligationRecord(
        id=row.id,
        instrument_id=row.instrument_id,
        parent_id=row.parent_id,
        citation=row.citation,
        title=row.title,
        summary=row.summary,
        official_url=row.official_url,
        assessable=row.assessable,
        severity=row.severity,
        status=row.lifecycle_status,
        effective_date=row.effective_date.isoformat() if row.effective_date else None,
        freshness_days=row.freshness_days,
        applicability={key: tuple(values) for key, values in applicability.items()},
        parameters=tuple(_parameter(item) for item in row.parameters or ()),
        evidence=tuple(
            EvidenceRecord(str(item["type"]), str(item["description"]))
            for item in row.evidence or ()
        ),
        tags=tuple(row.tags or ()),
        mappings=tuple(mappings),
        owner=row.owner,
        review_every_days=row.review_every_days,
        version=row.version,
        fingerprint=row.fingerprint,
        retention=duty,
    )


def _parameter(item: dict[str, Any]) -> ParameterRecord:
    return ParameterRecord(
        name=str(item["name"]),
        value=item["value"],
        unit=str(item["unit"]),
        note=item.get("note"),
    )


def _metadata_prop(metadata: dict[str, Any], name: str) -> str:
    for prop in metadata.get("props", ()):
        if prop["name"] == name:
            return str(prop["value"])
    raise KeyError(name)
