"""`tracker demo` ends its console output with a short summary and keeps request logs out."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tracker.demo import free_port


def test_demo_console_ends_with_a_summary_and_logs_requests_to_a_file(tmp_path: Path) -> None:
    port, sandbox_port = free_port(0), free_port(0)
    env = {name: value for name, value in os.environ.items() if not name.startswith("TRACKER_")}
    env.update(TRACKER_INSTANCE_PATH=str(tmp_path / "instance"), TRACKER_SECRET_KEY="demo-test")
    command = [sys.executable, "-c", "from tracker.cli import main; main()", "demo"]
    command += ["--port", str(port), "--sandbox-port", str(sandbox_port)]
    # Its own folder, so no .env file of a developer's checkout configures it.
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C stops"):
                break
        assert lines and lines[-1].startswith("Ctrl-C stops"), "\n".join(lines)
        # Requests made now (a page, a webhook from a change in Jira) reach only the log.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as answer:  # noqa: S310 - loopback
            assert answer.status == 200
        time.sleep(1)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate()
    output = "\n".join(lines) + "\n" + rest
    assert "Traceback" not in output
    assert not re.search(r'"(GET|POST) /', output), "request lines reached the console"
    assert "not delivered" not in output and "WARNING" not in output

    summary = lines[lines.index("The demo is ready.") :]
    text = "\n".join(summary)
    assert "  Open:" in text and f"http://127.0.0.1:{port}/ and sign in" in text
    assert re.search(
        r"  Catalog: +5 instruments, 246 entries \(202 obligations in 44 groups\): 246 created\.",
        text,
    )
    assert re.search(
        r"  Jira sync: +from the sandbox at http://127\.0\.0\.1:\d+: .*41 created", text
    )
    assert re.search(r"  Test reports: +3 reports as runs #1, #2, #3", text)
    assert "  Releases:" in text and "frozen as snapshot #1" in text
    # Every problem named, each once.
    assert "obligation-GDPR-99.9" in text
    assert text.count("GDPR-99.2") == 1
    accounts = re.findall(
        r"^  (viewer|engineer|legal|compliance|admin) +(\S+@demo\.example) +(\S+)$", text, re.M
    )
    assert [role for role, _, _ in accounts] == [
        "viewer",
        "engineer",
        "legal",
        "compliance",
        "admin",
    ]
    assert "demo.log" in summary[-2]

    log = (tmp_path / "instance" / "demo.log").read_text(encoding="utf-8")
    assert '"GET /login HTTP/1.1" 200' in log
    assert "POST /webhooks/jira" in log
