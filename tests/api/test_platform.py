"""Health probes, the OpenAPI document, offline Swagger UI and the CLI."""

from datetime import timedelta

import pytest
from openapi_spec_validator import validate
from sqlalchemy import make_url, text

from api import create_app
from api.extensions import db as _db
from api.models import WorkerHeartbeat, utcnow


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


@pytest.fixture
def migrated_to(app, db):
    """migrated_to(revision): give the create_all test schema an alembic_version row."""
    db.session.execute(
        text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    )
    db.session.commit()

    def stamp(revision: str) -> None:
        db.session.execute(text("DELETE FROM alembic_version"))
        db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": revision})
        db.session.commit()

    yield stamp
    db.session.rollback()
    db.session.execute(text("DROP TABLE alembic_version"))
    db.session.commit()


@pytest.fixture
def head(app) -> str:
    from alembic.script import ScriptDirectory

    ext = app.extensions["migrate"]
    with app.app_context():
        config = ext.migrate.get_config(ext.directory)
    return ScriptDirectory.from_config(config).get_current_head()


def test_readyz_reports_missing_migrations_table_as_migrations_not_database(client, head):
    # The test schema is made with create_all, so alembic_version is absent: not ready.
    res = client.get("/readyz")
    assert res.status_code == 503
    assert res.json["status"] == "unavailable"
    assert res.json["checks"]["database"] == "ok"
    assert res.json["checks"]["migrations"].startswith("not applied")
    assert head in res.json["checks"]["migrations"]


def test_readyz_reports_migrations_behind_head(client, migrated_to, head):
    migrated_to("0123456789ab")
    res = client.get("/readyz")
    assert res.status_code == 503
    assert res.json["checks"]["database"] == "ok"
    assert res.json["checks"]["migrations"] == f"at 0123456789ab, head is {head}"


def test_readyz_is_ready_at_head_before_any_worker_ran(client, migrated_to, head):
    migrated_to(head)
    res = client.get("/readyz")
    assert res.status_code == 200
    assert res.json == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def _beat(db, age: timedelta) -> None:
    now = utcnow()
    db.session.add(
        WorkerHeartbeat(name="scheduler", pid=1, host="h", started_at=now - age, beat_at=now - age)
    )
    db.session.commit()


def test_scheduler_with_a_live_worker_is_ok(app, client, db):
    _beat(db, timedelta(seconds=5))
    res = client.get("/readyz/scheduler")
    assert res.status_code == 200
    assert res.json["state"] == "ok" and 4 <= res.json["age_s"] < 60


def test_scheduler_not_started_is_reported_separately(client, migrated_to, head):
    migrated_to(head)
    assert client.get("/readyz").status_code == 200
    res = client.get("/readyz/scheduler")
    assert res.status_code == 503
    assert res.json["state"] == "not started" and res.json["reported_at"] is None


def test_a_stale_scheduler_leaves_the_web_node_ready(app, client, db, migrated_to, head):
    # Issue 13 item 2: a dead scheduler must not take every web node out of the load balancer.
    migrated_to(head)
    _beat(db, timedelta(seconds=app.config["WORKER_STALE_AFTER_S"] + 360))
    res = client.get("/readyz")
    assert res.status_code == 200
    assert res.json["checks"] == {"database": "ok", "migrations": "ok"}
    res = client.get("/readyz/scheduler")
    assert res.status_code == 503
    assert res.json["state"] == "stale"
    assert res.json["age_s"] >= app.config["WORKER_STALE_AFTER_S"] + 360


def test_readyz_reports_an_unreachable_database(tmp_path, database_url, is_postgres):
    if is_postgres:  # nothing listens on port 1
        url = make_url(database_url).set(port=1).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'missing-folder' / 'x.db'}"
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
    try:
        res = app.test_client().get("/readyz")
    finally:
        with app.app_context():
            _db.engine.dispose()
    assert res.status_code == 503
    assert res.json["status"] == "unavailable"
    assert res.json["checks"]["database"] == "unavailable: OperationalError"
    assert res.json["checks"]["migrations"] == "not checked: database unavailable"


def test_openapi_document_is_valid_and_declares_bearer(client):
    spec = client.get("/api/openapi.json").json
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]


def test_swagger_ui_is_served_from_packaged_assets(client):
    page = client.get("/docs").get_data(as_text=True)
    assert "http" not in page.split("<body>")[1].replace("http-equiv", "")
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        with client.get(f"/docs/assets/{asset}") as res:
            assert res.status_code == 200


def test_unknown_api_route_is_json_404(client):
    res = client.get("/api/v1/nothing-here")
    assert res.status_code == 404
    assert res.json["code"] == "not_found"


def test_cli_create_program_and_admin(runner, db):
    res = runner.invoke(
        args=["create-admin", "--email", "root@example.test", "--password", "x" * 12]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(args=["create-program", "--name", "Eastside", "--fellowship", "AA"])
    assert res.exit_code == 0, res.output
    assert "join code" in res.output


def test_seed_demo_is_idempotent(runner, db):
    from sqlalchemy import func, select

    from api.models import Member, Program

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    counts = (db.session.scalar(select(func.count(Member.id))),)
    res = runner.invoke(args=["seed-demo"])
    assert res.exit_code == 0
    assert (db.session.scalar(select(func.count(Member.id))),) == counts
    assert db.session.scalar(select(func.count(Program.id))) == 1
    assert counts[0] == 81
    assert "coordinator@demo.example" in res.output
