"""The coordinator's dashboard and the API docs in a real browser, on the shared demo server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.browser.journeys import log_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
# Saved outside git on every run; copy it to docs/screenshots/ when the dashboard changes.
SCREENSHOT = ROOT / "test-artifacts" / "dashboard.png"
PHONE_SHOT = ROOT / "test-artifacts" / "console-dashboard-390.png"


def test_coordinator_dashboard_in_a_real_browser(browse, tmp_path):
    page = browse("en")
    page.set_viewport_size({"width": 1200, "height": 900})
    log_in(page, "coordinator@demo.example")
    page.click("text=Coordinator dashboard")
    page.wait_for_load_state("load")
    assert "988" in page.inner_text(".crisis")
    # A phone: no sideways scroll of the page, chart text at least 12 px on screen.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('figure.chart svg text')]
            .filter(t => t.getBoundingClientRect().height > 0 && t.textContent.trim())
            .map(t => parseFloat(getComputedStyle(t).fontSize)
                 * t.ownerSVGElement.getBoundingClientRect().width
                 / t.ownerSVGElement.viewBox.baseVal.width))"""
    )
    assert smallest >= 12, smallest
    _bars_are_readable(page)
    PHONE_SHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(PHONE_SHOT), full_page=False)
    page.set_viewport_size({"width": 1200, "height": 900})

    charts = page.locator("figure.chart svg")
    assert charts.count() == 7  # "Who waits longest" is a list of HTML bars
    for i in range(6):
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

    page.locator("nav.menu").get_by_role("link", name="Pairs that went quiet").click()
    first = page.locator("section.escalation").first
    first.get_by_role("link", name="Acknowledge…").click()
    page.fill("input[name=action_taken]", "Phoned the sponsor; call booked")
    page.get_by_role("button", name="Acknowledge with this note").click()
    page.wait_for_selector("text=Acknowledged: your note is recorded.")
    # Each note with who wrote it (is_visible does not wait, so wait for the note itself).
    note = page.locator(".acknowledged", has_text="Phoned the sponsor; call booked").first
    note.wait_for(state="visible")
    assert note.inner_text().startswith("Acknowledged by ")


def _bars_are_readable(page) -> None:
    """Every "Who waits longest" group has its whole name on screen and a visible bar."""
    rows = page.locator("#breakdowns figure.bars li")
    rows.first.wait_for()
    assert rows.count() > 0
    for i in range(rows.count()):
        label = rows.nth(i).locator(".bar-label")
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth"), label.inner_text()
        assert rows.nth(i).locator(".bar").bounding_box()["width"] >= 2


def test_the_dashboard_fits_a_small_phone_in_spanish(browse):
    page = browse("es")
    log_in(page, "coordinator@demo.example")
    page.set_viewport_size({"width": 320, "height": 640})
    page.get_by_role("link", name="Panel de coordinación").click()
    # The click returns once the new page starts arriving; the bars sit near the end of it.
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    _bars_are_readable(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    _bars_are_readable(page)


def test_api_docs_render_with_no_network_beyond_the_server(browse):
    """Swagger UI comes from the installed package: every request it makes stays on our host
    (the harness refuses and reports any other)."""
    page = browse("en")
    page.goto("/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 20
    assert "/api/v1/auth/tokens" in page.inner_text("#swagger-ui")
    assert "988" in page.inner_text(".crisis")
