"""The development server's request log without tokens.

``flask run`` (Werkzeug's server, used by ``make run``) logs every request line, path and
query included, to the ``werkzeug`` logger: an emailed link's token (password, contact,
verification) would land in the log. This filter rewrites those lines with the access log's
redaction (api.observability.redact_path) and drops query strings.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

# Werkzeug colours the line (ANSI escapes around it) when the status is not 200.
_REQUEST_LINE = re.compile(
    r"^(?P<pre>(?:\x1b\[[0-9;]*m)*)(?P<method>[A-Z]+) (?P<target>\S+)"
    r"(?P<rest> HTTP/[\d.]+)?(?P<post>(?:\x1b\[[0-9;]*m)*)$"
)


class RedactRequestLines(logging.Filter):
    """Rewrite request lines in a record's arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = " ".join(_redact(part) for part in record.msg.split(" "))
        return True


def _redact(text: str) -> str:
    from api.observability import redact_path

    match = _REQUEST_LINE.match(text)
    if match is None:
        return redact_path(text.split("?", 1)[0]) if text.startswith("/") else text
    path = redact_path(match["target"].split("?", 1)[0])
    return f"{match['pre']}{match['method']} {path}{match['rest'] or ''}{match['post']}"


def init_app(app: Flask) -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactRequestLines) for f in logger.filters):
        logger.addFilter(RedactRequestLines())
