"""The sync lock: one holder at a time, and a dead holder's lock taken over without waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tracker.errors import ConflictError
from tracker.models import SyncLock, utcnow
from tracker.services.sync_lock import held_lock, host_identity, process_alive

NAME = "Jira sync"


def leave_lock(engine: Engine, *, pid: int, host: str, expires_in: timedelta) -> None:
    """Store a lock row as a holder that never released it would leave it."""
    now = utcnow()
    with Session(engine) as session, session.begin():
        session.add(
            SyncLock(
                name=NAME,
                holder=f"tracker jira sync ({host} pid {pid})",
                acquired_at=now,
                expires_at=now + expires_in,
                host=host,
                pid=pid,
            )
        )


def finished_pid() -> int:
    """Return the id of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


def locks(engine: Engine) -> list[SyncLock]:
    with Session(engine) as session:
        return list(session.exec(select(SyncLock)).all())


def test_the_lock_records_its_holder_host_and_pid_and_is_released_after_the_block(
    engine: Engine,
) -> None:
    with held_lock(engine, NAME, "tracker jira sync") as extend:
        (row,) = locks(engine)
        assert (row.holder, row.host, row.pid) == (
            "tracker jira sync",
            host_identity(),
            os.getpid(),
        )
        before = row.expires_at
        extend()
        assert locks(engine)[0].expires_at >= before
        with pytest.raises(ConflictError, match="Another Jira sync is running since"):
            with held_lock(engine, NAME, "someone else"):
                pass
    assert locks(engine) == []


def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over_at_once(
    engine: Engine,
) -> None:
    dead = finished_pid()
    leave_lock(engine, pid=dead, host=host_identity(), expires_in=timedelta(minutes=15))
    with held_lock(engine, NAME, "next run"):
        (row,) = locks(engine)
        assert (row.holder, row.pid) == ("next run", os.getpid())
    assert locks(engine) == []


def test_a_lock_held_by_a_live_process_on_this_host_is_respected(
    engine: Engine, sleeper: subprocess.Popen[bytes]
) -> None:
    leave_lock(engine, pid=sleeper.pid, host=host_identity(), expires_in=timedelta(minutes=15))
    with pytest.raises(ConflictError, match=f"pid {sleeper.pid}"):
        with held_lock(engine, NAME, "next run"):
            pass
    assert [row.pid for row in locks(engine)] == [sleeper.pid]


def test_a_lock_from_another_host_is_only_taken_over_once_it_expires(engine: Engine) -> None:
    dead = finished_pid()  # dead here, but on another host that pid means nothing
    leave_lock(engine, pid=dead, host="build-agent-7", expires_in=timedelta(minutes=15))
    with pytest.raises(ConflictError):
        with held_lock(engine, NAME, "next run"):
            pass
    with Session(engine) as session, session.begin():
        row = session.get(SyncLock, NAME)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    with held_lock(engine, NAME, "next run"):
        assert locks(engine)[0].holder == "next run"


def test_process_liveness_sees_running_finished_and_zombie_processes() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(finished_pid())
    assert not process_alive(0) and not process_alive(-1)
    if not Path("/proc/self/stat").exists():
        pytest.skip("zombies are detected through /proc")
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        # Not reaped yet: the process table keeps a zombie, which os.kill(pid, 0) still finds.
        for _ in range(200):
            state = Path(f"/proc/{zombie.pid}/stat").read_bytes().rsplit(b")", 1)[-1].split()[0]
            if state == b"Z":
                break
            time.sleep(0.05)
        assert not process_alive(zombie.pid)
    finally:
        zombie.wait(timeout=30)
