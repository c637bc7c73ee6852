"""Migrations upgrade an empty database to head and match the models exactly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, make_url

from api import create_app
from api.extensions import db


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    import psycopg

    url = make_url(database_url)
    name = f"{url.database}_mig"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_from_empty_to_head_matches_models(empty_database_url):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        client = app.test_client()
        assert client.get("/readyz").status_code in (200, 503)
        assert client.get("/readyz").json["checks"]["migrations"] == "ok"
        db.session.remove()  # release the read transaction the requests left open
        downgrade(revision="base")
        db.engine.dispose()
    engine = create_engine(empty_database_url)
    engine.dispose()
