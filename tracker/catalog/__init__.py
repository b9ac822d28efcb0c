"""Reading the obligation catalog from its YAML files."""

from __future__ import annotations

from tracker.catalog.reader import catalog_files, known_obligation_ids, read_catalog

__all__ = ["catalog_files", "known_obligation_ids", "read_catalog"]
