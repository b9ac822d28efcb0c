"""Configuration: defaults, and the TRACKER_* environment variables that override them."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tracker.resources import catalog_path, data_map_path, is_source_checkout

DEFAULT_CATALOG_PATH = catalog_path()
DEFAULT_DATA_MAP_PATH = data_map_path()
JIRA_PREFIX = "TRACKER_JIRA_"
#: Where an installed tracker keeps its instance folder (per user), unless told otherwise.
APP_DIRECTORY_NAME = "privacy-tracker"


def instance_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the instance folder (SQLite database, secret key).

    TRACKER_INSTANCE_PATH when set; else instance/ of a source checkout; else the user's data
    folder (e.g. ~/.local/share/privacy-tracker), since site-packages is no place for data.
    """
    env = os.environ if environ is None else environ
    if env.get("TRACKER_INSTANCE_PATH"):
        return Path(env["TRACKER_INSTANCE_PATH"]).expanduser().absolute()
    if is_source_checkout():
        return Path(__file__).resolve().parent.parent / "instance"
    from platformdirs import user_data_path  # only an installed tracker needs it

    return user_data_path(APP_DIRECTORY_NAME, appauthor=False)


def default_database_url(environ: Mapping[str, str] | None = None) -> str:
    """Return the embedded SQLite database in the instance folder."""
    return f"sqlite:///{instance_path(environ) / 'tracker.db'}"


class Config:
    """Settings for a running service; every value can come from a TRACKER_* variable."""

    SECRET_KEY: str | None = None
    DATABASE_URL: str = ""
    CATALOG_PATH: Path = DEFAULT_CATALOG_PATH
    # The data map (processing activities, systems, DPIAs): YAML owned by the privacy team.
    DATA_MAP_PATH: Path = DEFAULT_DATA_MAP_PATH
    # The gate policy the release pages, the API's gate, freezes and `tracker gate` use when
    # none is named (TRACKER_GATE_POLICY); None: the default policy.
    GATE_POLICY_PATH: Path | None = None
    DEFAULT_BRANCH: str = "main"
    MAX_UPLOAD_BYTES: int = 200 * 1024 * 1024
    # Failure text kept per test result (UTF-8 bytes); longer text is cut and the page says so.
    MAX_RESULT_TEXT_BYTES: int = 64 * 1024
    # Longest a web upload may spend reading its report, under the usual 30 s worker timeout.
    MAX_REPORT_SECONDS: int = 20
    MAX_JOB_REPORT_SECONDS: int = 300
    DEFAULT_FRESHNESS_DAYS: int = 30
    PUBLIC_URL: str = "http://127.0.0.1:5000"
    TEST_MAPPING_PATH: str | None = None
    ANONYMOUS_READ: bool = False
    SESSION_IDLE_MINUTES: int = 8 * 60
    REDIS_URL: str | None = None
    TRUSTED_USER_HEADER: str | None = None
    TRUSTED_PROXY_NETWORKS: list[Any] = []
    OIDC_ISSUER: str | None = None
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None
    OIDC_ROLE_CLAIM: str | None = None
    OIDC_ROLE_MAP: dict[str, Any] = {}
    SNAPSHOT_SIGNING_KEY: str | None = None
    # Logs and metrics: see _operations_settings for the TRACKER_* variables.
    LOG_FORMAT: str = "text"
    METRICS_TOKEN: str | None = None
    METRICS_ALLOW_NETWORKS: list[Any] | None = None  # None: loopback, not through a proxy
    # Background jobs (tracker/jobs): see _job_settings for the TRACKER_* variables.
    JOBS_NAME: str = "tracker"
    JOBS_IMMEDIATE: bool = False
    JOBS_WORKERS: int = 2
    JIRA_SYNC_EVERY: int = 10
    JIRA_FULL_SYNC_AT: str | None = "02:30"
    READINESS_RECORD_AT: str | None = "23:50"
    JOB_RETRIES: int = 5
    JOB_RETRY_DELAY: int = 30
    JOB_RETRY_MAX_DELAY: int = 15 * 60
    JOB_HEARTBEAT_SECONDS: int = 15
    JOB_STALE_SECONDS: int = 120
    LARGE_REPORT_BYTES: int = 5 * 1024 * 1024
    # The computed matrix, cached per data generation (tracker/services/matrix_cache.py).
    MATRIX_CACHE_SECONDS: int = 60
    MATRIX_CACHE_ENTRIES: int = 64
    TESTING: bool = False
    WTF_CSRF_ENABLED: bool = True

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
        """Return this config as a dict, overridden by TRACKER_* environment variables."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {name: getattr(cls, name) for name in dir(cls) if name.isupper()}
        values["DATABASE_URL"] = env.get("TRACKER_DATABASE_URL") or default_database_url(env)
        values["SECRET_KEY"] = env.get("TRACKER_SECRET_KEY") or values["SECRET_KEY"]
        if env.get("TRACKER_CATALOG_PATH"):
            values["CATALOG_PATH"] = Path(env["TRACKER_CATALOG_PATH"])
        if env.get("TRACKER_GATE_POLICY"):
            values["GATE_POLICY_PATH"] = Path(env["TRACKER_GATE_POLICY"])
        if env.get("TRACKER_DATA_MAP_PATH"):
            values["DATA_MAP_PATH"] = Path(env["TRACKER_DATA_MAP_PATH"])
        if env.get("TRACKER_DEFAULT_BRANCH"):
            values["DEFAULT_BRANCH"] = env["TRACKER_DEFAULT_BRANCH"]
        if env.get("TRACKER_MAX_UPLOAD_BYTES"):
            values["MAX_UPLOAD_BYTES"] = int(env["TRACKER_MAX_UPLOAD_BYTES"])
        for name in ("MAX_RESULT_TEXT_BYTES", "MAX_REPORT_SECONDS", "MAX_JOB_REPORT_SECONDS"):
            if env.get(f"TRACKER_{name}"):
                values[name] = _positive_number(env, f"TRACKER_{name}")
        if env.get("TRACKER_PUBLIC_URL"):
            values["PUBLIC_URL"] = env["TRACKER_PUBLIC_URL"].rstrip("/")
        if env.get("TRACKER_TEST_MAPPING"):
            values["TEST_MAPPING_PATH"] = env["TRACKER_TEST_MAPPING"]
        values.update(_access_settings(env))
        for name in ("MATRIX_CACHE_SECONDS", "MATRIX_CACHE_ENTRIES"):
            if env.get(f"TRACKER_{name}"):
                values[name] = _positive_number(env, f"TRACKER_{name}")
        values.update(_operations_settings(env))
        values.update(_job_settings(env))
        return values


def _access_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Read who may sign in and how: sessions, SSO, the authenticating proxy, rate limits."""
    from tracker.domain.access import Role

    values: dict[str, Any] = {
        "ANONYMOUS_READ": env.get("TRACKER_ANONYMOUS_READ", "").strip().lower()
        in ("1", "true", "yes", "on"),
        "REDIS_URL": env.get("TRACKER_REDIS_URL") or None,
        "TRUSTED_USER_HEADER": (env.get("TRACKER_TRUSTED_USER_HEADER") or "").strip() or None,
        "OIDC_ISSUER": (env.get("TRACKER_OIDC_ISSUER") or "").strip().rstrip("/") or None,
        "OIDC_CLIENT_ID": env.get("TRACKER_OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": env.get("TRACKER_OIDC_CLIENT_SECRET") or None,
        "OIDC_ROLE_CLAIM": (env.get("TRACKER_OIDC_ROLE_CLAIM") or "").strip() or None,
        "SNAPSHOT_SIGNING_KEY": env.get("TRACKER_SNAPSHOT_SIGNING_KEY") or None,
    }
    if env.get("TRACKER_SESSION_IDLE_MINUTES"):
        values["SESSION_IDLE_MINUTES"] = _positive_int(env, "TRACKER_SESSION_IDLE_MINUTES")
    values["TRUSTED_PROXY_NETWORKS"] = _networks(env, "TRACKER_TRUSTED_PROXIES")
    role_map: dict[str, Role] = {}
    for pair in (env.get("TRACKER_OIDC_ROLE_MAP") or "").split(","):
        if not pair.strip():
            continue
        group, _, role = pair.partition("=")
        try:
            role_map[group.strip()] = Role(role.strip())
        except ValueError:
            raise ValueError(
                f"TRACKER_OIDC_ROLE_MAP: '{pair.strip()}' must be group=role with a role of "
                f"{', '.join(item.value for item in Role)}."
            ) from None
    values["OIDC_ROLE_MAP"] = role_map
    return values


def _job_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Read the queue's settings: schedules, retries, heartbeats, the large-report threshold."""
    values: dict[str, Any] = {}
    if env.get("TRACKER_JOBS_NAME"):
        values["JOBS_NAME"] = env["TRACKER_JOBS_NAME"].strip()[:60] or Config.JOBS_NAME
    if env.get("TRACKER_JIRA_SYNC_EVERY"):
        values["JIRA_SYNC_EVERY"] = _minutes_or_off(env, "TRACKER_JIRA_SYNC_EVERY")
    for name in ("JIRA_FULL_SYNC_AT", "READINESS_RECORD_AT"):
        if env.get(f"TRACKER_{name}"):
            values[name] = _time_of_day_or_off(env, f"TRACKER_{name}")
    if env.get("TRACKER_JOB_RETRIES"):
        text = env["TRACKER_JOB_RETRIES"].strip()
        if not text.isascii() or not text.isdigit() or int(text) > 100:
            raise ValueError("TRACKER_JOB_RETRIES must be a whole number from 0 to 100, e.g. 5.")
        values["JOB_RETRIES"] = int(text)
    for name in (
        "JOBS_WORKERS",
        "JOB_RETRY_DELAY",
        "JOB_RETRY_MAX_DELAY",
        "JOB_HEARTBEAT_SECONDS",
        "JOB_STALE_SECONDS",
        "LARGE_REPORT_BYTES",
    ):
        if env.get(f"TRACKER_{name}"):
            values[name] = _positive_number(env, f"TRACKER_{name}")
    heartbeat = values.get("JOB_HEARTBEAT_SECONDS", Config.JOB_HEARTBEAT_SECONDS)
    stale = values.get("JOB_STALE_SECONDS", Config.JOB_STALE_SECONDS)
    if heartbeat >= stale:
        raise ValueError(
            f"TRACKER_JOB_HEARTBEAT_SECONDS ({heartbeat}) must be less than "
            f"TRACKER_JOB_STALE_SECONDS ({stale}), or running jobs count as abandoned between "
            "two heartbeats: e.g. 15 and 120."
        )
    return values


def _minutes_or_off(env: Mapping[str, str], name: str) -> int:
    text = env[name].strip().lower()
    if text in ("0", "off", "no", "false"):
        return 0
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= 24 * 60:
        raise ValueError(
            f"{name} must be a number of minutes from 1 to 1440 (e.g. 10), or off to stop "
            f"the schedule; it is '{env[name].strip()[:40]}'."
        )
    return int(text)


def _time_of_day_or_off(env: Mapping[str, str], name: str) -> str | None:
    text = env[name].strip().lower()
    if text in ("off", "no", "false"):
        return None
    hours, _, minutes = text.partition(":")
    if not (
        hours.isascii()
        and hours.isdigit()
        and minutes.isascii()
        and minutes.isdigit()
        and len(minutes) == 2
        and int(hours) < 24
        and int(minutes) < 60
    ):
        raise ValueError(
            f"{name} must be a time of day in UTC as HH:MM (e.g. 02:30), or off; it is "
            f"'{env[name].strip()[:40]}'."
        )
    return f"{int(hours):02d}:{minutes}"


def _operations_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Read how the service reports on itself: the log format, who may read /metrics."""
    from tracker.logs import log_format

    values: dict[str, Any] = {
        "LOG_FORMAT": log_format(env.get("TRACKER_LOG_FORMAT")),
        "METRICS_TOKEN": (env.get("TRACKER_METRICS_TOKEN") or "").strip() or None,
    }
    allow = (env.get("TRACKER_METRICS_ALLOW") or "").strip()
    if allow.lower() == "none":
        values["METRICS_ALLOW_NETWORKS"] = []  # the token only
    elif allow:
        values["METRICS_ALLOW_NETWORKS"] = _networks(env, "TRACKER_METRICS_ALLOW")
    return values


def _networks(env: Mapping[str, str], name: str) -> list[Any]:
    """Read a comma-separated list of IP addresses and networks."""
    networks = []
    for part in (env.get(name) or "").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"{name}: '{part.strip()[:60]}' is not an IP address or network "
                    "(write e.g. 10.0.0.5,10.1.0.0/16)."
                ) from None
    return networks


def _positive_number(env: Mapping[str, str], name: str) -> int:
    text = env[name].strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**31:
        raise ValueError(f"{name} must be a whole number above 0, e.g. 65536.")
    return int(text)


def _positive_int(env: Mapping[str, str], name: str) -> int:
    text = env[name].strip()
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{name} must be a whole number of minutes, e.g. 480.")
    return int(text)


def jira_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the TRACKER_JIRA_* variables as they are now (JiraSettings.from_env reads them)."""
    env = os.environ if environ is None else environ
    return {name: value for name, value in env.items() if name.startswith(JIRA_PREFIX)}


class TestConfig(Config):
    """Settings for the test suite: CSRF stays on so tests prove it."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
    # Tests run many requests from 127.0.0.1; the brute-force tests turn this back on.
    RATELIMIT_ENABLED = False
    # An enqueued job runs at once, in the request that enqueued it (tests of a real
    # consumer turn this off).
    JOBS_IMMEDIATE = True
