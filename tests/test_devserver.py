"""`make run` in miniature: migrate, seed, then the web server and the worker start together,
the worker's heartbeat shows at /readyz/scheduler, a killed worker is restarted while the web
server keeps serving (issue 14 item 10), and Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "sponsor-match")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)
    except OSError:
        return None


def _wait(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.5)
    return None


@pytest.mark.slow
def test_web_server_and_worker_start_together_survive_a_dead_worker_and_stop_together(tmp_path):
    env = {
        **os.environ,
        "SPONSOR_ENV": "development",
        "SPONSOR_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "SPONSOR_MAILBOX_DIR": str(tmp_path / "mailbox"),
    }
    for step in (["db", "upgrade"], ["seed-demo", "--if-empty"]):
        done = subprocess.run([CLI, *step], env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    out = tmp_path / "devserver.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.devserver", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )

    def scheduler_pid() -> int | None:
        answer = _get(port, "/readyz/scheduler")
        return answer[1]["pid"] if answer and answer[0] == 200 else None

    try:
        first = _wait(scheduler_pid)
        assert first, out.read_text()[-2000:]
        assert _get(port, "/readyz") == (
            200,
            {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}},
        )
        os.kill(first, signal.SIGKILL)
        assert _wait(lambda: "the worker stopped (exit -9); restarting it" in out.read_text())
        assert _get(port, "/healthz") == (200, {"status": "ok"})  # the site stayed up
        second = _wait(lambda: (pid := scheduler_pid()) and pid != first and pid)
        assert second, out.read_text()[-2000:]
        assert f"the worker is running again (pid {second})" in out.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    assert _get(port, "/readyz") is None  # the web server is gone with it
