"""Signed-in browsers: start one at log-in, find it per request, end it (log-out, idleness)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from tracker.bulk import model_of, table_of
from tracker.generation import GENERATION_COLUMNS, generation_text
from tracker.models import LoginSession, User, as_utc, utcnow

_LOGINS = table_of(LoginSession)
_USERS = table_of(User)
#: Built once: it runs before every signed-in request (the data generation with it).
_SESSION_USER = (
    select(_LOGINS.c.last_seen_at, _LOGINS.c.ended_at, *_USERS.c, *GENERATION_COLUMNS)
    .join(_USERS, _USERS.c.id == _LOGINS.c.user_id)
    .where(_LOGINS.c.id == bindparam("digest"))
)

#: How often a request refreshes last_seen_at (a write on every request would cost more).
SEEN_RESOLUTION = timedelta(minutes=1)


def start_session(*, session: Session, user: User, method: str) -> str:
    """Start a signed-in session and return the key for the cookie (only its hash is stored)."""
    key = secrets.token_urlsafe(32)
    session.add(LoginSession(id=_digest(key), user_id=user.id or 0, method=method[:16]))
    return key


def session_user(
    *,
    connection: Connection,
    key: str,
    idle_timeout: timedelta,
    generation: list[str] | None = None,
) -> User | None:
    """Return the active account of a live session, ending the session once it sat idle.

    One read on every signed-in request (Core, not the ORM: this runs before every page). The
    caller commits: the session's last-seen time moves at most once a minute. The same read
    fetches the data generation (tracker.generation), appended to `generation` when given: a
    page kept ready then needs no other read.
    """
    if not key or len(key) > 100:
        return None
    digest = _digest(key)
    found = connection.execute(_SESSION_USER, {"digest": digest}).first()
    if found is None:
        return None
    if generation is not None:
        generation.append(generation_text(*found[-2:]))
    if found[1] is not None:
        return None
    now = utcnow()
    last_seen = as_utc(found[0])
    this_session = update(_LOGINS).where(_LOGINS.c.id == digest)
    if last_seen + idle_timeout <= now:
        connection.execute(this_session.values(ended_at=now))
        return None
    user = model_of(User, found[2:-2])
    if not user.active:
        return None
    if now - last_seen >= SEEN_RESOLUTION:
        connection.execute(this_session.values(last_seen_at=now))
    return user


def end_session(*, session: Session, key: str) -> None:
    """End the session with this key (log-out)."""
    login = session.get(LoginSession, _digest(key)) if key and len(key) <= 100 else None
    if login is not None and login.ended_at is None:
        login.ended_at = utcnow()
        session.add(login)


def end_sessions(*, session: Session, user_id: int) -> None:
    """End every session of an account (disabled, or its password was reset)."""
    session.execute(
        update(LoginSession)
        .where(col(LoginSession.user_id) == user_id, col(LoginSession.ended_at).is_(None))
        .values(ended_at=utcnow())
    )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
