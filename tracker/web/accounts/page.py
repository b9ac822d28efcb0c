"""View objects for the accounts and API token pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.domain.access import Role
from tracker.models import ApiToken, User, utcnow


@dataclass(frozen=True)
class UserRow:
    """One account in the list."""

    email: str
    name: str
    role: str
    active: bool
    sign_in: str
    created: str
    last_login: str


@dataclass(frozen=True)
class UsersPage:
    """The accounts page."""

    rows: list[UserRow]
    roles: list[tuple[str, str]]  # role, what it may do


@dataclass(frozen=True)
class TokenRow:
    """One API token in the list (never its secret)."""

    id: int
    name: str
    prefix: str
    scopes: str
    limits: str
    owner: str
    state: str
    state_css: str
    expires: str
    last_used: str
    created: str
    migrated: bool
    usable: bool


@dataclass(frozen=True)
class TokensPage:
    """The API tokens page."""

    rows: list[TokenRow]
    any_migrated: bool


def users_page(users: Sequence[User], descriptions: Mapping[Role, str]) -> UsersPage:
    """Build the accounts page."""
    rows = [
        UserRow(
            email=user.email,
            name=user.display_name,
            role=user.role,
            active=user.active,
            sign_in=_sign_in(user),
            created=_when(user.created_at),
            last_login=_when(user.last_login_at) if user.last_login_at else "never",
        )
        for user in users
    ]
    return UsersPage(rows=rows, roles=[(role.value, descriptions[role]) for role in Role])


def tokens_page(tokens: Sequence[tuple[ApiToken, User | None]]) -> TokensPage:
    """Build the API tokens page."""
    now = utcnow()
    rows = []
    for token, owner in tokens:
        state, css = _state(token, owner, now)
        limits = []
        if token.suites:
            limits.append("suites: " + ", ".join(token.suites))
        if token.branches:
            limits.append("branches: " + ", ".join(token.branches))
        rows.append(
            TokenRow(
                id=token.id or 0,
                name=token.name,
                prefix=token.prefix,
                scopes=", ".join(token.scopes) or "none",
                limits="; ".join(limits) or "any suite, any branch",
                owner=owner.email if owner else "service (no owner)",
                state=state,
                state_css=css,
                expires=_when(token.expires_at) if token.expires_at else "never",
                last_used=_when(token.last_used_at) if token.last_used_at else "never",
                created=f"{_when(token.created_at)} by {token.created_by or 'unknown'}",
                migrated=token.migrated,
                usable=state == "active",
            )
        )
    return TokensPage(rows=rows, any_migrated=any(row.migrated for row in rows))


def _state(token: ApiToken, owner: User | None, now: datetime) -> tuple[str, str]:
    if token.revoked_at is not None:
        return "revoked", "st-not-applicable"
    if token.expires_at is not None and _aware(token.expires_at) <= now:
        return "expired", "st-failing"
    if token.owner_id is not None and (owner is None or not owner.active):
        return "owner disabled", "st-failing"
    return "active", "st-verified"


def _sign_in(user: User) -> str:
    ways = []
    if user.password_hash:
        ways.append("password")
    if user.sso_subject:
        ways.append("single sign-on")
    return " and ".join(ways) or "single sign-on or proxy only"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _when(moment: datetime | None) -> str:
    return f"{_aware(moment):%Y-%m-%d %H:%M} UTC" if moment else ""
