"""Bounds that every edge (web forms, the API, the command line) checks values against."""

from __future__ import annotations

from datetime import date

#: The largest value an id column holds (a 32-bit signed integer on PostgreSQL).
DATABASE_INTEGER_MAX = 2**31 - 1
#: Longest value of a query parameter or form field that names no bound of its own.
MAX_QUERY_VALUE = 2000
#: Dates that are stored (a release's date, an exception's expiry) stay within these.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
