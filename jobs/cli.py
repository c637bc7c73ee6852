"""``sponsor-match worker``: the scheduler process (never started by the web app)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job once and exit.")
@click.option("--speed", type=float, default=1.0, hidden=True, help="Divide intervals (tests).")
@with_appcontext
def worker(once: bool, speed: float) -> None:
    """Run the scheduled jobs; a second worker waits on standby until the first stops."""
    from jobs.worker import run_all_once, run_worker

    app = current_app._get_current_object()
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if once:
        run_all_once(app)
        return
    run_worker(app, speed=speed)
