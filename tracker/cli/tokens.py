"""`tracker tokens`: create API tokens with scopes, limits and expiry; list and revoke them."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session

from tracker.cli.operator import command_actor
from tracker.cli.params import BoundedText, ColumnText, RecordId
from tracker.db import get_engine, session_scope
from tracker.domain.access import Actor, Scope
from tracker.errors import TrackerError
from tracker.models import ApiToken, TestRun, User

SCOPE_NAMES = [scope.value for scope in Scope]


@click.group("tokens", cls=AppGroup)
def tokens() -> None:
    """API tokens for CI uploads and the read API."""


def _actor(command: str) -> Actor:
    return command_actor(f"tracker tokens {command}")


@tokens.command("create")
@click.option(
    "--name",
    required=True,
    type=ColumnText(ApiToken, "name"),
    help="What the token is for, e.g. ci.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPE_NAMES),
    help="results:write to upload test results, read for the read API (repeatable).",
)
@click.option(
    "--expires-in",
    type=BoundedText(),
    help="Lifetime such as 90d, 12h, 4w or 1y (default: never).",
)
@click.option(
    "--suite",
    "suites",
    multiple=True,
    type=ColumnText(TestRun, "suite"),
    help="Only this suite may be uploaded (repeatable).",
)
@click.option(
    "--branch",
    "branches",
    multiple=True,
    type=ColumnText(TestRun, "branch"),
    help="Only runs of this branch (repeatable).",
)
@click.option(
    "--owner",
    type=ColumnText(User, "email"),
    help="E-mail of the account the token acts for (default: a service).",
)
@with_appcontext
def tokens_create_command(
    name: str,
    scopes: tuple[str, ...],
    expires_in: str | None,
    suites: tuple[str, ...],
    branches: tuple[str, ...],
    owner: str | None,
) -> None:
    """Create a token and print it once; only its hash is stored."""
    from tracker.services.accounts import find_user
    from tracker.services.tokens import create_token, parse_lifetime, parse_scopes

    try:
        lifetime = parse_lifetime(expires_in) if expires_in else None
        with session_scope(get_engine()) as session:
            token = create_token(
                session=session,
                name=name,
                actor=_actor("create"),
                scopes=parse_scopes(list(scopes)),
                lifetime=lifetime,
                suites=suites,
                branches=branches,
                owner=find_user(session, owner) if owner else None,
            )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token.secret)
    expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "no expiry"
    click.echo(
        f"Token #{token.id} '{token.name}' created ({', '.join(scopes)}; {expiry}). "
        "Copy it now: it is not shown again. Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@tokens.command("list")
@with_appcontext
def tokens_list_command() -> None:
    """List tokens with scopes, limits, expiry and last use (never their secrets)."""
    from tracker.services.tokens import list_tokens
    from tracker.web.accounts.page import tokens_page

    with Session(get_engine()) as session:
        page = tokens_page(list_tokens(session=session))
    if not page.rows:
        click.echo(
            "No tokens. Create one with: tracker tokens create --name ci --scope results:write"
        )
    for row in page.rows:
        note = "  (made before scopes: given results:write, no expiry)" if row.migrated else ""
        click.echo(
            f"#{row.id}  {row.name}  {row.prefix}...  {row.state}  scopes: {row.scopes}  "
            f"{row.limits}  owner: {row.owner}  expires: {row.expires}  "
            f"last used: {row.last_used}{note}"
        )


@tokens.command("revoke")
@click.argument("token_id", type=RecordId())
@with_appcontext
def tokens_revoke_command(token_id: int) -> None:
    """Revoke a token by its number (see `tracker tokens list`)."""
    from tracker.services.tokens import revoke_token

    try:
        with session_scope(get_engine()) as session:
            token = revoke_token(session=session, token_id=token_id, actor=_actor("revoke"))
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Token #{token.id} '{token.name}' is revoked.")
