"""`tracker users`, `tracker tokens` with scopes, and `tracker audit verify` / `export`."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tracker.models import ApiToken, AuditEvent, User
from tracker.services.accounts import check_login


def test_users_create_with_a_password_from_stdin(runner, session: Session) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Lea@Example.com",
            "--role",
            "legal",
            "--name",
            "Lea",
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Account lea@example.com created with the role legal." in result.output
    assert "a long enough passphrase" not in result.output
    user = session.exec(select(User)).one()
    assert (user.email, user.display_name, user.role) == ("lea@example.com", "Lea", "legal")
    assert check_login(
        session=session, email="lea@example.com", password="a long enough passphrase"
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.created")).one()
    assert event.actor.startswith("tracker users create") and event.actor_ref == "cli"


def test_users_create_without_a_terminal_asks_how_to_set_the_password(
    runner, session: Session
) -> None:  # type: ignore[no-untyped-def]
    refused = runner.invoke(args=["users", "create", "ops@example.com", "--role", "admin"])
    assert refused.exit_code == 1 and "--password-stdin, or use --generate" in refused.output
    assert session.exec(select(User)).all() == []
    result = runner.invoke(
        args=["users", "create", "ops@example.com", "--role", "admin", "--generate"]
    )
    assert result.exit_code == 0, result.output
    password = result.output.split("Password (shown once): ")[1].strip()
    assert len(password) >= 20
    assert check_login(session=session, email="ops@example.com", password=password)


def test_users_bad_input_is_a_clear_error_and_writes_nothing(runner, session: Session) -> None:  # type: ignore[no-untyped-def]
    short = runner.invoke(
        args=["users", "create", "a@example.com", "--role", "viewer", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    bad_email = runner.invoke(
        args=["users", "create", "not-an-email", "--role", "viewer", "--generate"]
    )
    assert bad_email.exit_code == 1 and "e-mail address like" in bad_email.output
    bad_role = runner.invoke(args=["users", "create", "a@example.com", "--role", "owner"])
    assert bad_role.exit_code == 2 and "owner" in bad_role.output
    assert session.exec(select(User)).all() == []
    assert "Traceback" not in short.output + bad_email.output + bad_role.output


def test_users_list_set_role_disable_and_reset_password(runner, session: Session) -> None:  # type: ignore[no-untyped-def]
    runner.invoke(args=["users", "create", "admin@example.com", "--role", "admin", "--generate"])
    runner.invoke(args=["users", "create", "eng@example.com", "--role", "engineer", "--generate"])
    assert runner.invoke(args=["users", "set-role", "eng@example.com", "legal"]).exit_code == 0
    assert runner.invoke(args=["users", "disable", "eng@example.com"]).exit_code == 0
    listed = runner.invoke(args=["users", "list"]).output
    assert "admin@example.com  admin  active" in listed
    assert "eng@example.com  legal  disabled" in listed
    reset = runner.invoke(
        args=["users", "reset-password", "eng@example.com", "--password-stdin"],
        input="another long passphrase\n",
    )
    assert reset.exit_code == 0 and "its sessions have ended" in reset.output
    missing = runner.invoke(args=["users", "disable", "nobody@example.com"])
    assert (
        missing.exit_code == 1
        and "There is no account with the e-mail nobody@example.com" in missing.output
    )
    last_admin = runner.invoke(args=["users", "set-role", "admin@example.com", "viewer"])
    assert last_admin.exit_code == 1 and "last active admin" in last_admin.output
    session.expire_all()
    roles = {user.email: (user.role, user.active) for user in session.exec(select(User)).all()}
    assert roles == {"admin@example.com": ("admin", True), "eng@example.com": ("legal", False)}


def test_tokens_create_with_scopes_limits_and_expiry(runner, session: Session) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=[
            "tokens",
            "create",
            "--name",
            "ci",
            "--scope",
            "results:write",
            "--scope",
            "read",
            "--expires-in",
            "90d",
            "--suite",
            "privacy",
            "--branch",
            "main",
        ]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("trk_") and "expires" in result.stderr
    token = session.exec(select(ApiToken)).one()
    assert token.scopes == ["results:write", "read"] and token.suites == ["privacy"]
    assert token.branches == ["main"] and token.expires_at is not None
    listed = runner.invoke(args=["tokens", "list"]).stdout
    assert "scopes: results:write, read" in listed and "suites: privacy; branches: main" in listed
    assert secret not in listed


def test_tokens_create_refuses_a_bad_lifetime_or_no_scope(runner, session: Session) -> None:  # type: ignore[no-untyped-def]
    bad = runner.invoke(
        args=["tokens", "create", "--name", "ci", "--scope", "read", "--expires-in", "soon"]
    )
    assert bad.exit_code == 1 and "90d" in bad.output
    none = runner.invoke(args=["tokens", "create", "--name", "ci"])
    assert none.exit_code == 2 and "--scope" in none.output
    assert session.exec(select(ApiToken)).all() == []


def test_tokens_made_before_scopes_are_listed_as_such(runner, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    runner.invoke(args=["tokens", "create", "--name", "old", "--scope", "results:write"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE apitoken SET migrated = :yes").bindparams(yes=True))
    assert (
        "made before scopes: given results:write, no expiry"
        in runner.invoke(args=["tokens", "list"]).stdout
    )


def test_audit_verify_passes_on_a_real_history_and_names_a_tampered_event(
    runner, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    runner.invoke(args=["users", "create", "a@example.com", "--role", "admin", "--generate"])
    runner.invoke(args=["users", "create", "b@example.com", "--role", "viewer", "--generate"])
    runner.invoke(args=["users", "set-role", "b@example.com", "legal"])
    runner.invoke(args=["tokens", "create", "--name", "ci", "--scope", "read"])
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 4 event(s) verified" in ok.output
    exported = runner.invoke(args=["audit", "export"]).stdout.splitlines()
    assert [json.loads(line)["seq"] for line in exported] == [1, 2, 3, 4]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("UPDATE auditevent SET after = NULL WHERE seq = 2"))
    tampered = runner.invoke(args=["audit", "verify"])
    assert tampered.exit_code == 1
    assert "tampered with at event #2: event #2 was changed after it was written" in tampered.output
    assert "1 event(s) before it are intact" in tampered.output
