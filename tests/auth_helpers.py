"""Accounts and sign-ins for tests: make a user of a role, sign a test client in as it."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tracker.db import session_scope
from tracker.domain.access import Role, cli_actor
from tracker.models import User
from tracker.services.accounts import create_user
from tracker.services.login_sessions import start_session

PASSWORD = "correct horse battery staple"


def make_user(
    engine: Engine,
    role: Role | str,
    email: str | None = None,
    password: str | None = PASSWORD,
    name: str | None = None,
) -> User:
    """Create an account of the role (e-mail <role>@example.com unless given)."""
    role = Role(role)
    with session_scope(engine) as session:
        return create_user(
            session=session,
            email=email or f"{role.value}@example.com",
            role=role,
            actor=cli_actor("test setup"),
            display_name=name,
            password=password,
        )


def sign_in(client, engine: Engine, user: User) -> str:  # type: ignore[no-untyped-def]
    """Sign the test client in as the account (a real login session); return its key."""
    with session_scope(engine) as session:
        key = start_session(session=session, user=user, method="password")
    with client.session_transaction() as cookie_session:
        cookie_session.clear()
        cookie_session["_user_id"] = key
        cookie_session["_fresh"] = True
    return key


def client_as(app, engine: Engine, role: Role | str, email: str | None = None):  # type: ignore[no-untyped-def]
    """Return a new test client signed in as a new account of the role."""
    client = app.test_client()
    sign_in(client, engine, make_user(engine, role, email=email))
    return client


def signed_in_client(app, role: Role | str = "admin", email: str | None = None):  # type: ignore[no-untyped-def]
    """Return a new test client of the app, signed in as an account of the role (made if new)."""
    from sqlmodel import Session, col, select

    from tracker.db import get_engine

    engine = get_engine(app)
    address = email or f"{Role(role).value}@example.com"
    with Session(engine, expire_on_commit=False) as session:
        user = session.exec(select(User).where(col(User.email) == address)).first()
    if user is None:
        user = make_user(engine, role, email=address)
    client = app.test_client()
    sign_in(client, engine, user)
    return client
