"""The WSGI entry for production servers: `gunicorn tracker.wsgi:app`."""

from __future__ import annotations

from tracker import create_app

app = create_app()
