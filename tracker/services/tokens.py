"""API tokens: scopes, expiry, suite and branch limits, an owner; shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from tracker.bulk import model_of, table_of
from tracker.domain.access import Actor, ActorKind, Role, Scope
from tracker.errors import NotFoundError, ValidationError
from tracker.generation import GENERATION_COLUMNS, generation_text
from tracker.models import ApiToken, User, as_utc, utcnow
from tracker.services.audit import record_event

TOKEN_PREFIX = "trk_"  # noqa: S105 - a visible marker, not a secret
MAX_LIMITS = 20
MAX_LIMIT_LENGTH = 300
MAX_LIFETIME_DAYS = 3650
MAX_ID = 2**31 - 1  # the largest id a database integer column holds
_DURATION = re.compile(r"^\s*(\d{1,5})\s*([hdwy])\s*$")
_UNIT_DAYS = {"h": 1 / 24, "d": 1, "w": 7, "y": 365}


@dataclass(frozen=True)
class NewToken:
    """A token just created: the secret is here once and never again."""

    id: int
    name: str
    secret: str
    expires_at: datetime | None


_TOKENS = table_of(ApiToken)
_USERS = table_of(User)
#: Built once: it runs before every API call (the data generation with it).
_TOKEN_AND_OWNER = (
    core_select(*_TOKENS.c, *_USERS.c, *GENERATION_COLUMNS)
    .outerjoin(_USERS, _USERS.c.id == _TOKENS.c.owner_id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class TokenCheck:
    """The token a request presented, or why it is refused (401)."""

    token: ApiToken | None
    owner: User | None = None
    problem: str | None = None


def hash_token(secret: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_lifetime(text: str) -> timedelta:
    """Return the lifetime written as 12h, 90d, 4w or 1y."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValidationError(
            "Write the lifetime as a number and a unit, e.g. 90d, 12h, 4w or 1y "
            f"(not '{text[:20]}').",
            field="expires_in",
        )
    days = int(match.group(1)) * _UNIT_DAYS[match.group(2)]
    if days <= 0 or days > MAX_LIFETIME_DAYS:
        raise ValidationError(
            f"A token lives at least an hour and at most {MAX_LIFETIME_DAYS} days.",
            field="expires_in",
        )
    return timedelta(days=days)


def parse_scopes(values: Sequence[str]) -> list[Scope]:
    """Return the scopes named (at least one), or raise ValidationError listing the valid ones."""
    scopes: list[Scope] = []
    for value in values:
        try:
            scope = Scope(value.strip())
        except ValueError:
            names = ", ".join(scope.value for scope in Scope)
            raise ValidationError(
                f"Unknown scope '{value[:40]}'; use {names}.", field="scope"
            ) from None
        if scope not in scopes:
            scopes.append(scope)
    if not scopes:
        raise ValidationError(
            "Give the token at least one scope: results:write to upload test results, "
            "read for the read API.",
            field="scope",
        )
    return scopes


def create_token(
    *,
    session: Session,
    name: str,
    actor: Actor,
    scopes: Sequence[Scope],
    lifetime: timedelta | None = None,
    suites: Sequence[str] = (),
    branches: Sequence[str] = (),
    owner: User | None = None,
) -> NewToken:
    """Create a token; only its hash is kept. Without an owner it acts as a service."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100 or "\x00" in name:
        raise ValidationError(
            "Give the token a name of 1 to 100 characters, e.g. 'ci'.", field="name"
        )
    if not scopes:
        parse_scopes([])
    suite_limits = _limits(suites, "suite")
    branch_limits = _limits(branches, "branch")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime if lifetime is not None else None
    token = ApiToken(
        name=name,
        prefix=secret[:10],
        token_hash=hash_token(secret),
        scopes=[scope.value for scope in scopes],
        suites=suite_limits,
        branches=branch_limits,
        owner_id=owner.id if owner else None,
        created_by=actor.label,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    record_event(
        session=session,
        actor=actor,
        action="token.created",
        entity_type="token",
        entity_id=str(token.id),
        after={
            "name": name,
            "prefix": token.prefix,
            "scopes": token.scopes,
            "suites": suite_limits,
            "branches": branch_limits,
            "owner": owner.email if owner else None,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return NewToken(id=token.id or 0, name=name, secret=secret, expires_at=expires_at)


def list_tokens(*, session: Session) -> list[tuple[ApiToken, User | None]]:
    """Return every token with its owner, newest first (revoked and expired ones too)."""
    query = (
        select(ApiToken, User)
        .join(User, col(User.id) == col(ApiToken.owner_id), isouter=True)
        .order_by(col(ApiToken.id).desc())
    )
    return [(token, owner) for token, owner in session.exec(query).all()]


def revoke_token(*, session: Session, token_id: int, actor: Actor) -> ApiToken:
    """Revoke a token; requests with it are refused from now on."""
    token = session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if token is None:
        raise NotFoundError(f"No API token with id {token_id}; `tracker tokens list` shows them.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        record_event(
            session=session,
            actor=actor,
            action="token.revoked",
            entity_type="token",
            entity_id=str(token_id),
            after={"name": token.name},
        )
    return token


#: How precisely a token's last use is recorded.
USE_RESOLUTION = timedelta(minutes=1)


def check_token(
    *, connection: Connection, secret: str, generation: list[str] | None = None
) -> TokenCheck:
    """Return the usable token with this secret (noting its use), or why it is refused.

    One read, token and owner together (Core: this runs before every API call); it fetches the
    data generation too (tracker.generation), appended to `generation` when given.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return TokenCheck(None, problem="The API token is not valid.")
    row = connection.execute(_TOKEN_AND_OWNER, {"token_hash": hash_token(secret)}).first()
    if row is None:
        return TokenCheck(None, problem="The API token is not valid.")
    if generation is not None:
        generation.append(generation_text(*row[-2:]))
    split = len(_TOKENS.c)
    token = model_of(ApiToken, row[:split])
    owner = model_of(User, row[split:-2]) if row[split] is not None else None
    now = utcnow()
    state = token_state(token, owner, now)
    if state == "revoked":
        return TokenCheck(None, problem="The API token was revoked; ask an admin for a new one.")
    if state == "expired":
        return TokenCheck(
            None,
            problem=f"The API token expired on {token.expires_at:%Y-%m-%d}; "
            "ask an admin for a new one.",
        )
    if state == "owner disabled":
        return TokenCheck(None, problem="The API token's owner is disabled, so it is too.")
    if token.last_used_at is None or now - as_utc(token.last_used_at) >= USE_RESOLUTION:
        token.last_used_at = now  # to the minute: a write on every call would cost more
        connection.execute(update(_TOKENS).where(_TOKENS.c.id == token.id).values(last_used_at=now))
    return TokenCheck(token, owner)


def token_state(token: ApiToken, owner: User | None, now: datetime) -> str:
    """Return 'active', 'revoked', 'expired' or 'owner disabled'."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and as_utc(token.expires_at) <= now:
        return "expired"
    if token.owner_id is not None and (owner is None or not owner.active):
        return "owner disabled"
    return "active"


def token_actor(token: ApiToken, owner: User | None) -> Actor:
    """Return the actor recorded for what a token does: its name, and its owner's role."""
    name = f"token {token.name} ({owner.email})" if owner else f"token {token.name}"
    return Actor(
        kind=ActorKind.TOKEN,
        name=name,
        role=Role(owner.role) if owner else None,
        account_id=owner.id if owner else None,
        token_id=token.id,
    )


def token_scopes(token: ApiToken) -> frozenset[Scope]:
    """Return the token's scopes (unknown stored values are ignored)."""
    return frozenset(Scope(value) for value in token.scopes if value in Scope._value2member_map_)


def run_refusal(
    token: ApiToken, branch: str | None, release: str | None, default_branch: str
) -> str | None:
    """Return why the token may not upload a run of this branch and release, or None.

    A run without a branch counts for the default branch, so it is checked as that branch.
    Release evidence is chosen by release whatever the branch, so a token limited to
    branches may not name a release. Suites are checked against the report's tests.
    """
    if not token.branches:
        return None
    branch = branch or default_branch
    allowed = ", ".join(token.branches)
    if branch not in token.branches:
        return f"This token may upload only for the branches {allowed}, not '{branch[:100]}'."
    if release:
        return (
            f"This token is limited to the branches {allowed}, so it may not upload runs for a "
            "release (release evidence counts whatever the branch): use a token without a "
            "branch limit for release runs."
        )
    return None


def _limits(values: Sequence[str], what: str) -> list[str]:
    cleaned = sorted({value.strip() for value in values if value and value.strip()})
    if len(cleaned) > MAX_LIMITS:
        raise ValidationError(f"Limit a token to at most {MAX_LIMITS} {what} names.", field=what)
    for value in cleaned:
        if len(value) > MAX_LIMIT_LENGTH or "\x00" in value:
            raise ValidationError(
                f"A {what} name has at most {MAX_LIMIT_LENGTH} characters.", field=what
            )
    return cleaned
