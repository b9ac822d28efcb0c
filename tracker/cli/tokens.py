"""`tracker tokens`: create, list and revoke API tokens for CI uploads."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session

from tracker.db import get_engine, session_scope
from tracker.errors import TrackerError


@click.group("tokens", cls=AppGroup)
def tokens() -> None:
    """API tokens for CI uploads."""


@tokens.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. ci.")
@with_appcontext
def tokens_create_command(name: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    from tracker.services.tokens import create_token

    try:
        with session_scope(get_engine()) as session:
            token = create_token(session=session, name=name, actor="tracker tokens create")
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token.secret)
    click.echo(
        f"Token #{token.id} '{token.name}' created. Copy it now: it is not shown again. "
        "Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@tokens.command("list")
@with_appcontext
def tokens_list_command() -> None:
    """List tokens (never their secrets)."""
    from tracker.services.tokens import list_tokens

    with Session(get_engine()) as session:
        rows = list_tokens(session=session)
    if not rows:
        click.echo("No tokens. Create one with: tracker tokens create --name ci")
    for token in rows:
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        used = (
            f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
        )
        click.echo(f"#{token.id}  {token.name}  {token.prefix}...  {state}, {used}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke_command(token_id: int) -> None:
    """Revoke a token by its number (see `tracker tokens list`)."""
    from tracker.services.tokens import revoke_token

    try:
        with session_scope(get_engine()) as session:
            token = revoke_token(session=session, token_id=token_id, actor="tracker tokens revoke")
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Token #{token.id} '{token.name}' is revoked.")
