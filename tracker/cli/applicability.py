"""`tracker applicability`: list what the data map proposes for each obligation, confirm it."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup, with_appcontext

from tracker.cli.operator import command_actor
from tracker.cli.params import BoundedText, ColumnText
from tracker.db import get_engine, session_scope
from tracker.errors import TrackerError

PROPOSALS = ["applicable", "not_applicable", "unknown"]
STATES = ["undecided", "confirmed", "overridden", "needs_review"]
OBLIGATION_ID = ColumnText("Obligation", "id")


@click.group("applicability", cls=AppGroup)
def applicability() -> None:
    """Applicability proposed from the data map: list the proposals, confirm them."""


@applicability.command("proposals")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--proposal", type=click.Choice(PROPOSALS), help="Only this proposal.")
@click.option("--decision", type=click.Choice(STATES), help="Only this decision state.")
@click.option("--instrument", type=ColumnText("Instrument", "id"), help="Only this instrument.")
@with_appcontext
def proposals_command(
    fmt: str, proposal: str | None, decision: str | None, instrument: str | None
) -> None:
    """List every proposal with its reasons, triggering activities and decision state."""
    from sqlmodel import Session

    from tracker.domain.applicability_decisions import DecisionState
    from tracker.domain.applicability_vocabulary import ProposalKind
    from tracker.services.applicability_proposals import list_proposals

    with Session(get_engine()) as session:
        found = list_proposals(
            session,
            proposal=ProposalKind(proposal) if proposal else None,
            state=DecisionState(decision) if decision else None,
            instrument=instrument,
        )
    if fmt == "json":
        click.echo(json.dumps([_json_row(row) for row in found.rows], indent=2))
        return
    if not found.rows:
        click.echo(
            "No proposal matches. Proposals are made when the catalog and the data map are "
            "loaded (`tracker catalog load`, `tracker datamap load`)."
        )
        return
    for row in found.rows:
        click.echo(f"{row.obligation_id}  {row.proposal.value}  decision: {row.state.value}")
        for reason in row.reasons:
            click.echo(f"    {reason}")
        if row.review_note:
            click.echo(f"    Needs review: {row.review_note}")
    counts = ", ".join(f"{count} {kind.value}" for kind, count in found.by_proposal.items())
    click.echo(f"{len(found.rows)} of {found.total} proposals shown ({counts}).")


@applicability.command("confirm")
@click.argument("obligation_ids", nargs=-1, type=OBLIGATION_ID)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Every proposal not decided yet or needing a review (overrides are kept: change "
    "them on the obligation page).",
)
@click.option(
    "--proposal",
    type=click.Choice(["applicable", "not_applicable"]),
    help="With --all: only this proposal.",
)
@click.option(
    "--as",
    "as_email",
    type=ColumnText("User", "email"),
    help="Record it as this account (legal or admin role), not as the shell user.",
)
@click.option(
    "--actor",
    default="tracker applicability confirm",
    show_default=True,
    type=BoundedText(150),
    help="Name in the audit log when --as is not given.",
)
@with_appcontext
def confirm_command(
    obligation_ids: tuple[str, ...],
    everything: bool,
    proposal: str | None,
    as_email: str | None,
    actor: str,
) -> None:
    """Record decisions that agree with the proposals (the ids given, or --all)."""
    from tracker.domain.access import Permission, needed_roles_text, role_allows
    from tracker.domain.applicability_vocabulary import ProposalKind
    from tracker.services.accounts import find_user, user_actor
    from tracker.services.applicability_confirm import confirm_proposals
    from tracker.services.applicability_proposals import list_proposals

    if everything == bool(obligation_ids):
        raise click.UsageError("Give the obligation ids to confirm, or --all (not both).")
    if proposal and not everything:
        raise click.UsageError("--proposal goes with --all.")
    try:
        with session_scope(get_engine()) as session:
            who = command_actor(actor)
            if as_email:
                who = user_actor(find_user(session, as_email))
                if who.role is None or not role_allows(who.role, Permission.DECIDE_APPLICABILITY):
                    raise click.ClickException(
                        f"{as_email} may not decide applicability: that takes the "
                        f"{needed_roles_text(Permission.DECIDE_APPLICABILITY)} role."
                    )
            ids = list(obligation_ids)
            if everything:
                ids = [
                    row.obligation_id
                    for row in list_proposals(
                        session, proposal=ProposalKind(proposal) if proposal else None
                    ).rows
                    if row.confirmable
                ]
                if not ids:
                    click.echo("Nothing to confirm: every definite proposal is confirmed.")
                    return
            report = confirm_proposals(session=session, obligation_ids=ids, actor=who)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.summary())


def _json_row(row: Any) -> dict[str, Any]:
    from tracker.domain.timestamps import rfc3339_utc

    decision = row.decision
    return {
        "id": row.obligation_id,
        "instrument": row.instrument_id,
        "proposal": row.proposal.value,
        "activities": list(row.activities),
        "reasons": list(row.reasons),
        "fingerprint": row.fingerprint,
        "computed_at": rfc3339_utc(row.computed_at),
        "decision": row.state.value,
        "review_note": row.review_note or None,
        "decided": (
            None
            if decision is None
            else {
                "not_applicable": decision.not_applicable,
                "by": decision.decided_by,
                "at": rfc3339_utc(decision.decided_at),
            }
        ),
    }
