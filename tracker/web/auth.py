"""Who is asking and whether they may: one declared permission per route, checked before it runs.

Identity comes from, in this order: an API token (``Authorization: Bearer``, on /api/ only), the
authenticating proxy's header (only from the addresses in TRACKER_TRUSTED_PROXIES), or the
signed-in session (Flask-Login, backed by a LoginSession row so log-out really ends it).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, login_user, logout_user
from sqlalchemy.engine import Connection
from sqlmodel import Session

from tracker.db import separate_transaction_bind
from tracker.domain.access import (
    Actor,
    Permission,
    Scope,
    needed_roles_text,
    role_allows,
    scopes_allow,
)
from tracker.domain.text_rules import has_control_characters
from tracker.errors import ForbiddenError, ValidationError
from tracker.models import ApiToken, User, as_utc, utcnow
from tracker.services.accounts import SignOnClaims, record_login, sign_on, user_actor
from tracker.services.login_sessions import end_session, session_user, start_session
from tracker.services.tokens import check_token, token_actor, token_scopes

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])
Checked = TypeVar("Checked")

PERMISSION_ATTRIBUTE = "tracker_permission"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_KEY = "_user_id"  # where Flask-Login keeps the id of the signed-in user
SEEN_KEY = "_seen"  # the minute the session cookie was last issued

login_manager = LoginManager()


def requires(permission: Permission) -> Callable[[View], View]:
    """Declare the permission a view needs; the check runs before every request to it."""

    def declare(view: View) -> View:
        setattr(view, PERMISSION_ATTRIBUTE, permission)
        return view

    return declare


def public(view: View) -> View:
    """Declare a view open to everyone (log-in page, signed webhooks)."""
    return requires(Permission.PUBLIC)(view)


def route_permission(app: Flask, endpoint: str) -> Permission | None:
    """Return the permission an endpoint declares (static files are public), or None."""
    if endpoint == "static" or endpoint.endswith(".static"):
        return Permission.PUBLIC
    view = app.view_functions.get(endpoint)
    permission: Permission | None = getattr(view, PERMISSION_ATTRIBUTE, None)
    return permission


class SignedIn(UserMixin):  # type: ignore[misc]  # Flask-Login ships no type information
    """The Flask-Login user: an account and the key of its LoginSession."""

    def __init__(self, user: User, key: str) -> None:
        self.user = user
        self.key = key

    def get_id(self) -> str:
        """Return what the session cookie holds: the login session's key, never the user id."""
        return self.key


@dataclass(frozen=True)
class Identity:
    """The person or token behind a request, and what they may do."""

    actor: Actor
    user: User | None = None
    token: ApiToken | None = None
    scopes: frozenset[Scope] | None = None  # set for tokens, which are limited to their scopes

    def may(self, permission: Permission) -> bool:
        """Return whether this identity may act with the permission."""
        if self.scopes is not None:
            return scopes_allow(self.scopes, permission)
        return self.actor.role is not None and role_allows(self.actor.role, permission)


CREDENTIALS_HELP = (
    "An admin creates tokens on the API tokens page or with `tracker tokens create --name ci "
    "--scope read` (to read) or `--scope results:write` (to upload test results); send it as "
    "'Authorization: Bearer <token>'."
)


class Unauthorized(Exception):
    """A request that needs credentials it did not bring (invalid: it brought a bad token): 401."""

    def __init__(self, message: str, invalid: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.invalid = invalid


def init_app(app: Flask) -> None:
    """Wire Flask-Login, session cookie settings and the check that runs before every view."""
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_signed_in)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = str(app.config.get("PUBLIC_URL", "")).startswith(
        "https://"
    )
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=0)
    app.config["PERMANENT_SESSION_LIFETIME"] = _idle_timeout(app)
    # The cookie is issued again once a minute while signed in (_refresh_cookie), not with
    # every answer: signing it costs more than a page kept ready.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.before_request(_authorize)


def current_identity() -> Identity | None:
    """Return who is making this request (resolved once per request), or None if nobody."""
    if "tracker_identity" not in g:
        g.tracker_identity = _resolve_identity()
    identity: Identity | None = g.tracker_identity
    return identity


def current_actor() -> Actor:
    """Return the actor recorded for changes made by this request."""
    identity = current_identity()
    if identity is None:
        raise ForbiddenError("Sign in first: nobody is signed in to make this change.")
    return identity.actor


def may(permission: Permission | str) -> bool:
    """Return whether the current identity may act with the permission (for templates)."""
    identity = current_identity()
    return identity is not None and identity.may(Permission(permission))


def sign_in(user: User, method: str) -> None:
    """Start a fresh session for the account (a new key: nothing from before carries over)."""
    with (
        Session(separate_transaction_bind(), expire_on_commit=False) as db_session,
        db_session.begin(),
    ):
        key = start_session(session=db_session, user=user, method=method)
        record_login(session=db_session, user=user, method=method)
    session.clear()  # no session fixation: nothing set before log-in survives it
    session.permanent = True
    login_user(SignedIn(user, key))
    g.pop("tracker_identity", None)


def sign_out() -> None:
    """End the session here and in the database."""
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        with Session(separate_transaction_bind()) as db_session, db_session.begin():
            end_session(session=db_session, key=key)
    logout_user()
    session.clear()
    g.pop("tracker_identity", None)


def safe_next(target: str | None) -> str:
    """Return where to go after log-in: a path on this site, never another site."""
    fallback = url_for("dashboard.index")
    if not target or len(target) > 2000 or has_control_characters(target):
        return fallback
    if "\\" in target or not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


# --- the check before every view --------------------------------------------------------------


def _authorize() -> ResponseReturnValue | None:
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no such route: the 404 or 405 handler answers
    permission = route_permission(current_app, endpoint)
    if permission is None:
        log.error("Route %s declares no permission; refused.", endpoint)
        raise ForbiddenError("This address declares no permission, so it is refused.")
    if permission is Permission.PUBLIC:
        return None
    identity = current_identity()
    if identity is None:
        if (
            permission is Permission.READ
            and request.method in SAFE_METHODS
            and current_app.config.get("ANONYMOUS_READ")
        ):
            return None
        if _is_api():
            raise Unauthorized("Sign in, or send an API token. " + CREDENTIALS_HELP)
        if session.pop(SESSION_KEY, None) is not None:
            flash(
                "Your session has ended (it was idle too long, you signed out elsewhere, or an "
                "admin changed your account). Sign in again.",
                "info",
            )
        return redirect(url_for("accounts.login", next=_here()))
    if _is_api() and identity.token is None and request.method not in SAFE_METHODS:
        # A browser session may only read the API (it is exempt from CSRF checks).
        raise Unauthorized(
            "An API token is required for changes through the API (a signed-in browser "
            "session may only read it). " + CREDENTIALS_HELP
        )
    if not identity.may(permission):
        raise ForbiddenError(_refusal(identity, permission))
    return None


def _refusal(identity: Identity, permission: Permission) -> str:
    if identity.scopes is not None:
        scopes = ", ".join(sorted(scope.value for scope in identity.scopes)) or "none"
        needed = [scope.value for scope in Scope if scopes_allow(frozenset({scope}), permission)]
        if needed:
            return f"This token's scopes ({scopes}) do not include {' or '.join(needed)}."
        return f"This needs a person with the {needed_roles_text(permission)} role, not a token."
    role = identity.actor.role.value if identity.actor.role else "no"
    return (
        f"This needs the {needed_roles_text(permission)} role; you are signed in with the {role} "
        "role. Ask an admin if you need it."
    )


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _here() -> str:
    path = request.full_path
    return path[:-1] if path.endswith("?") else path


# --- where the identity comes from --------------------------------------------------------------


def _resolve_identity() -> Identity | None:
    if _is_api():
        token_identity = _token_identity()
        if token_identity is not None:
            return token_identity
    proxied = _proxy_identity()
    if proxied is not None:
        return proxied
    from flask_login import current_user

    signed_in = current_user._get_current_object()
    if isinstance(signed_in, SignedIn):
        return Identity(actor=user_actor(signed_in.user), user=signed_in.user)
    return None


def _token_identity() -> Identity | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("The Authorization header is not a bearer token. " + CREDENTIALS_HELP)
    checked = _checked_alone(
        lambda connection, generation: check_token(
            connection=connection, secret=secret.strip(), generation=generation
        )
    )
    if checked.token is None:
        raise Unauthorized(f"{checked.problem} {CREDENTIALS_HELP}", invalid=True)
    return Identity(
        actor=token_actor(checked.token, checked.owner),
        user=checked.owner,
        token=checked.token,
        scopes=token_scopes(checked.token),
    )


def _proxy_identity() -> Identity | None:
    header = current_app.config.get("TRUSTED_USER_HEADER")
    if not header or not _from_trusted_proxy():
        return None
    email = (request.headers.get(header) or "").strip()
    if not email:
        return None
    # The proxy authenticates every request, so no session is kept for it; the log-in is
    # recorded once per idle period, not on every request (scripts send no cookies).
    try:
        with (
            Session(separate_transaction_bind(), expire_on_commit=False) as db_session,
            db_session.begin(),
        ):
            user = sign_on(session=db_session, claims=SignOnClaims(email=email), method="proxy")
            if user is None:
                return None
            last = user.last_login_at
            if last is None or as_utc(last) + _idle_timeout(current_app) <= utcnow():
                record_login(session=db_session, user=user, method="proxy")
    except ValidationError:
        log.warning("The trusted proxy sent a user header that is not an e-mail address.")
        return None
    return Identity(actor=user_actor(user), user=user)


def _from_trusted_proxy() -> bool:
    return remote_address_in(current_app.config.get("TRUSTED_PROXY_NETWORKS") or [])


def remote_address_in(networks: list[Any]) -> bool:
    """Return whether the request comes straight from an address in one of the networks."""
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack listener shows IPv4 peers as ::ffff:a.b.c.d
    return any(address in network for network in networks)


def _load_signed_in(key: str) -> SignedIn | None:
    user = _user_for_key(key)
    if user is None:
        return None
    _refresh_cookie()
    return SignedIn(user, key)


def _refresh_cookie() -> None:
    """Issue the session cookie again, its expiry moved on, at most once a minute.

    The server ends a session that sat idle itself (login_sessions: last seen, at the same
    resolution); the cookie's own expiry only has to keep up with it.
    """
    minute = _minute()
    if session.get(SEEN_KEY) != minute:
        session[SEEN_KEY] = minute


def _minute() -> int:
    return int(time.time()) // 60


def _user_for_key(key: str) -> User | None:
    idle_timeout = _idle_timeout(current_app)
    return _checked_alone(
        lambda connection, generation: session_user(
            connection=connection, key=key, idle_timeout=idle_timeout, generation=generation
        )
    )


def _checked_alone(check: Callable[[Connection, list[str]], Checked]) -> Checked:
    """Run a credentials check in a transaction of its own (its last-seen write commits).

    The check's one statement also reads the data generation; on a read (GET, HEAD) before
    the view has begun, the view uses it (tracker.web.caching.request_generation): an answer
    kept ready needs no other read. Read before the view, it is never newer than what it shows.
    """
    bind = separate_transaction_bind()
    generation: list[str] = []
    if not isinstance(bind, Connection):  # the view has begun: its generation stands
        with bind.begin() as connection:
            return check(connection, generation)
    with bind.begin():
        result = check(bind, generation)
    if generation and request.method in ("GET", "HEAD"):
        g.setdefault("tracker_generation", generation[0])
    return result


def _idle_timeout(app: Flask) -> timedelta:
    return timedelta(minutes=int(app.config.get("SESSION_IDLE_MINUTES") or 480))
