"""The real app with the demo seed, driven by Debian's Chromium: dashboard, CSV, escalation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Saved outside git on every run; copy it to docs/screenshots/ when the dashboard changes.
SCREENSHOT = ROOT / "test-artifacts" / "dashboard.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER = """
import sys
from werkzeug.serving import make_server
from api import create_app
from api.extensions import db
from api.seed import seed_demo

app = create_app({"ENV_NAME": "testing", "DATABASE_URL": sys.argv[1], "WTF_CSRF_ENABLED": True})
with app.app_context():
    db.create_all()
    seed_demo()
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture
def demo_server(tmp_path):
    """The app with the demo seed on a free loopback port, in its own process."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        port = proc.stdout.readline().strip()
        assert port.isdigit(), "the demo server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.mark.browser
def test_coordinator_dashboard_in_a_real_browser(demo_server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{demo_server}/login")
            page.fill("input[name=email]", "coordinator@demo.example")
            page.fill("input[name=password]", "recovery-demo")
            page.click("button[type=submit]")
            page.click("text=Coordinator dashboard")
            page.wait_for_selector("figure.chart svg")
            assert "988" in page.inner_text(".crisis")

            charts = page.locator("figure.chart svg")
            assert charts.count() == 7
            for i in range(7):
                chart = charts.nth(i)
                assert chart.locator(".no_data").count() == 0, f"chart {i} has no data"
                points = chart.locator(".series rect, .series path, .series circle")
                assert points.count() > 0, f"chart {i} drew no data points"
            assert page.locator("section.report table").count() >= 7
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            page.emulate_media(media="print")  # the print stylesheet: no forms, crisis line kept
            assert not page.locator("form").first.is_visible()
            assert page.locator(".crisis").is_visible()
            assert page.locator("figure.chart svg").first.is_visible()
            page.emulate_media(media="screen")

            with page.expect_download() as info:
                page.click("#queue a.csv")
            csv_path = tmp_path / "queue.csv"
            info.value.save_as(csv_path)
            lines = csv_path.read_text().splitlines()
            assert lines[0] == "request,display_name,waiting_days,proposals,declined_or_expired"
            assert len(lines) > 1

            page.click("header nav >> text=Escalations")
            first = page.locator("section.escalation").first
            first.locator("input[name=action_taken]").fill("Phoned the sponsor; call booked")
            first.locator("form.ack button").click()
            page.wait_for_selector("text=Acknowledged: your action is recorded.")
            assert page.locator(".acknowledged").first.is_visible()
            assert "Phoned the sponsor; call booked" in page.content()
            assert errors == []  # nothing refused by the Content-Security-Policy, no script errors
        finally:
            browser.close()


@pytest.mark.browser
def test_api_docs_render_with_no_network_beyond_the_server(demo_server):
    """Swagger UI comes from the installed package: every request it makes stays on our host."""
    from playwright.sync_api import sync_playwright

    elsewhere = []

    def only_our_server(route):
        if route.request.url.startswith(demo_server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", only_our_server)
            page = context.new_page()
            page.goto(f"{demo_server}/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            assert page.locator(".opblock").count() >= 20
            assert "/api/v1/auth/tokens" in page.inner_text("#swagger-ui")
            assert "988" in page.inner_text(".crisis")
            assert elsewhere == []
        finally:
            browser.close()
