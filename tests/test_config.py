"""Config selection and the production guard."""

import pytest

import config
from api import create_app


@pytest.mark.parametrize(
    ("name", "expected"),
    [("development", "development"), ("testing", "testing"), (None, "development")],
)
def test_config_class_is_selected_by_name_or_env(name, expected):
    assert config.load(name, environ={})["ENV_NAME"] == expected


def test_sponsor_env_selects_config():
    assert config.load(None, environ={"SPONSOR_ENV": "testing"})["ENV_NAME"] == "testing"


def test_env_overrides_are_typed():
    values = config.load("testing", environ={"SPONSOR_TOKEN_TTL_HOURS": "5"})
    assert values["TOKEN_TTL_HOURS"] == 5


NOTE_KEY = "x" * 43 + "="  # 32 bytes, url-safe base64: the shape of a Fernet key
PROD = {"SPONSOR_SECRET_KEY": "x" * 48, "SPONSOR_NOTE_KEYS": NOTE_KEY}


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(config.ConfigError, match="SPONSOR_SECRET_KEY"):
        config.load("production", environ={})


def test_production_starts_with_a_real_key():
    values = config.load("production", environ=PROD)
    assert values["ALLOW_DEMO"] is False


@pytest.mark.parametrize("keys", [None, "", " , ", "not-a-key", f"{NOTE_KEY},short"])
def test_production_refuses_to_start_without_note_keys(keys):
    """Finding 11: production derived the note key from the secret key when none was set."""
    environ = {"SPONSOR_SECRET_KEY": "x" * 48}
    if keys is not None:
        environ["SPONSOR_NOTE_KEYS"] = keys
    with pytest.raises(config.ConfigError, match="SPONSOR_NOTE_KEYS"):
        config.load("production", environ=environ)


def test_production_accepts_several_note_keys():
    environ = {**PROD, "SPONSOR_NOTE_KEYS": f"{NOTE_KEY}, {'y' * 43}="}
    assert config.load("production", environ=environ)["NOTE_KEYS"].startswith(NOTE_KEY)


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_production_refuses_to_start_with_loopback_webhooks(value):
    environ = {**PROD, "SPONSOR_WEBHOOK_ALLOW_LOOPBACK": value}
    with pytest.raises(config.ConfigError, match="SPONSOR_WEBHOOK_ALLOW_LOOPBACK"):
        config.load("production", environ=environ)


def test_production_starts_with_loopback_webhooks_explicitly_off():
    environ = {**PROD, "SPONSOR_WEBHOOK_ALLOW_LOOPBACK": "false"}
    assert config.load("production", environ=environ)["WEBHOOK_ALLOW_LOOPBACK"] is False


def test_unknown_env_name_is_named():
    with pytest.raises(config.ConfigError, match="SPONSOR_ENV"):
        config.load("staging", environ={})


def test_bad_number_names_the_variable():
    with pytest.raises(config.ConfigError, match="SPONSOR_SMTP_PORT"):
        config.load("testing", environ={"SPONSOR_SMTP_PORT": "lots"})


def test_default_database_is_sqlite_in_instance_folder(tmp_path):
    values = config.finalize(config.load("development", environ={}), str(tmp_path))
    assert values["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'sponsor-match.db'}"


def test_factory_applies_overrides(tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["TESTING"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.db")


def test_sqlite_uses_wal_and_busy_timeout(tmp_path):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/w.db"})
    from sqlalchemy import text

    from api.extensions import db

    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        db.engine.dispose()


def test_the_readme_lists_every_setting_as_config_describes_it():
    """The README's configuration table is config.SETTINGS, row for row."""
    import re
    from pathlib import Path

    readme = (Path(config.__file__).parent / "README.md").read_text()
    rows = re.findall(r"^\| `(SPONSOR_\w+)` \| (.*) \|$", readme, re.M)
    expected = [(f"{config.PREFIX}{s.name}", s.help) for s in config.SETTINGS]
    table = "\n".join(f"| `{name}` | {text} |" for name, text in expected)
    assert rows == expected, f"replace the README's configuration rows with:\n{table}"
