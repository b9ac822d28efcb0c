"""`tracker worker` (a consumer of the job queue) and `tracker serve` (the web app and its jobs)."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import threading
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.cli.params import host_option, port_option


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Threads running jobs (default TRACKER_JOBS_WORKERS, 2).",
)
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run queued jobs and the schedules until Ctrl-C (on any number of machines)."""
    from tracker.jobs.consumer import worker_consumer
    from tracker.jobs.queue import storage_description

    app = _app()
    if app.config.get("JOBS_IMMEDIATE"):
        raise click.ClickException("Jobs run where they are queued (immediate mode): no worker.")
    _log_to_console()
    count = workers or int(app.config["JOBS_WORKERS"])
    click.echo(f"Worker with {count} thread(s) on the queue {storage_description(app)}.", err=True)
    worker_consumer(app, count).run()


@click.command("serve")
@host_option
@port_option
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Web worker processes (gunicorn) or threads (the fallback server).",
)
@with_appcontext
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the tracker (gunicorn when installed) and, without Redis, run its jobs too."""
    from tracker.jobs.consumer import worker_consumer
    from tracker.jobs.queue import storage_description, uses_embedded_storage

    app = _app()
    _log_to_console()
    embedded = uses_embedded_storage(app)
    web: subprocess.Popen[bytes] | None = None
    if importlib.util.find_spec("gunicorn") is not None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"{host}:{port}",
            "tracker.wsgi:app",
        ]
        web = subprocess.Popen(command)  # noqa: S603 - our own interpreter and arguments
        stop_web = _stopper(web)
        click.echo(f"Serving http://{host}:{port} with gunicorn ({workers} workers).", err=True)
    else:
        from werkzeug.serving import make_server

        server = make_server(host, port, app, threaded=True)
        threading.Thread(target=server.serve_forever, name="tracker-web", daemon=True).start()
        stop_web = server.shutdown
        click.echo(f"Serving http://{host}:{port} (install gunicorn for production).", err=True)
    try:
        if embedded:
            click.echo(f"Running the jobs here, on {storage_description(app)}.", err=True)
            # The consumer runs in this process's main thread: Ctrl-C stops it, then the web.
            worker_consumer(app, int(app.config["JOBS_WORKERS"])).run()
        else:
            click.echo(
                f"Jobs go to {storage_description(app)}: run `tracker worker` to run them.",
                err=True,
            )
            _wait(web)
    finally:
        stop_web()


def _stopper(web: subprocess.Popen[bytes]) -> Callable[[], None]:
    def stop() -> None:
        if web.poll() is None:
            web.terminate()  # gunicorn's graceful stop
        web.wait()

    return stop


def _wait(web: subprocess.Popen[bytes] | None) -> None:
    try:
        if web is not None:
            web.wait()
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("Stopping.", err=True)


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _log_to_console() -> None:
    """Show the queue's and the jobs' log lines on the console (unless logging is set up)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
