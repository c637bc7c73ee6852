"""Deployment files: the Procfile runs under honcho; the systemd units restart what dies."""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import config
from tests.conftest import IN_CI
from tests.jobs.helpers import free_port

BIN = Path(sys.executable).parent
DEPLOY = config.PROJECT_ROOT / "deploy"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPONSOR_", "PROMETHEUS_"))}
    env.pop("WEB_CONCURRENCY", None)
    return {**env, "PATH": f"{BIN}:{env.get('PATH', '')}", **extra}


def _heartbeat(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM worker_heartbeat"))
    finally:
        engine.dispose()


@pytest.mark.slow  # ~20-45 s: a migration, two app start-ups and a clean stop
def test_procfile_runs_web_and_worker_under_honcho(tmp_path):
    url = f"sqlite:///{tmp_path / 'honcho.db'}"
    env = _env(SPONSOR_ENV="testing", SPONSOR_DATABASE_URL=url)
    subprocess.run(
        [BIN / "sponsor-match", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    port = free_port()
    honcho = subprocess.Popen(
        [BIN / "honcho", "start", "--port", str(port)],
        cwd=config.PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    web_ok = beat = False
    took = 0.0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (web_ok and beat):
            assert honcho.poll() is None, honcho.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as res:
                    web_ok = res.status == 200
            except OSError:
                pass
            beat = beat or _heartbeat(url) > 0
            time.sleep(0.5)
        took = time.monotonic() - deadline + 60
    finally:
        stopping = time.monotonic()
        os.killpg(honcho.pid, signal.SIGTERM)
        out, _ = honcho.communicate(timeout=60)
    print(f"honcho: up after {took:.1f} s, stopped after {time.monotonic() - stopping:.1f} s")
    assert web_ok, out
    assert beat, out  # the worker line ran the scheduler, which wrote its heartbeat


NGINX = "/usr/sbin/nginx"
NGINX_MAIN = """
pid {tmp}/nginx.pid;
events {{}}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    include {tmp}/site.conf;
}}
"""


def test_nginx_example_is_valid(tmp_path):
    if not os.path.exists(NGINX):
        why = f"needs nginx at {NGINX} (apt-get install nginx-light)"
        if IN_CI:
            pytest.fail(f"CI must run this test, but it {why}")
        pytest.skip(why)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem", "-subj", "/CN=t"],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/sponsors.example.org/fullchain.pem", "cert.pem")
    site = site.replace("/etc/letsencrypt/live/sponsors.example.org/privkey.pem", "key.pem")
    site = site.replace("cert.pem", str(tmp_path / "cert.pem"))
    site = site.replace("key.pem", str(tmp_path / "key.pem"))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "main.conf").write_text(NGINX_MAIN.format(tmp=tmp_path))
    checked = subprocess.run(
        [NGINX, "-t", "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "main.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "proxy_request_buffering on" in site and "location = /metrics" in site
    assert "limit_req_status 429" in site and "location = /readyz/scheduler" in site


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(DEPLOY / name)
    return unit


def test_systemd_units_restart_always_and_run_the_repo_commands():
    web, worker = _unit("sponsor-match-web.service"), _unit("sponsor-match-worker.service")
    for unit in (web, worker):
        assert unit["Service"]["Restart"] == "always"
        assert unit["Unit"]["StartLimitIntervalSec"] == "0"
        assert unit["Service"]["EnvironmentFile"] == "/etc/sponsor-match/env"
    assert web["Service"]["ExecStart"].endswith("gunicorn -c gunicorn.conf.py")
    assert worker["Service"]["ExecStart"].endswith("sponsor-match worker")


def test_env_example_names_only_real_settings():
    names = {f"{config.PREFIX}{setting.name}" for setting in config.SETTINGS}
    lines = (DEPLOY / "sponsor-match.env.example").read_text().splitlines()
    used = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert used - names == {"WEB_CONCURRENCY"}
    assert config.load("production", environ={"SPONSOR_ENV": "production"} | _example(lines))


def _example(lines: list[str]) -> dict[str, str]:
    """The example's values, with placeholder keys made valid (production checks them)."""
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    values["SPONSOR_NOTE_KEYS"] = "x" * 43 + "="
    return values
