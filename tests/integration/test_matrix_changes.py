"""Reads that cost what changed: the generation's change log, and matrices updated row by row.

After a test report only the rows of the obligations linked to its tests (and to the tests of
the runs it replaces) are computed again. Whatever the sequence of writes, a matrix so updated
must equal one computed from scratch: a stale row is a wrong answer to an auditor.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.evidence_helpers import case, ingest, report
from tests.helpers import transaction
from tracker.catalog import read_catalog
from tracker.db import session_scope
from tracker.domain.access import cli_actor
from tracker.generation import KEEP_CHANGES, ChangeLog, changes_since, current_generation
from tracker.models import Obligation, WorkItem
from tracker.resources import catalog_path
from tracker.services import matrix_cache
from tracker.services.catalog import load_catalog
from tracker.services.evidence import EvidenceScope
from tracker.services.links import decide_applicability, link_work_item
from tracker.services.matrix import build_matrix
from tracker.services.matrix_cache import cached_matrix
from tracker.services.matrix_stores import LocalMatrixCache

ENGINEER = cli_actor("eng")


@pytest.fixture
def ids(engine: Engine) -> list[str]:
    """The bundled catalog, loaded; its assessable obligations' ids."""
    with session_scope(engine) as session:
        load_catalog(
            session=session, catalog=read_catalog(catalog_path()), actor=cli_actor("legal")
        )
    with Session(engine) as session:
        query = select(Obligation.id).where(
            col(Obligation.assessable) == True,  # noqa: E712 - SQL expression
            col(Obligation.retired_at).is_(None),
        )
        return sorted(session.exec(query).all())


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many rows each matrix computation computed (None in the list: all of them)."""
    sizes: list[int] = []
    real = matrix_cache.build_matrix

    def counting(**kwargs: object) -> object:
        data = real(**kwargs)  # type: ignore[arg-type]
        sizes.append(len(data.rows) if kwargs.get("obligation_ids") is not None else -1)
        return data

    monkeypatch.setattr(matrix_cache, "build_matrix", counting)
    yield sizes


def generation(engine: Engine) -> str:
    with engine.connect() as connection:
        return current_generation(connection)


def changed(engine: Engine, base: str) -> set[str] | None:
    with engine.connect() as connection:
        return changes_since(connection, base, current_generation(connection))


def read(engine: Engine, cache: LocalMatrixCache, scope: EvidenceScope) -> list[dict[str, object]]:
    with Session(engine) as session:
        return [
            row.to_dict() for row in cached_matrix(session=session, cache=cache, scope=scope).rows
        ]


def fresh(engine: Engine, scope: EvidenceScope) -> list[dict[str, object]]:
    with Session(engine) as session:
        return [row.to_dict() for row in build_matrix(session=session, scope=scope).rows]


def upload(engine: Engine, *cases: str, suite: str = "pytest", **options: str) -> None:
    with Session(engine) as session:
        ingest(session, report(*cases, suite=suite), **options)


def not_applicable(session: Session, obligation_id: str) -> None:
    decide_applicability(
        session=session,
        obligation_id=obligation_id,
        not_applicable=True,
        justification="We process no data of this kind at all.",
        actor=ENGINEER,
    )


# --- the change log ---------------------------------------------------------------------------


def test_a_report_logs_the_obligations_its_tests_were_and_are_linked_to(
    engine: Engine, ids: list[str]
) -> None:
    first, second, third = ids[:3]
    upload(engine, case("test_a", first), case("test_b", second))
    base = generation(engine)
    # test_a moves from the first obligation to the third; test_b keeps its link.
    upload(engine, case("test_a", third), case("test_b", second))
    assert changed(engine, base) == {first, second, third}


def test_a_report_logs_the_obligations_of_tests_it_drops_from_its_suite(
    engine: Engine, ids: list[str]
) -> None:
    upload(engine, case("test_a", ids[0]), case("test_b", ids[1]))
    upload(engine, case("test_c", ids[2]), suite="other")
    base = generation(engine)
    upload(engine, case("test_a", ids[0]))  # test_b is no longer in the suite's newest run
    assert changed(engine, base) == {ids[0], ids[1]}


def test_other_writes_log_that_anything_may_have_changed(engine: Engine, ids: list[str]) -> None:
    base = generation(engine)
    with session_scope(engine) as session:
        session.add(WorkItem(key="PRIV-1", summary="Epic", status="Done", status_category="done"))
        session.flush()
        link_work_item(session=session, obligation_id=ids[0], key="PRIV-1", actor=ENGINEER)
    assert changed(engine, base) is None
    base = generation(engine)
    upload(engine, case("test_a", ids[0]))
    assert changed(engine, base) == {ids[0]}


def test_a_report_written_with_another_status_write_logs_everything(
    engine: Engine, session: Session, ids: list[str]
) -> None:
    from tracker.services.ingest import RunOptions, ingest_report

    base = generation(engine)
    with transaction(session):
        ingest_report(
            session=session,
            source=report(case("test_a", ids[0])),
            options=RunOptions(),
            uploaded_by=ENGINEER,
        )
        not_applicable(session, ids[1])
    assert changed(engine, base) is None


def test_only_writes_of_tests_runs_and_results_can_name_what_they_changed(
    engine: Engine,
) -> None:
    """The obligation page reads only its tests and status again after a named move."""
    from tracker.generation import EVIDENCE_TABLES, declare_change

    with engine.connect() as connection:
        declare_change(connection, EVIDENCE_TABLES, {"ALPHA-1"})
        with pytest.raises(ValueError, match="workitemlink"):
            declare_change(connection, {"testlink", "workitemlink"}, {"ALPHA-1"})


def test_the_log_must_reach_back_unbroken_to_the_base(engine: Engine, ids: list[str]) -> None:
    base = generation(engine)
    upload(engine, case("test_a", ids[0]))
    value, _, token = base.partition("-")
    assert changed(engine, f"{value}-{'0' * len(token)}") is None  # another database's token
    assert changed(engine, "0-none") is None
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM datagenerationchange WHERE value = :v"), {"v": value})
    assert changed(engine, base) == {ids[0]}  # this process read that move before
    with engine.connect() as connection:  # a process that did not: pruned, too old to tell
        assert ChangeLog().since(connection, base, current_generation(connection)) is None


def test_a_restored_backup_is_not_mistaken_for_the_history_read_before(
    engine: Engine, ids: list[str]
) -> None:
    base = generation(engine)
    upload(engine, case("test_a", ids[0]))
    upload(engine, case("test_b", ids[1]))
    assert changed(engine, base) == {ids[0], ids[1]}
    value = int(base.partition("-")[0])
    with engine.begin() as connection:  # back to base, then another write: another history
        connection.execute(text("DELETE FROM datagenerationchange WHERE value > :v"), {"v": value})
        connection.execute(text("UPDATE datageneration SET value = :v WHERE id = 1"), {"v": value})
    upload(engine, case("test_c", ids[2]))
    upload(engine, case("test_d", ids[3]))
    with engine.connect() as connection:
        logged = ChangeLog().since(connection, base, current_generation(connection))
    assert changed(engine, base) == logged
    assert logged is not None and {ids[2], ids[3]} <= logged and ids[0] not in logged


def test_the_log_keeps_only_its_last_moves(engine: Engine, ids: list[str]) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE datageneration SET value = value + :n WHERE id = 1"), {"n": KEEP_CHANGES}
        )
    upload(engine, case("test_a", ids[0]))
    with engine.connect() as connection:
        values = [
            row[0] for row in connection.execute(text("SELECT value FROM datagenerationchange"))
        ]
    assert len(values) == 1


def test_the_log_holds_plain_json_lists(engine: Engine, ids: list[str]) -> None:
    upload(engine, case("test_a", ids[0]), case("test_b", ids[1]))
    with engine.connect() as connection:
        logged = connection.execute(
            text("SELECT obligation_ids FROM datagenerationchange ORDER BY value DESC")
        ).scalar()
    assert json.loads(logged) == sorted(ids[:2])


# --- matrices updated row by row --------------------------------------------------------------


def test_after_a_report_only_the_rows_it_touched_are_computed(
    engine: Engine, ids: list[str], computed: list[int]
) -> None:
    upload(engine, case("test_a", ids[0]), case("test_b", ids[1]))
    cache = LocalMatrixCache()
    scope = EvidenceScope()
    read(engine, cache, scope)
    assert computed == [-1]
    upload(engine, case("test_a", ids[0], outcome="failed"), case("test_b", ids[1]))
    after = read(engine, cache, scope)
    assert computed == [-1, 2]
    assert after == fresh(engine, scope)
    failing = {row["id"]: row for row in after}[ids[0]]
    assert failing["tests"]["failed"] == 1  # type: ignore[index]


def test_a_write_the_log_cannot_name_computes_every_row(
    engine: Engine, ids: list[str], computed: list[int]
) -> None:
    cache = LocalMatrixCache()
    read(engine, cache, EvidenceScope())
    with session_scope(engine) as session:
        not_applicable(session, ids[0])
    assert read(engine, cache, EvidenceScope()) == fresh(engine, EvidenceScope())
    assert computed == [-1, -1]


def test_the_first_run_in_a_scope_computes_every_row(
    engine: Engine, ids: list[str], computed: list[int]
) -> None:
    """Before it every linked test reads "not run" with a note on the scope; after it, none."""
    scope = EvidenceScope(branch="feature")
    with session_scope(engine) as session:
        session.add(WorkItem(key="PRIV-1", summary="Epic", status="Done", status_category="done"))
    upload(engine, case("test_a", ids[0]), case("test_b", ids[1]))
    cache = LocalMatrixCache()
    assert read(engine, cache, scope) == fresh(engine, scope)
    upload(engine, case("test_a", ids[0]), branch="feature")
    assert read(engine, cache, scope) == fresh(engine, scope)
    assert computed[-1] == -1


SCOPES = [
    EvidenceScope(),
    EvidenceScope(branch="main"),
    EvidenceScope(branch="feature"),
    EvidenceScope(environment="staging"),
    EvidenceScope(branch="feature", environment="staging"),
    EvidenceScope(release="2026.12"),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_matrix_updated_row_by_row_equals_one_computed_afresh(
    engine: Engine, ids: list[str], computed: list[int], seed: int
) -> None:
    """Random reports (tests moving, dropped, failing; suites, branches, environments)."""
    rng = random.Random(seed)
    some = ids[:12]
    cache = LocalMatrixCache()
    for scope in SCOPES:
        read(engine, cache, scope)
    for _ in range(12):
        tests = rng.sample(range(8), rng.randint(1, 8))
        cases = [
            case(
                f"test_{number}",
                " ".join(rng.sample(some, rng.randint(0, 2))),
                outcome=rng.choice(["passed", "passed", "failed", "skipped"]),
            )
            for number in tests
        ]
        options = {
            name: value
            for name, value in (
                ("branch", rng.choice([None, "main", "feature"])),
                ("environment", rng.choice([None, "staging"])),
                ("release", rng.choice([None, "2026.12"])),
            )
            if value is not None
        }
        upload(engine, *cases, suite=rng.choice(["pytest", "e2e"]), **options)
        for scope in SCOPES:
            assert read(engine, cache, scope) == fresh(engine, scope), scope
    assert any(size >= 0 for size in computed)  # some were updated, not computed in full
