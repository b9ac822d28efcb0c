"""Behind an authenticating proxy: its user header counts only from the trusted addresses."""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import make_user
from tracker import create_app
from tracker.config import Config, TestConfig
from tracker.db import session_scope
from tracker.domain.access import Role, cli_actor
from tracker.models import AuditEvent, User
from tracker.services.accounts import set_active

HEADER = "X-Forwarded-User"
PROXY = "10.0.0.5"


def _app(engine: Engine, database_url: str) -> Flask:
    return create_app(
        TestConfig,
        DATABASE_URL=database_url,
        ENGINE=engine,
        TRUSTED_USER_HEADER=HEADER,
        TRUSTED_PROXY_NETWORKS=[ipaddress.ip_network("10.0.0.0/24")],
    )


def _get(client: Any, path: str, address: str, user: str | None) -> Any:
    headers = {HEADER: user} if user else {}
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": address})


def test_the_proxys_user_is_signed_in_and_gets_an_account_on_first_visit(
    engine: Engine, database_url: str, session: Session
) -> None:
    client = _app(engine, database_url).test_client()
    response = _get(client, "/matrix", PROXY, "Nia@Example.com")
    assert response.status_code == 200
    assert "nia@example.com" in response.get_data(as_text=True)
    user = session.exec(select(User)).one()
    assert (user.email, user.role, user.password_hash) == ("nia@example.com", "viewer", None)
    assert _get(client, "/", PROXY, "nia@example.com").status_code == 200
    logins = session.exec(select(AuditEvent).where(AuditEvent.action == "user.logged_in")).all()
    assert len(logins) == 1 and logins[0].after == {"method": "proxy"}  # once per session


def test_the_header_from_any_other_address_is_ignored(
    engine: Engine, database_url: str, session: Session
) -> None:
    make_user(engine, Role.ADMIN)
    client = _app(engine, database_url).test_client()
    response = _get(client, "/admin/users", "203.0.113.9", "admin@example.com")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _get(client, "/admin/users", "10.0.1.5", "admin@example.com").status_code == 302
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.logged_in")).all() == []


def test_without_the_setting_the_header_means_nothing(
    app: Flask, engine: Engine, anonymous: Any
) -> None:
    make_user(engine, Role.ADMIN)
    response = _get(anonymous, "/admin/users", "127.0.0.1", "admin@example.com")
    assert response.status_code == 302


def test_a_disabled_account_is_not_signed_in_by_the_proxy(
    engine: Engine, database_url: str
) -> None:
    make_user(engine, Role.LEGAL)
    with session_scope(engine) as session:
        set_active(session=session, email="legal@example.com", active=False, actor=cli_actor("t"))
    client = _app(engine, database_url).test_client()
    assert _get(client, "/", PROXY, "legal@example.com").status_code == 302


def test_a_new_user_header_replaces_the_session_of_the_previous_one(
    engine: Engine, database_url: str
) -> None:
    make_user(engine, Role.ADMIN)
    client = _app(engine, database_url).test_client()
    assert _get(client, "/admin/users", PROXY, "admin@example.com").status_code == 200
    assert _get(client, "/admin/users", PROXY, "someone@example.com").status_code == 403


def test_trusted_proxies_are_read_from_the_environment() -> None:
    values = Config.from_env(
        {
            "TRACKER_TRUSTED_USER_HEADER": HEADER,
            "TRACKER_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16",
        }
    )
    assert values["TRUSTED_USER_HEADER"] == HEADER
    assert [str(network) for network in values["TRUSTED_PROXY_NETWORKS"]] == [
        "10.0.0.5/32",
        "192.168.0.0/16",
    ]


def test_a_bad_proxy_address_is_a_clear_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="TRACKER_TRUSTED_PROXIES: 'proxy.local' is not an IP"):
        Config.from_env({"TRACKER_TRUSTED_PROXIES": "proxy.local"})


def test_requests_without_cookies_record_one_sign_in_and_keep_no_sessions(
    engine: Engine, database_url: str, session: Session
) -> None:
    from tracker.models import LoginSession

    app = _app(engine, database_url)
    for _ in range(5):  # a script behind the proxy: a new client, no cookie, every time
        assert _get(app.test_client(), "/matrix", PROXY, "bot@example.com").status_code == 200
    logins = session.exec(select(AuditEvent).where(AuditEvent.action == "user.logged_in")).all()
    assert len(logins) == 1
    assert session.exec(select(LoginSession)).all() == []
