"""`make run` in miniature: migrate, seed, then the web server and the worker start together,
the worker's heartbeat makes /readyz ready, and Ctrl-C stops both."""

from __future__ import annotations

import fcntl
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


def _readyz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as res:
            return json.load(res)
    except urllib.error.HTTPError as exc:
        return json.load(exc)
    except OSError:
        return None


@pytest.mark.slow
def test_web_server_and_worker_start_together_and_stop_together(tmp_path):
    env = {
        **os.environ,
        "SPONSOR_ENV": "development",
        "SPONSOR_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "SPONSOR_WORKER_LOCK_PATH": str(tmp_path / "worker.lock"),
    }
    for step in (["db", "upgrade"], ["seed-demo", "--if-empty"]):
        done = subprocess.run([CLI, *step], env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.devserver", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, state = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            state = _readyz(port)
            if state and state["checks"].get("worker") == "ok":
                break
            time.sleep(0.5)
        assert state and state["checks"].get("worker") == "ok", state
        assert state["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    assert _readyz(port) is None  # the web server is gone with it
    with open(tmp_path / "worker.lock", "a") as lock:  # and the worker let go of its lock
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
