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
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.json  # at head, before any worker ran
        assert ready.json["checks"]["migrations"] == "ok"
        db.session.remove()  # release the read transaction the requests left open
        downgrade(revision="base")
        db.engine.dispose()
    engine = create_engine(empty_database_url)
    engine.dispose()


SCHEMA_QUERIES = {
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
    "FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default "
    "FROM information_schema.columns WHERE table_schema = 'public'",
}


def _schema(url: str) -> dict[str, set]:
    """Every constraint (CHECK and partial-unique included), index and column, as PostgreSQL
    itself prints them; compare_metadata does not look at CHECKs or index WHERE clauses."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: {tuple(row) for row in conn.exec_driver_sql(sql) if "alembic" not in row[0]}
                for name, sql in SCHEMA_QUERIES.items()
            }
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_migrated_schema_equals_the_models_constraint_by_constraint(app, empty_database_url):
    """The race tests run on tables made from the models; production runs on migrations.
    Both must hold the same invariants: same CHECKs, partial unique indexes and defaults."""
    migrated = create_app({"ENV_NAME": "testing", "DATABASE_URL": empty_database_url})
    with migrated.app_context():
        upgrade()
        db.engine.dispose()
    from_models = _schema(app.config["SQLALCHEMY_DATABASE_URI"])
    from_migrations = _schema(empty_database_url)
    for part in SCHEMA_QUERIES:
        assert from_migrations[part] - from_models[part] == set(), part
        assert from_models[part] - from_migrations[part] == set(), part
    assert any("CHECK" in c[2] for c in from_models["constraints"])
    assert any(" WHERE " in i[2] for i in from_models["indexes"])
