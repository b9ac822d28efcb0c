"""Typed readers of query and form values (text, whole numbers, dates), scope and run filters.

They apply the rules of `tracker.web.inputs` with each field's own bound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from flask import current_app, request

from tracker.domain.bounds import DATABASE_INTEGER_MAX, EARLIEST_DATE, LATEST_DATE
from tracker.domain.text_rules import field_label, has_control_characters
from tracker.errors import ValidationError
from tracker.models import TestRun, column_length, utcnow
from tracker.services.evidence import EvidenceScope
from tracker.services.evidence_pages import RunFilter
from tracker.web.inputs import check_text

SCOPE_FIELDS = ("release", "branch", "environment")
#: Each scope value is bounded by the run column it is compared with.
SCOPE_LENGTHS = {field: column_length(TestRun, field) for field in SCOPE_FIELDS}
MAX_SUITE = column_length(TestRun, "suite")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")


def evidence_scope(args: Mapping[str, str] | None = None) -> EvidenceScope:
    """Return the evidence scope asked for by release, branch and environment (query args).

    Without any of them it is the newest run of each suite on the default branch.
    """
    values = parse_scope_args(request.args if args is None else args)
    return EvidenceScope(
        release=values["release"],
        branch=values["branch"],
        environment=values["environment"],
        default_branch=current_app.config.get("DEFAULT_BRANCH", "main"),
    )


def parse_scope_args(args: Mapping[str, str]) -> dict[str, str | None]:
    """Read release, branch and environment; ValidationError names an unusable value."""
    return {name: text_arg(args, name, SCOPE_LENGTHS[name]) for name in SCOPE_FIELDS}


def parse_run_filter(args: Mapping[str, str]) -> RunFilter:
    """Read suite, branch, release and environment filters from query arguments."""
    scope = parse_scope_args(args)
    return RunFilter(
        suite=text_arg(args, "suite", MAX_SUITE),
        branch=scope["branch"],
        release=scope["release"],
        environment=scope["environment"],
    )


def text_arg(
    args: Mapping[str, str], name: str, max_length: int, *, multiline: bool = False
) -> str | None:
    """Return a stripped text argument (None when empty); refuse over-long or control text."""
    value = (args.get(name) or "").strip()
    if not value:
        return None
    return check_text(name, value, max_length, multiline=multiline)


def path_value(value: str, field: str, maximum: int) -> str:
    """Return an id or name given in a form or the query, refused when no such thing can exist."""
    if has_control_characters(value) or len(value) > maximum:
        raise ValidationError(
            f"There is no {field} '{field_label(value)}': check it and try again (at most "
            f"{maximum} characters, and no control characters).",
            field=field,
        )
    return value


def integer_arg(
    args: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """Return a whole-number argument within bounds; ValidationError says what is allowed.

    Without a maximum, the bound is what a database integer holds.
    """
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    top = DATABASE_INTEGER_MAX if maximum is None else maximum
    bounds = f"{minimum} or more" if maximum is None else f"from {minimum} to {top}"
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) < minimum:
        raise ValidationError(f"{name} must be a whole number {bounds}.", field=name)
    value = int(raw)
    if value > top:
        raise ValidationError(f"{name} must be a whole number from {minimum} to {top}.", name)
    return value


def date_arg(
    args: Mapping[str, str],
    name: str,
    label: str,
    earliest: date = EARLIEST_DATE,
    latest: date = LATEST_DATE,
) -> date | None:
    """Return a date written as year-month-day (None when empty), within the bounds given."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    example = f"e.g. {utcnow().date().isoformat()}"
    try:
        value = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None:
        raise ValidationError(f"Write the {label} as year-month-day, {example}.", field=name)
    if not earliest <= value <= latest:
        raise ValidationError(
            f"The {label} must be between {earliest.isoformat()} and {latest.isoformat()}.",
            field=name,
        )
    return value
