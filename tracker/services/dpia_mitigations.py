"""Which obligations mitigate DPIA risks, read from the DPIAs' mitigations (one query each).

For the risk pages (the statuses they need) and the obligation page (the risks it lowers).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select as core_select
from sqlmodel import Session, col

from tracker.models.privacy_program import Dpia


@dataclass(frozen=True)
class MitigatedRisk:
    """A DPIA risk that a mitigation naming an obligation lowers."""

    dpia_id: str
    dpia_title: str
    risk_id: str
    risk_title: str


def mitigating_obligations(*, session: Session, dpia_id: str | None = None) -> set[str]:
    """Return the obligations the current DPIAs' mitigations name (of one DPIA, if given)."""
    query = core_select(col(Dpia.spec)).where(col(Dpia.retired_at).is_(None))
    if dpia_id is not None:
        query = query.where(col(Dpia.id) == dpia_id)
    return {
        obligation_id
        for (spec,) in session.execute(query).all()
        for risk in spec.get("risks", [])
        for item in risk.get("mitigations", [])
        for obligation_id in item.get("obligations", [])
    }


def risks_mitigated_by(*, session: Session, obligation_id: str) -> list[MitigatedRisk]:
    """Return the DPIA risks with a mitigation that names the obligation (one query)."""
    rows = session.execute(
        core_select(col(Dpia.id), col(Dpia.spec))
        .where(col(Dpia.retired_at).is_(None))
        .order_by(col(Dpia.id))
    ).all()
    return [
        MitigatedRisk(dpia_id, str(spec.get("title", "")), risk["id"], risk["title"])
        for dpia_id, spec in rows
        for risk in spec.get("risks", [])
        if any(obligation_id in item.get("obligations", []) for item in risk.get("mitigations", []))
    ]
