"""The obligation catalog as an OSCAL catalog: a group per instrument, a control per obligation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tracker.domain.canonical import canonical_json, sha256_hex
from tracker.domain.timestamps import rfc3339_utc
from tracker.integrations.oscal import NAMESPACE, OSCAL_VERSION, obligation_token
from tracker.integrations.oscal_records import (
    EMPTY_CATALOG,
    CatalogRecords,
    CatalogTree,
    InstrumentRecord,
    MappingRecord,
    ObligationRecord,
    ParameterRecord,
    name_uuid,
    one_line,
    oscal_props,
)

CATALOG_TITLE = "Privacy obligation catalog"
_APPLICABILITY_PROPS = (
    ("roles", "applicability-role"),
    ("jurisdictions", "applicability-jurisdiction"),
    ("data_categories", "applicability-data-category"),
    ("surfaces", "applicability-surface"),
)
_DISCLAIMER = (
    "The statements are the tracker's plain-language summaries, not the legal text; "
    "each control links to the official text, which is the only authentic version."
)


def oscal_catalog(records: CatalogRecords) -> dict[str, Any]:
    """Return the catalog as an OSCAL catalog document (a JSON-ready dict).

    One group per instrument, one control per obligation nested under its parent; ids are
    the obligation ids as OSCAL tokens, so the same catalog always exports the same bytes.
    """
    tree = CatalogTree(records)
    groups = [
        _group(instrument, tree) for instrument in records.instruments if tree.roots(instrument.id)
    ]
    if not groups:
        raise ValueError(EMPTY_CATALOG)
    _check_unique_ids(groups)
    last_modified = rfc3339_utc(records.last_modified, fraction=True)
    # The digest covers the content, not the load time: it names the same catalog in any database.
    digest = sha256_hex(canonical_json({"groups": groups}))
    counted = len(tree.exported)
    metadata: dict[str, Any] = {
        "title": CATALOG_TITLE,
        "last-modified": last_modified,
        "version": digest[:12],
        "oscal-version": OSCAL_VERSION,
        "props": oscal_props(
            [
                ("catalog-digest", digest),
                ("instruments", str(len(groups))),
                ("entries", str(counted)),
            ]
        ),
        "remarks": _DISCLAIMER,
    }
    return {
        "catalog": {"uuid": name_uuid("catalog", digest), "metadata": metadata, "groups": groups}
    }


def _group(instrument: InstrumentRecord, tree: CatalogTree) -> dict[str, Any]:
    exported = {ob.id for ob in tree.exported}
    derived = any(
        ob.retention is not None for ob in tree.exported if ob.instrument_id == instrument.id
    )
    group: dict[str, Any] = {
        "id": obligation_token(instrument.id),
        "class": "retention-duties" if derived else "instrument",
        "title": one_line(instrument.title),
        "props": oscal_props(
            [
                ("label", instrument.short_name or instrument.id),
                ("instrument", instrument.id),
                ("jurisdiction", instrument.jurisdiction),
                ("effective-date", instrument.effective_date),
                ("derived-from", "data map retention rules" if derived else None),
            ],
            plain={"label"},
        ),
    }
    if instrument.official_url:
        group["links"] = [_official_link(instrument.official_url)]
    if instrument.attribution:
        group["parts"] = [
            {
                "id": f"{obligation_token(instrument.id)}_attribution",
                "name": "attribution",
                "ns": NAMESPACE,
                "prose": instrument.attribution,
            }
        ]
    group["controls"] = [_control(ob, tree, exported) for ob in tree.roots(instrument.id)]
    return group


def _control(ob: ObligationRecord, tree: CatalogTree, exported: set[str]) -> dict[str, Any]:
    token = obligation_token(ob.id)
    control: dict[str, Any] = {
        "id": token,
        "class": "obligation" if ob.assessable else "grouping",
        "title": one_line(ob.title) or ob.id,
    }
    params = [_param(token, parameter) for parameter in ob.parameters]
    if params:
        control["params"] = params
    control["props"] = oscal_props(_control_pairs(ob), plain={"label"})
    links = [_official_link(ob.official_url)] if ob.official_url else []
    links += [
        _mapping_link(mapping)
        for mapping in ob.mappings
        if mapping.target_id in exported and mapping.target_id != ob.id
    ]
    if links:
        control["links"] = links
    parts: list[dict[str, Any]] = [{"id": f"{token}_smt", "name": "statement", "prose": ob.summary}]
    parts += [
        {
            "id": f"{token}_gdn.{position}",
            "name": "guidance",
            "title": f"Evidence: {evidence.type.replace('_', ' ')}",
            "props": oscal_props([("evidence-type", evidence.type)]),
            "prose": evidence.description,
        }
        for position, evidence in enumerate(ob.evidence, start=1)
    ]
    control["parts"] = parts
    children = [_control(child, tree, exported) for child in tree.children(ob.id)]
    if children:
        control["controls"] = children
    return control


def _control_pairs(ob: ObligationRecord) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = [
        ("label", ob.id),
        ("obligation-id", ob.id),
        ("citation", ob.citation),
        ("severity", ob.severity),
        ("status", ob.status),
        ("assessable", ob.assessable),
        ("effective-date", ob.effective_date),
        ("evidence-freshness-days", ob.freshness_days),
        ("owner", ob.owner),
        ("review-every-days", ob.review_every_days),
        ("obligation-version", ob.version),
        ("obligation-fingerprint", ob.fingerprint),
    ]
    pairs += [("tag", tag) for tag in ob.tags]
    pairs += [("evidence-type", kind) for kind in _distinct(ev.type for ev in ob.evidence)]
    for key, name in _APPLICABILITY_PROPS:
        pairs += [(name, value) for value in ob.applicability.get(key, ())]
    if ob.retention is not None:
        duty = ob.retention
        pairs += [
            ("data-category", duty.data_category),
            ("system", duty.system_id),
            ("retention-period", duty.period),
            ("retention-period-days", duty.period_days),
            ("retention-trigger", duty.trigger),
        ]
        pairs += [("processing-activity", activity) for activity in duty.activities]
    return pairs


def _param(token: str, parameter: ParameterRecord) -> dict[str, Any]:
    param: dict[str, Any] = {
        "id": f"{token}_prm_{parameter.name}",
        "props": oscal_props([("unit", parameter.unit)]),
        "label": parameter.name.replace("_", " "),
        "values": [_number(parameter.value)],
    }
    if parameter.note:
        param["usage"] = parameter.note
    return param


def _official_link(url: str) -> dict[str, str]:
    return {"href": url, "rel": "reference", "text": "Official text"}


def _mapping_link(mapping: MappingRecord) -> dict[str, str]:
    link = {"href": f"#{obligation_token(mapping.target_id)}", "rel": mapping.relationship}
    notes = one_line(mapping.notes or "")
    link["text"] = notes or f"{mapping.relationship.replace('-', ' ')} {mapping.target_id}"
    return link


def _check_unique_ids(groups: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for identifier in _ids(groups):
        if identifier in seen:
            raise ValueError(f"two catalog entries share the OSCAL id {identifier!r}")
        seen.add(identifier)


def _ids(items: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    for item in items:
        if "id" in item:
            yield item["id"]
        for key in ("params", "parts", "controls"):
            yield from _ids(item.get(key, ()))


def _number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
