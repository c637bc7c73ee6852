"""The demo shows its mail: `make run` keeps every email in a development mailbox whose page
shows it with working links to the right port; production has no such page."""

from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

from api import create_app
from api.mailbox import MailboxSink, letters

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "sponsor-match")


def _send(port: int, to: str, body: str) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = "A note from your group", "noreply@localhost", to
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(msg)


def test_the_sink_keeps_each_message_and_the_page_links_its_addresses(tmp_path):
    sink = MailboxSink(tmp_path / "mailbox").start()
    try:
        _send(sink.port, "sam@example.org", "Open http://127.0.0.1:5000/asks to answer.")
    finally:
        sink.stop()
    [kept] = letters(tmp_path / "mailbox")
    assert kept.to == "sam@example.org" and "/asks" in kept.body
    app = create_app(
        {"ENV_NAME": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    )
    app.config["MAILBOX_DIR"] = str(tmp_path / "mailbox")
    client = app.test_client()
    listing = client.get("/dev/mailbox").get_data(as_text=True)
    assert "sam@example.org" in listing
    page = client.get(f"/dev/mailbox/{kept.name}").get_data(as_text=True)
    assert '<a href="http://127.0.0.1:5000/asks">' in page
    assert client.get("/dev/mailbox/..%2Fsecret.eml").status_code == 404


def test_production_never_serves_the_mailbox(tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert "mailbox.inbox" not in app.view_functions
    assert app.test_client().get("/dev/mailbox").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as res:
            return res.read().decode()
    except (urllib.error.URLError, OSError):
        return None


@pytest.mark.slow
def test_make_run_keeps_the_mail_it_sends_with_links_to_its_own_port(tmp_path):
    env = {
        **os.environ,
        "SPONSOR_ENV": "development",
        "SPONSOR_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "SPONSOR_WORKER_LOCK_PATH": str(tmp_path / "worker.lock"),
        "SPONSOR_MAILBOX_DIR": str(tmp_path / "mailbox"),
    }
    for key in ("SPONSOR_SMTP_PORT", "SPONSOR_SMTP_HOST", "SPONSOR_BASE_URL", "PORT"):
        env.pop(key, None)
    for step in (["db", "upgrade"], ["seed-demo", "--if-empty"]):
        done = subprocess.run([CLI, *step], env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    # Asked for before the server starts, so it is first in the outbox (the worker's first
    # start also asks every demo sponsor whether they are still available).
    ask = "from api import create_app; from api.services.passwords import request_password_link"
    ask += "\nwith create_app().app_context(): request_password_link('newcomer1@demo.example')"
    port = _free_port()
    queued = {**env, "PORT": str(port)}  # `make run` gives the web server its port too
    done = subprocess.run([sys.executable, "-c", ask], env=queued, cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.devserver", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _get(f"{base}/healthz") is None and time.monotonic() < deadline:
            time.sleep(0.5)
        kept = []
        while not kept and time.monotonic() < deadline + 60:  # the worker delivers every 10 s
            time.sleep(1)
            kept = [m for m in letters(tmp_path / "mailbox") if "newcomer1@" in m.to]
        assert kept, "the worker delivered no password link to the development mailbox"
        page = _get(f"{base}/dev/mailbox/{kept[0].name}")
        assert page and f'<a href="{base}/reset-password/' in page, kept[0].body
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"{base}/join/DEMO-GROUP-2026" in out and f"{base}/dev/mailbox" in out
