"""Configuration classes; the only module that reads the environment (and only when asked)."""

from __future__ import annotations

import base64
import binascii
import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PREFIX = "SPONSOR_"
PROJECT_ROOT = Path(__file__).resolve().parent
INSECURE_DEV_KEY = "dev-only-insecure-key-change-me"


@dataclass(frozen=True)
class Setting:
    """One environment setting: SPONSOR_<name> overrides the config attribute <name>."""

    name: str
    kind: type
    help: str


# Every variable the service reads. The README's configuration table is generated from this.
SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", str, "Which config class: development (default), testing or production."),
    Setting(
        "SECRET_KEY", str, "Signs sessions, CSRF tokens and email links. Required in production."
    ),
    Setting("DATABASE_URL", str, "SQLAlchemy URL. Default: SQLite file in the instance folder."),
    Setting("TEST_DATABASE_URL", str, "PostgreSQL URL the test suite runs against when set."),
    Setting(
        "NOTE_KEYS",
        str,
        "Private-note Fernet keys, comma-separated; the first encrypts. Required in production.",
    ),
    Setting("BASE_URL", str, "Public address used in links inside emails."),
    Setting("TOKEN_TTL_HOURS", int, "Lifetime of API tokens in hours (default 720)."),
    Setting(
        "LOGIN_RATE_LIMIT", str, "Login/token attempts allowed per client (default 10/minute)."
    ),
    Setting(
        "ACCOUNT_RATE_LIMIT",
        str,
        "Password attempts per account, all password endpoints together (default "
        "5/minute;20/hour).",
    ),
    Setting(
        "PASSWORD_IP_RATE_LIMIT",
        str,
        "Password attempts per client address, all password endpoints together (default "
        "30/minute).",
    ),
    Setting(
        "TRUSTED_PROXIES",
        int,
        "How many reverse proxies in front set X-Forwarded-For (default 0: use the socket's "
        "address).",
    ),
    Setting(
        "RATELIMIT_STORAGE_URI", str, "Rate-limit store: memory:// (default) or redis://host:6379."
    ),
    Setting("SMTP_HOST", str, "SMTP server host (default 127.0.0.1)."),
    Setting("SMTP_PORT", int, "SMTP server port (default 25)."),
    Setting("SMTP_USERNAME", str, "SMTP login, if the server needs one."),
    Setting("SMTP_PASSWORD", str, "SMTP password, if the server needs one."),
    Setting("SMTP_STARTTLS", bool, "Use STARTTLS (default false)."),
    Setting("MAIL_FROM", str, "Sender address (default noreply@localhost)."),
    Setting("MAIL_SENDER_NAME", str, "Sender name; no recovery wording (default 'Your group')."),
    Setting(
        "WEBHOOK_ALLOW_LOOPBACK",
        bool,
        "Allow loopback webhook targets. Tests only: production refuses to start with it.",
    ),
    Setting("WEBHOOK_TIMEOUT_S", float, "Webhook delivery timeout in seconds (default 5)."),
    Setting("WEBHOOK_PORTS", str, "Webhook ports allowed besides 80 and 443, comma-separated."),
    Setting("OUTBOX_MAX_ATTEMPTS", int, "Delivery attempts before a message is dead-lettered."),
    Setting(
        "SCHEDULER_LEASE_S",
        float,
        "Scheduler leadership lease in seconds (default 30); a frozen leader is replaced in 2x.",
    ),
    Setting(
        "WORKER_STALE_AFTER_S", int, "Heartbeat age after which /readyz/scheduler reports it stale."
    ),
    Setting("LOG_LEVEL", str, "Logging level (default INFO)."),
    Setting("MAILBOX_DIR", str, "Development only: where `make run` keeps sent mail."),
    Setting(
        "METRICS_TOKEN",
        str,
        "Bearer token for /metrics. Production without it answers 404 there (docs/operations.md).",
    ),
    Setting("WORKER_METRICS_PORT", int, "Loopback port of the worker's /metrics (0: none)."),
    Setting(
        "FIT_IN_CHILD",
        bool,
        "Fit the matcher's encoding in a child process, so web workers never load scikit-learn "
        "(default: on in production).",
    ),
)


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = INSECURE_DEV_KEY
    DATABASE_URL = ""  # empty: SQLite file in the instance folder
    TEST_DATABASE_URL = ""
    NOTE_KEYS = ""
    BASE_URL = "http://127.0.0.1:5000"
    TOKEN_TTL_HOURS = 720
    LOGIN_RATE_LIMIT = "10/minute"
    ACCOUNT_RATE_LIMIT = "5/minute;20/hour"
    PASSWORD_IP_RATE_LIMIT = "30/minute"
    TRUSTED_PROXIES = 0
    RATELIMIT_STORAGE_URI = "memory://"
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 25
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    MAIL_FROM = "noreply@localhost"
    MAIL_SENDER_NAME = "Your group"
    WEBHOOK_ALLOW_LOOPBACK = False
    WEBHOOK_TIMEOUT_S = 5.0
    WEBHOOK_PORTS = ""
    OUTBOX_MAX_ATTEMPTS = 8
    SCHEDULER_LEASE_S = 30.0
    WORKER_STALE_AFTER_S = 180
    LOG_LEVEL = "INFO"
    METRICS_TOKEN = ""
    WORKER_METRICS_PORT = 0
    FIT_IN_CHILD = False
    WEB_CONCURRENCY = 1  # gunicorn's own variable: web worker processes on this node
    ALLOW_DEMO = True
    DEV_MAILBOX = False  # development only: never in production
    MAILBOX_DIR = ""  # empty: instance/mailbox
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536

    # Flask and extension settings derived from the above in finalize().
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    API_TITLE = "sponsor-match"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # `make run` keeps outgoing mail in instance/mailbox and shows it at /dev/mailbox.
    DEV_MAILBOX = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = False
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    LOGIN_RATE_LIMIT = "1000/minute"
    ACCOUNT_RATE_LIMIT = "1000/minute"
    PASSWORD_IP_RATE_LIMIT = "1000/minute"
    WEBHOOK_ALLOW_LOOPBACK = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    ALLOW_DEMO = False
    SESSION_COOKIE_SECURE = True
    FIT_IN_CHILD = True


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


class ConfigError(RuntimeError):
    """The environment does not describe a usable configuration."""


def _parse(setting: Setting, raw: str) -> object:
    if setting.kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        return setting.kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{setting.name} must be a {setting.kind.__name__}") from exc


def load(name: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Build the settings dict for config class ``name`` (or SPONSOR_ENV) with env overrides.

    Raises ConfigError when the environment is unusable (e.g. production without a secret key).
    """
    environ = os.environ if environ is None else environ
    name = name or environ.get(f"{PREFIX}ENV") or "development"
    if name not in CONFIGS:
        raise ConfigError(f"{PREFIX}ENV must be one of {', '.join(CONFIGS)}; got {name!r}")
    cls = CONFIGS[name]
    values = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    for setting in SETTINGS:
        raw = environ.get(PREFIX + setting.name)
        if raw is not None and setting.name != "ENV":
            values[setting.name] = _parse(setting, raw)
    if environ.get("WEB_CONCURRENCY"):
        try:
            values["WEB_CONCURRENCY"] = int(environ["WEB_CONCURRENCY"])
        except ValueError as exc:
            raise ConfigError("WEB_CONCURRENCY must be an int") from exc
    refuse_unusable_rate_limits(str(values["RATELIMIT_STORAGE_URI"]), 1)
    if cls is DevelopmentConfig and f"{PREFIX}BASE_URL" not in environ and environ.get("PORT"):
        values["BASE_URL"] = f"http://127.0.0.1:{environ['PORT']}"  # links follow `make run`
    if cls is ProductionConfig:
        _refuse_unsafe_production(values)
    return values


def refuse_unusable_rate_limits(storage_uri: str, web_workers: int) -> None:
    """Raise ConfigError, naming the setting, when rate limits would not hold as configured:
    a redis:// store without the redis client, or one in-memory store per web worker (each
    process would count on its own, so 10/minute would allow 10 per worker)."""
    if storage_uri.startswith("redis") and importlib.util.find_spec("redis") is None:
        raise ConfigError(
            f"{PREFIX}RATELIMIT_STORAGE_URI is a Redis URL but the redis client is not "
            f"installed: pip install 'sponsor-match[redis]'"
        )
    if storage_uri.startswith("memory") and web_workers > 1:
        raise ConfigError(
            f"{PREFIX}RATELIMIT_STORAGE_URI is {storage_uri} but {web_workers} web workers "
            f"would each count rate limits on their own: set it to a shared store such as "
            f"redis://127.0.0.1:6379 (or run one web worker)"
        )


def _refuse_unsafe_production(values: Mapping[str, object]) -> None:
    """Raise ConfigError, naming the variable, for settings production must never run with."""
    if values["SECRET_KEY"] in ("", INSECURE_DEV_KEY):
        raise ConfigError(
            f"{PREFIX}SECRET_KEY is not set: production needs a long random secret key "
            f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if not _note_keys_valid(str(values.get("NOTE_KEYS") or "")):
        # Without keys the note key would be derived from SECRET_KEY: one leaked secret would
        # open every private note, and rotating the secret would lose them all.
        raise ConfigError(
            f"{PREFIX}NOTE_KEYS is not set or not valid: production needs one or more Fernet "
            f"keys, comma-separated (e.g. python -c 'from cryptography.fernet import Fernet; "
            f"print(Fernet.generate_key().decode())')"
        )
    refuse_unusable_rate_limits(
        str(values["RATELIMIT_STORAGE_URI"]), int(values["WEB_CONCURRENCY"])
    )
    if values["WEBHOOK_ALLOW_LOOPBACK"]:
        # Loopback targets let a coordinator's webhook reach services on the server itself.
        raise ConfigError(
            f"{PREFIX}WEBHOOK_ALLOW_LOOPBACK is for tests only: production refuses to start "
            f"with it set (unset it or set it to false)"
        )


def _note_keys_valid(raw: str) -> bool:
    """True if ``raw`` holds at least one key and every key is 32 url-safe base64 bytes."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    try:
        return bool(keys) and all(len(base64.urlsafe_b64decode(key)) == 32 for key in keys)
    except (binascii.Error, ValueError):
        return False


def finalize(values: dict[str, object], instance_path: str) -> dict[str, object]:
    """Derive Flask and extension settings that depend on other values or the instance folder."""
    url = values.get("DATABASE_URL") or ""
    if not url:
        url = f"sqlite:///{Path(instance_path) / 'sponsor-match.db'}"
    values["SQLALCHEMY_DATABASE_URI"] = url
    if str(url).startswith("sqlite"):
        options = {"connect_args": {"timeout": 30}}
    else:
        options = {"pool_pre_ping": True}
    options.update(values.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # Bound values (emails, sobriety dates, ...) never go into error messages, so never into
    # logs (DESIGN §6): not overridable.
    options["hide_parameters"] = True
    values["SQLALCHEMY_ENGINE_OPTIONS"] = options
    values["RATELIMIT_STORAGE_URI"] = values["RATELIMIT_STORAGE_URI"]
    return values
