"""The privacy-requirements traceability tracker: create_app() wires the Flask service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from tracker.config import Config


def create_app(config: dict[str, Any] | type[Config] | None = None, **overrides: Any) -> Flask:
    """Create the Flask app: load config, call each init_app, register blueprints."""
    from flask import Flask

    from tracker import db
    from tracker.config import INSTANCE_PATH, PROJECT_ROOT, Config
    from tracker.web import init_app as init_web

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(INSTANCE_PATH),
    )
    base = config if isinstance(config, type) else Config
    app.config.update(base.from_env())
    if isinstance(config, dict):
        app.config.update(config)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"]
    db.init_app(app)
    init_web(app)
    return app


def _instance_secret(instance_path: str) -> str:
    """Return a per-installation secret kept in instance/, created on first use."""
    import secrets
    from pathlib import Path

    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
