"""The browser harness: one served app, one SMTP server and one Chromium for the whole session.

- ``live``: the real app with the demo seed in its own process (tests/web/browser/server.py),
  on a SQLite file, or on a throw-away PostgreSQL database when SPONSOR_TEST_DATABASE_URL is
  set; its email goes to a real SMTP server on loopback (``live.mail_to``).
- ``browse(lang)``: a fresh browser context per call (a person on their own phone, 390×844,
  the language in Accept-Language) whose page fails the test on a console error, a script
  error or any request to a host other than the app's.

The tests share the server, so each journey uses demo people no other test uses (or signs
up new ones) and never depends on the order tests run in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

from api.i18n import LANG_COOKIE
from tests.conftest import CHROMIUM, _create_pg_database, _drop_pg_database, _test_database_url
from tests.jobs.helpers import SmtpSink
from tests.web.browser import checks

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
START_TIMEOUT_S = 90


@dataclass
class LiveApp:
    """The served app: its address, its database and the SMTP server its outbox sends to."""

    url: str
    database_url: str
    sink: SmtpSink
    _mailer: object = field(default=None, repr=False)

    def act(self, job: Callable, *args):
        """Run ``job(*args)`` in a second app on the same database (the worker's jobs, or a
        service call that sets a scene), and return what it returns."""
        from api import create_app
        from api.extensions import db
        from tests.web.browser.server import settings

        if self._mailer is None:
            self._mailer = create_app(
                {**settings(self.database_url, self.sink.port), "BASE_URL": self.url}
            )
        with self._mailer.app_context():
            try:
                return job(*args)
            finally:
                db.session.remove()

    def deliver(self) -> None:
        """Run the worker's delivery job once."""
        from api.models import utcnow
        from jobs.deliver import deliver_due

        self.act(lambda: deliver_due(utcnow()))

    def mail_to(self, address: str, *, after: int = 0, timeout: float = 10.0) -> EmailMessage:
        """The newest email to ``address`` among those received after the ``after``-th one,
        delivering the outbox until it arrives."""
        deadline = time.monotonic() + timeout
        while True:
            self.deliver()
            found = [m for m in self.sink.messages[after:] if address in str(m["To"])]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no email to {address} within {timeout} s")
            time.sleep(0.2)

    def close(self) -> None:
        """Close the delivery app's connections (before its database is dropped)."""
        if self._mailer is not None:
            from api.extensions import db

            with self._mailer.app_context():
                db.engine.dispose()

    def mark(self) -> int:
        """How many emails arrived so far (pass it to ``mail_to(after=...)``)."""
        return len(self.sink.messages)

    def link_in(self, message: EmailMessage, path: str) -> str:
        """The first link in ``message`` to this app whose path starts with ``path``."""
        text = message.get_body(preferencelist=("plain",)).get_content()
        for link in re.findall(r"https?://[^\s<>\"')]+", text):
            if link.startswith(self.url + path):
                return link
        raise AssertionError(f"no link to {path} in the email:\n{text}")


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[LiveApp]:
    here = tmp_path_factory.mktemp("live")
    base = _test_database_url()
    if base:
        database_url, admin_dsn = _create_pg_database(base)
    else:
        database_url, admin_dsn = f"sqlite:///{here / 'demo.db'}", None
    port_file, log_path = here / "port", here / "server.log"
    with SmtpSink() as sink, open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.web.browser.server", database_url, str(sink.port)]
            + [str(port_file)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        app = None
        try:
            port = _wait_for_port(server, port_file, log_path)
            app = LiveApp(url=f"http://127.0.0.1:{port}", database_url=database_url, sink=sink)
            yield app
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if app is not None:
                app.close()
            if admin_dsn:
                _drop_pg_database(admin_dsn, database_url)


def _wait_for_port(server: subprocess.Popen, port_file: Path, log_path: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip().isdigit():
            return int(port_file.read_text())
        if server.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"the test server did not start:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the session (Debian's; never a downloaded one)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Chromium at {CHROMIUM}")  # under CI tests/conftest.py fails first
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session", autouse=True)
def _page_report():
    """Write what the checks measured (pages, axe findings, weights) once the session ends."""
    yield
    checks.write_report(ROOT / "test-artifacts" / "browser-pages.json")


def pytest_terminal_summary(terminalreporter):
    """One line on what the browser checks saw (details in test-artifacts/browser-pages.json)."""
    if checks.REPORT:
        terminalreporter.write_line(checks.summary_line())


@pytest.fixture
def browse(live, chromium) -> Iterator[Callable]:
    """``browse(lang, time_zone=..., javascript=True)``: a new phone in a person's hand,
    guarded (checks.guard)."""
    contexts = []

    def open_page(lang: str = "en", *, time_zone: str = "America/Chicago", javascript=True):
        context = chromium.new_context(
            java_script_enabled=javascript,
            viewport=PHONE,
            base_url=live.url,
            locale={"en": "en-US", "es": "es-US"}[lang],
            timezone_id=time_zone,
            extra_http_headers={"Accept-Language": f"{lang};q=1.0"},
        )
        # the footer's language choice made on this phone: logging in keeps it (the demo's
        # people are shared by journeys in both languages)
        context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": live.url}])
        contexts.append(context)
        page = context.new_page()
        checks.guard(page, live.url)
        return page

    yield open_page
    try:
        for context in contexts:
            for page in context.pages:
                checks.assert_clean(page)
    finally:
        for context in contexts:
            context.close()
