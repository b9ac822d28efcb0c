"""API tokens for CI uploads: shown once, stored only as a hash, listed and revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from tracker.errors import NotFoundError, ValidationError
from tracker.models import ApiToken, utcnow
from tracker.services.audit import record_event

TOKEN_PREFIX = "trk_"  # noqa: S105 - a visible marker, not a secret


@dataclass(frozen=True)
class NewToken:
    """A token just created: the secret is here once and never again."""

    id: int
    name: str
    secret: str


def hash_token(secret: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(*, session: Session, name: str, actor: str) -> NewToken:
    """Create a token for a CI pipeline; only its hash is kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError(
            "Give the token a name of 1 to 100 characters, e.g. 'ci'.", field="name"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, prefix=secret[:10], token_hash=hash_token(secret))
    session.add(token)
    session.flush()
    record_event(
        session=session,
        actor=actor,
        action="token.created",
        entity_type="token",
        entity_id=str(token.id),
        after={"name": name, "prefix": token.prefix},
    )
    return NewToken(id=token.id or 0, name=name, secret=secret)


def list_tokens(*, session: Session) -> list[ApiToken]:
    """Return every token, newest first (revoked ones too)."""
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.id).desc())).all())


def revoke_token(*, session: Session, token_id: int, actor: str) -> ApiToken:
    """Revoke a token; uploads with it are refused from now on."""
    token = session.get(ApiToken, token_id)
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


def authenticate(*, session: Session, secret: str) -> ApiToken | None:
    """Return the active token with this secret, noting its use; None when unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    session.add(token)
    return token
