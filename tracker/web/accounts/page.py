"""View objects for the accounts and API token pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tracker.domain.access import Role
from tracker.models import ApiToken, User, as_utc, utcnow
from tracker.services.tokens import token_state


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


STATE_CSS = {
    "revoked": "st-not-applicable",
    "expired": "st-failing",
    "owner disabled": "st-failing",
    "active": "st-verified",
}


def _state(token: ApiToken, owner: User | None, now: datetime) -> tuple[str, str]:
    state = token_state(token, owner, now)
    return state, STATE_CSS[state]


def _sign_in(user: User) -> str:
    ways = []
    if user.password_hash:
        ways.append("password")
    if user.sso_subject:
        ways.append("single sign-on")
    return " and ".join(ways) or "single sign-on or proxy only"


def _when(moment: datetime | None) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M} UTC" if moment else ""
