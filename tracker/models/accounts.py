"""Tables of accounts: people, their signed-in browsers, and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false as sa_false
from sqlmodel import Field

from tracker.models.base import TableModel, json_list, utcnow


class User(TableModel, table=True):
    """A person's account: e-mail, name, role; a password hash (Argon2id) or a single sign-on."""

    __tablename__ = "useraccount"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=255)
    sso_subject: str | None = Field(default=None, max_length=255, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class LoginSession(TableModel, table=True):
    """One signed-in browser: ended by log-out, idleness, a password reset or disabling."""

    id: str = Field(primary_key=True, max_length=64)  # SHA-256 of the key in the cookie
    user_id: int = Field(foreign_key="useraccount.id", index=True)
    method: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class ApiToken(TableModel, table=True):
    """A token for CI and scripts: its scopes, limits and owner; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = json_list()
    suites: list[str] = json_list()
    branches: list[str] = json_list()
    owner_id: int | None = Field(default=None, foreign_key="useraccount.id", index=True)
    created_by: str = Field(default="", max_length=200)
    # Tokens made before scopes existed were given results:write and no expiry.
    migrated: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
