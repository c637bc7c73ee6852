"""The development mailbox page: the mail `make run` would have sent, with working links.

Registered only when DEV_MAILBOX is on (the development config); production has no such route.
"""

from __future__ import annotations

import re

from flask import Blueprint, Flask, abort, current_app, render_template
from markupsafe import Markup, escape

from api.mailbox import letter, letters, mailbox_dir


def _dir():
    return mailbox_dir(current_app.config["MAILBOX_DIR"], current_app.instance_path)


bp = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")
_URL = re.compile(r"https?://[^\s<>\"]+")


def linked(text: str) -> Markup:
    """The body escaped, each web address in it a link."""
    out, last = [], 0
    for found in _URL.finditer(text):
        out.append(escape(text[last : found.start()]))
        out.append(Markup('<a href="{0}">{0}</a>').format(found.group()))
        last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


@bp.get("")
def inbox():
    found = letters(_dir())
    return render_template("mailbox/inbox.html", letters=found)


@bp.get("/<name>")
def read(name: str):
    found = letter(_dir(), name)
    if found is None:
        abort(404)
    return render_template("mailbox/letter.html", letter=found, body=linked(found.body))


def init_app(app: Flask) -> None:
    if app.config.get("DEV_MAILBOX"):
        app.register_blueprint(bp)
