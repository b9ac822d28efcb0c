"""What applies of the catalog as an OSCAL profile, from legal's decisions and the data map."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tracker.domain import applicability_decisions
from tracker.domain.applicability_decisions import DecisionFacts
from tracker.domain.applicability_vocabulary import ProposalKind
from tracker.domain.canonical import canonical_json, sha256_hex
from tracker.domain.timestamps import rfc3339_utc
from tracker.integrations.oscal import NAMESPACE, OSCAL_VERSION, obligation_token
from tracker.integrations.oscal_records import (
    EMPTY_CATALOG,
    CatalogRecords,
    CatalogTree,
    DecisionRecord,
    ObligationRecord,
    ProposalRecord,
    name_uuid,
    oscal_prop,
    oscal_props,
)

#: The file name `tracker catalog export --format oscal-profile` points its import at.
DEFAULT_CATALOG_HREF = "catalog.json"
PROFILE_TITLE = "Privacy obligations that apply"
_KINDS = frozenset(kind.value for kind in ProposalKind)


def oscal_profile(
    records: CatalogRecords,
    *,
    decisions: Iterable[DecisionRecord] = (),
    proposals: Iterable[ProposalRecord] = (),
    catalog_href: str = DEFAULT_CATALOG_HREF,
) -> dict[str, Any]:
    """Return an OSCAL profile that imports the catalog and selects the obligations that apply.

    An obligation applies unless legal's current decision says it does not; a grouping node
    is kept while anything under it applies. Excluded controls carry their reasons as
    metadata properties; every control with a decision or a data-map proposal gets its
    proposal and decision state added as properties.
    """
    href = catalog_href.strip()
    if not href or any(character.isspace() for character in href):
        raise ValueError("The catalog address must be a file name or URL without spaces.")
    tree = CatalogTree(records)
    if not tree.exported:
        raise ValueError(EMPTY_CATALOG)
    decided = {decision.obligation_id: decision for decision in decisions}
    proposed = {proposal.obligation_id: proposal for proposal in proposals}
    included, excluded = _select(tree, decided, proposed)
    alters = [
        alter
        for obligation in tree.exported
        if obligation.id in included
        and (alter := _alter(obligation, decided.get(obligation.id), proposed.get(obligation.id)))
    ]
    selection: dict[str, Any] = {"href": href}
    if included:
        selection["include-controls"] = [
            {"with-ids": [obligation_token(ob.id) for ob in tree.exported if ob.id in included]}
        ]
    else:
        selection["include-all"] = {}
    if excluded:
        selection["exclude-controls"] = [
            {"with-ids": [obligation_token(ob.id) for ob in tree.exported if ob.id in excluded]}
        ]
    body: dict[str, Any] = {"imports": [selection], "merge": {"as-is": True}}
    if alters:
        body["modify"] = {"alters": alters}
    exclusion_props = [
        {
            "name": "excluded-control",
            "ns": NAMESPACE,
            "value": obligation_token(obligation.id),
            "remarks": excluded[obligation.id],
        }
        for obligation in tree.exported
        if obligation.id in excluded
    ]
    moments = [records.last_modified] + [decision.decided_at for decision in decided.values()]
    last_modified = rfc3339_utc(max(moments), fraction=True)
    digest = sha256_hex(canonical_json({"body": body, "excluded": exclusion_props}))
    metadata: dict[str, Any] = {
        "title": PROFILE_TITLE,
        "last-modified": last_modified,
        "version": digest[:12],
        "oscal-version": OSCAL_VERSION,
        "props": oscal_props(
            [
                ("profile-digest", digest),
                ("applicable-entries", str(len(included))),
                ("excluded-entries", str(len(excluded))),
            ]
        )
        + exclusion_props,
        "remarks": (
            f"{len(included)} of {len(tree.exported)} catalog entries apply. An obligation "
            "applies unless legal decided it does not; a grouping entry is kept while anything "
            "under it applies. Each excluded-control property names an excluded control and "
            "says why."
        ),
    }
    return {"profile": {"uuid": name_uuid("profile", digest), "metadata": metadata, **body}}


def decision_state(decision: DecisionRecord | None, proposal: ProposalRecord | None) -> str:
    """Return where legal's decision stands against the data map's proposal.

    As the applicability page says it (tracker.domain.applicability_decisions): undecided,
    confirmed, overridden or needs-review; "decided" when there is no proposal to compare with.
    """
    if proposal is None:
        return "undecided" if decision is None else "decided"
    facts = None
    if decision is not None:
        facts = DecisionFacts(
            decision.not_applicable, decision.basis_proposal, decision.basis_fingerprint
        )
    kind = ProposalKind(proposal.proposal) if proposal.proposal in _KINDS else ProposalKind.UNKNOWN
    state = applicability_decisions.decision_state(kind, proposal.fingerprint, facts)
    return state.value.replace("_", "-")


def _select(
    tree: CatalogTree,
    decided: Mapping[str, DecisionRecord],
    proposed: Mapping[str, ProposalRecord],
) -> tuple[set[str], dict[str, str]]:
    """Return the ids that apply and, for the others, why they are excluded."""
    included: set[str] = set()
    excluded: dict[str, str] = {}

    def visit(ob: ObligationRecord) -> bool:
        kept_children = [visit(child) for child in tree.children(ob.id)]
        decision = decided.get(ob.id)
        if decision is not None and decision.not_applicable:
            excluded[ob.id] = _exclusion_reason(ob, decision, proposed.get(ob.id))
            return False
        if decision is None and not ob.assessable and kept_children and not any(kept_children):
            excluded[ob.id] = f"{ob.id}: none of the obligations under it applies."
            return False
        included.add(ob.id)
        return True

    for instrument_id in tree.instrument_ids:
        for root in tree.roots(instrument_id):
            visit(root)
    return included, excluded


def _exclusion_reason(
    ob: ObligationRecord, decision: DecisionRecord, proposal: ProposalRecord | None
) -> str:
    who = decision.decided_by
    if decision.decided_role:
        who = f"{who} ({decision.decided_role})"
    when = rfc3339_utc(decision.decided_at)
    reason = f"{ob.id}: decided not applicable by {who} at {when}."
    justification = decision.justification.strip()
    if justification:
        reason += f" {justification}"
    if proposal is not None:
        state = decision_state(decision, proposal)
        words = proposal.proposal.replace("_", " ")
        reason += f" The data map proposes: {words}; decision state: {state}."
    return reason


def _alter(
    ob: ObligationRecord, decision: DecisionRecord | None, proposal: ProposalRecord | None
) -> dict[str, Any] | None:
    if decision is None and proposal is None:
        return None
    props: list[dict[str, str]] = []
    if proposal is not None:
        prop = oscal_prop("data-map-proposal", proposal.proposal.replace("_", "-"))
        reasons = "\n\n".join(reason.strip() for reason in proposal.reasons if reason.strip())
        if reasons:
            prop["remarks"] = reasons
        props.append(prop)
        props += oscal_props([("data-map-activity", activity) for activity in proposal.activities])
    props.append(oscal_prop("decision-state", decision_state(decision, proposal)))
    if decision is not None:
        props += oscal_props(
            [
                ("decided-by", decision.decided_by),
                ("decided-at", rfc3339_utc(decision.decided_at)),
            ]
        )
    return {
        "control-id": obligation_token(ob.id),
        "adds": [{"position": "ending", "props": props}],
    }
