"""Installable on a phone: a manifest with icons, a service worker served from the root, and an
offline page that carries the crisis line."""

from __future__ import annotations

import json


def test_the_manifest_names_icons_that_exist(client):
    with client.get("/static/manifest.webmanifest") as res:
        manifest = json.loads(res.get_data(as_text=True))
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as res:
            assert res.status_code == 200, icon["src"]


def test_the_offline_page_carries_the_crisis_line(client):
    html = client.get("/offline", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Estás sin conexión" in html
    assert html.count('href="tel:988"') >= 2 and 'href="tel:18006624357"' in html


def test_the_service_worker_is_served_from_the_root_and_caches_the_offline_page(client):
    res = client.get("/sw.js")
    assert res.status_code == 200 and res.mimetype == "text/javascript"
    assert res.headers["Cache-Control"] == "no-cache"
    assert '"/offline"' in res.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    assert '<script src="/static/app.js" defer></script>' in page
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
