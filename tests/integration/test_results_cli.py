"""The `tracker results ingest` and `tracker tokens` commands."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.evidence_helpers import case, load_small_catalog, report, snapshot
from tests.helpers import DATA
from tracker.models import ApiToken, TestCase, TestRun

JUNIT = DATA / "junit"


def stored_runs(session: Session) -> list[TestRun]:
    session.rollback()
    return list(session.exec(select(TestRun).order_by(TestRun.id)).all())


@pytest.mark.parametrize(
    ("sample", "suite", "counts"),
    [
        (
            "pytest_xunit1.xml",
            "pytest",
            "8 tests, 3 passed, 2 failed, 1 errors, 2 skipped, 0 flaky",
        ),
        (
            "surefire.xml",
            "com.acme.privacy.ErasureServiceTest",
            "5 tests, 2 passed, 1 failed, 1 errors, 1 skipped, 1 flaky",
        ),
        ("jest.xml", "checkout GPC", "5 tests, 3 passed, 1 failed, 0 errors, 1 skipped, 0 flaky"),
    ],
)
def test_ingest_prints_each_files_summary_with_counts(runner, session, sample, suite, counts):
    path = JUNIT / sample
    result = runner.invoke(args=["results", "ingest", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: Run #1 ({suite}): {counts}; links +0/-0.")
    assert "Unknown obligation ids (fix the tests or the catalog):" in result.stdout
    (run,) = stored_runs(session)
    assert run.source_name == sample and run.uploaded_by.startswith("tracker results ingest")


def test_ingest_stores_run_metadata_and_links_for_every_file(runner, session, tmp_path: Path):
    load_small_catalog(session)
    first = tmp_path / "unit.xml"
    first.write_bytes(report(case("test_erasure", "ALPHA-1.1"), suite="unit"))
    second = tmp_path / "e2e.xml"
    second.write_bytes(report(case("test_delete", "BETA-7, ALPHA-98"), suite="e2e"))
    result = runner.invoke(
        args=[
            "results",
            "ingest",
            str(first),
            str(second),
            "--commit",
            "abc1234",
            "--branch",
            "main",
            "--release",
            "2026.11",
            "--environment",
            "staging",
        ]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{first}: Run #1 (unit): 1 tests, 1 passed, 0 failed, 0 errors, 0 skipped, 0 flaky; "
        "links +1/-0."
    )
    assert lines[1].endswith("Unknown obligation ids (fix the tests or the catalog): ALPHA-98.")
    assert [
        (run.suite, run.commit, run.branch, run.release, run.environment)
        for run in stored_runs(session)
    ] == [
        ("unit", "abc1234", "main", "2026.11", "staging"),
        ("e2e", "abc1234", "main", "2026.11", "staging"),
    ]


def test_the_same_file_twice_is_stored_once(runner, session):
    path = JUNIT / "jest.xml"
    runner.invoke(args=["results", "ingest", str(path)])
    again = runner.invoke(args=["results", "ingest", str(path)])
    assert again.exit_code == 0
    assert "already ingested as run #1; nothing was added" in again.stdout
    assert len(stored_runs(session)) == 1


def test_a_malformed_file_exits_1_with_file_line_column_and_stores_nothing(runner, session, engine):
    before = snapshot(engine)
    path = JUNIT / "malformed.xml"
    result = runner.invoke(args=["results", "ingest", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:5:103: The report is not well-formed XML")
    assert "Nothing was stored for this file." in result.stderr
    assert snapshot(engine) == before


@pytest.mark.parametrize("sample", ["dtd.xml", "billion_laughs.xml", "xxe.xml"])
def test_dtds_and_entities_exit_1_and_store_nothing(runner, session, engine, sample):
    before = snapshot(engine)
    result = runner.invoke(args=["results", "ingest", str(JUNIT / sample)])
    assert result.exit_code == 1
    assert "DTD/entity declaration" in result.stderr
    assert snapshot(engine) == before


def test_a_bad_file_among_good_ones_fails_alone(runner, session):
    good = JUNIT / "surefire.xml"
    result = runner.invoke(args=["results", "ingest", str(JUNIT / "malformed.xml"), str(good)])
    assert result.exit_code == 1
    assert f"{good}: Run #" in result.stdout
    assert [run.source_name for run in stored_runs(session)] == ["surefire.xml"]
    test_ids = session.exec(select(TestCase.test_id)).all()
    assert not any("test_cut" in test_id for test_id in test_ids)


def test_tokens_create_prints_the_secret_once_and_stores_only_its_hash(runner, session, engine):
    result = runner.invoke(args=["tokens", "create", "--name", "ci", "--scope", "results:write"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("trk_") and "\n" not in secret
    assert "it is not shown again" in result.stderr and secret not in result.stderr
    session.rollback()
    token = session.exec(select(ApiToken)).one()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in row for rows in snapshot(engine).values() for row in rows)


def test_tokens_list_never_shows_a_secret_and_revoke_works(runner, session):
    secret = runner.invoke(
        args=["tokens", "create", "--name", "ci", "--scope", "results:write"]
    ).stdout.strip()
    runner.invoke(args=["tokens", "create", "--name", "nightly", "--scope", "results:write"])
    listed = runner.invoke(args=["tokens", "list"]).stdout
    assert secret not in listed
    assert f"#1  ci  {secret[:10]}...  active  scopes: results:write" in listed
    assert "last used: never" in listed
    assert "#2  nightly" in listed
    revoked = runner.invoke(args=["tokens", "revoke", "1"])
    assert revoked.exit_code == 0 and "Token #1 'ci' is revoked." in revoked.stdout
    listed = runner.invoke(args=["tokens", "list"]).stdout
    assert "#1  ci" in listed and "  revoked  " in listed.splitlines()[1]
    assert "  active  " in listed.splitlines()[0]  # newest first: nightly is still active
    session.rollback()
    assert session.get(ApiToken, 1).revoked_at is not None  # type: ignore[union-attr]


def test_revoking_an_unknown_token_fails_and_says_how_to_list_them(runner, session):
    result = runner.invoke(args=["tokens", "revoke", "42"])
    assert result.exit_code == 1
    assert "tracker tokens list" in result.output


def test_a_token_from_the_cli_authenticates_uploads_until_revoked(runner, client, session):
    load_small_catalog(session)
    secret = runner.invoke(
        args=["tokens", "create", "--name", "ci", "--scope", "results:write"]
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {secret}"}
    data = report(case("test_erasure", "ALPHA-1.1"))
    assert client.post("/api/v1/test-runs", data=data, headers=headers).status_code == 415
    upload = client.post(
        "/api/v1/test-runs", data=data, headers=headers, content_type="application/xml"
    )
    assert upload.status_code == 201
    runner.invoke(args=["tokens", "revoke", "1"])
    again = client.post(
        "/api/v1/test-runs",
        data=report(case("test_other", "ALPHA-1.1")),
        headers=headers,
        content_type="application/xml",
    )
    assert again.status_code == 401
