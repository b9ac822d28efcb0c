"""Build hook: the wheel carries templates/, migrations/, requirements_catalog/ and data_map/.

They stay top-level folders of the source tree and are copied into tracker/bundled/<name> of
the built package, where tracker.resources finds them. An editable install reads them from
the source tree instead. Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# The same folders as tracker/resources.py BUNDLED.
BUNDLED = ("templates", "migrations", "requirements_catalog", "data_map")
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildWithBundledFolders(build_py):
    """Build the package, then copy the bundled folders into it."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in BUNDLED:
            source = ROOT / name
            if not source.is_dir():
                raise SystemExit(f"{source} is missing: the tracker cannot run without it.")
            target = Path(self.build_lib) / "tracker" / "bundled" / name
            # A fresh copy each time: a file deleted from the source must not linger in
            # build/ and reach the next wheel.
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=LEFT_OUT)

    def get_source_files(self) -> list[str]:
        """List the bundled folders' files too, so that an sdist carries them."""
        files = list(super().get_source_files())
        for name in BUNDLED:
            for path in sorted((ROOT / name).rglob("*")):
                relative = path.relative_to(ROOT)
                if path.is_file() and not _left_out(relative):
                    files.append(relative.as_posix())
        return files


def _left_out(relative: Path) -> bool:
    return any(part == "__pycache__" or part.startswith(".") for part in relative.parts) or (
        relative.suffix == ".pyc"
    )


setup(cmdclass={"build_py": BuildWithBundledFolders})
