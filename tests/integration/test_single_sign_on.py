"""Single sign-on end to end against a real OpenID provider on 127.0.0.1 (Authlib's server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import make_user
from tests.oidc_provider import OidcProvider, OidcUser, running_oidc_provider
from tracker import create_app
from tracker.config import TestConfig
from tracker.domain.access import Role
from tracker.models import AuditEvent, User

PUBLIC_URL = "http://tracker.test"
CALLBACK = PUBLIC_URL + "/login/sso/callback"
ANA = OidcUser(sub="u-123", email="ana@example.com", name="Ana Lima")


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with running_oidc_provider() as running:
        running.register_redirect_uri(CALLBACK)
        yield running


def _app(engine: Engine, database_url: str, provider: OidcProvider, **extra: Any) -> Flask:
    return create_app(
        TestConfig,
        DATABASE_URL=database_url,
        ENGINE=engine,
        PUBLIC_URL=PUBLIC_URL,
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=provider.client_id,
        OIDC_CLIENT_SECRET=provider.client_secret,
        **extra,
    )


def _sign_on(client: Any, next_path: str = "/") -> Any:
    """Run the browser's part: to the provider and back, as the redirects say."""
    start = client.get(f"/login/sso?next={next_path}")
    assert start.status_code == 302, start.get_data(as_text=True)
    authorize = start.headers["Location"]
    assert authorize.startswith("http://127.0.0.1:")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and "nonce" in query
    answer = requests.get(authorize, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(f"{back.path}?{back.query}")


def test_first_sign_on_creates_a_viewer_account_and_signs_it_in(
    engine: Engine, database_url: str, provider: OidcProvider, session: Session
) -> None:
    client = _app(engine, database_url, provider).test_client()
    assert "Sign in with single sign-on" in client.get("/login").get_data(as_text=True)
    provider.log_in_as(ANA)
    done = _sign_on(client, "/matrix")
    assert done.status_code == 302 and done.headers["Location"] == "/matrix"
    page = client.get("/matrix")
    assert page.status_code == 200 and "ana@example.com" in page.get_data(as_text=True)
    user = session.exec(select(User)).one()
    assert (user.email, user.display_name, user.role, user.password_hash) == (
        "ana@example.com",
        "Ana Lima",
        "viewer",
        None,
    )
    assert user.sso_subject and user.sso_subject.endswith("#u-123")
    assert provider.token_requests == 1  # the code was exchanged server-side, once
    login = session.exec(select(AuditEvent).where(AuditEvent.action == "user.logged_in")).one()
    assert login.after == {"method": "oidc"}


def test_a_known_account_keeps_its_role_when_no_group_mapping_is_set(
    engine: Engine, database_url: str, provider: OidcProvider, session: Session
) -> None:
    make_user(engine, Role.LEGAL, email="ana@example.com", password=None)
    client = _app(engine, database_url, provider).test_client()
    provider.log_in_as(ANA)
    _sign_on(client)
    assert session.exec(select(User)).one().role == "legal"
    assert client.get("/").status_code == 200


def test_the_role_follows_the_identity_providers_groups_when_mapped(
    engine: Engine, database_url: str, provider: OidcProvider, session: Session
) -> None:
    app = _app(
        engine,
        database_url,
        provider,
        OIDC_ROLE_CLAIM="groups",
        OIDC_ROLE_MAP={"privacy-legal": Role.LEGAL, "tracker-admins": Role.ADMIN},
    )
    provider.log_in_as(OidcUser("u-9", "lea@example.com", "Lea", groups=["staff", "privacy-legal"]))
    client = app.test_client()
    _sign_on(client)
    assert session.exec(select(User.role)).one() == "legal"
    provider.log_in_as(OidcUser("u-9", "lea@example.com", "Lea", groups=["staff"]))
    _sign_on(app.test_client())
    session.expire_all()
    assert session.exec(select(User.role)).one() == "viewer"  # left the group: back to viewer


def test_a_refusal_by_the_provider_signs_nobody_in(
    engine: Engine, database_url: str, provider: OidcProvider, session: Session
) -> None:
    client = _app(engine, database_url, provider).test_client()
    provider.log_in_as(ANA)
    provider.deny_next()
    done = _sign_on(client)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert "Single sign-on did not work" in client.get("/login").get_data(as_text=True)
    assert session.exec(select(User)).all() == []
    assert client.get("/matrix").status_code == 302


def test_a_forged_state_is_refused(
    engine: Engine, database_url: str, provider: OidcProvider, session: Session
) -> None:
    client = _app(engine, database_url, provider).test_client()
    provider.log_in_as(ANA)
    start = client.get("/login/sso")
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    forged = client.get(f"/login/sso/callback?code={query['code'][0]}&state=forged")
    assert forged.status_code == 302 and forged.headers["Location"] == "/login"
    assert session.exec(select(User)).all() == []


def test_an_unverified_email_is_refused(
    engine: Engine, database_url: str, provider: OidcProvider, session: Session
) -> None:
    make_user(engine, Role.ADMIN, email="boss@example.com")
    client = _app(engine, database_url, provider).test_client()
    provider.log_in_as(OidcUser("evil", "boss@example.com", "Not the boss", email_verified=False))
    _sign_on(client)
    assert client.get("/admin/users").status_code == 302
    assert session.exec(select(User.sso_subject)).one() is None


def test_a_disabled_account_cannot_sign_on(
    engine: Engine, database_url: str, provider: OidcProvider
) -> None:
    from tracker.db import session_scope
    from tracker.domain.access import cli_actor
    from tracker.services.accounts import set_active

    make_user(engine, Role.VIEWER, email="ana@example.com", password=None)
    with session_scope(engine) as db_session:
        set_active(session=db_session, email="ana@example.com", active=False, actor=cli_actor("t"))
    client = _app(engine, database_url, provider).test_client()
    provider.log_in_as(ANA)
    _sign_on(client)
    assert client.get("/").status_code == 302
    assert "disabled" in client.get("/login").get_data(as_text=True)


def test_without_an_issuer_there_is_no_single_sign_on(anonymous: Any) -> None:
    assert "single sign-on" not in anonymous.get("/login").get_data(as_text=True)
    response = anonymous.get("/login/sso")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_an_identity_provider_that_does_not_confirm_the_email_is_refused(
    engine: Engine, database_url: str, provider: OidcProvider, session: Session
) -> None:
    from tests import oidc_provider

    client = _app(engine, database_url, provider).test_client()
    provider.log_in_as(ANA)
    original = oidc_provider._claims

    def without_email_verified(user: OidcUser) -> Any:
        claims = original(user)
        del claims["email_verified"]
        return claims

    oidc_provider._claims = without_email_verified  # type: ignore[assignment]
    try:
        _sign_on(client)
    finally:
        oidc_provider._claims = original  # type: ignore[assignment]
    assert client.get("/").status_code == 302
    assert session.exec(select(User)).all() == []


def test_an_email_bound_to_another_identity_is_not_taken_over(
    engine: Engine, database_url: str, provider: OidcProvider, session: Session
) -> None:
    app = _app(engine, database_url, provider)
    provider.log_in_as(ANA)
    _sign_on(app.test_client())
    provider.log_in_as(OidcUser("someone-else", "ana@example.com", "Not Ana"))
    intruder = app.test_client()
    done = _sign_on(intruder)
    assert done.headers["Location"] == "/login"
    assert "belongs to another single sign-on identity" in intruder.get("/login").get_data(
        as_text=True
    )
    assert intruder.get("/").status_code == 302
