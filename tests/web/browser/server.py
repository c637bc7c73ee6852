"""The app as people meet it, for the browser tests: one process serving the demo on loopback.

Run as ``python -m tests.web.browser.server DATABASE_URL SMTP_PORT PORT_FILE``. It builds the
real app (testing config, but with CSRF on), creates the tables, seeds the demo programme,
serves it threaded on a free 127.0.0.1 port, and writes that port to PORT_FILE once it
answers. Email goes to the SMTP server on SMTP_PORT when the outbox is delivered (the tests run
the delivery job on demand: see ``LiveApp.deliver``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from werkzeug.serving import make_server

from api import create_app
from api.extensions import db
from api.seed import seed_demo


def settings(database_url: str, smtp_port: int) -> dict:
    """The configuration both the server and the test's delivery app use."""
    return {
        "ENV_NAME": "testing",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": True,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
    }


def main(database_url: str, smtp_port: str, port_file: str) -> None:
    app = create_app(settings(database_url, int(smtp_port)))
    with app.app_context():
        db.create_all()
        seed_demo()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    Path(port_file).write_text(str(server.server_port))
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
