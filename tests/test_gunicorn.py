"""gunicorn.conf.py: slow clients do not stall the site; unsafe production settings refuse."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import config
from tests.jobs.helpers import free_port

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SLOW_CLIENTS = 30


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPONSOR_", "PROMETHEUS_"))}
    env.pop("WEB_CONCURRENCY", None)
    return {**env, **extra}


def _start(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [GUNICORN, "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"],
        cwd=config.PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _get(port: int, path: str = "/healthz", timeout: float = 10) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as res:
        assert res.status == 200
    return time.perf_counter() - started


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read()
        try:
            _get(port, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 30 s")


def _slow_client(port: int, stop: threading.Event, connected: list) -> None:
    """Sends a request head one header line every 2 s and never finishes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        connected.append(1)
        n = 0
        while not stop.wait(2):
            n += 1
            try:
                sock.sendall(f"X-Slow-{n}: {'a' * 20}\r\n".encode())
            except OSError:
                return


@pytest.fixture
def server(tmp_path):
    port = free_port()
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    env = _env(SPONSOR_ENV="testing", SPONSOR_DATABASE_URL=url)
    proc = _start(port, env)
    try:
        _wait_until_up(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # reads and closes stderr


def test_thirty_slow_clients_do_not_stall_a_normal_request(server):
    stop = threading.Event()
    connected: list = []
    clients = [
        threading.Thread(target=_slow_client, args=(server, stop, connected), daemon=True)
        for _ in range(SLOW_CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        deadline = time.monotonic() + 5
        while len(connected) < SLOW_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(connected) == SLOW_CLIENTS
        time.sleep(2.5)  # every slow client has now sent a second header line
        # Normal requests over ~6 s while the slow clients keep dribbling their heads.
        took = []
        for _ in range(12):
            took.append(_get(server, timeout=5))
            time.sleep(0.5)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=5)
    print(f"\n{SLOW_CLIENTS} slow clients: normal request max {max(took) * 1000:.0f} ms")
    assert max(took) < 1.0


def test_production_with_several_workers_and_memory_limits_refuses_to_start():
    env = _env(
        SPONSOR_ENV="production",
        SPONSOR_SECRET_KEY="x" * 48,
        SPONSOR_NOTE_KEYS="x" * 43 + "=",
        SPONSOR_DATABASE_URL="sqlite:////nonexistent/never-opened.db",
    )
    proc = _start(free_port(), env)  # two workers by default, rate limits in memory
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "SPONSOR_RATELIMIT_STORAGE_URI" in err
