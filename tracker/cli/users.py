"""`tracker users`: create accounts, list them, change roles, disable, reset passwords."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session

from tracker.cli.operator import command_actor
from tracker.cli.params import ColumnText
from tracker.db import get_engine, session_scope
from tracker.domain.access import Actor, Role
from tracker.errors import TrackerError
from tracker.models import User

ROLE_NAMES = [role.value for role in Role]
EMAIL = ColumnText(User, "email")


@click.group("users", cls=AppGroup)
def users() -> None:
    """Accounts: who may sign in, with which role."""


def _actor(command: str) -> Actor:
    return command_actor(f"tracker users {command}")


def _password(from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """Return the password and whether it was generated (and must be shown)."""
    from tracker.services.accounts import generate_password

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if generate:
        return generate_password(), True
    if not sys.stdin.isatty():
        raise click.ClickException(
            "There is no terminal to ask for the password: pipe it in with --password-stdin, "
            "or use --generate to print a new one once."
        )
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(password), False


@users.command("create")
@click.argument("email", type=EMAIL)
@click.option("--role", required=True, type=click.Choice(ROLE_NAMES), help="What they may do.")
@click.option(
    "--name",
    type=ColumnText(User, "display_name"),
    help="Display name (default: the part of the e-mail before @).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@with_appcontext
def users_create_command(
    email: str, role: str, name: str | None, password_stdin: bool, generate: bool
) -> None:
    """Create an account; asks for the password when run in a terminal."""
    from tracker.services.accounts import create_user

    password, generated = _password(password_stdin, generate)
    try:
        with session_scope(get_engine()) as session:
            user = create_user(
                session=session,
                email=email,
                role=Role(role),
                display_name=name,
                password=password,
                actor=_actor("create"),
            )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Account {user.email} created with the role {user.role}.")
    if generated:
        click.echo(f"Password (shown once): {password}")


@users.command("list")
@with_appcontext
def users_list_command() -> None:
    """List accounts: e-mail, role, state, last sign-in."""
    from tracker.services.accounts import list_users

    with Session(get_engine()) as session:
        rows = list_users(session=session)
    if not rows:
        click.echo("No accounts. Create one with: tracker users create EMAIL --role admin")
    for user in rows:
        state = "active" if user.active else "disabled"
        seen = (
            f"last sign-in {user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never"
        )
        click.echo(f"{user.email}  {user.role}  {state}  {user.display_name}  ({seen})")


@users.command("set-role")
@click.argument("email", type=EMAIL)
@click.argument("role", type=click.Choice(ROLE_NAMES))
@with_appcontext
def users_set_role_command(email: str, role: str) -> None:
    """Give an account another role (from its next request on)."""
    from tracker.services.accounts import set_role

    try:
        with session_scope(get_engine()) as session:
            user = set_role(session=session, email=email, role=Role(role), actor=_actor("set-role"))
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{user.email} now has the role {user.role}.")


@users.command("disable")
@click.argument("email", type=EMAIL)
@with_appcontext
def users_disable_command(email: str) -> None:
    """Disable an account: its sessions and tokens stop working at once."""
    _set_active(email, False)


@users.command("enable")
@click.argument("email", type=EMAIL)
@with_appcontext
def users_enable_command(email: str) -> None:
    """Enable a disabled account again."""
    _set_active(email, True)


def _set_active(email: str, active: bool) -> None:
    from tracker.services.accounts import set_active

    command = "enable" if active else "disable"
    try:
        with session_scope(get_engine()) as session:
            user = set_active(session=session, email=email, active=active, actor=_actor(command))
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{user.email} is {'enabled' if active else 'disabled'}.")


@users.command("reset-password")
@click.argument("email", type=EMAIL)
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@with_appcontext
def users_reset_password_command(email: str, password_stdin: bool, generate: bool) -> None:
    """Set a new password; every session of the account ends."""
    from tracker.services.accounts import reset_password

    password, generated = _password(password_stdin, generate)
    try:
        with session_scope(get_engine()) as session:
            user = reset_password(
                session=session, email=email, password=password, actor=_actor("reset-password")
            )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"New password set for {user.email}; its sessions have ended.")
    if generated:
        click.echo(f"Password (shown once): {password}")
