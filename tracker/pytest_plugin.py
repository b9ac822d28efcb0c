"""pytest plugin: the obligation(*ids) marker, its JUnit property, catalog check, link report."""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.domain.timestamps import rfc3339_utc  # the standard library only: cheap to load

# Mirrors tracker.domain.catalog_schema.OBLIGATION_ID_PATTERN (a test keeps them equal); copied
# so that loading the plugin in every pytest run does not import pydantic.
OBLIGATION_ID_PATTERN = r"^[A-Z][A-Z0-9]{1,15}-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$"
MARKER = "obligation"
PROPERTY = "obligations"

_OBLIGATION_ID = re.compile(OBLIGATION_ID_PATTERN)
_IDS_KEY = pytest.StashKey[tuple[str, ...]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --obligations-catalog and --obligations-report."""
    group = parser.getgroup("obligations", "privacy obligation links")
    group.addoption(
        "--obligations-catalog",
        metavar="PATH",
        default=None,
        help="fail at collection when an obligation marker names an id missing from this "
        "catalog (a folder of YAML files or one file)",
    )
    group.addoption(
        "--obligations-report",
        metavar="FILE",
        default=None,
        help="write the collected test-to-obligation links to FILE as JSON",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so --strict-markers accepts it."""
    config.addinivalue_line(
        "markers", f"{MARKER}(*ids): catalog obligation ids this test verifies, e.g. GDPR-17.1"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Read the marker of every collected item, check its ids and add the JUnit property."""
    problems: list[str] = []
    linked: list[tuple[str, tuple[str, ...]]] = []
    for item in items:
        markers = list(item.iter_markers(name=MARKER))
        if not markers:
            continue
        ids = _marker_ids(item.nodeid, markers, problems)
        if not ids:
            continue
        item.stash[_IDS_KEY] = ids
        item.user_properties.append((PROPERTY, ",".join(ids)))
        linked.append((item.nodeid, ids))
    if problems:
        raise pytest.UsageError(_listing("Invalid obligation markers", problems))
    catalog = config.getoption("--obligations-catalog")
    if catalog:
        _check_against_catalog(config, Path(catalog), linked)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Write the link report once the final selection of tests is known."""
    target = session.config.getoption("--obligations-report")
    if not target:
        return
    tests = []
    by_obligation: dict[str, list[str]] = {}
    for item in session.items:
        ids = item.stash.get(_IDS_KEY, ())
        if not ids:
            continue
        tests.append({"test_id": item.nodeid, "obligations": list(ids)})
        for obligation in ids:
            by_obligation.setdefault(obligation, []).append(item.nodeid)
    report: dict[str, object] = {
        "generated_at": rfc3339_utc(datetime.now(UTC)),
        "tests": tests,
        "obligations": dict(sorted(by_obligation.items())),
    }
    _write_atomically(session.config.invocation_params.dir / target, report)


def _marker_ids(nodeid: str, markers: list[pytest.Mark], problems: list[str]) -> tuple[str, ...]:
    """Return the item's ids sorted and deduplicated, recording malformed ones in problems."""
    ids: set[str] = set()
    for marker in markers:
        if not marker.args:
            problems.append(f"{nodeid}: @pytest.mark.{MARKER}() needs at least one obligation id")
        for value in marker.args:
            if isinstance(value, str) and _OBLIGATION_ID.fullmatch(value):
                ids.add(value)
            else:
                problems.append(
                    f"{nodeid}: {value!r} is not an obligation id (expected e.g. GDPR-17.1, "
                    "one id per argument)"
                )
    return tuple(sorted(ids))


def _check_against_catalog(
    config: pytest.Config, catalog: Path, linked: list[tuple[str, tuple[str, ...]]]
) -> None:
    # Imported here so that runs without the option never load the catalog code.
    from tracker.catalog import known_obligation_ids
    from tracker.errors import CatalogError

    path = config.invocation_params.dir / catalog
    try:
        known = known_obligation_ids(path)
    except CatalogError as exc:
        details = [str(problem) for problem in exc.problems]
        raise pytest.UsageError(_listing(f"--obligations-catalog: {exc}", details)) from exc
    unknown = [
        f"{nodeid}: {obligation}"
        for nodeid, ids in linked
        for obligation in ids
        if obligation not in known
    ]
    if unknown:
        raise pytest.UsageError(
            _listing(f"Obligation ids not in the catalog at {catalog} (test: id)", unknown)
        )


def _listing(title: str, lines: list[str]) -> str:
    return "\n".join([title, *(f"  {line}" for line in lines)])


def _write_atomically(path: Path, report: dict[str, object]) -> None:
    """Write via a temporary file so parallel workers never leave a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(report, stream, indent=2, ensure_ascii=False)
            stream.write("\n")
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; the report is not a secret
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
