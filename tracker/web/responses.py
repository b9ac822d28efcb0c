"""JSON responses: UTF-8, non-ASCII kept, dates in ISO 8601, times in RFC 3339 UTC."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask import Response

from tracker.domain.timestamps import rfc3339_utc


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Return UTF-8 JSON (non-ASCII kept as is) with an explicit charset."""
    body = json.dumps(data, ensure_ascii=False, default=_json_default, indent=None)
    return Response(
        body,
        status=status,
        content_type="application/json; charset=utf-8",
        headers=dict(headers or {}),
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
