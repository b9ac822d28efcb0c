"""The shapes of catalog ids, as regular expressions (shared by the schema and the readers)."""

from __future__ import annotations

INSTRUMENT_ID_PATTERN = r"^[A-Z][A-Z0-9]{1,15}$"
OBLIGATION_ID_PATTERN = r"^[A-Z][A-Z0-9]{1,15}-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$"
