"""The web app starts without the libraries only some routes need (memory per process)."""

from __future__ import annotations

import subprocess
import sys

import config

PROBE = """
import sys
from api import create_app
create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite://"})
loaded = sorted(name for name in ("ortools", "lifelines") if name in sys.modules)
print("loaded:" + ",".join(loaded))
"""


def test_matching_rounds_and_survival_libraries_load_on_first_use():
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "loaded:"
