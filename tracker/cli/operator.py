"""The actor recorded for changes made at the command line: the command and the shell user."""

from __future__ import annotations

import getpass

from tracker.domain.access import Actor, cli_actor


def command_actor(command: str) -> Actor:
    """Return the actor for a `tracker ...` command run by the current shell user."""
    try:
        operator: str | None = getpass.getuser()
    except (KeyError, OSError):
        operator = None
    return cli_actor(command, operator)
