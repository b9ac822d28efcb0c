"""The `jira-sandbox` command: serve a seeded local Jira stand-in until Ctrl-C."""

from __future__ import annotations

import contextlib

import click

from tracker.sandbox.app import SandboxAuth
from tracker.sandbox.representation import CLOUD, DATACENTER
from tracker.sandbox.seed import seed_demo, seed_generated
from tracker.sandbox.server import SandboxServer
from tracker.sandbox.state import SandboxState
from tracker.sandbox.webhooks import WebhookConfig


@click.command("jira-sandbox")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option(
    "--mode",
    type=click.Choice([CLOUD, DATACENTER]),
    default=CLOUD,
    show_default=True,
    help="cloud: /search/jql with page tokens; datacenter: /search with startAt/total.",
)
@click.option(
    "--seed",
    default="demo",
    show_default=True,
    help="'demo' (PRIV/APP/WEB privacy epics), 'none', or a number of generated epics.",
)
@click.option("--webhook-url", default=None, help="Loopback URL to POST issue events to.")
@click.option("--webhook-secret", default=None, help="Sign webhooks with X-Hub-Signature.")
@click.option("--email", default=None, help="Require Basic auth with this email (and --token).")
@click.option("--token", default=None, help="The API token for --email.")
@click.option("--pat", default=None, help="Require (or also accept) this Bearer PAT.")
def jira_sandbox_command(
    port: int,
    host: str,
    mode: str,
    seed: str,
    webhook_url: str | None,
    webhook_secret: str | None,
    email: str | None,
    token: str | None,
    pat: str | None,
) -> None:
    """Serve a local Jira stand-in that speaks Jira's REST API, until Ctrl-C."""
    state = SandboxState()
    if seed == "demo":
        seed_demo(state)
    elif seed != "none":
        if not seed.isdigit():
            raise click.BadParameter("use 'demo', 'none' or a whole number", param_hint="--seed")
        seed_generated(state, int(seed))
    try:
        auth = SandboxAuth(email=email, token=token, pat=pat) if (email or token or pat) else None
        webhook = WebhookConfig(webhook_url, webhook_secret) if webhook_url else None
        server = SandboxServer(
            state,
            mode=mode,
            host=host,
            port=port,
            start=False,
            quiet=False,
            auth=auth,
            webhook=webhook,
        )
    except (ValueError, OSError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Jira sandbox ({mode}) serving {state.issue_count()} issues at {server.url}")
    if auth:
        click.echo(
            "Authentication required: "
            + ", ".join(
                kind
                for kind, on in (("Basic email:token", auth.token), ("Bearer PAT", auth.pat))
                if on
            )
        )
    if webhook:
        signed = "signed" if webhook.secret else "unsigned"
        click.echo(f"Webhooks ({signed}) go to {webhook.url}")
    click.echo(f"Admin: {server.url}/_sandbox/stats   Press Ctrl-C to stop.")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.stop()
    click.echo("Jira sandbox stopped.")
