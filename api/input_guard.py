"""Refuse JSON bodies no schema should ever see: nested too deeply, or text that is not text.

Python's JSON decoder recurses once per nesting level, so a body of 50,000 ``[`` raises
RecursionError (a 500); and JSON may spell a lone surrogate (``"\\ud800"``), a string that no
database or encoder accepts. Both are refused before any handler runs, with the usual 422 shape
naming the field.
"""

from __future__ import annotations

import json
import re

from flask import Flask, request

from api.errors import error_body

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")
TOO_DEEP = f"The JSON body is nested too deeply (at most {MAX_DEPTH} levels)."
NOT_TEXT = "Contains a character that is not valid text (a lone surrogate): remove it."


def init_app(app: Flask) -> None:
    app.before_request(refuse_unusable_json)


def refuse_unusable_json():
    """A 422 response for an unusable JSON body, else None (the request goes on)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return None
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        body = json.loads(raw)
    except RecursionError:
        return _refuse("_schema", TOO_DEEP)
    except ValueError:
        return None  # malformed JSON: the body parser answers it as usual
    problem = first_problem(body)
    return _refuse(*problem) if problem else None


def first_problem(body) -> tuple[str, str] | None:
    """(field path, message) of the first too-deep level or lone surrogate in ``body``."""
    stack = [(body, "_schema", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return "_schema", TOO_DEEP
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path, NOT_TEXT
        elif isinstance(value, dict):
            for key, item in value.items():
                name = key if path == "_schema" else f"{path}.{key}"
                if _SURROGATE.search(key):
                    return "_schema", NOT_TEXT
                stack.append((item, name, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                name = str(index) if path == "_schema" else f"{path}.{index}"
                stack.append((item, name, depth + 1))
    return None


def _refuse(field: str, message: str):
    return error_body(
        422, "validation_error", "The request has invalid fields.", {"json": {field: [message]}}
    )
