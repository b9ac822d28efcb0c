"""Signed-in browsers: start one at log-in, find it per request, end it (log-out, idleness)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from tracker.models import LoginSession, User, as_utc, utcnow

#: How often a request refreshes last_seen_at (a write on every request would cost more).
SEEN_RESOLUTION = timedelta(minutes=1)


def start_session(*, session: Session, user: User, method: str) -> str:
    """Start a signed-in session and return the key for the cookie (only its hash is stored)."""
    key = secrets.token_urlsafe(32)
    session.add(LoginSession(id=_digest(key), user_id=user.id or 0, method=method[:16]))
    return key


def session_user(*, session: Session, key: str, idle_timeout: timedelta) -> User | None:
    """Return the active account of a live session, ending the session once it sat idle.

    The caller commits: the session's last-seen time moves at most once a minute.
    """
    if not key or len(key) > 100:
        return None
    found = session.exec(
        select(LoginSession, User)
        .join(User, col(User.id) == col(LoginSession.user_id))
        .where(col(LoginSession.id) == _digest(key))
    ).first()
    if found is None or found[0].ended_at is not None:
        return None
    login, user = found
    now = utcnow()
    if as_utc(login.last_seen_at) + idle_timeout <= now:
        login.ended_at = now
        session.add(login)
        return None
    if not user.active:
        return None
    if now - as_utc(login.last_seen_at) >= SEEN_RESOLUTION:
        login.last_seen_at = now
        session.add(login)
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
