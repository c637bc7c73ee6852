"""The one form pattern of the pages: a form is loaded through its API twin's marshmallow schema.

A view builds a ``Form`` with the schema the API handler uses (so there is one validation), the
names of the fields the page shows, and the object's current values for a GET. On POST,
``form.validate()`` turns the posted fields into the wire format (lists from repeated inputs,
booleans from checkboxes, empty optional fields as null), loads them through the schema, and
keeps the field errors. The view then calls the same service as the API; an ``AppError`` from
it goes back to the form with ``form.fail(exc)``. Success redirects (post → redirect → get);
anything else re-renders the form filled with what the person typed, each error beside its
field (``_form.html``'s ``field`` macro). docs/web.md shows the whole pattern.

CSRF is checked for every POST to a page before the view runs. A view decorated with
``@form_view`` gets an expired or missing token as a form-level error ("please try again") with
the form re-shown; any other page answers 400.

A page whose forms came back with errors also opens with a short summary ("Please check:" and
a link to each field), so a person on a long page without JavaScript sees that the save failed
(``base.html`` shows ``page_errors()``; the templates tell a form which fields they show).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import wraps

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from api.errors import AppError
from api.i18n import translate_error

Converter = Callable[[MultiDict], object]
FORM_LEVEL = "_form"


def form_view(view: Callable) -> Callable:
    """Mark a page view that shows a ``Form``: a failed CSRF check re-shows its form."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    wrapper.reshows_form = True
    return wrapper


class Form:
    """One page form: what the person typed, the cleaned data, and errors per field."""

    def __init__(
        self,
        schema: Schema,
        names: Iterable[str] = (),
        *,
        initial: Mapping | None = None,
        convert: Mapping[str, Converter] | None = None,
    ):
        self.schema = schema
        self.names = tuple(names)
        self.convert = dict(convert or {})
        self.data: dict = {}
        self.errors: dict[str, list[str]] = {}
        self.posted = request.method == "POST"
        self.raw = request.form if self.posted else _as_multidict(initial or {})
        self.labels: dict[str, str | None] = {}  # the fields the page shows, in page order
        self._whole: set[str] = set()  # fields whose errors are about the whole value
        self.messages: dict = {}  # the schema's errors as marshmallow gave them

    # ---- what the view calls -------------------------------------------------------------
    def validate(self) -> bool:
        """Load the posted fields through the schema; True when the view may act on ``data``."""
        if not self.posted:
            return False
        if g.get("csrf_failed"):
            self.errors[FORM_LEVEL] = [_("This form had expired. Please check it and try again.")]
            return False
        try:
            self.data = self.schema.load(self.wire())
        except ValidationError as exc:
            self.errors = _flatten(exc.messages)
            self.messages = exc.messages
            self._whole = {
                name
                for name, texts in exc.messages.items()
                if isinstance(texts, list) and all(isinstance(t, str) for t in texts)
            }
            return False
        return True

    def fail(self, exc: AppError) -> None:
        """Show a service's refusal: beside its field when it names one, else above the form."""
        named = exc.errors.get("json") if isinstance(exc.errors, dict) else None
        if isinstance(named, dict) and named:
            for name, messages in _flatten(named).items():
                self.errors.setdefault(name if name in self.names else FORM_LEVEL, []).extend(
                    messages
                )
        else:
            self.errors.setdefault(FORM_LEVEL, []).append(exc.message)

    def spread(self, name: str, input_name: Callable[[str], str]) -> None:
        """Show errors about one part of a dict field (``{"language": [...]}``) beside the input
        that holds that part (``input_name("language")``), not above them all."""
        parts = self.messages.get(name)
        if not isinstance(parts, dict):
            return
        self.errors.pop(name, None)
        for key, texts in parts.items():
            for field, messages in _flatten(texts, input_name(str(key))).items():
                self.errors.setdefault(field, []).extend(messages)

    def render(self, template: str, **context):
        """The page with this form; 422 when the form came back with errors."""
        status = 422 if self.errors else 200
        return render_template(template, form=self, **context), status

    # ---- what the templates call ---------------------------------------------------------
    def value(self, name: str) -> str:
        value = self.raw.get(name)
        return "" if value is None else str(value)

    def values(self, name: str) -> list[str]:
        return [str(v) for v in self.raw.getlist(name)]

    def checked(self, name: str, option: str = "y") -> bool:
        return str(option) in self.values(name)

    def error(self, name: str) -> list[str]:
        """The field's errors in the reader's words; a rule about the whole value (a length)
        is worded from what the person gave: choices for a list, characters for text."""
        given = None
        if self.posted and name in self._whole:
            many = isinstance(self.schema.fields.get(name), fields.List)
            given = self.values(name) if many else self.value(name).strip()
        return [translate_error(message, given) for message in self.errors.get(name, [])]

    def form_errors(self) -> list[str]:
        return self.error(FORM_LEVEL)

    def show(self, name: str = FORM_LEVEL, label: str | None = None) -> str:
        """Note that the page shows ``name`` under ``label``, so the error summary at the top
        of the page can name it and link to it. Returns "" (the macros call it inline)."""
        self.labels.setdefault(name, label)
        shown = g.setdefault("shown_forms", [])
        if not any(form is self for form in shown):
            shown.append(self)
        return ""

    def summary(self) -> list[tuple[str, str]]:
        """``(link, words)`` for each problem of this form: a field's label linking to the
        field, a form-level message (or an error shown without a label) linking to it."""
        items = []
        names = [n for n in self.labels if n in self.errors]
        names += [n for n in self.errors if n not in self.labels]
        for name in names:
            label = self.labels.get(name)
            if name == FORM_LEVEL:
                items += [("#form-error", message) for message in self.form_errors()]
            elif label:
                items.append((f"#{name}", label))
            else:
                items += [(f"#{name}-error", message) for message in self.error(name)]
        return items

    # ---- HTML form → wire format ---------------------------------------------------------
    def wire(self) -> dict:
        """The posted fields as the API's JSON body would carry them."""
        body: dict = {}
        form = request.form
        for name in self.names:
            if name in self.convert:
                value = self.convert[name](form)
                if value is not _OMIT:
                    body[name] = value
                continue
            field = self.schema.fields.get(name)
            if field is None:
                raise KeyError(f"{name!r} is not a field of {type(self.schema).__name__}")
            value = _wire_value(field, name, form)
            if value is not _OMIT:
                body[name] = value
        return body


def page_errors() -> list[tuple[str, str]]:
    """What the summary at the top of the page lists: the problems of every form the page
    showed, in page order, each once."""
    items: list[tuple[str, str]] = []
    for form in g.get("shown_forms", ()):
        items += [item for item in form.summary() if item not in items]
    return items


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


_OMIT = _Omit()
OMIT = _OMIT  # a converter returns OMIT to leave its field out of the body


def _wire_value(field: fields.Field, name: str, form: MultiDict):
    if isinstance(field, fields.List):
        return [v.strip() for v in form.getlist(name) if v.strip()]
    if isinstance(field, fields.Boolean):
        return form.get(name) in ("y", "on", "true", "1")  # a checkbox: absent means no
    value = form.get(name, "").strip()
    if value:
        return value
    if field.allow_none:
        return None
    return "" if field.required else _OMIT


def _as_multidict(values: Mapping) -> MultiDict:
    pairs = []
    for key, value in values.items():
        if isinstance(value, list | tuple | set):
            pairs.extend((key, str(v)) for v in value)
        elif isinstance(value, bool):
            if value:
                pairs.append((key, "y"))
        elif value is not None:
            pairs.append((key, str(value)))
    return MultiDict(pairs)


def _flatten(messages, name: str = "") -> dict[str, list[str]]:
    """marshmallow's messages as ``{field: [message, ...]}``: everything under a top-level
    field (list items, nested slots) stays with that field; ``_schema`` errors are form-level."""
    if isinstance(messages, str):
        return {name or FORM_LEVEL: [messages]}
    if isinstance(messages, list):
        out: dict[str, list[str]] = {}
        for item in messages:
            for key, texts in _flatten(item, name).items():
                out.setdefault(key, []).extend(texts)
        return out
    out = {}
    for key, value in messages.items():
        own = name or (FORM_LEVEL if key == "_schema" else str(key))
        for field, texts in _flatten(value, own).items():
            out.setdefault(field, []).extend(texts)
    return out


def init_app(app: Flask) -> None:
    """Check CSRF on every POST to a page; form views re-show their form when it fails."""
    from api.extensions import csrf

    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked here instead
    app.add_template_global(page_errors)

    @app.before_request
    def _check_csrf():
        if not app.config.get("WTF_CSRF_ENABLED", True):
            return
        try:
            csrf.protect(apply_exemptions=True)
        except CSRFError:
            view = app.view_functions.get(request.endpoint)
            if getattr(view, "reshows_form", False):
                g.csrf_failed = True
                return
            raise
