"""The server-wide test mapping file (TRACKER_TEST_MAPPING), applied to every ingested report."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from tracker.integrations.test_mapping import TestMapping, load_test_mapping


def configured_mapping(app: Flask | None = None) -> TestMapping | None:
    """Return the configured mapping, read afresh (it is small), or None when none is set."""
    path = (app or current_app).config.get("TEST_MAPPING_PATH")
    return load_test_mapping(Path(path)) if path else None
