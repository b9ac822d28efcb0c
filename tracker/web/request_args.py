"""Reading query and form arguments: bounded text and numbers, evidence scope, run filters."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, request

from tracker.errors import ValidationError
from tracker.services.evidence import EvidenceScope
from tracker.services.evidence_pages import RunFilter

MAX_SCOPE_VALUE = 200
MAX_SUITE = 300
SCOPE_FIELDS = ("release", "branch", "environment")


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
    return {name: text_arg(args, name, MAX_SCOPE_VALUE) for name in SCOPE_FIELDS}


def parse_run_filter(args: Mapping[str, str]) -> RunFilter:
    """Read suite, branch, release and environment filters from query arguments."""
    scope = parse_scope_args(args)
    return RunFilter(
        suite=text_arg(args, "suite", MAX_SUITE),
        branch=scope["branch"],
        release=scope["release"],
        environment=scope["environment"],
    )


def text_arg(args: Mapping[str, str], name: str, max_length: int) -> str | None:
    """Return a stripped text argument (None when empty); refuse over-long or control text."""
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if len(value) > max_length:
        raise ValidationError(
            f"{name} is too long: use at most {max_length} characters.", field=name
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError(f"{name} must not contain control characters.", field=name)
    return value


def path_value(value: str, field: str, maximum: int) -> str:
    """Return a value from the address path, refused when it holds NUL or is too long."""
    if "\x00" in value or len(value) > maximum:
        raise ValidationError(f"The {field} name is not valid.", field=field)
    return value


def integer_arg(
    args: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """Return a whole-number argument within bounds; ValidationError says what is allowed."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise ValidationError(f"{name} must be a whole number {bounds}.", field=name)
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise ValidationError(f"{name} must be a whole number {bounds}.", field=name)
    return value
