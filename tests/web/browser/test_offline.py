"""A phone that loses its network still shows a page with the crisis line."""

from __future__ import annotations

import pytest

from tests.web.browser import checks

pytestmark = pytest.mark.browser


def test_without_a_network_pages_open_the_offline_page_with_the_crisis_line(browse):
    page = browse("en")
    page.goto("/login")
    page.evaluate("navigator.serviceWorker.ready")  # installed, with the offline page cached
    page.reload()  # now controlled by the service worker
    page.context.set_offline(True)
    try:
        page.goto("/sponsor")
        assert "You are offline" in page.inner_text("h1")
        assert page.locator('a[href="tel:988"]').count() >= 2
    finally:
        page.context.set_offline(False)
    # The browser logs the failed network fetch the worker answered for: expected here.
    seen = checks._guards[id(page)]["console"]
    seen[:] = [m for m in seen if "ERR_INTERNET_DISCONNECTED" not in m]
