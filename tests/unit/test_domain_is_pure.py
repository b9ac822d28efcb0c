"""The domain package must stay pure: no web, database, HTTP or Jira imports."""

from __future__ import annotations

import ast
from pathlib import Path

import tracker.domain

FORBIDDEN = {"flask", "sqlmodel", "sqlalchemy", "requests", "jira"}


def test_domain_imports_no_framework_database_or_http_library() -> None:
    offenders = []
    for path in Path(tracker.domain.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
