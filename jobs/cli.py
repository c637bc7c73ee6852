"""``sponsor-match worker``: the scheduler process (never started by the web app)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError


@click.command("worker")
@click.option(
    "--once", is_flag=True, help="Run every job once and exit (refused while a worker leads)."
)
@click.option("--speed", type=float, default=1.0, hidden=True, help="Divide intervals (tests).")
@click.option("--lease-s", type=float, default=None, hidden=True, help="Lease period (tests).")
@with_appcontext
def worker(once: bool, speed: float, lease_s: float | None) -> None:
    """Run the scheduled jobs. One worker leads (a lease in the database); others stand by and
    take over when it stops, dies or freezes."""
    from jobs.worker import run_all_once, run_worker

    app = current_app._get_current_object()
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if once:
        if lease_s:
            app.config["SCHEDULER_LEASE_S"] = lease_s
        try:
            holder = run_all_once(app)
        except SQLAlchemyError as exc:
            raise click.ClickException(
                f"the database is unavailable ({type(exc).__name__}); nothing was run"
            ) from None
        if holder is not None:
            raise click.ClickException(
                f"another worker leads (pid {holder.pid} on {holder.host}, lease token "
                f"{holder.token} until {holder.expires_at:%H:%M:%S} UTC); nothing was run"
            )
        return
    from api.observability import serve_worker_metrics

    try:
        serve_worker_metrics(app)  # nothing unless SPONSOR_WORKER_METRICS_PORT is set
    except OSError as exc:  # a standby worker on the same machine: the leader serves them
        logging.getLogger("sponsor_match.worker").warning("no worker metrics port: %s", exc)
    run_worker(app, speed=speed, lease_s=lease_s)
