"""Benchmark: start-up of the `tracker` command and of the WSGI app, as whole processes.

Run: python bench/startup.py [--runs 15] [--json FILE]

Each case is a new process, run --runs times after one warm-up; the figures are the median and
the fastest run, and the median's ratio to a bare `python -c pass` of the same interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def cases() -> dict[str, list[str]]:
    """Return the measured commands by name."""
    tracker = str(BIN / "tracker")
    python = sys.executable
    return {
        "python -c pass": [python, "-c", "pass"],
        "tracker --help": [tracker, "--help"],
        "tracker matrix --help": [tracker, "matrix", "--help"],
        "import tracker.cli": [python, "-c", "import tracker.cli"],
        "import wsgi": [python, "-c", "import wsgi"],
    }


def time_command(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Run the command runs + 1 times (the first is a warm-up); return the wall times."""
    times = []
    for index in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        if index:
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # A fresh instance folder: `import wsgi` creates the app (and its secret key) there.
        env = {**os.environ, "TRACKER_INSTANCE_PATH": tmp}
        figures = {}
        for name, command in cases().items():
            times = time_command(command, args.runs, env)
            figures[name] = {"median": statistics.median(times), "fastest": min(times)}
    bare = figures["python -c pass"]["median"]
    print(f"{'case':<24} {'median':>8} {'fastest':>8} {'x bare':>7}")
    for name, figure in figures.items():
        figure["ratio"] = figure["median"] / bare
        print(
            f"{name:<24} {figure['median']:>7.3f}s {figure['fastest']:>7.3f}s "
            f"{figure['ratio']:>6.1f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
