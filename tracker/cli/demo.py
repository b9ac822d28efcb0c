"""`tracker demo`: a local Jira sandbox, demo data and the tracker, in one command."""

from __future__ import annotations

import logging
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.errors import TrackerError


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--sandbox-port", default=8081, show_default=True, type=int, help="Jira sandbox.")
@click.option("--no-serve", is_flag=True, help="Prepare the demo data, then exit.")
@click.option("--no-jira", is_flag=True, help="Do not start the Jira sandbox.")
@with_appcontext
def demo_command(host: str, port: int, sandbox_port: int, no_serve: bool, no_jira: bool) -> None:
    """Start a local Jira sandbox, load the catalog, sync, push, ingest a report, and serve."""
    from tracker.demo import prepare_demo, start_demo_jira

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    tracker_url = f"http://{host}:{port}"
    app.config["PUBLIC_URL"] = tracker_url
    jira_demo = None
    if not no_jira:
        jira_demo = start_demo_jira(sandbox_port=sandbox_port, tracker_url=tracker_url)
        app.config["JIRA_SETTINGS"] = jira_demo.settings
        click.echo(f"Jira sandbox (demo product PRIV, APP, WEB) at {jira_demo.settings.url}")
    server = None
    if not no_serve:
        # Listen before preparing, so the sandbox's webhooks reach the tracker from the start.
        from werkzeug.serving import make_server

        # One log line per webhook delivery would push the demo accounts off the screen.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server(host, port, app, threaded=True)
        threading.Thread(target=server.serve_forever, name="tracker-demo", daemon=True).start()
    try:
        for message in prepare_demo(app, jira_demo.settings if jira_demo else None):
            click.echo(message)
        if server is not None:
            click.echo(f"Open {tracker_url}/ (Ctrl-C stops the tracker and the sandbox).")
            _wait_for_interrupt()
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if server is not None:
            server.shutdown()
        if jira_demo is not None:
            jira_demo.server.stop()


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopping.")
