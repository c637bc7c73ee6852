"""A web process never loads the heavy libraries only some work needs (memory per worker).

scikit-learn and SciPy (~135 MB resident, with pandas) are needed only to learn the matcher's
encoding, which production does in a child process (``SPONSOR_FIT_IN_CHILD``); OR-Tools loads
on a matching round's first use. The probe starts the app as production would, serves a
shortlist from a freshly fitted index, every coordinator report and the model card, and lists
what got imported.
"""

from __future__ import annotations

import subprocess
import sys

import config

HEAVY = ("sklearn", "scipy", "pandas", "lifelines", "ortools")

LOADED = f'\nprint("loaded:" + ",".join(sorted(n for n in {HEAVY!r} if n in sys.modules)))\n'

STARTED = (
    """
import sys
from api import create_app
create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite://"})
"""
    + LOADED
)

SERVED = (
    """
import sys
from datetime import date, datetime, UTC
from api import create_app
from api.extensions import db
app = create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite://", "FIT_IN_CHILD": True})
with app.app_context():
    db.create_all()
    from api.seed import seed_demo
    from api.models import SponsorRequest
    from api.reports import REPORTS, ReportParams, run_report
    from api.services.learning import model_card
    from api.services.shortlist import shortlist_for
    program = seed_demo().program
    request = db.session.query(SponsorRequest).filter_by(status="open").first()
    shortlist = shortlist_for(request.newcomer, request.uuid)["entries"]
    params = ReportParams(program, date(2026, 1, 1), date(2026, 12, 31), None, datetime.now(UTC))
    for name in REPORTS:
        run_report(name, params)
    model_card(program)
print("shortlist:" + str(len(shortlist)))
"""
    + LOADED
)


def _probe(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return out.stdout.strip().splitlines()


def test_the_web_app_starts_without_the_heavy_libraries():
    assert _probe(STARTED)[-1] == "loaded:"


def test_a_web_process_fits_shortlists_and_reports_without_the_heavy_libraries():
    lines = _probe(SERVED)
    assert lines[-2] == "shortlist:3"
    assert lines[-1] == "loaded:"
