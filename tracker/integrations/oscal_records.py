"""The plain records the OSCAL catalog and profile exports are built from, and shared parts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.integrations.oscal import NAMESPACE, obligation_token

# The namespace the snapshot export uses too: one tracker, one family of name-based UUIDs.
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE)
EMPTY_CATALOG = (
    "The catalog has no current obligation to export; load it with `tracker catalog load`."
)


@dataclass(frozen=True)
class InstrumentRecord:
    """A law or regulation as the catalog states it."""

    id: str
    title: str
    short_name: str
    jurisdiction: str
    official_url: str
    effective_date: str | None = None
    attribution: str | None = None


@dataclass(frozen=True)
class ParameterRecord:
    """A number the law sets (a deadline, a threshold)."""

    name: str
    value: int | float
    unit: str
    note: str | None = None


@dataclass(frozen=True)
class EvidenceRecord:
    """One kind of evidence that verifies an obligation."""

    type: str
    description: str


@dataclass(frozen=True)
class MappingRecord:
    """A relationship from one obligation to another."""

    target_id: str
    relationship: str
    notes: str | None = None


@dataclass(frozen=True)
class RetentionRecord:
    """What a tracker-made retention duty is about."""

    data_category: str
    system_id: str
    period: str
    period_days: int
    trigger: str
    activities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObligationRecord:
    """One current obligation (or grouping node) with everything the export shows of it."""

    id: str
    instrument_id: str
    citation: str
    title: str
    summary: str
    official_url: str
    parent_id: str | None = None
    assessable: bool = True
    severity: str | None = None
    status: str = "active"
    effective_date: str | None = None
    freshness_days: int | None = None
    applicability: Mapping[str, Sequence[str]] = field(default_factory=dict)
    parameters: tuple[ParameterRecord, ...] = ()
    evidence: tuple[EvidenceRecord, ...] = ()
    tags: tuple[str, ...] = ()
    mappings: tuple[MappingRecord, ...] = ()
    owner: str | None = None
    review_every_days: int | None = None
    version: int = 1
    fingerprint: str = ""
    retention: RetentionRecord | None = None


@dataclass(frozen=True)
class CatalogRecords:
    """The current catalog: instruments and their obligations, in catalog order."""

    instruments: tuple[InstrumentRecord, ...]
    obligations: tuple[ObligationRecord, ...]
    last_modified: datetime


@dataclass(frozen=True)
class DecisionRecord:
    """Legal's current applicability decision on one obligation."""

    obligation_id: str
    not_applicable: bool
    justification: str
    decided_by: str
    decided_at: datetime
    decided_role: str | None = None
    basis_proposal: str | None = None
    basis_fingerprint: str | None = None


@dataclass(frozen=True)
class ProposalRecord:
    """What the data map proposes about whether one obligation applies."""

    obligation_id: str
    proposal: str
    fingerprint: str
    reasons: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()


def render_json(document: Mapping[str, Any]) -> str:
    """Return a document as the export writes it: indented UTF-8 JSON ending in a newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def name_uuid(*parts: str) -> str:
    """Return the name-based UUID of the parts, so that one input always gives one document."""
    return str(uuid.uuid5(_UUID_NAMESPACE, "/".join(parts)))


class CatalogTree:
    """The obligations to export (current ones), with parents resolved within an instrument."""

    def __init__(self, records: CatalogRecords) -> None:
        instrument_ids = {instrument.id for instrument in records.instruments}
        kept = [
            ob
            for ob in records.obligations
            if ob.status != "retired" and ob.instrument_id in instrument_ids
        ]
        by_id = {ob.id: ob for ob in kept}
        tokens: dict[str, str] = {}
        for ob in kept:
            other = tokens.setdefault(obligation_token(ob.id), ob.id)
            if other != ob.id:
                raise ValueError(
                    f"{other} and {ob.id} both become the OSCAL id {obligation_token(ob.id)!r} "
                    "(OSCAL ids are compared in lower case): rename one of them in the catalog."
                )
        self.instrument_ids = [instrument.id for instrument in records.instruments]
        self._candidates: dict[str, list[ObligationRecord]] = {}
        self._children: dict[str, list[ObligationRecord]] = {}
        self._roots: dict[str, list[ObligationRecord]] = {}
        for ob in kept:
            parent = by_id.get(ob.parent_id) if ob.parent_id else None
            if parent is not None and parent.instrument_id == ob.instrument_id:
                self._candidates.setdefault(parent.id, []).append(ob)
            else:
                self._roots.setdefault(ob.instrument_id, []).append(ob)
        # Depth first from the roots; an entry in a parent loop (which validation refuses)
        # becomes a root rather than vanishing.
        self.exported: list[ObligationRecord] = []
        seen: set[str] = set()
        for instrument in records.instruments:
            self._walk(self._roots.get(instrument.id, []), seen)
            for ob in kept:
                if ob.instrument_id == instrument.id and ob.id not in seen:
                    self._roots.setdefault(instrument.id, []).append(ob)
                    self._walk([ob], seen)

    def roots(self, instrument_id: str) -> list[ObligationRecord]:
        """Return the instrument's top-level entries, in catalog order."""
        return self._roots.get(instrument_id, [])

    def children(self, obligation_id: str) -> list[ObligationRecord]:
        """Return the entries placed under an obligation (each entry is placed once)."""
        return self._children.get(obligation_id, [])

    def _walk(self, obligations: list[ObligationRecord], seen: set[str]) -> None:
        for ob in obligations:
            if ob.id in seen:
                continue
            seen.add(ob.id)
            self.exported.append(ob)
            placed = [child for child in self._candidates.get(ob.id, []) if child.id not in seen]
            if placed:
                self._children[ob.id] = placed
            self._walk(placed, seen)


def oscal_props(
    pairs: Iterable[tuple[str, Any]], *, plain: frozenset[str] | set[str] = frozenset()
) -> list[dict[str, str]]:
    """Return OSCAL properties; names in `plain` are OSCAL's own (no namespace)."""
    props = []
    for name, raw in pairs:
        value = prop_value(raw)
        if value:
            props.append(
                {"name": name, "value": value} if name in plain else oscal_prop(name, value)
            )
    return props


def oscal_prop(name: str, value: str) -> dict[str, str]:
    """Return one property in the tracker's namespace."""
    return {"name": name, "ns": NAMESPACE, "value": value}


def prop_value(raw: Any) -> str:
    """Return a value as a property's one-line text ("" for none)."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return one_line(str(raw))


def one_line(value: str) -> str:
    """Return the text with every run of white space (line breaks too) as one space."""
    return " ".join(value.split())
