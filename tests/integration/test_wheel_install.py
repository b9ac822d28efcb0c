"""The wheel deploys as README says: built, installed into a fresh venv in an empty folder, run."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[2]
#: Not part of what a build reads; copying them would only slow the test down.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "instance",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "tests",
    "bench",
)

PROBE = """
import importlib.resources, json, tracker
from tracker import resources
from tracker.config import instance_path
print(json.dumps({
    "package": str(importlib.resources.files("tracker")),
    "templates": str(resources.templates_path()),
    "migrations": str(resources.migrations_path()),
    "catalog": str(resources.catalog_path()),
    "source_checkout": resources.is_source_checkout(),
    "instance": str(instance_path()),
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the wheel and install it, with its dependencies, into a venv in an empty folder.

    The wheel is built from a copy of the checkout, so that the build leaves no build/ or
    *.egg-info in the checkout (and no stale file of an earlier build there reaches the wheel).
    """
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(CHECKOUT, source, ignore=NOT_SOURCE)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir"]
        + [str(root / "dist"), str(source)],
        cwd=root,
        timeout=240,
    )
    (wheel,) = (root / "dist").glob("privacy_tracker-*.whl")
    deploy = root / "deploy"  # the empty folder every command runs in
    deploy.mkdir()
    venv = deploy / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=deploy)
    _run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
        # Byte-compiling all of every dependency costs more than compiling, once, what runs.
        + ["--quiet", "--no-compile", str(wheel)],
        cwd=deploy,
        timeout=240,
    )
    return {"root": root, "deploy": deploy, "venv": venv}


def test_built_wheel_upgrades_the_database_loads_the_catalog_and_serves_pages(
    installed: dict[str, Path],
) -> None:
    deploy, venv = installed["deploy"], installed["venv"]
    instance = installed["root"] / "instance"
    env = _clean_environment(venv)
    env["TRACKER_INSTANCE_PATH"] = str(instance)
    env["TRACKER_DATABASE_URL"] = f"sqlite:///{instance / 'tracker.db'}"

    upgrade = _run([str(venv / "bin" / "tracker"), "db", "upgrade"], cwd=deploy, env=env)
    assert "Database schema is at revision" in upgrade.stdout
    assert str(instance) in upgrade.stdout  # the operator is told where the instance folder is
    assert (instance / "tracker.db").is_file()
    assert (instance / "secret_key").is_file()

    load = _run([str(venv / "bin" / "tracker"), "catalog", "load"], cwd=deploy, env=env)
    created = re.search(r"(\d+) instruments;.*?\b(\d+) (?:obligations )?created", load.stdout)
    assert created and int(created[1]) > 0 and int(created[2]) > 0, load.stdout

    port = _free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}"]
        + ["tracker.wsgi:app"],
        cwd=deploy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status, page = _get_when_up(f"http://127.0.0.1:{port}/login", server)
        assert status == 200
        assert "<h1>Sign in</h1>" in page
        assert 'name="csrf_token"' in page
        status, sheet = _get_when_up(f"http://127.0.0.1:{port}/assets/tracker.css", server)
        assert status == 200
        built_from = installed["root"] / "source" / "tracker" / "web" / "static" / "tracker.css"
        assert sheet == built_from.read_text()
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "Traceback" not in output, output


def test_installed_package_reads_its_folders_from_site_packages_not_the_checkout(
    installed: dict[str, Path],
) -> None:
    deploy, venv = installed["deploy"], installed["venv"]
    home = installed["root"] / "home"
    env = _clean_environment(venv)
    env["HOME"] = str(home)
    env.pop("XDG_DATA_HOME", None)

    probe = json.loads(
        _run([str(venv / "bin" / "python"), "-c", PROBE], cwd=deploy, env=env).stdout
    )

    site_packages = Path(probe["package"]).parent
    assert site_packages.name == "site-packages"
    assert site_packages.is_relative_to(venv)
    for name in ("templates", "migrations", "catalog"):
        found = Path(probe[name])
        assert found.is_relative_to(site_packages / "tracker" / "bundled"), (name, found)
        assert not found.is_relative_to(CHECKOUT), (name, found)
    assert (Path(probe["templates"]) / "base.html").is_file()
    assert (Path(probe["migrations"]) / "env.py").is_file()
    assert (Path(probe["catalog"]) / "gdpr.yaml").is_file()
    assert probe["source_checkout"] is False
    # Installed, the instance folder is in the user's data folder, not in site-packages.
    assert Path(probe["instance"]) == home / ".local" / "share" / "privacy-tracker"


def _clean_environment(venv: Path) -> dict[str, str]:
    """Return this process's environment without the test suite's or the checkout's traces."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TRACKER_")
        and name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def _run(
    command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get_when_up(url: str, server: subprocess.Popen[str]) -> tuple[int, str]:
    deadline = time.monotonic() + 90  # a loaded CI machine imports slowly
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read() if server.stdout else ""
                raise AssertionError(f"gunicorn did not answer at {url}:\n{output}") from None
            time.sleep(0.2)
