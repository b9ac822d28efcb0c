"""`tracker demo`: a local Jira sandbox, demo data and the tracker, in one command."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.cli.params import host_option, port_option
from tracker.errors import TrackerError

LOG_FILE_NAME = "demo.log"


@click.command("demo")
@host_option
@port_option
@click.option(
    "--sandbox-port",
    default=8081,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Jira sandbox.",
)
@click.option("--no-serve", is_flag=True, help="Prepare the demo data, then exit.")
@click.option("--no-jira", is_flag=True, help="Do not start the Jira sandbox.")
@with_appcontext
def demo_command(host: str, port: int, sandbox_port: int, no_serve: bool, no_jira: bool) -> None:
    """Start a local Jira sandbox, load the catalog, sync, push, ingest a report, and serve."""
    from tracker.demo import prepare_demo, start_demo_jira

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    tracker_url = f"http://{host}:{port}"
    app.config["PUBLIC_URL"] = tracker_url
    # Request lines, webhook deliveries and warnings would push the summary off the screen.
    log_file = log_to_file(app, Path(app.instance_path) / LOG_FILE_NAME)
    jira_demo = None
    if not no_jira:
        jira_demo = start_demo_jira(sandbox_port=sandbox_port, tracker_url=tracker_url)
        app.config["JIRA_SETTINGS"] = jira_demo.settings
        click.echo(f"Jira sandbox (demo product PRIV, APP, WEB) at {jira_demo.settings.url}")
    server = None
    consumer = None
    if not no_serve:
        # Listen before preparing, so the sandbox's webhooks reach the tracker from the start.
        from werkzeug.serving import make_server

        server = make_server(host, port, app, threaded=True)
        threading.Thread(target=server.serve_forever, name="tracker-demo", daemon=True).start()
    try:
        click.echo("Setting up the demo data (catalog, Jira sync and push, test reports) ...")
        summary = prepare_demo(app, jira_demo.settings if jira_demo else None)
        click.echo("")
        for line in summary.lines(
            tracker_url=tracker_url if server is not None else None, log_file=_shown(log_file)
        ):
            click.echo(line)
        if server is not None:
            from tracker.jobs.consumer import start_embedded_consumer

            # Its buttons queue jobs: run them (and the schedules) in this process.
            consumer = start_embedded_consumer(app)
            click.echo("Ctrl-C stops the tracker and the sandbox.")
            _wait_for_interrupt()
    except TrackerError as exc:
        raise click.ClickException(f"{exc} (details in {_shown(log_file)})") from exc
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
        if server is not None:
            server.shutdown()
        if jira_demo is not None:
            jira_demo.server.stop()


def log_to_file(app: Flask, path: Path) -> Path:
    """Send every log record of this process to a file instead of the console; return it."""
    from tracker.logs import configure_logging, formatter_for

    configure_logging("text")  # the file takes the JSON lines instead of the console
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")  # this run's log only
    handler.setFormatter(formatter_for(app.config.get("LOG_FORMAT", "text")))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Flask and werkzeug print to the console unless a handler is already in place.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    requests = logging.getLogger("werkzeug")
    for console in [h for h in requests.handlers if isinstance(h, logging.StreamHandler)]:
        requests.removeHandler(console)
    # In JSON the tracker logs each request itself (werkzeug's line carries the query string).
    requests.setLevel(logging.WARNING if app.config.get("LOG_FORMAT") == "json" else logging.INFO)
    logging.captureWarnings(True)
    return path


def _shown(path: Path) -> str:
    """Return the path relative to the working folder when it is inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopping.")
