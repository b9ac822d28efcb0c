"""Without TRACKER_SECRET_KEY, every worker of one installation shares one generated key."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tracker import _instance_secret


def test_the_generated_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    first = _instance_secret(str(tmp_path))
    assert len(first) == 64
    assert _instance_secret(str(tmp_path)) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_workers_starting_together_get_the_same_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: _instance_secret(str(tmp_path)), range(16)))
    assert len(keys) == 1
