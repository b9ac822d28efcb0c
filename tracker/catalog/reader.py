"""Read catalog YAML files into specs, collecting every problem with its file, line and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from tracker.catalog.yaml_documents import LineDict, display_path, read_yaml_document
from tracker.domain.catalog_rules import (
    UNKNOWN_INSTRUMENT,
    Catalog,
    Located,
    Outline,
    cross_file_problems,
    outline_of_raw,
)
from tracker.domain.catalog_schema import (
    INSTRUMENT_ID_PATTERN,
    InstrumentSpec,
    ObligationSpec,
    completeness_problems,
)
from tracker.errors import CatalogError, Problem

CATALOG_SUFFIXES = (".yaml", ".yml")


def catalog_files(path: Path) -> list[Path]:
    """Return the catalog files under a folder (recursively), or the file itself."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CatalogError(f"No catalog at {path}: give a folder of YAML files or one YAML file.")
    return sorted(p for p in path.rglob("*") if p.suffix in CATALOG_SUFFIXES and p.is_file())


def read_catalog(path: Path) -> Catalog:
    """Read and validate every catalog file under path; problems are collected, not raised."""
    instruments: list[tuple[InstrumentSpec, str]] = []
    obligations: list[Located] = []
    outlines: list[Outline] = []
    problems: list[Problem] = []
    unread_files = False
    files = catalog_files(path)
    if not files:
        problems.append(Problem("no catalog files (*.yaml) found", file=display_path(path)))
    for file in files:
        file_instrument, file_obligations, file_outlines, file_problems = _read_file(file)
        unread_files |= file_instrument is None and not file_outlines
        if file_instrument is not None:
            instruments.append((file_instrument, display_path(file)))
        obligations.extend(file_obligations)
        outlines.extend(file_outlines)
        problems.extend(file_problems)
    problems.extend(cross_file_problems(instruments, outlines, unread_files=unread_files))
    return Catalog(tuple(instruments), tuple(obligations), tuple(problems))


def known_obligation_ids(path: Path) -> frozenset[str]:
    """Return the ids of a valid catalog; raise CatalogError listing every problem otherwise."""
    catalog = read_catalog(path)
    if not catalog.ok:
        raise CatalogError(
            f"The catalog at {path} has {len(catalog.problems)} problem(s); "
            "run `tracker catalog validate` to see them.",
            list(catalog.problems),
        )
    return catalog.ids


def _read_file(
    file: Path,
) -> tuple[InstrumentSpec | None, list[Located], list[Outline], list[Problem]]:
    """Return a file's instrument, its valid obligations, the outline of every entry, problems."""
    name = display_path(file)
    data, problems = read_yaml_document(file)
    if data is None and problems:
        return None, [], [], problems
    if not isinstance(data, LineDict):
        return (
            None,
            [],
            [],
            [
                *problems,
                Problem(
                    "a catalog file must be a mapping with 'instrument' and 'obligations'",
                    file=name,
                    line=1,
                ),
            ],
        )
    for key in data:
        if key not in ("instrument", "obligations"):
            problems.append(
                Problem(
                    f"unknown top-level key '{key}' (expected instrument, obligations)",
                    file=name,
                    line=data.key_lines.get(key),
                    field=key,
                )
            )

    instrument = _read_instrument(data, name, problems)
    instrument_id = instrument.id if instrument else _guess_instrument_id(data)
    located: list[Located] = []
    outlines: list[Outline] = []
    raw_obligations = data.get("obligations", [])
    if not isinstance(raw_obligations, list):
        problems.append(
            Problem(
                "'obligations' must be a list",
                file=name,
                line=data.key_lines.get("obligations"),
                field="obligations",
            )
        )
        raw_obligations = []
    for index, raw in enumerate(raw_obligations):
        item, outline = _read_obligation(raw, index, name, instrument_id, problems)
        if item is not None:
            located.append(item)
        if outline is not None:
            outlines.append(outline)
    return instrument, located, outlines, problems


def _read_instrument(data: LineDict, name: str, problems: list[Problem]) -> InstrumentSpec | None:
    raw = data.get("instrument")
    if not isinstance(raw, LineDict):
        problems.append(
            Problem(
                "missing 'instrument' mapping (id, title, jurisdiction, official_url)",
                file=name,
                line=data.key_lines.get("instrument", 1),
                field="instrument",
            )
        )
        return None
    try:
        return InstrumentSpec.model_validate(dict(raw))
    except PydanticValidationError as exc:
        problems.extend(pydantic_problems(exc, raw, name, None, "instrument."))
        return None


def _guess_instrument_id(data: LineDict) -> str:
    """Return the id of an invalid instrument when the id itself is well formed."""
    raw = data.get("instrument")
    candidate = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(candidate, str) and re.fullmatch(INSTRUMENT_ID_PATTERN, candidate.strip()):
        return candidate.strip()
    return UNKNOWN_INSTRUMENT


def _read_obligation(
    raw: Any, index: int, name: str, instrument_id: str, problems: list[Problem]
) -> tuple[Located | None, Outline | None]:
    if not isinstance(raw, LineDict):
        problems.append(
            Problem(
                f"obligations[{index}] must be a mapping", file=name, field=f"obligations[{index}]"
            )
        )
        return None, None
    obligation_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    try:
        spec = ObligationSpec.model_validate(dict(raw))
    except PydanticValidationError as exc:
        problems.extend(pydantic_problems(exc, raw, name, obligation_id, ""))
        # The model's own rules run only once every field is valid: apply them here too.
        problems.extend(
            Problem(message, file=name, line=raw.line, obligation_id=obligation_id, field=field)
            for field, message in _raw_completeness(raw)
        )
        outline = outline_of_raw(
            raw,
            instrument_id=instrument_id,
            file=name,
            line=raw.line,
            field_lines=dict(raw.key_lines),
        )
        return None, outline
    located = Located(
        spec=spec,
        instrument_id=instrument_id,
        file=name,
        line=raw.line,
        field_lines=dict(raw.key_lines),
    )
    return located, located.outline()


def _raw_completeness(raw: LineDict) -> list[tuple[str, str]]:
    status = raw.get("status", "active")
    return completeness_problems(
        assessable=raw.get("assessable", True),
        status=status.strip() if isinstance(status, str) else status,
        has_evidence=bool(raw.get("evidence")),
        has_severity=raw.get("severity") is not None,
    )


def pydantic_problems(
    exc: PydanticValidationError,
    raw: LineDict,
    name: str,
    obligation_id: str | None,
    prefix: str,
    *,
    schema_hint: str = "check the spelling; see requirements_catalog/schema.json",
) -> list[Problem]:
    """Return one problem per pydantic error, with the line of the field it names."""
    problems = []
    for error in exc.errors():
        if not error["loc"]:
            continue  # a rule of the whole entry: the reader applies it with its field
        location = [str(part) for part in error["loc"]]
        field = prefix + ".".join(location) if location else prefix.rstrip(".") or None
        line = line_for(raw, list(error["loc"]))
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown field ({schema_hint})"
        elif error["type"] == "missing":
            message = "required field is missing"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        problems.append(
            Problem(message, file=name, line=line, obligation_id=obligation_id, field=field)
        )
    return problems


def line_for(raw: Any, loc: list[Any]) -> int | None:
    """Walk the error location through the parsed data to the deepest line known."""
    line = getattr(raw, "line", None)
    node = raw
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str):
            line = node.key_lines.get(part, line)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line
