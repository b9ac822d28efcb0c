"""API tokens: scopes, suite and branch limits, expiry, revocation, owners, and who uploaded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.auth_helpers import make_user
from tests.evidence_helpers import case, count_statements, load_small_catalog, report, snapshot
from tracker.db import session_scope
from tracker.domain.access import Role, Scope, cli_actor
from tracker.models import ApiToken, AuditEvent, TestRun, utcnow
from tracker.services.accounts import find_user, set_active
from tracker.services.tokens import create_token

URL = "/api/v1/test-runs"
REPORT = report(case("test_erasure", "ALPHA-1.1"), suite="privacy")


def _token(engine: Engine, *scopes: Scope, owner: str | None = None, **limits: Any) -> str:
    with session_scope(engine) as session:
        return create_token(
            session=session,
            name="ci",
            actor=cli_actor("test"),
            scopes=list(scopes),
            owner=find_user(session, owner) if owner else None,
            **limits,
        ).secret


def _upload(client: Any, secret: str, query: str = "", body: bytes = REPORT) -> Any:
    return client.post(
        URL + query,
        data=body,
        headers={"Authorization": f"Bearer {secret}"},
        content_type="application/xml",
    )


def _read(client: Any, secret: str, path: str = "/api/v1/matrix") -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {secret}"})


def test_a_results_token_uploads_but_cannot_read(
    anonymous: Any, engine: Engine, session: Session
) -> None:
    load_small_catalog(session)
    secret = _token(engine, Scope.RESULTS_WRITE)
    assert _upload(anonymous, secret).status_code == 201
    refused = _read(anonymous, secret)
    assert refused.status_code == 403
    assert "do not include read" in refused.get_json()["error"]["message"]


def test_a_read_token_reads_but_cannot_upload(
    anonymous: Any, engine: Engine, session: Session
) -> None:
    load_small_catalog(session)
    secret = _token(engine, Scope.READ)
    assert _read(anonymous, secret).status_code == 200
    assert _read(anonymous, secret, "/api/v1/test-runs").status_code == 200
    before = snapshot(engine)
    refused = _upload(anonymous, secret)
    assert refused.status_code == 403
    assert "results:write" in refused.get_json()["error"]["message"]
    assert snapshot(engine) == before


def test_tokens_are_ignored_outside_the_api(anonymous: Any, engine: Engine) -> None:
    secret = _token(engine, Scope.READ, Scope.RESULTS_WRITE)
    response = anonymous.get("/matrix", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_suite_limited_token_uploads_only_that_suite(
    anonymous: Any, engine: Engine, session: Session
) -> None:
    load_small_catalog(session)
    secret = _token(engine, Scope.RESULTS_WRITE, suites=["privacy"])
    assert _upload(anonymous, secret).status_code == 201
    before = snapshot(engine)
    forged = report(case("test_forged", "ALPHA-1.2"), suite="payments")
    refused = _upload(anonymous, secret, body=forged)
    assert refused.status_code == 403
    message = refused.get_json()["error"]["message"]
    assert "only the suites privacy; the report holds tests of 'payments'" in message
    assert snapshot(engine) == before
    renamed = _upload(anonymous, secret, "?suite=payments", body=forged)
    assert renamed.status_code == 403 and snapshot(engine) == before
    # Naming the allowed suite does not let the report's other suites through.
    disguised = _upload(anonymous, secret, "?suite=privacy", body=forged)
    assert disguised.status_code == 403 and snapshot(engine) == before
    mixed = (
        b"<testsuites><testsuite name='privacy'><testcase classname='c' name='ok'/></testsuite>"
        b"<testsuite name='payments'><testcase classname='c' name='forged'/></testsuite>"
        b"</testsuites>"
    )
    assert _upload(anonymous, secret, body=mixed).status_code == 403
    assert snapshot(engine) == before


def test_a_branch_limited_token_uploads_only_for_that_branch(
    anonymous: Any, engine: Engine, session: Session
) -> None:
    load_small_catalog(session)
    secret = _token(engine, Scope.RESULTS_WRITE, branches=["main"])
    before = snapshot(engine)
    refused = _upload(anonymous, secret, "?branch=feature-x")
    assert refused.status_code == 403
    assert "only for the branches main, not 'feature-x'" in refused.get_json()["error"]["message"]
    assert snapshot(engine) == before
    assert _upload(anonymous, secret, "?branch=main").status_code == 201
    # A run that names no branch counts for the default branch (main), so it is allowed.
    other = report(case("test_other", "ALPHA-1.2"), suite="privacy")
    assert _upload(anonymous, secret, body=other).status_code == 201
    # Release evidence counts whatever the branch: a branch-limited token may not name one.
    before = snapshot(engine)
    third = report(case("test_third", "ALPHA-1.2"), suite="privacy")
    refused = _upload(anonymous, secret, "?branch=main&release=2026.12", body=third)
    assert refused.status_code == 403 and "release" in refused.get_json()["error"]["message"]
    assert snapshot(engine) == before


def test_an_expired_token_gets_401(anonymous: Any, engine: Engine, session: Session) -> None:
    load_small_catalog(session)
    secret = _token(engine, Scope.RESULTS_WRITE, lifetime=timedelta(days=90))
    assert _upload(anonymous, secret).status_code == 201
    with session_scope(engine) as db_session:
        db_session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    before = snapshot(engine)
    response = _upload(anonymous, secret, body=report(case("test_later", "ALPHA-1.2")))
    assert response.status_code == 401
    assert "expired" in response.get_json()["error"]["message"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert snapshot(engine) == before


def test_a_token_stops_when_its_owner_is_disabled_and_uploads_name_the_owner(
    anonymous: Any, engine: Engine, session: Session
) -> None:
    load_small_catalog(session)
    make_user(engine, Role.ENGINEER, email="eng@example.com")
    secret = _token(engine, Scope.RESULTS_WRITE, owner="eng@example.com")
    assert _upload(anonymous, secret).status_code == 201
    run = session.exec(select(TestRun)).one()
    assert run.uploaded_by == "token ci (eng@example.com)" and run.token_id is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "test_run.ingested")).one()
    assert (event.actor_ref, event.actor_role) == (f"token:{run.token_id}", "engineer")
    with session_scope(engine) as db_session:
        set_active(session=db_session, email="eng@example.com", active=False, actor=cli_actor("t"))
    response = _upload(anonymous, secret, body=report(case("test_more", "ALPHA-1.2")))
    assert (
        response.status_code == 401
        and "owner is disabled" in response.get_json()["error"]["message"]
    )


def test_the_last_use_of_a_token_is_recorded(
    anonymous: Any, engine: Engine, session: Session
) -> None:
    secret = _token(engine, Scope.READ)
    assert session.exec(select(ApiToken.last_used_at)).one() is None
    _read(anonymous, secret)
    session.expire_all()
    assert session.exec(select(ApiToken.last_used_at)).one() is not None


def test_no_token_secret_appears_in_logs_or_pages(
    client: Any, engine: Engine, session: Session, caplog: Any
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    load_small_catalog(session)
    secret = _token(engine, Scope.RESULTS_WRITE)
    _upload(client, secret)
    _upload(client, secret + "x")
    pages = [
        client.get(path).get_data(as_text=True)
        for path in ("/admin/tokens", "/audit", "/evidence/runs", "/evidence/runs/1")
    ]
    for text in (caplog.text, *pages, client.get("/audit.jsonl").get_data(as_text=True)):
        assert secret not in text and secret[10:] not in text


def test_the_last_use_is_recorded_to_the_minute_not_on_every_call(
    anonymous: Any, engine: Engine, session: Session
) -> None:
    secret = _token(engine, Scope.READ)
    _read(anonymous, secret)
    with count_statements(engine) as statements:
        _read(anonymous, secret)
    assert not [s for s in statements if s.startswith("UPDATE apitoken")]
    with engine.begin() as connection:  # a minute later, the next call records its use
        connection.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=2)))
    with count_statements(engine) as statements:
        _read(anonymous, secret)
    assert [s for s in statements if s.startswith("UPDATE apitoken")]
