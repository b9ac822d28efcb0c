"""Accounts: create, change role, disable, reset passwords, check log-ins, single sign-on users."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from tracker.domain.access import Actor, ActorKind, Role
from tracker.errors import NotFoundError, ValidationError
from tracker.models import User, utcnow
from tracker.services.audit import record_event
from tracker.services.login_sessions import end_sessions

#: Argon2id with the library's defaults (RFC 9106 low-memory profile); tests swap in a cheaper one.
HASHER = PasswordHasher()

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_EMAIL = 254
MAX_NAME = 200
_EMAIL = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")
# A real hash to check against when the e-mail is unknown, so both cases take as long.
_DUMMY_HASH: dict[str, str] = {}


def normalise_email(email: str) -> str:
    """Return the e-mail as stored (trimmed, lower case), or raise ValidationError."""
    value = (email or "").strip().lower()
    if not value or len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise ValidationError(
            "Give an e-mail address like ana@example.com (at most 254 characters).", field="email"
        )
    return value


def parse_role(value: str) -> Role:
    """Return the role named, or raise ValidationError listing the roles."""
    try:
        return Role((value or "").strip().lower())
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise ValidationError(f"Unknown role '{value[:40]}'; use one of {names}.", "role") from None


def check_password_rules(password: str) -> None:
    """Raise ValidationError unless the password is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"Use a password of at least {MIN_PASSWORD} characters "
            "(a few unrelated words make a good one).",
            field="password",
        )
    if len(password) > MAX_PASSWORD or "\x00" in password:
        raise ValidationError(
            f"Use a password of at most {MAX_PASSWORD} characters, without NUL.", field="password"
        )


def generate_password() -> str:
    """Return a random password of 20 characters for a new or reset account."""
    return secrets.token_urlsafe(15)


def user_actor(user: User) -> Actor:
    """Return the actor recorded for what this person does."""
    return Actor(
        kind=ActorKind.USER, name=user.email, role=Role(user.role), account_id=user.id or None
    )


def find_user(session: Session, email: str) -> User:
    """Return the account with this e-mail, or raise NotFoundError."""
    address = (email or "").strip().lower()
    if "\x00" in address or len(address) > MAX_EMAIL:
        raise ValidationError("Give an e-mail address like ana@example.com.", field="email")
    user = session.exec(select(User).where(col(User.email) == address)).first()
    if user is None:
        raise NotFoundError(f"There is no account with the e-mail {address[:254]}.")
    return user


def list_users(*, session: Session) -> list[User]:
    """Return every account, active ones first, then by e-mail."""
    query = select(User).order_by(col(User.active).desc(), col(User.email))
    return list(session.exec(query).all())


def create_user(
    *,
    session: Session,
    email: str,
    role: Role,
    actor: Actor,
    display_name: str | None = None,
    password: str | None = None,
    sso_subject: str | None = None,
) -> User:
    """Create an account; without a password it can only sign in through single sign-on."""
    address = normalise_email(email)
    name = _display_name(display_name, address)
    existing = session.exec(select(User.id).where(col(User.email) == address)).first()
    if existing is not None:
        raise ValidationError(f"An account for {address} exists already.", field="email")
    if password is not None:
        check_password_rules(password)
    user = User(
        email=address,
        display_name=name,
        role=role.value,
        password_hash=HASHER.hash(password) if password is not None else None,
        sso_subject=sso_subject,
    )
    session.add(user)
    session.flush()
    record_event(
        session=session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=str(user.id),
        after={
            "email": address,
            "name": name,
            "role": role.value,
            "password_set": password is not None,
        },
    )
    return user


def set_role(*, session: Session, email: str, role: Role, actor: Actor) -> User:
    """Give an account another role; it applies to the person's next request."""
    user = find_user(session, email)
    if user.role != role.value:
        _keep_an_admin(session, user, role, user.active)
        before = user.role
        user.role = role.value
        session.add(user)
        record_event(
            session=session,
            actor=actor,
            action="user.role_changed",
            entity_type="user",
            entity_id=str(user.id),
            before={"email": user.email, "role": before},
            after={"email": user.email, "role": role.value},
        )
    return user


def set_active(*, session: Session, email: str, active: bool, actor: Actor) -> User:
    """Disable an account (its sessions and tokens stop working at once) or enable it again."""
    user = find_user(session, email)
    if user.active != active:
        _keep_an_admin(session, user, Role(user.role), active)
        user.active = active
        session.add(user)
        if not active:
            end_sessions(session=session, user_id=user.id or 0)
        record_event(
            session=session,
            actor=actor,
            action="user.enabled" if active else "user.disabled",
            entity_type="user",
            entity_id=str(user.id),
            after={"email": user.email, "active": active},
        )
    return user


def reset_password(*, session: Session, email: str, password: str, actor: Actor) -> User:
    """Set a new password; every session of the account ends."""
    user = find_user(session, email)
    check_password_rules(password)
    user.password_hash = HASHER.hash(password)
    session.add(user)
    end_sessions(session=session, user_id=user.id or 0)
    record_event(
        session=session,
        actor=actor,
        action="user.password_reset",
        entity_type="user",
        entity_id=str(user.id),
        after={"email": user.email},
    )
    return user


def check_login(*, session: Session, email: str, password: str) -> User | None:
    """Return the active account whose password this is, else None (same answer either way)."""
    address = (email or "").strip().lower()[:MAX_EMAIL]
    if "\x00" in address:
        address = ""  # no account has it (PostgreSQL would refuse it): a failed log-in
    user = session.exec(select(User).where(col(User.email) == address)).first() if address else None
    stored = user.password_hash if user is not None and user.password_hash else None
    candidate = (password or "")[:MAX_PASSWORD]
    try:
        HASHER.verify(stored or _dummy_hash(), candidate)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or not user.active:
        return None
    if HASHER.check_needs_rehash(stored):
        user.password_hash = HASHER.hash(candidate)
        session.add(user)
    return user


def record_login(*, session: Session, user: User, method: str) -> None:
    """Note the log-in on the account and in the audit trail."""
    user.last_login_at = utcnow()
    session.add(user)
    record_event(
        session=session,
        actor=user_actor(user),
        action="user.logged_in",
        entity_type="user",
        entity_id=str(user.id),
        after={"method": method},
    )


@dataclass(frozen=True)
class SignOnClaims:
    """Who an identity provider or an authenticating proxy says the person is."""

    email: str
    subject: str | None = None
    name: str | None = None
    role: Role | None = None  # from the IdP's groups, when a mapping is configured


def sign_on(*, session: Session, claims: SignOnClaims, method: str) -> User | None:
    """Return the account for a single sign-on, creating it (as viewer) on the first one.

    The caller records the log-in once the session starts.

    None when the account exists but is disabled. A role from the provider's groups replaces
    the stored role on every sign-on; without a mapping the role is managed in the tracker.
    """
    address = normalise_email(claims.email)
    user = None
    if claims.subject:
        user = session.exec(select(User).where(col(User.sso_subject) == claims.subject)).first()
    if user is None:
        user = session.exec(select(User).where(col(User.email) == address)).first()
        if user is not None and claims.subject and user.sso_subject not in (None, claims.subject):
            # The address moved to another identity at the provider: not the same person.
            raise ValidationError(
                f"the account {address} belongs to another single sign-on identity; "
                "an admin can check it"
            )
    system = Actor(kind=ActorKind.SYSTEM, name=f"single sign-on ({method})")
    if user is None:
        user = create_user(
            session=session,
            email=address,
            role=claims.role or Role.VIEWER,
            actor=system,
            display_name=claims.name,
            sso_subject=claims.subject,
        )
    elif not user.active:
        return None
    else:
        if claims.subject and user.sso_subject is None:
            user.sso_subject = claims.subject
        if claims.role is not None and user.role != claims.role.value:
            set_role(session=session, email=user.email, role=claims.role, actor=system)
    return user


def role_from_groups(groups: Sequence[str], mapping: dict[str, Role]) -> Role | None:
    """Return the strongest role any of the groups maps to, or None when none maps."""
    found = {mapping[group] for group in groups if group in mapping}
    for role in (Role.ADMIN, Role.COMPLIANCE, Role.LEGAL, Role.ENGINEER, Role.VIEWER):
        if role in found:
            return role
    return None


def _display_name(name: str | None, email: str) -> str:
    value = " ".join((name or "").split())
    if "\x00" in value or len(value) > MAX_NAME:
        raise ValidationError(f"Give a name of at most {MAX_NAME} characters.", field="name")
    return value or email.split("@", 1)[0]


def _keep_an_admin(session: Session, user: User, role: Role, active: bool) -> None:
    """Refuse to remove the last active admin: nobody could manage accounts any more.

    The admins are locked first (rows on PostgreSQL, the database's write lock on SQLite), so
    two admins demoting each other at the same moment cannot both succeed.
    """
    if user.role != Role.ADMIN.value or not user.active or (role is Role.ADMIN and active):
        return
    admins_query = select(User.id).where(col(User.role) == Role.ADMIN.value, col(User.active))
    session.exec(admins_query.with_for_update()).all()
    session.execute(update(User).where(col(User.id) == user.id).values(role=User.role))
    admins = len(session.exec(admins_query).all())
    if admins <= 1:
        raise ValidationError(
            f"{user.email} is the last active admin; make another account admin first.",
            field="role",
        )


def _dummy_hash() -> str:
    key = repr(HASHER)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = HASHER.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH[key]
