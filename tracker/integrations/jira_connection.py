"""The gateway's lazily opened jira client, whose every failure comes out as JiraError."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from tracker.integrations.jira_errors import (
    JiraErrorTranslator,
    guard_library_logs,
    normalise_retry_after,
    secret_values,
)
from tracker.integrations.jira_records import JiraSettings

if TYPE_CHECKING:
    from jira import JIRA

_T = TypeVar("_T")


class JiraConnection:
    """One jira client, opened on first use and shared between threads."""

    def __init__(self, settings: JiraSettings, *, max_retries: int, max_retry_delay: int) -> None:
        self._settings = settings
        self._max_retries = max(0, max_retries)
        self._max_retry_delay = max(1, max_retry_delay)
        self._errors = JiraErrorTranslator(settings, max_retries=self._max_retries)
        self._lock = threading.Lock()
        self._client: JIRA | None = None

    def call(
        self, action: str, operation: Callable[[JIRA], _T], *, subject: str | None = None
    ) -> _T:
        """Run operation on the client; action and subject word the JiraError it may raise."""
        # `from None`: JIRAError's str() dumps response headers (cookies included), and a
        # chained cause would print it in every logged traceback.
        from jira import JIRAError  # the library loads only when Jira is used

        try:
            return operation(self._jira())
        except JIRAError as error:
            raise self._errors.library_error(error, action, subject) from None
        except requests.RequestException as error:
            raise self._errors.request_error(error, action) from None

    def parse(self, build: Callable[[], _T]) -> _T:
        """Return build(), raising JiraError if Jira's answer did not have the expected shape."""
        try:
            return build()
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise self._errors.unexpected_shape(error) from None

    def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]  # untyped in jira
                self._client = None

    def _jira(self) -> JIRA:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> JIRA:
        from jira import JIRA

        settings = self._settings
        guard_library_logs(secret_values(settings))
        auth: dict[str, Any]
        if settings.uses_pat:
            auth = {"token_auth": settings.pat}
        else:
            auth = {"basic_auth": (settings.email or "", settings.api_token or "")}
        # The first request (serverInfo, made inside the constructor) runs before we can
        # tune the session, with the library's 60 s delay cap; one retry at most keeps a
        # wrong URL from hanging for minutes. Later requests get the configured bound.
        client = JIRA(
            server=settings.url,
            timeout=settings.timeout,
            max_retries=min(self._max_retries, 1),
            get_server_info=True,
            **auth,
        )
        client._session.max_retries = self._max_retries
        client._session.max_retry_delay = self._max_retry_delay
        client._session.hooks["response"].append(normalise_retry_after)
        return client
