"""Health probes, the OpenAPI document, offline Swagger UI and the CLI."""

from openapi_spec_validator import validate


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_reports_migrations_not_at_head(client):
    # The test schema is made with create_all, so alembic_version is absent: not ready.
    res = client.get("/readyz")
    assert res.status_code == 503


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
