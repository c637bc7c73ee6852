"""The ``sponsor-match`` command: every ``flask`` command plus ours."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from api.errors import AppError


def _create_app() -> Flask:
    from api import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """sponsor-match: sponsor matching and accountability for recovery fellowships."""


def _fail(exc: AppError) -> None:
    raise click.ClickException(exc.message)


@click.command("create-admin")
@click.option("--email", required=True)
@click.option("--display-name", default="Admin A.", show_default=True)
@click.password_option()
@with_appcontext
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create an installation admin."""
    from api.services.accounts import create_member

    try:
        create_member(email=email, password=password, display_name=display_name, is_admin=True)
    except AppError as exc:
        _fail(exc)
    click.echo(f"Admin {email} created.")


@click.command("create-program")
@click.option("--name", required=True)
@click.option("--fellowship", "fellowships", multiple=True, required=True, help="e.g. AA, NA")
@click.option("--join-code", default=None)
@click.option("--coordinator-email", default=None, help="Existing member to make coordinator.")
@with_appcontext
def create_program(name, fellowships, join_code, coordinator_email) -> None:
    """Create a programme and print its join code."""
    from api.services.accounts import create_program as create
    from api.services.accounts import find_member_by_email, grant_roles

    try:
        program = create(name=name, fellowships=list(fellowships), join_code=join_code)
    except AppError as exc:
        _fail(exc)
    if coordinator_email:
        member = find_member_by_email(coordinator_email)
        if member is None:
            raise click.ClickException(f"No account for {coordinator_email}.")
        grant_roles(member, program, ["coordinator"])
    click.echo(f"Programme {program.name!r} created; join code: {program.join_code}")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when the database has no programme.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Create (or refresh) the demo programme and its demo logins."""
    if not current_app.config["ALLOW_DEMO"]:
        raise click.ClickException("Demo data is refused under ProductionConfig.")
    from api.seed import DEMO_PASSWORD
    from api.seed import seed_demo as seed

    result = seed(if_empty=if_empty)
    if result is None:
        click.echo("Database already has data; demo not seeded.")
        return
    click.echo(f"Demo programme {result.program.name!r} (join code {result.program.join_code}).")
    click.echo(f"Demo logins (password {DEMO_PASSWORD!r}):")
    for email in result.logins:
        click.echo(f"  {email}")


@click.command("rotate-note-keys")
@with_appcontext
def rotate_note_keys() -> None:
    """Re-encrypt private notes under the first key of SPONSOR_NOTE_KEYS (put the new key
    first, run this, then drop the old key)."""
    from api.services.notes import rotate_all_notes

    rotated, unreadable = rotate_all_notes()
    click.echo(f"{rotated} notes re-encrypted under the first key; {unreadable} unreadable.")
    if unreadable:
        raise click.ClickException(
            f"{unreadable} notes open with none of the configured keys: keep the old key."
        )


def _program(program_id: str):
    import uuid

    from api.extensions import db
    from api.models import Program

    try:
        program = db.session.scalar(db.select(Program).where(Program.uuid == uuid.UUID(program_id)))
    except ValueError:
        program = None
    if program is None:
        raise click.ClickException(f"No programme with id {program_id}.")
    return program


@click.command("learn")
@click.option("--program", "program_id", required=True, help="The programme's id (UUID).")
@click.option("--dry-run", is_flag=True, help="Train and report; store and change nothing.")
@with_appcontext
def learn(program_id: str, dry_run: bool) -> None:
    """Train a programme's outcome model now; it is used only if it beats the fixed weights."""
    from api.services import learning

    run = learning.train(_program(program_id), trigger="command", dry_run=dry_run)
    label = "dry run" if dry_run else f"version {run['version']}"
    click.echo(f"{label}: {run['status']} ({run['reason']})")
    click.echo(learning.reason_text(run))
    for outcome, f in run["figures"].items():
        click.echo(
            f"  {outcome}: held out from {f['held_out_from']}, n={f['n']}, "
            f"AUC {f['auc_fixed']} fixed → {f['auc_learned']} learned "
            f"(gain 95% interval {f['auc_gain_low']} … {f['auc_gain_high']}); "
            f"top third {f['top_fixed']} → {f['top_learned']}"
        )
    for text in learning.change_texts(run):
        click.echo(f"  {text}")


@click.command("learn-rollback")
@click.option("--program", "program_id", required=True, help="The programme's id (UUID).")
@click.option(
    "--to", "to", type=click.Choice(["previous", "fixed"]), default="previous", show_default=True
)
@with_appcontext
def learn_rollback(program_id: str, to: str) -> None:
    """Stop using the active learned weights: back to the version before, or the fixed ones."""
    from api.services import learning

    try:
        card = learning.rollback(_program(program_id), to=to)
    except AppError as exc:
        _fail(exc)
    active = card["active"]
    click.echo(
        f"Now ranking with version {active['version']}."
        if active
        else "Now ranking with the fixed weights."
    )


def register(app: Flask) -> None:
    from jobs.cli import worker

    for command in (
        create_admin,
        create_program,
        seed_demo,
        rotate_note_keys,
        worker,
        learn,
        learn_rollback,
    ):
        app.cli.add_command(command)
