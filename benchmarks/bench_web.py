"""Server time of the two busiest pages for people, on the demo programme (SQLite, test client).

The newcomer's shortlist page (the matcher behind it) and the sponsor's asks inbox, each
requested 300 times after a warm-up; p95 of the time from request to full response body.
Also the weight of each page as sent (HTML plus its stylesheets).
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

TARGETS = {"web_page_p95_ms": "≤ 50", "web_page_max_kb": "≤ 60"}
NOTES = [
    "web_page_p95_ms is the slower of the shortlist page and the sponsor inbox (test client, "
    "demo data on SQLite, 300 requests each after a warm-up); web_page_max_kb is the heavier "
    "page's HTML plus its stylesheets as sent."
]
N = 300


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _time(client, path: str) -> list[float]:
    for _ in range(10):
        assert client.get(path).status_code == 200, path
    samples = []
    for _ in range(N):
        start = time.perf_counter()
        res = client.get(path)
        res.get_data()
        samples.append((time.perf_counter() - start) * 1000)
        assert res.status_code == 200, path
    return samples


def _weight_kb(client, path: str) -> float:
    html = client.get(path).get_data(as_text=True)
    total = len(html.encode())
    for sheet in re.findall(r'<link rel="stylesheet"(?: media="[^"]*")? href="([^"]+)"', html):
        total += len(client.get(sheet).get_data())
    for script in re.findall(r'<script[^>]* src="([^"]+)"', html):
        total += len(client.get(script).get_data())
    return total / 1024


def run() -> dict:
    from api import create_app
    from api.extensions import db
    from api.seed import DEMO_PASSWORD, seed_demo

    folder = Path(tempfile.mkdtemp(prefix="sm-bench-web-"))
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{folder / 'web.db'}"})
    with app.app_context():
        db.create_all()
        seed_demo()
    newcomer, sponsor = app.test_client(), app.test_client()
    newcomer.post("/login", data={"email": "newcomer1@demo.example", "password": DEMO_PASSWORD})
    newcomer.post("/sponsor/request", data={"temporary_ok": "y"})
    shortlist = _time(newcomer, "/sponsor")
    page = newcomer.get("/sponsor").get_data(as_text=True)
    asked = re.findall(r'name="sponsor_id" value="([^"]+)"', page)[0]
    newcomer.post("/sponsor/ask", data={"sponsor_id": asked})
    with app.app_context():
        from api.models import Member

        email = db.session.scalar(db.select(Member.email).where(Member.uuid == asked_uuid(asked)))
    sponsor.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    inbox = _time(sponsor, "/asks")
    newcomer_kb = _weight_kb(newcomer, "/sponsor")
    inbox_kb = _weight_kb(sponsor, "/asks")
    return {
        "web_shortlist_p95_ms": round(_p95(shortlist), 2),
        "web_inbox_p95_ms": round(_p95(inbox), 2),
        "web_page_p95_ms": round(max(_p95(shortlist), _p95(inbox)), 2),
        "web_page_max_kb": round(max(newcomer_kb, inbox_kb), 1),
    }


def asked_uuid(text: str):
    import uuid

    return uuid.UUID(text)


if __name__ == "__main__":
    print(run())
