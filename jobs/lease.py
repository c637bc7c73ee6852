"""Scheduler leadership: a lease row with a fencing token, renewed by the leader, taken over
when it lapses (or at once when its holder is seen dead), and checked in every job commit.

A frozen (SIGSTOP) or partitioned leader stops renewing; a standby takes the lease once it has
lapsed, which bumps the token. When the old leader wakes, every commit it attempts checks its
token inside the same transaction (``FOR SHARE`` on PostgreSQL, under SQLite's write lock) and
fails, so it cannot commit job results under a stale token.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import create_engine, event, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from api.extensions import db
from api.models import SchedulerLease, utcnow

log = logging.getLogger("sponsor_match.worker")
LEASE_NAME = "scheduler"
_table = SchedulerLease.__table__


class LeadershipLost(RuntimeError):
    """This process no longer holds the scheduler lease it started a job under."""


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds the lease, as the row says."""

    token: int
    holder: str
    pid: int | None
    host: str | None
    expires_at: datetime


class Lease:
    """The scheduler lease as seen by one process (one ``holder`` id per process run).

    Every method may raise SQLAlchemy errors when the database is unreachable; callers retry.
    """

    def __init__(self, app: Flask, *, period_s: float, name: str = LEASE_NAME):
        self.app = app
        self.name = name
        self.period_s = period_s
        self.holder = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.token: int | None = None
        self.valid_until = 0.0  # time.monotonic() until which our lease surely holds
        self._conn: Connection | None = None
        self._own_engine: Engine | None = None
        self._lock = threading.Lock()  # the connection is shared by renewals and checks

    # -- the dedicated connection ------------------------------------------------------------

    def _engine(self) -> Engine:
        # Unpooled: closing the connection really ends the database session, which tells
        # standbys on PostgreSQL that this holder is gone.
        if self._own_engine is None:
            options = dict(self.app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
            for key in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle", "poolclass"):
                options.pop(key, None)
            options.pop("pool_pre_ping", None)
            with self.app.app_context():
                url = db.engine.url
            self._own_engine = create_engine(url, poolclass=NullPool, **options)
        return self._own_engine

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._close()
            self._conn = self._engine().connect()
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a broken connection may fail too; it is gone anyway
                pass
            self._conn = None

    def _run(self, work):
        """Run ``work(conn, now)`` in one transaction on the dedicated connection."""
        with self._lock:
            conn = self._connection()
            try:
                with conn.begin():
                    return work(conn, _db_now(conn))
            except Exception:
                self._close()  # a fresh connection next time; the old one may be broken
                raise

    # -- leadership --------------------------------------------------------------------------

    def acquire(self) -> int | None:
        """Take the lease if it is free, lapsed, ours, or its holder is dead; return the new
        token, or None while another holder is alive."""
        started = time.monotonic()

        def work(conn: Connection, now: datetime) -> int | None:
            row = _read(conn, self.name)
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(_table).values(
                                name=self.name, token=0, holder="", expires_at=now
                            )
                        )
                except IntegrityError:
                    pass  # another process created it first
                row = _read(conn, self.name)
            free = (
                row.expires_at <= now
                or row.holder in ("", self.holder)
                or not _holder_alive(conn, row)
            )
            if not free:
                return None
            taken = conn.execute(
                update(_table)
                .where(_table.c.name == self.name, _table.c.token == row.token)
                .values(
                    token=row.token + 1,
                    holder=self.holder,
                    pid=os.getpid(),
                    host=socket.gethostname()[:120],
                    backend_pid=_backend_pid(conn),
                    acquired_at=now,
                    expires_at=now + timedelta(seconds=self.period_s),
                )
            )
            return row.token + 1 if taken.rowcount == 1 else None

        token = self._run(work)
        if token is not None:
            self.token = token
            self.valid_until = started + self.period_s
        return token

    def renew(self) -> bool:
        """Extend our lease; False if another holder took it (our token is stale)."""
        if self.token is None:
            return False
        started = time.monotonic()

        def work(conn: Connection, now: datetime) -> bool:
            done = conn.execute(
                update(_table)
                .where(
                    _table.c.name == self.name,
                    _table.c.token == self.token,
                    _table.c.holder == self.holder,
                )
                .values(
                    expires_at=now + timedelta(seconds=self.period_s),
                    backend_pid=_backend_pid(conn),
                )
            )
            return done.rowcount == 1

        if self._run(work):
            self.valid_until = started + self.period_s
            return True
        self.token, self.valid_until = None, 0.0
        return False

    def release(self) -> None:
        """Let the lease go at once (a clean stop), so a standby need not wait for it to lapse."""
        token, self.token, self.valid_until = self.token, None, 0.0
        if token is not None:
            self._run(
                lambda conn, now: conn.execute(
                    update(_table)
                    .where(_table.c.name == self.name, _table.c.token == token)
                    .values(holder="", expires_at=now, backend_pid=None)
                )
            )
        self._close()

    def still_valid(self) -> bool:
        """True while our last successful renewal still covers the present (local clock)."""
        return self.token is not None and time.monotonic() < self.valid_until

    def current(self) -> LeaseHolder | None:
        """The lease row as it stands (None if no worker ever ran)."""
        row = self._run(lambda conn, now: _read(conn, self.name))
        if row is None:
            return None
        return LeaseHolder(row.token, row.holder, row.pid, row.host, row.expires_at)

    def fence(self) -> Fence:
        if self.token is None:
            raise LeadershipLost("not the leader")
        return Fence(self, self.token)


def _read(conn: Connection, name: str):
    return conn.execute(select(_table).where(_table.c.name == name)).one_or_none()


def _db_now(conn: Connection) -> datetime:
    """The database's clock on PostgreSQL (one clock for every node), else this machine's."""
    if conn.dialect.name == "postgresql":
        return conn.scalar(text("SELECT clock_timestamp()")).astimezone(UTC)
    return utcnow()


def _backend_pid(conn: Connection) -> int | None:
    if conn.dialect.name == "postgresql":
        return conn.scalar(text("SELECT pg_backend_pid()"))
    return None


def _holder_alive(conn: Connection, row) -> bool:
    """Whether the lease's holder still runs. Unknown counts as alive: then only the lease's
    expiry frees it. A frozen holder is alive (its session and process exist)."""
    if conn.dialect.name == "postgresql":
        if row.backend_pid is None:
            return True
        return bool(
            conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": row.backend_pid},
            )
        )
    if row.host != socket.gethostname()[:120] or row.pid is None:
        return True
    return _process_alive(row.pid)


def _process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")  # a zombie has exited and only waits to be reaped


# -- fencing the jobs' commits ---------------------------------------------------------------

_fence: contextvars.ContextVar[Fence | None] = contextvars.ContextVar("lease_fence", default=None)


@dataclass(frozen=True)
class Fence:
    """The token a job runs under; set for the job's duration by ``Fence.active``."""

    lease: Lease
    token: int

    def check(self, session: Session) -> None:
        """Raise LeadershipLost unless our token is still current, inside ``session``'s
        transaction: a takeover waits for this transaction (row lock / SQLite write lock)."""
        session.flush()  # on SQLite, start the write transaction before the check
        query = select(_table.c.token).where(_table.c.name == self.lease.name)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(read=True)
        current = session.execute(query).scalar()
        if current != self.token:
            raise LeadershipLost(f"lease token {self.token} is stale (now {current})")

    def ensure_leading(self) -> None:
        """Raise LeadershipLost if our lease may have lapsed (e.g. we were frozen): checked
        before an action no transaction can undo, such as sending an email."""
        if self.lease.token != self.token or not self.lease.still_valid():
            raise LeadershipLost(f"lease token {self.token} may have lapsed")

    @contextmanager
    def active(self) -> Iterator[Fence]:
        """Fence every commit made in this context (this thread) with our token."""
        reset = _fence.set(self)
        try:
            yield self
        finally:
            _fence.reset(reset)


def ensure_leading() -> None:
    """Raise LeadershipLost if this job runs under a lease that may have lapsed (no-op when
    called outside the worker, e.g. from a test)."""
    fence = _fence.get()
    if fence is not None:
        fence.ensure_leading()


def install_fencing() -> None:
    """Check the running job's token before every commit of every session (idempotent)."""
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)


def _before_commit(session: Session) -> None:
    fence = _fence.get()
    if fence is not None:
        fence.check(session)
