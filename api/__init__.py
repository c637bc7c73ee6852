"""sponsor-match web application: the app factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import config as app_config


def create_app(config: str | dict | None = None) -> Flask:
    """Build the app. ``config`` is a config name, a dict of overrides, or None (SPONSOR_ENV)."""
    app = Flask(__name__, instance_relative_config=True)
    overrides = config if isinstance(config, dict) else {}
    name = config if isinstance(config, str) else overrides.pop("ENV_NAME", None)
    settings = app_config.load(name)
    settings.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(app_config.finalize(settings, app.instance_path))
    register_observability(app)  # first, so request ids and timings cover everything below

    register_extensions(app)
    register_request_guards(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_pages(app)
    register_security_headers(app)
    return app


def register_observability(app: Flask) -> None:
    from api.observability import init_app

    init_app(app)


def register_extensions(app: Flask) -> None:
    from flask_babel import gettext

    from api import models  # noqa: F401  (register every table with the metadata)
    from api.database import init_database
    from api.extensions import api, csrf, db, limiter, login_manager, migrate
    from api.i18n import N_

    init_database(app)
    migrate.init_app(app, db, directory=str(app_config.PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = N_("Please log in to see this page.")
    login_manager.localize_callback = gettext
    csrf.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "opaque token"}
    )


def register_request_guards(app: Flask) -> None:
    """Unusable JSON bodies refused first; then password attempts counted (per account and
    per client address, the address taken through the trusted proxies)."""
    from api import devlog, input_guard, throttle

    input_guard.init_app(app)
    throttle.init_app(app)
    devlog.init_app(app)  # the development server's request lines, without tokens


def register_blueprints(app: Flask) -> None:
    from api.blueprints import api_blueprints, page_blueprints
    from api.extensions import api, csrf

    for blueprint in api_blueprints():
        csrf.exempt(blueprint)  # API routes authenticate with bearer tokens, not cookies
        api.register_blueprint(blueprint)
    for blueprint in page_blueprints():
        app.register_blueprint(blueprint)
    from api.openapi import mark_security

    mark_security(app)
    from api.openapi_links import add_links

    add_links()  # which id in one answer feeds which later call (docs, stateful fuzzing)


def register_error_handlers(app: Flask) -> None:
    from api.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from api.cli import register

    register(app)


def register_pages(app: Flask) -> None:
    """Languages, the layout's values (crisis line, menu) and the form pattern's CSRF check."""
    from api import i18n
    from api.web import context, forms, mailbox

    i18n.init_app(app)
    context.init_app(app)
    forms.init_app(app)
    mailbox.init_app(app)  # development only


def register_security_headers(app: Flask) -> None:
    from api.headers import init_app

    init_app(app)
