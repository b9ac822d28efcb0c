"""Log-in (password or single sign-on), log-out, and the admin pages for accounts and tokens."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlmodel import Session

from tracker.db import get_engine, get_session
from tracker.domain.access import ROLE_DESCRIPTIONS, Permission, Role, Scope
from tracker.errors import NotFoundError, ValidationError
from tracker.models import User
from tracker.services.accounts import (
    check_login,
    create_user,
    find_user,
    generate_password,
    list_users,
    parse_role,
    reset_password,
    set_active,
    set_role,
    sign_on,
)
from tracker.services.tokens import create_token, list_tokens, parse_lifetime, parse_scopes
from tracker.services.tokens import revoke_token as revoke
from tracker.web.accounts.page import tokens_page, users_page
from tracker.web.accounts.sso import claims_from, client, sso_enabled
from tracker.web.auth import current_actor, current_identity, public, requires, safe_next
from tracker.web.auth import sign_in as start_signed_in
from tracker.web.auth import sign_out as end_signed_in
from tracker.web.rate_limits import (
    failed_login,
    limiter,
    login_email_from_here_key,
    login_email_key,
)

log = logging.getLogger(__name__)

accounts = Blueprint("accounts", __name__)

LOGIN_FAILED = (
    "The e-mail or the password is not right, or the account is disabled. Check both and try "
    "again; an admin can reset your password."
)
NEXT_KEY = "tracker.next"


@accounts.get("/login")
@public
def login() -> ResponseReturnValue:
    """Show the log-in form (or go on when already signed in)."""
    target = safe_next(request.args.get("next"))
    if current_identity() is not None:
        return redirect(target)
    return _login_form(target)


@accounts.post("/login")
@public
@limiter.limit("30 per minute", deduct_when=failed_login)
@limiter.limit("5 per 15 minutes", key_func=login_email_from_here_key, deduct_when=failed_login)
@limiter.limit("50 per hour", key_func=login_email_key, deduct_when=failed_login)
def login_submit() -> ResponseReturnValue:
    """Check the e-mail and password; the same answer for a wrong e-mail as a wrong password."""
    target = safe_next(request.form.get("next"))
    email = (request.form.get("email") or "")[:254]
    password = request.form.get("password") or ""
    with Session(get_engine(), expire_on_commit=False) as db_session, db_session.begin():
        user = check_login(session=db_session, email=email, password=password)
    if user is None:
        log.info("Failed log-in attempt.")
        return _login_form(target, error=LOGIN_FAILED, email=email), 401
    start_signed_in(user, "password")
    return redirect(target)


@accounts.get("/login/sso")
@public
def sso_start() -> ResponseReturnValue:
    """Send the browser to the identity provider."""
    if not sso_enabled():
        flash("Single sign-on is not set up here; sign in with your e-mail and password.", "error")
        return redirect(url_for("accounts.login"))
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    callback = current_app.config["PUBLIC_URL"] + url_for("accounts.sso_callback")
    try:
        response: ResponseReturnValue = client().authorize_redirect(callback)
    except Exception:  # noqa: BLE001 - the provider cannot be reached or misbehaves
        log.exception("The identity provider could not be reached.")
        return _sso_failed("the identity provider could not be reached")
    return response


@accounts.get("/login/sso/callback")
@public
def sso_callback() -> ResponseReturnValue:
    """Finish the sign-on: check the provider's answer, then sign the account in."""
    if not sso_enabled():
        return redirect(url_for("accounts.login"))
    from authlib.integrations.base_client import OAuthError

    target = safe_next(session.pop(NEXT_KEY, None))
    try:
        token = client().authorize_access_token()
    except OAuthError as exc:
        return _sso_failed(f"the identity provider answered '{str(exc.error)[:80]}'")
    except Exception:  # noqa: BLE001 - a forged or stale answer, or an unreachable provider
        log.exception("Single sign-on could not be completed.")
        return _sso_failed("its answer could not be checked")
    userinfo = dict(token.get("userinfo") or {})
    if not userinfo.get("email") or userinfo.get("email_verified") is not True:
        return _sso_failed(
            "the identity provider did not confirm a verified e-mail address (email_verified)"
        )
    try:
        with Session(get_engine(), expire_on_commit=False) as db_session, db_session.begin():
            user = sign_on(session=db_session, claims=claims_from(userinfo), method="oidc")
    except ValidationError as exc:
        return _sso_failed(str(exc))
    if user is None:
        return _sso_failed("this account is disabled; ask an admin")
    start_signed_in(user, "oidc")
    return redirect(target)


@accounts.get("/logout")
@public
def logout() -> ResponseReturnValue:
    """Show the log-out button (log-out is a form, so another site cannot sign you out)."""
    if current_identity() is None:
        return redirect(url_for("accounts.login"))
    return render_template("accounts/logout.html")


@accounts.post("/logout")
@public
def logout_submit() -> ResponseReturnValue:
    """End the session."""
    end_signed_in()
    flash("You are signed out.", "success")
    return redirect(url_for("accounts.login"))


# --- accounts (admin) -----------------------------------------------------------------------


@accounts.get("/admin/users")
@requires(Permission.MANAGE_USERS)
def users() -> str:
    """List accounts with forms to add one, change a role, disable or reset a password."""
    return _users_page()


@accounts.post("/admin/users")
@requires(Permission.MANAGE_USERS)
def users_create() -> ResponseReturnValue:
    """Create an account with a generated password, shown once."""
    form = request.form
    password = generate_password()
    try:
        with get_session().begin():
            user = create_user(
                session=get_session(),
                email=form.get("email", ""),
                role=parse_role(form.get("role", "")),
                display_name=form.get("name"),
                password=password,
                actor=current_actor(),
            )
    except ValidationError as exc:
        return _users_page(error=str(exc), values=dict(form)), 400
    return _users_page(
        notice=f"Account {user.email} created as {user.role}.",
        secret=(user.email, password),
    )


@accounts.post("/admin/users/role")
@requires(Permission.MANAGE_USERS)
def users_set_role() -> ResponseReturnValue:
    """Change an account's role."""
    return _change_user(
        lambda email: set_role(
            session=get_session(),
            email=email,
            role=parse_role(request.form.get("role", "")),
            actor=current_actor(),
        ),
        "now has the role {role}",
    )


@accounts.post("/admin/users/active")
@requires(Permission.MANAGE_USERS)
def users_set_active() -> ResponseReturnValue:
    """Disable an account (its sessions and tokens stop at once) or enable it."""
    active = request.form.get("active") == "1"
    return _change_user(
        lambda email: set_active(
            session=get_session(), email=email, active=active, actor=current_actor()
        ),
        "is enabled" if active else "is disabled; its sessions ended",
    )


@accounts.post("/admin/users/password")
@requires(Permission.MANAGE_USERS)
def users_reset_password() -> ResponseReturnValue:
    """Give an account a new generated password, shown once; its sessions end."""
    password = generate_password()
    email = request.form.get("email", "")
    try:
        with get_session().begin():
            user = reset_password(
                session=get_session(), email=email, password=password, actor=current_actor()
            )
    except (ValidationError, NotFoundError) as exc:
        return _users_page(error=str(exc)), 400
    return _users_page(notice=f"New password for {user.email}.", secret=(user.email, password))


def _change_user(change: Callable[[str], User], done: str) -> ResponseReturnValue:
    email = request.form.get("email", "")
    try:
        with get_session().begin():
            user = change(email)
    except (ValidationError, NotFoundError) as exc:
        return _users_page(error=str(exc)), 400
    flash(f"{user.email} {done.format(role=user.role)}.", "success")
    return redirect(url_for("accounts.users"))


def _users_page(
    *,
    error: str | None = None,
    notice: str | None = None,
    secret: tuple[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> str:
    page = users_page(list_users(session=get_session()), ROLE_DESCRIPTIONS)
    return render_template(
        "accounts/users.html",
        page=page,
        error=error,
        notice=notice,
        secret=secret,
        values=values or {},
        sso=sso_enabled(),
    )


# --- API tokens (admin) ---------------------------------------------------------------------


@accounts.get("/admin/tokens")
@requires(Permission.MANAGE_TOKENS)
def tokens() -> str:
    """List API tokens (never their secrets) with a form to create one."""
    return _tokens_page()


@accounts.post("/admin/tokens")
@requires(Permission.MANAGE_TOKENS)
def tokens_create() -> ResponseReturnValue:
    """Create a token and show its secret once."""
    form = request.form
    try:
        scopes = parse_scopes(form.getlist("scope"))
        lifetime_text = (form.get("expires_in") or "").strip()
        lifetime = parse_lifetime(lifetime_text) if lifetime_text else None
        owner_email = (form.get("owner") or "").strip()
        with get_session().begin():
            owner = find_user(get_session(), owner_email) if owner_email else None
            token = create_token(
                session=get_session(),
                name=form.get("name", ""),
                actor=current_actor(),
                scopes=scopes,
                lifetime=lifetime,
                suites=_split(form.get("suites")),
                branches=_split(form.get("branches")),
                owner=owner,
            )
    except (ValidationError, NotFoundError) as exc:
        return _tokens_page(error=str(exc), values=dict(form)), 400
    return _tokens_page(secret=(token.name, token.secret))


@accounts.post("/admin/tokens/<int:token_id>/revoke")
@requires(Permission.MANAGE_TOKENS)
def tokens_revoke(token_id: int) -> ResponseReturnValue:
    """Revoke a token: requests with it get 401 from now on."""
    with get_session().begin():
        token = revoke(session=get_session(), token_id=token_id, actor=current_actor())
    flash(f"Token '{token.name}' is revoked.", "success")
    return redirect(url_for("accounts.tokens"))


def _tokens_page(
    *,
    error: str | None = None,
    secret: tuple[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> str:
    page = tokens_page(list_tokens(session=get_session()))
    return render_template(
        "accounts/tokens.html",
        page=page,
        error=error,
        secret=secret,
        values=values or {},
        scopes=list(Scope),
        roles=list(Role),
    )


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


def _login_form(target: str, error: str | None = None, email: str = "") -> str:
    return render_template(
        "accounts/login.html", next=target, error=error, email=email, sso=sso_enabled()
    )


def _sso_failed(reason: str) -> ResponseReturnValue:
    flash(f"Single sign-on did not work: {reason}. Try again, or ask an admin.", "error")
    return redirect(url_for("accounts.login"))
