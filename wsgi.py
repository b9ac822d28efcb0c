"""WSGI entry from a source checkout (`gunicorn wsgi:app`); installed, use `tracker.wsgi:app`."""

from __future__ import annotations

from tracker.wsgi import app

__all__ = ["app"]
