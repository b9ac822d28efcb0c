"""Reading a gate policy file: every problem at once, with its line, or the policy."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticError

from tracker.catalog.yaml_documents import read_yaml_document
from tracker.domain.gate_policy import PolicySpec
from tracker.errors import Problem, TrackerError

MAX_POLICY_BYTES = 1024 * 1024


class PolicyError(TrackerError):
    """A policy file cannot be used; problems say where and what."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


def configured_policy(config: Mapping[str, Any], path: Path | None = None) -> PolicySpec:
    """Return the policy in path, else the configured one (TRACKER_GATE_POLICY), else the default.

    A configured file that cannot be used is a PolicyError naming the setting, never a quiet
    fall back to the default policy (which could let a release pass that the policy blocks).
    """
    if path is not None:
        return read_policy(path)
    configured = config.get("GATE_POLICY_PATH")
    try:
        return read_policy(configured)
    except PolicyError as exc:
        raise PolicyError(
            f"The gate policy set in TRACKER_GATE_POLICY cannot be used: {exc} Fix the file or "
            "the setting.",
            exc.problems,
        ) from exc


def read_policy(path: Path | None) -> PolicySpec:
    """Return the policy in the file, or the default policy when no file is given."""
    if path is None:
        return PolicySpec()
    name = str(path)
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise PolicyError(f"{name} is larger than 1 MB.", [])
    except OSError as exc:
        raise PolicyError(f"Cannot read the policy file {name}: {exc}", []) from exc
    data, problems = read_yaml_document(path)
    if data is None and problems:
        raise PolicyError(f"{name} cannot be read as YAML.", problems)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(Problem("a policy is a mapping of keys (block, ...)", file=name, line=1))
        raise PolicyError(f"{name} has 1 problem.", problems)
    try:
        spec = PolicySpec.model_validate(data)
    except PydanticError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            top = str(error["loc"][0]) if error["loc"] else None
            line = getattr(data, "key_lines", {}).get(top) if top else None
            problems.append(Problem(error["msg"], file=name, line=line, field=field))
        spec = None
    if problems or spec is None:
        raise PolicyError(f"{name} has {len(problems)} problem(s).", problems)
    return spec
