"""Signing in and out: sessions, fixation, CSRF, redirects, idleness, disabling, brute force."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.auth_helpers import PASSWORD, make_user, sign_in
from tracker import create_app
from tracker.config import TestConfig
from tracker.db import session_scope
from tracker.domain.access import Role, cli_actor
from tracker.models import AuditEvent, LoginSession, User, utcnow
from tracker.services.accounts import reset_password, set_active

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FAILED = "The e-mail or the password is not right, or the account is disabled."


def _csrf(client: Any, url: str = "/login") -> str:
    page = client.get(url)
    if page.status_code == 302:  # already signed in: every page carries the sign-out form
        page = client.get("/logout")
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _log_in(client: Any, email: str, password: str = PASSWORD, **extra: str) -> Any:
    token = _csrf(client)
    return client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password, **extra}
    )


def _signed_in(client: Any) -> bool:
    response = client.get("/matrix")
    return response.status_code == 200


def test_the_login_page_has_the_fields_and_a_csrf_token(anonymous: Any) -> None:
    text = anonymous.get("/login").get_data(as_text=True)
    assert 'name="email"' in text and 'name="password"' in text and CSRF.search(text)
    assert 'type="password"' in text and 'autocomplete="current-password"' in text


def test_anonymous_visitors_are_sent_to_the_login_page_and_come_back(
    anonymous: Any, engine: Engine
) -> None:
    response = anonymous.get("/matrix?status=GAP")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/matrix?status%3DGAP"
    make_user(engine, Role.VIEWER)
    response = _log_in(anonymous, "viewer@example.com", next="/matrix?status=GAP")
    assert response.status_code == 302 and response.headers["Location"] == "/matrix?status=GAP"
    assert _signed_in(anonymous)


def test_a_good_login_records_the_time_and_an_audit_event(
    anonymous: Any, engine: Engine, session: Session
) -> None:
    make_user(engine, Role.LEGAL, email="Lea@Example.com")
    assert _log_in(anonymous, "  LEA@example.com ").status_code == 302
    user = session.exec(select(User)).one()
    assert user.last_login_at is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.logged_in")).one()
    assert (event.actor, event.actor_role, event.after) == (
        "lea@example.com",
        "legal",
        {"method": "password"},
    )


def test_wrong_email_and_wrong_password_get_the_same_answer(anonymous: Any, engine: Engine) -> None:
    make_user(engine, Role.VIEWER)
    wrong_password = _log_in(anonymous, "viewer@example.com", "not the password at all")
    wrong_email = _log_in(anonymous, "nobody@example.com", PASSWORD)
    assert wrong_password.status_code == wrong_email.status_code == 401
    first = wrong_password.get_data(as_text=True)
    second = wrong_email.get_data(as_text=True)
    assert FAILED in first and FAILED in second
    assert "nobody@example.com" in second  # the form keeps what was typed, nothing more
    assert not _signed_in(anonymous)


def test_a_disabled_account_cannot_sign_in(anonymous: Any, engine: Engine) -> None:
    make_user(engine, Role.VIEWER)
    with session_scope(engine) as session:
        set_active(session=session, email="viewer@example.com", active=False, actor=cli_actor("t"))
    response = _log_in(anonymous, "viewer@example.com")
    assert response.status_code == 401 and FAILED in response.get_data(as_text=True)


def test_login_starts_a_new_session_so_a_planted_one_is_worthless(
    anonymous: Any, engine: Engine
) -> None:
    make_user(engine, Role.ADMIN)
    with anonymous.session_transaction() as planted:
        planted["_user_id"] = "attacker-chosen-key"
        planted["planted"] = "by an attacker"
    assert not _signed_in(anonymous)  # an unknown session key signs nobody in
    _log_in(anonymous, "admin@example.com")
    with anonymous.session_transaction() as after:
        assert "planted" not in after
        key = after["_user_id"]
    assert key != "attacker-chosen-key" and len(key) >= 40
    _log_in(anonymous, "admin@example.com")  # signing in again gives yet another session
    with anonymous.session_transaction() as again:
        assert again["_user_id"] != key


def test_login_without_its_csrf_token_is_refused(anonymous: Any, engine: Engine) -> None:
    make_user(engine, Role.VIEWER)
    response = anonymous.post("/login", data={"email": "viewer@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert not _signed_in(anonymous)


def test_logout_needs_its_csrf_token_and_then_ends_the_session_everywhere(
    app: Flask, engine: Engine, session: Session
) -> None:
    user = make_user(engine, Role.VIEWER)
    client = app.test_client()
    sign_in(client, engine, user)
    assert client.post("/logout").status_code == 400  # a forged log-out does nothing
    assert _signed_in(client)
    stolen = app.test_client()  # a copy of the cookie, as someone who stole it would hold
    with client.session_transaction() as original, stolen.session_transaction() as copy:
        copy.update(original)
    assert _signed_in(stolen)
    response = client.post("/logout", data={"csrf_token": _csrf(client, "/logout")})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not _signed_in(client)
    assert not _signed_in(stolen)  # the session ended on the server, not only in this browser
    assert session.exec(select(LoginSession)).one().ended_at is not None


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "http:evil.example",
        "",
    ],
)
def test_next_only_ever_leads_to_this_site(anonymous: Any, engine: Engine, target: str) -> None:
    make_user(engine, Role.VIEWER)
    response = _log_in(anonymous, "viewer@example.com", next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_an_idle_session_ends(app: Flask, engine: Engine) -> None:
    client = app.test_client()
    sign_in(client, engine, make_user(engine, Role.VIEWER))
    assert _signed_in(client)
    idle = app.config["SESSION_IDLE_MINUTES"]
    assert idle == 8 * 60
    with session_scope(engine) as session:
        session.execute(
            update(LoginSession).values(last_seen_at=utcnow() - timedelta(minutes=idle + 1))
        )
    assert not _signed_in(client)


def test_the_cookie_of_a_signed_in_browser_is_issued_again_once_a_minute(
    app: Flask, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its expiry keeps up with use (the server ends idle sessions), without a new signature
    on every answer."""
    from tracker.web import auth

    client = app.test_client()
    make_user(engine, Role.VIEWER)
    assert _log_in(client, "viewer@example.com").status_code == 302
    minute = [1_000_000]
    monkeypatch.setattr(auth, "_minute", lambda: minute[0])
    first = client.get("/api/v1/obligations")
    assert "Expires=" in first.headers["Set-Cookie"]
    assert "Set-Cookie" not in client.get("/api/v1/obligations").headers  # the same minute
    minute[0] += 1
    assert "Expires=" in client.get("/api/v1/obligations").headers["Set-Cookie"]
    assert _signed_in(client)


def test_a_disabled_users_live_session_stops_working_at_once(app: Flask, engine: Engine) -> None:
    client = app.test_client()
    sign_in(client, engine, make_user(engine, Role.ENGINEER))
    assert _signed_in(client)
    with session_scope(engine) as session:
        set_active(
            session=session, email="engineer@example.com", active=False, actor=cli_actor("t")
        )
    assert not _signed_in(client)
    assert "Your session has ended" in client.get("/login").get_data(as_text=True)
    with session_scope(engine) as session:
        set_active(session=session, email="engineer@example.com", active=True, actor=cli_actor("t"))
    assert not _signed_in(client)  # enabling again does not revive the old session


def test_a_password_reset_ends_every_session_of_the_account(app: Flask, engine: Engine) -> None:
    client = app.test_client()
    sign_in(client, engine, make_user(engine, Role.VIEWER))
    with session_scope(engine) as session:
        reset_password(
            session=session,
            email="viewer@example.com",
            password="a brand new passphrase",
            actor=cli_actor("t"),
        )
    assert not _signed_in(client)
    assert _log_in(client, "viewer@example.com", PASSWORD).status_code == 401
    assert _log_in(client, "viewer@example.com", "a brand new passphrase").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(anonymous: Any, engine: Engine) -> None:
    make_user(engine, Role.VIEWER)
    cookie = _log_in(anonymous, "viewer@example.com").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_when_the_tracker_is_served_over_https(
    engine: Engine, database_url: str
) -> None:
    app = create_app(
        TestConfig, DATABASE_URL=database_url, ENGINE=engine, PUBLIC_URL="https://tracker.example"
    )
    make_user(engine, Role.VIEWER)
    client = app.test_client()
    cookie = _log_in(client, "viewer@example.com").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_repeated_failures_for_one_account_are_slowed_down(
    engine: Engine, database_url: str
) -> None:
    app = create_app(TestConfig, DATABASE_URL=database_url, ENGINE=engine, RATELIMIT_ENABLED=True)
    make_user(engine, Role.ADMIN)
    make_user(engine, Role.VIEWER)
    client = app.test_client()
    for _ in range(5):
        assert _log_in(client, "admin@example.com", "guess guess guess").status_code == 401
    slowed = _log_in(client, "admin@example.com", PASSWORD)  # even the right password, now
    assert slowed.status_code == 429
    assert "Too many failed sign-in attempts" in slowed.get_data(as_text=True)
    assert not _signed_in(client)
    # Another account is not locked by someone guessing at the first one, and the owner of
    # the guessed account, signing in from elsewhere, is not locked out either.
    assert _log_in(client, "viewer@example.com").status_code == 302
    elsewhere = app.test_client()
    token = _csrf(elsewhere)
    owner = elsewhere.post(
        "/login",
        data={"csrf_token": token, "email": "admin@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert owner.status_code == 302


def test_ipv6_guesses_from_one_network_count_together(engine: Engine, database_url: str) -> None:
    app = create_app(TestConfig, DATABASE_URL=database_url, ENGINE=engine, RATELIMIT_ENABLED=True)
    make_user(engine, Role.ADMIN)
    client = app.test_client()
    statuses = []
    for host in range(1, 8):
        token = _csrf(client)
        statuses.append(
            client.post(
                "/login",
                data={"csrf_token": token, "email": "admin@example.com", "password": "guess!"},
                environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{host:x}"},
            ).status_code
        )
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


def test_successful_logins_are_never_slowed_down(engine: Engine, database_url: str) -> None:
    app = create_app(TestConfig, DATABASE_URL=database_url, ENGINE=engine, RATELIMIT_ENABLED=True)
    make_user(engine, Role.VIEWER)
    for _ in range(12):
        assert _log_in(app.test_client(), "viewer@example.com").status_code == 302


def test_no_password_appears_in_logs_pages_or_the_audit_trail(
    app: Flask, engine: Engine, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    make_user(engine, Role.ADMIN)
    client = app.test_client()
    _log_in(client, "admin@example.com", "wrong password typed here")
    _log_in(client, "admin@example.com")
    created = client.post(
        "/admin/users",
        data={
            "csrf_token": _csrf(client, "/admin/users"),
            "email": "new@example.com",
            "role": "legal",
        },
    )
    shown = re.search(r'<code class="secret-value">([^<]+)</code>', created.get_data(as_text=True))
    assert shown, "the new password is shown once to the admin"
    secret = shown.group(1)
    assert secret not in client.get("/admin/users").get_data(as_text=True)
    audit_page = client.get("/audit").get_data(as_text=True)
    export = client.get("/audit.jsonl").get_data(as_text=True)
    stored = [user.password_hash for user in session.exec(select(User)).all()]
    assert all(hash_.startswith("$argon2id$") for hash_ in stored if hash_)
    for text in (caplog.text, audit_page, export, *map(str, stored)):
        for password in (PASSWORD, "wrong password typed here", secret):
            assert password not in text


def test_anonymous_read_lets_visitors_read_but_never_write(
    engine: Engine, database_url: str
) -> None:
    app = create_app(TestConfig, DATABASE_URL=database_url, ENGINE=engine, ANONYMOUS_READ=True)
    client = app.test_client()
    assert client.get("/matrix").status_code == 200
    assert client.get("/api/v1/matrix").status_code == 200
    page = client.get("/obligations/ALPHA-1.1")
    assert page.status_code in (200, 404)
    assert "Sign in" in client.get("/").get_data(as_text=True)
    token = _csrf(client)
    response = client.post(
        "/obligations/ALPHA-1.1/applicability",
        data={"csrf_token": token, "decision": "not_applicable", "justification": "x" * 20},
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/audit").status_code == 302  # reading the audit trail is not public
    with Session(engine) as session:
        assert session.exec(select(col(AuditEvent.action))).all() == []


def test_a_forbidden_page_names_the_role_needed(app: Flask, engine: Engine) -> None:
    client = app.test_client()
    sign_in(client, engine, make_user(engine, Role.ENGINEER))
    response = client.get("/admin/users")
    text = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "This needs the admin role; you are signed in with the engineer role." in text
    api = client.get("/audit.jsonl")
    assert api.status_code == 403


def test_with_redis_every_worker_shares_the_failure_counts(
    engine: Engine, database_url: str
) -> None:
    import secrets

    redis = "redis://127.0.0.1:6379/15"
    prefix = "tracker-test-" + secrets.token_hex(4)
    workers = [
        create_app(
            TestConfig,
            DATABASE_URL=database_url,
            ENGINE=engine,
            RATELIMIT_ENABLED=True,
            REDIS_URL=redis,
            RATELIMIT_KEY_PREFIX=prefix,
        )
        for _ in range(2)
    ]
    assert workers[0].config["RATELIMIT_STORAGE_URI"] == redis
    make_user(engine, Role.ADMIN)
    for attempt in range(5):
        client = workers[attempt % 2].test_client()
        assert _log_in(client, "admin@example.com", "guess guess guess").status_code == 401
    for worker in workers:
        assert _log_in(worker.test_client(), "admin@example.com").status_code == 429


def test_the_redis_url_comes_from_the_environment() -> None:
    values = TestConfig.from_env({"TRACKER_REDIS_URL": "redis://cache.internal:6379/2"})
    assert values["REDIS_URL"] == "redis://cache.internal:6379/2"


def test_odd_input_to_the_account_pages_is_a_clear_answer_never_a_500(
    client: Any, anonymous: Any, engine: Engine
) -> None:
    make_user(engine, Role.VIEWER)
    nul = _log_in(anonymous, "viewer@example.com\x00", PASSWORD)
    assert nul.status_code == 400 and "must not contain control characters" in nul.text
    token = _csrf(client, "/admin/users")
    for path, data in (
        ("/admin/users/role", {"email": "viewer@example.com\x00", "role": "legal"}),
        ("/admin/users/active", {"email": "x" * 5000, "active": "0"}),
        ("/admin/users/password", {"email": "nobody@example.com"}),
        ("/admin/users", {"email": "new@example.com", "role": "owner\x00"}),
        ("/admin/tokens", {"name": "ci", "scope": "results:write", "owner": "\x00"}),
        ("/admin/tokens", {"name": "ci", "scope": "everything"}),
        ("/admin/tokens/99999999999/revoke", {}),
    ):
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code in (400, 404), (path, response.status_code)
    assert client.get("/audit?until=9999-12-31").status_code == 200
    assert client.get("/audit.jsonl?since=0001-01-01&until=9999-12-31").status_code == 200
    assert client.get("/audit?since=yesterday").status_code == 400
