"""`make rehearsal`: two gunicorn nodes, two schedulers and a bounded load against the local
PostgreSQL, with faults injected on a timeline; writes benchmarks/rehearsal.json (``--short``:
rehearsal-short.json), which ``python -m benchmarks.run`` shows in docs/benchmarks.md.

Faults: SIGKILL a web worker, SIGKILL the leading scheduler (restarted 2 s later, as systemd's
Restart=always would), SIGSTOP it (SIGCONT after two lease periods), and a 20 s database cut
through a loopback TCP proxy. Checks afterwards: every queued email delivered, every repeat
counted on its row, the time each new leader took, latency outside the fault windows.

    python -m benchmarks.rehearsal [--short] [--users N]

Loopback only. Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and, for two workers per
node, Redis on 127.0.0.1:6379 (else one worker per node).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUT = Path(__file__).resolve().parent / "rehearsal.json"  # the full run: docs/benchmarks.md
OUT_SHORT = OUT.with_name("rehearsal-short.json")  # CI's short run (not kept in git)
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
NOTE_KEY = "cmVoZWFyc2FsLW9ubHkta2V5LW5vdC1hLXNlY3JldCE="  # 32 bytes: rehearsal only


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Sink:
    """An SMTP server on loopback that records each message's Message-ID."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.ids: list[str] = []
        ids = self.ids

        class Keep:
            async def handle_DATA(self, server, session, envelope):
                for line in envelope.original_content.split(b"\r\n"):
                    if line.lower().startswith(b"message-id:"):
                        ids.append(line.split(b":", 1)[1].strip().decode())
                        break
                return "250 kept"

        self.port = _free_port()
        self.controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class Load:
    """Threads that each log in once, then loop over a few reads against both nodes."""

    def __init__(self, ports: list[int], users: int, think_s: float, spawn_rate: float):
        self.ports, self.users, self.think_s = ports, users, think_s
        self.spawn_rate = spawn_rate  # users started per second, as a load tool ramps up
        self.samples: list[tuple[float, float, str, bool]] = []  # start, s, outcome, login
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def _call(
        self, port: int, path: str, token: str | None = None, body: dict | None = None, wait=15
    ):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if body is not None:
            req.data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=wait) as res:
                outcome, data = str(res.status), res.read()
        except urllib.error.HTTPError as exc:
            outcome, data = str(exc.code), b""
        except OSError as exc:
            reason = getattr(exc, "reason", exc)
            outcome, data = type(reason).__name__, b""
        with self._lock:
            login = path == "/api/v1/auth/tokens"
            self.samples.append((started, time.monotonic() - started, outcome, login))
        return outcome, data

    def _user(self, n: int) -> None:
        rng = random.Random(n)
        token = None
        # People arrive over a while, not all in one second: 60 argon2 logins at once take
        # ~20 s of both cores, and a client that gives up at 15 s and retries only adds more.
        self.stop.wait(n / self.spawn_rate)
        while token is None and not self.stop.is_set():
            email = f"load{n % 40}@rehearsal.example"
            port = self.ports[n % len(self.ports)]
            body = {"email": email, "password": "recovery-demo"}
            outcome, data = self._call(port, "/api/v1/auth/tokens", body=body, wait=60)
            token = json.loads(data)["token"] if outcome == "201" else None
            if token is None:
                self.stop.wait(5)
        paths = ["/api/v1/me", "/api/v1/me/notifications", "/healthz", "/login"]
        # A newcomer with an open request also reads their shortlist: each web worker fits the
        # matcher's index (its encoding learned in a child process) and serves from it.
        outcome, data = self._call(self.ports[n % len(self.ports)], "/api/v1/me/requests", token)
        for mine in json.loads(data) if outcome == "200" else []:
            if mine["status"] == "open":
                paths.append(f"/api/v1/requests/{mine['id']}/shortlist")
        while not self.stop.is_set():
            self._call(rng.choice(self.ports), rng.choice(paths), token)
            self.stop.wait(self.think_s)

    def start(self) -> None:
        self.threads = [
            threading.Thread(target=self._user, args=(n,), daemon=True) for n in range(self.users)
        ]
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=20)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000, 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


class Rehearsal:
    def __init__(self, args):
        self.args = args
        self.lease_s = args.lease_s
        self.db = f"sm_rehearsal_{os.getpid()}"
        self.direct = f"{PG}/{self.db}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = Path(args.logs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.windows: list[tuple[str, float, float]] = []
        self.result: dict = {"short": args.short, "users": args.users, "lease_s": self.lease_s}

    # -- processes ----------------------------------------------------------------------------

    def env(self, url: str, smtp_port: int, production: bool = True) -> dict:
        two_workers = _redis_up()
        env = {
            **os.environ,
            "SPONSOR_ENV": "production" if production else "development",
            "SPONSOR_DATABASE_URL": url,
            "SPONSOR_SECRET_KEY": "rehearsal-only-" + "x" * 40,
            "SPONSOR_NOTE_KEYS": NOTE_KEY,
            "SPONSOR_SMTP_PORT": str(smtp_port),
            # One address sends all the load: the per-client limits would refuse it.
            "SPONSOR_LOGIN_RATE_LIMIT": "100000/minute",
            "SPONSOR_ACCOUNT_RATE_LIMIT": "100000/minute",
            "SPONSOR_PASSWORD_IP_RATE_LIMIT": "100000/minute",
            "SPONSOR_SCHEDULER_LEASE_S": str(self.lease_s),
            "SPONSOR_LOG_LEVEL": "INFO",
            "WEB_CONCURRENCY": "2" if two_workers else "1",
            "SPONSOR_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/7"
            if two_workers
            else "memory://",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return env

    def spawn(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def sql(self, query: str, params: tuple = ()):
        import psycopg

        with psycopg.connect(self.direct.replace("+psycopg", ""), connect_timeout=3) as conn:
            return conn.execute(query, params).fetchall()

    def leader_pid(self) -> int | None:
        rows = self.sql("SELECT pid FROM scheduler_lease WHERE holder <> ''")
        return rows[0][0] if rows else None

    def wait(self, predicate, timeout: float, step: float = 0.05) -> float | None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if predicate():
                    return round(time.monotonic() - started, 2)
            except Exception:  # the database may be cut; keep looking
                pass
            time.sleep(step)
        return None

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> dict:
        import psycopg

        admin = PG.replace("+psycopg", "") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db}"')
        try:
            with Sink() as sink, TcpProxy("127.0.0.1", 5432) as proxy:
                self.sink, self.proxy = sink, proxy
                self._run()
        finally:
            for proc in self.procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGCONT)
                    proc.terminate()
            for proc in self.procs.values():
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        return self.result

    def _run(self) -> None:
        cli = str(BIN / "sponsor-match")
        proxied = f"{PG.rpartition(':')[0]}:{self.proxy.port}/{self.db}"
        dev = self.env(self.direct, self.sink.port, production=False)
        for step in (["db", "upgrade"], ["seed-demo"]):
            subprocess.run([cli, *step], env=dev, cwd=ROOT, check=True, capture_output=True)
        self.queue_backlog(dev)
        env = self.env(proxied, self.sink.port)
        ports = [_free_port(), _free_port()]
        for n, port in enumerate(ports):
            cmd = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
            self.spawn(f"web{n}", cmd, env)
        for n in range(2):
            self.spawn(f"scheduler{n}", [cli, "worker"], env)
        up = self.wait(lambda: all(self.ready(p) for p in ports), timeout=120, step=0.5)
        if up is None:
            raise RuntimeError(f"the web nodes did not become ready; see {self.logs}")
        load = Load(ports, self.args.users, self.args.think_s, self.args.spawn_rate)
        t0 = time.monotonic()
        load.start()
        quiet = 10 if self.args.short else 60
        time.sleep(quiet)
        self.kill_web_worker()
        time.sleep(quiet)
        self.kill_leader(cli, env)
        time.sleep(quiet)
        self.freeze_leader()
        time.sleep(quiet)
        self.cut_database(ports)
        time.sleep(quiet)
        load.finish()
        self.result["duration_s"] = round(time.monotonic() - t0, 1)
        self.summarise_load(load)
        self.check_messages()
        self.result["web_worker_rss_mb"] = self.web_rss()

    def ready(self, port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as res:
                return res.status == 200
        except OSError:
            return False

    def queue_backlog(self, env: dict) -> None:
        """Forty load logins (every fourth a newcomer with an open request while there are
        any, the rest sponsors), and three emails to each member (under the hourly cap)
        queued before the faults."""
        script = (
            "from api import create_app\n"
            "from api.extensions import db\n"
            "from api.models import Member, SponsorRequest\n"
            "from api.services.notify import notify\n"
            "with create_app().app_context():\n"
            "    people = db.session.scalars(db.select(Member).order_by(Member.id)).all()\n"
            "    asking = set(db.session.scalars(db.select(SponsorRequest.newcomer_id)\n"
            "                 .where(SponsorRequest.status == 'open')))\n"
            "    sponsors = [p for p in people if p.email.startswith('sponsor')]\n"
            "    newcomers = [p for p in people if p.id in asking and p.email.startswith('newc')]\n"
            "    logins = []\n"
            "    for n in range(40):\n"
            "        mix = newcomers if n % 4 == 3 and newcomers else sponsors\n"
            "        logins.append(mix.pop(0))\n"
            "    for n, m in enumerate(logins):\n"
            "        # production refuses the demo logins: these log in instead\n"
            "        m.email = f'load{n}@rehearsal.example'\n"
            "    for m in people:\n"
            "        for n in range(3):\n"
            "            key = f'rehearsal:{m.id}:{n}'\n"
            "            notify(m, 'checkin.due', key=key, title='Check in', body='b')\n"
            "    db.session.commit()\n"
        )
        subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True)

    # -- faults -------------------------------------------------------------------------------

    def window(self, name: str, started: float, ended: float) -> None:
        self.windows.append((name, started, ended + 5))  # 5 s to settle counts as the fault

    def kill_web_worker(self) -> None:
        master = self.procs["web0"].pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        started = time.monotonic()
        os.kill(int(children[0]), signal.SIGKILL)
        self.window("sigkill_web_worker", started, started + 5)

    def kill_leader(self, cli: str, env: dict) -> None:
        leader = self.leader_pid()
        name = next(n for n, p in self.procs.items() if p.pid == leader)
        other = next(p.pid for n, p in self.procs.items() if n.startswith("sched") and n != name)
        started = time.monotonic()
        os.kill(leader, signal.SIGKILL)
        took = self.wait(lambda: self.leader_pid() == other, timeout=4 * self.lease_s)
        self.result["new_leader_after_sigkill_s"] = took
        self.procs[name].wait()
        time.sleep(2)  # systemd's Restart=always, RestartSec=2
        back = self.spawn(name, [cli, "worker"], env)
        log = self.logs / f"{name}.log"
        self.wait(lambda: f"pid={back.pid} on standby" in log.read_text(), 120, 0.2)
        self.window("sigkill_leader", started, time.monotonic())

    def freeze_leader(self) -> None:
        leader = self.leader_pid()
        name = next(n for n, p in self.procs.items() if p.pid == leader)
        other = next(p.pid for n, p in self.procs.items() if n.startswith("sched") and n != name)
        started = time.monotonic()
        os.kill(leader, signal.SIGSTOP)
        took = self.wait(lambda: self.leader_pid() == other, timeout=4 * self.lease_s)
        self.result["new_leader_after_sigstop_s"] = took
        self.result["new_leader_after_sigstop_in_lease_periods"] = (
            round(took / self.lease_s, 2) if took is not None else None
        )
        time.sleep(max(0.0, 2 * self.lease_s - (time.monotonic() - started)))
        os.kill(leader, signal.SIGCONT)
        log = self.logs / f"{name}.log"
        stepped = self.wait(lambda: f"pid={leader} stops leading" in log.read_text(), 30, 0.2)
        self.result["woken_leader_stepped_down_s"] = stepped
        self.result["leader_after_freeze_is_the_standby"] = self.leader_pid() == other
        self.window("sigstop_leader", started, time.monotonic())

    def cut_database(self, ports: list[int]) -> None:
        started = time.monotonic()
        self.proxy.cut()
        time.sleep(20)
        self.proxy.restore()
        restored = datetime.now(UTC).replace(tzinfo=None)
        ready = self.wait(lambda: all(self.ready(p) for p in ports), timeout=60, step=0.2)
        self.result["readyz_back_after_db_restore_s"] = ready
        beat = self.wait(
            lambda: self.sql(
                "SELECT count(*) FROM worker_heartbeat WHERE beat_at > %s", (restored,)
            )[0][0],
            timeout=120,
            step=0.5,
        )
        self.result["heartbeat_back_after_db_restore_s"] = beat
        self.window("database_cut_20s", started, time.monotonic())

    # -- results ------------------------------------------------------------------------------

    def summarise_load(self, load: Load) -> None:
        def in_window(sample) -> str | None:
            # A request belongs to a fault if any part of it ran during the fault: one sent
            # a moment before a worker is killed fails because of the kill.
            start, took = sample[0], sample[1]
            return next((n for n, a, b in self.windows if start <= b and start + took >= a), None)

        logins = [s for s in load.samples if s[3]]
        self.result["logins"] = {"requests": len(logins), **_percentiles([s[1] for s in logins])}
        samples = [s for s in load.samples if not s[3]]  # argon2 on purpose: not "traffic"
        outside = [s for s in samples if in_window(s) is None]
        self.result["requests"] = len(samples)
        self.result["outside_faults"] = {
            "requests": len(outside),
            **_percentiles([s[1] for s in outside if s[2] in ("200", "201")]),
            "errors": dict(Counter(s[2] for s in outside if s[2] not in ("200", "201"))),
        }
        by_fault = {}
        for name, _a, _b in self.windows:
            mine = [s for s in samples if in_window(s) == name]
            by_fault[name] = {
                "requests": len(mine),
                **_percentiles([s[1] for s in mine if s[2] in ("200", "201")]),
                "errors": dict(Counter(s[2] for s in mine if s[2] not in ("200", "201"))),
            }
        self.result["faults"] = by_fault

    def check_messages(self) -> None:
        due = (
            "SELECT count(*) FROM outbox_message WHERE channel = 'email' AND status = 'pending'"
            " AND next_attempt_at <= now() AT TIME ZONE 'UTC'"
        )
        self.wait(lambda: self.sql(due)[0][0] == 0, timeout=120, step=1)
        from api.channels.email import message_id

        rows = self.sql(
            "SELECT idempotency_key, status, attempts FROM outbox_message WHERE channel = 'email'"
        )
        seen = Counter(self.sink.ids)
        sent = [r for r in rows if r[1] == "sent"]
        lost = [r for r in sent if seen[message_id(r[0], "noreply@localhost")] == 0]
        uncounted = [r for r in rows if seen[message_id(r[0], "noreply@localhost")] > r[2]]
        self.result["messages"] = {
            "queued": len(rows),
            "sent": len(sent),
            "still_due": self.sql(due)[0][0],
            # e.g. a coordinator's notice, queued during the run, held for their waking hours
            "held_for_later": self.sql(due.replace("<=", ">"))[0][0],
            "other_status": sum(r[1] not in ("sent", "pending") for r in rows),
            "transmissions": len(self.sink.ids),
            "unique": len(set(self.sink.ids)),
            "duplicates": len(self.sink.ids) - len(set(self.sink.ids)),
            "repeats_recorded": sum(max(r[2] - 1, 0) for r in sent),
            "lost": len(lost),
            "duplicates_not_counted": len(uncounted),
        }
        self.result["lease_tokens_issued"] = self.sql("SELECT token FROM scheduler_lease")[0][0]

    def web_rss(self) -> dict:
        """Each web worker's resident size (RSS), its fair share of pages shared with the
        other processes (PSS), and what is its own alone (USS: what one more worker costs)."""
        rss, pss, uss = [], [], []
        for name, proc in self.procs.items():
            if not name.startswith("web"):
                continue
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            for pid in children:
                kb = {}
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
                    key, _, rest = line.partition(":")
                    kb[key] = int(rest.split()[0])
                rss.append(kb["Rss"] / 1024)
                pss.append(kb["Pss"] / 1024)
                uss.append((kb["Private_Clean"] + kb["Private_Dirty"]) / 1024)

        def mean(values):
            return round(sum(values) / len(values), 1)

        return {
            "max": round(max(rss), 1),
            "mean": mean(rss),
            "pss_mean": mean(pss),
            "uss_mean": mean(uss),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true", help="the CI version (under 5 minutes)")
    parser.add_argument("--users", type=int, default=None, help="simulated users")
    parser.add_argument("--think-s", type=float, default=0.5, help="pause between requests")
    parser.add_argument("--spawn-rate", type=float, default=2.0, help="users started per second")
    parser.add_argument("--lease-s", type=float, default=None, help="scheduler lease period")
    parser.add_argument("--logs", default=str(ROOT / "instance" / "rehearsal-logs"))
    args = parser.parse_args()
    args.users = args.users or (10 if args.short else 60)
    args.lease_s = args.lease_s or (5.0 if args.short else 10.0)
    load_before = os.getloadavg()[0]
    result = Rehearsal(args).run()
    result["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["load_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    (OUT_SHORT if args.short else OUT).write_text(
        json.dumps(result, indent=2, sort_keys=True) + "\n"
    )
    print(json.dumps(result, indent=2, sort_keys=True))
    failures = _failures(result)
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _failures(result: dict) -> list[str]:
    """What the rehearsal must show: nothing lost, every repeat counted, leaders replaced in
    time, the woken leader fenced off, and no server errors outside the fault windows."""
    out, lease = [], result["lease_s"]
    messages = result["messages"]
    if messages["lost"] or messages["duplicates_not_counted"] or messages["still_due"]:
        out.append(f"messages: {messages}")
    for key in ("new_leader_after_sigkill_s", "new_leader_after_sigstop_s"):
        if result.get(key) is None or result[key] > 2 * lease:
            out.append(f"{key} = {result.get(key)} (limit {2 * lease} s)")
    if not result.get("leader_after_freeze_is_the_standby"):
        out.append("the woken leader took the lease back")
    errors = result["outside_faults"]["errors"]
    if any(not code.startswith("4") for code in errors):  # 5xx, resets and timeouts alike
        out.append(f"server errors outside the fault windows: {errors}")
    if result.get("readyz_back_after_db_restore_s") is None:
        out.append("the web nodes did not become ready after the database came back")
    if result.get("heartbeat_back_after_db_restore_s") is None:
        out.append("the scheduler did not resume after the database came back")
    return out


if __name__ == "__main__":
    sys.exit(main())
