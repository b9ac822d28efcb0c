"""Links the pages print: outside links only when http(s), and internal URL prefixes."""

from __future__ import annotations

from flask import url_for


def safe_url(url: str | None) -> str | None:
    """Return the URL when it is http(s), else None (never a javascript: or data: link)."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def obligation_href_prefix() -> str:
    """Return the obligation page URL without the id, so rows need no url_for each."""
    marker = "__OBLIGATION__"
    return url_for("obligations.show", obligation_id=marker).replace(marker, "")
