"""The privacy-requirements traceability tracker: create_app() wires the Flask service."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from tracker.config import Config


def create_app(
    config: dict[str, Any] | type[Config] | None = None, *, web: bool = True, **overrides: Any
) -> Flask:
    """Create the Flask app: load config, call each init_app, register blueprints.

    web=False leaves out the pages and the API, for command-line work that needs only the
    configuration and the database (it starts faster).
    """
    from flask import Flask

    from tracker import db, logs
    from tracker.config import Config, instance_path
    from tracker.resources import templates_path

    app = Flask(
        __name__,
        template_folder=str(templates_path()),
        static_folder=None,  # the style sheet is served by the web blueprint under /assets
        instance_path=str(instance_path()),
    )
    base = config if isinstance(config, type) else Config
    app.config.update(base.from_env())
    if isinstance(config, dict):
        app.config.update(config)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"]
    # First: the request id is bound before any other hook runs (their log lines carry it).
    logs.init_app(app)
    db.init_app(app)
    if web:
        from tracker.web import init_app as init_web
        from tracker.web import inputs

        # The blueprints' id rules take the bounded converter when they are registered.
        inputs.register_converter(app)
        init_web(app)
        # After the CSRF and sign-in hooks: a request that may not be made is refused without
        # its body being read.
        inputs.init_app(app)
    return app


def _instance_secret(instance_path: str) -> str:
    """Return a per-installation secret kept in the instance folder, created on first use."""
    import os
    import secrets
    from pathlib import Path

    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Exclusive creation: when several workers start at once, exactly one writes the key
        # and every worker then reads that same key (a token signed by one is valid in all).
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)  # the creating worker has not written it yet
        raise RuntimeError(f"{path} is empty: delete it, or set TRACKER_SECRET_KEY") from None
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()
