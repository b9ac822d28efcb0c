"""Configuration: defaults, and the TRACKER_* environment variables that override them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG_PATH = PROJECT_ROOT / "requirements_catalog"
INSTANCE_PATH = PROJECT_ROOT / "instance"
JIRA_PREFIX = "TRACKER_JIRA_"


def default_database_url() -> str:
    """Return the embedded SQLite database under instance/."""
    return f"sqlite:///{INSTANCE_PATH / 'tracker.db'}"


class Config:
    """Settings for a running service; every value can come from a TRACKER_* variable."""

    SECRET_KEY: str | None = None
    DATABASE_URL: str = ""
    CATALOG_PATH: Path = DEFAULT_CATALOG_PATH
    DEFAULT_BRANCH: str = "main"
    MAX_UPLOAD_BYTES: int = 200 * 1024 * 1024
    DEFAULT_FRESHNESS_DAYS: int = 30
    PUBLIC_URL: str = "http://127.0.0.1:5000"
    ACTOR: str = "web user"
    TEST_MAPPING_PATH: str | None = None
    TESTING: bool = False
    WTF_CSRF_ENABLED: bool = True

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
        """Return this config as a dict, overridden by TRACKER_* environment variables."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {name: getattr(cls, name) for name in dir(cls) if name.isupper()}
        values["DATABASE_URL"] = env.get("TRACKER_DATABASE_URL") or default_database_url()
        values["SECRET_KEY"] = env.get("TRACKER_SECRET_KEY") or values["SECRET_KEY"]
        if env.get("TRACKER_CATALOG_PATH"):
            values["CATALOG_PATH"] = Path(env["TRACKER_CATALOG_PATH"])
        if env.get("TRACKER_DEFAULT_BRANCH"):
            values["DEFAULT_BRANCH"] = env["TRACKER_DEFAULT_BRANCH"]
        if env.get("TRACKER_MAX_UPLOAD_BYTES"):
            values["MAX_UPLOAD_BYTES"] = int(env["TRACKER_MAX_UPLOAD_BYTES"])
        if env.get("TRACKER_PUBLIC_URL"):
            values["PUBLIC_URL"] = env["TRACKER_PUBLIC_URL"].rstrip("/")
        if env.get("TRACKER_TEST_MAPPING"):
            values["TEST_MAPPING_PATH"] = env["TRACKER_TEST_MAPPING"]
        if env.get("TRACKER_ACTOR"):
            values["ACTOR"] = env["TRACKER_ACTOR"]
        return values


def jira_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the TRACKER_JIRA_* variables as they are now (JiraSettings.from_env reads them)."""
    env = os.environ if environ is None else environ
    return {name: value for name, value in env.items() if name.startswith(JIRA_PREFIX)}


class TestConfig(Config):
    """Settings for the test suite: CSRF stays on so tests prove it."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
