"""Where the folders the tracker runs on are: its templates, migrations and bundled catalog."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: Top-level folders of the source tree that the wheel carries as tracker/bundled/<name>
#: (setup.py copies them there when it builds).
BUNDLED = ("templates", "migrations", "requirements_catalog", "data_map")

#: The folder above the package: the checkout's root, or site-packages once installed.
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def templates_path() -> Path:
    """Return the folder of the Jinja templates."""
    return resource_path("templates")


def migrations_path() -> Path:
    """Return the folder of the Alembic migrations."""
    return resource_path("migrations")


def catalog_path() -> Path:
    """Return the folder of the bundled obligation catalog."""
    return resource_path("requirements_catalog")


def data_map_path() -> Path:
    """Return the folder of the bundled demo data map."""
    return resource_path("data_map")


def resource_path(name: str) -> Path:
    """Return a bundled folder: the installed package's copy first, else the source checkout's.

    When neither exists (a broken build), the path where the package should hold it is
    returned, so that the error its reader gives names the place to look.
    """
    if name not in BUNDLED:
        raise ValueError(f"{name!r} is not a bundled folder; these are: {', '.join(BUNDLED)}")
    # A regular package installed from a wheel lives on disk, so files() gives a real Path
    # that Jinja and Alembic can read.
    bundled = Path(str(resources.files("tracker").joinpath("bundled", name)))
    if bundled.is_dir():
        return bundled
    source = _SOURCE_ROOT / name
    if is_source_checkout() and source.is_dir():
        return source
    return bundled


def is_source_checkout() -> bool:
    """Say whether the package runs from its source tree (an editable install, or tests)."""
    return (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / "migrations").is_dir()
