"""Jira failures as JiraError a person can act on, with secrets kept out of text and logs."""

from __future__ import annotations

import base64
import contextlib
import logging
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from tracker.errors import JiraError
from tracker.integrations.jira_records import JiraSettings

if TYPE_CHECKING:
    from jira import JIRAError

_CREDENTIALS_MESSAGE = (
    "Jira rejected the credentials: check TRACKER_JIRA_EMAIL and TRACKER_JIRA_API_TOKEN (Cloud) "
    "or TRACKER_JIRA_PAT (Data Center)."
)
_LIBRARY_LOGGERS = ("jira", "jira.resilientsession")


class JiraErrorTranslator:
    """Turns the jira library's and requests' failures into JiraError, secrets blanked out."""

    def __init__(self, settings: JiraSettings, *, max_retries: int) -> None:
        self._settings = settings
        self._max_retries = max_retries

    def library_error(self, error: JIRAError, action: str, subject: str | None) -> JiraError:
        """Return the JiraError for an HTTP error answer the jira library raised."""
        status = error.status_code
        detail = self._detail(error.text)
        said = f" Jira said: {detail}" if detail else ""
        where = f" on {subject}" if subject else ""
        if status is None:
            return JiraError(f"Could not {action}{where}: {detail or 'the jira library refused'}.")
        if status == 401:
            return JiraError(_CREDENTIALS_MESSAGE, status=401)
        if status == 403:
            return JiraError(
                f"The Jira account has no permission to {action}{where}.{said}", status=403
            )
        if status == 404:
            if subject:
                return JiraError(
                    f"Jira {subject} does not exist, or the account cannot see it.", status=404
                )
            return JiraError(
                f"Jira has nothing at {_endpoint(error)} (HTTP 404).{said}", status=404
            )
        if status == 410:
            return JiraError(
                f"This Jira no longer offers {_endpoint(error)}; it was removed (on Cloud, "
                "/rest/api/2/search gave way to /search/jql). Check that the server reports "
                f"deploymentType Cloud at /rest/api/2/serverInfo.{said}",
                status=410,
            )
        if status == 429:
            response = error.response
            wait = response.headers.get("Retry-After") if response is not None else None
            when = f"in {wait} seconds" if wait else "in a few minutes"
            return JiraError(
                f"Jira is rate limiting the tracker and still refused to {action} after "
                f"{self._max_retries} retries; try again {when}.",
                status=429,
                retryable=True,
            )
        if status >= 500:
            return JiraError(
                f"Jira failed to {action}{where} (HTTP {status}); this is usually temporary, "
                f"try again later.{said}",
                status=status,
                retryable=True,
            )
        return JiraError(
            f"Jira refused to {action}{where} (HTTP {status}).{said}",
            status=status,
            retryable=status in (408, 409),
        )

    def request_error(self, error: requests.RequestException, action: str) -> JiraError:
        """Return the JiraError for a request that got no usable answer."""
        if isinstance(error, requests.exceptions.JSONDecodeError):
            return JiraError(
                f"Jira at {self._settings.url} did not answer with JSON when asked to {action}; "
                "check that TRACKER_JIRA_URL is the Jira base URL, not a login page or proxy."
            )
        if isinstance(error, requests.Timeout):
            return self._unreachable(f"no answer within {self._settings.timeout:g} s")
        if isinstance(error, requests.ConnectionError):
            return self._unreachable(_connection_reason(error))
        return self._unreachable(type(error).__name__)

    def unexpected_shape(self, error: Exception) -> JiraError:
        """Return the JiraError for an answer whose JSON is not shaped as expected."""
        return JiraError(
            f"Jira at {self._settings.url} answered in an unexpected shape "
            f"({type(error).__name__}: {self._redact(str(error))[:200]})."
        )

    def _unreachable(self, reason: str) -> JiraError:
        return JiraError(
            f"Jira at {self._settings.url} is unreachable: {self._redact(reason)}. "
            "Check TRACKER_JIRA_URL and the network; the sync can be retried later.",
            retryable=True,
        )

    def _detail(self, text: str | None) -> str:
        if not text:
            return ""
        flat = " ".join(text.split())
        if flat.startswith("<"):
            return ""  # an HTML error page says nothing a person can act on
        return self._redact(flat)[:300]

    def _redact(self, text: str) -> str:
        return _scrub(text, secret_values(self._settings))


def secret_values(settings: JiraSettings) -> list[str]:
    """Return every secret text the settings can put on the wire."""
    values = list(settings.secrets())
    if settings.email and settings.api_token:
        # The Basic header carries email:token in base64; it is as secret as the token.
        pair = f"{settings.email}:{settings.api_token}".encode()
        values.append(base64.b64encode(pair).decode())
    return values


def guard_library_logs(secrets: Iterable[str]) -> None:
    """Blank secrets out of everything the jira library logs from now on."""
    _LOG_SCRUBBER.secrets.update(secrets)
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_SCRUBBER not in logger.filters:
            logger.addFilter(_LOG_SCRUBBER)


def normalise_retry_after(
    response: requests.Response, *args: Any, **kwargs: Any
) -> requests.Response:
    """Rewrite a Retry-After header as whole seconds (a requests response hook)."""
    # ResilientSession does int(Retry-After): an HTTP-date or a fraction would raise
    # ValueError instead of waiting, so turn them into whole seconds first.
    value = response.headers.get("Retry-After")
    if value is None or value.strip().isdigit():
        return response
    seconds = _retry_after_seconds(value.strip())
    if seconds is None:
        del response.headers["Retry-After"]
    else:
        response.headers["Retry-After"] = str(seconds)
    return response


class _ScrubSecrets(logging.Filter):
    """Blank known secrets out of the jira library's log records."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        # The library logs exception text and, at DEBUG, whole response bodies; a proxy
        # or server that echoes credentials would otherwise put them in our logs.
        message = record.getMessage()
        cleaned = _scrub(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_LOG_SCRUBBER = _ScrubSecrets()


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{16,}", r"\1 ***", text)


def _endpoint(error: JIRAError) -> str:
    return urlsplit(error.url).path if error.url else "that endpoint"


def _connection_reason(error: requests.ConnectionError) -> str:
    text = str(error).lower()
    if isinstance(error, requests.exceptions.SSLError):
        return "the TLS handshake failed (certificate or protocol)"
    if "refused" in text:
        return "connection refused"
    if "timed out" in text or isinstance(error, requests.Timeout):
        return "the connection timed out"
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or ("resolve" in text)
    ):
        return "the host name does not resolve"
    return f"the connection failed ({type(error).__name__})"


def _retry_after_seconds(value: str) -> int | None:
    with contextlib.suppress(ValueError):  # not a number of seconds: maybe an HTTP date
        return max(0, math.ceil(float(value)))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, math.ceil((moment - datetime.now(UTC)).total_seconds()))
