"""gunicorn settings for production: threaded workers that slow clients do not stall.

gunicorn reads this file from the working directory (or ``-c gunicorn.conf.py``). Command-line
flags override it; WEB_CONCURRENCY sets the number of worker processes. See docs/operations.md.
"""

import os
import shutil
import tempfile
from pathlib import Path

wsgi_app = "api:create_app()"
bind = ["127.0.0.1:8000"]  # behind the buffering proxy (deploy/nginx.conf); change with -b

# Threads, not one process per request: a client that sends its headers slowly holds one
# thread while gunicorn reads them, never a whole worker. 2 x 32 threads stay answering with
# 30 such clients connected on loopback (tests/test_gunicorn.py); the proxy in front buffers
# whole requests, so in production gunicorn never talks to a slow client at all.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 32
worker_connections = 200  # open connections one worker accepts before it stops accepting

# No gunicornc control socket: it sits at one path per user, so two nodes on one host collide.
control_socket_disable = True

# Bounded waits: a request that takes longer than this is abandoned and its worker replaced;
# a stopping worker gets graceful_timeout to finish what it started.
timeout = 30
graceful_timeout = 20
keepalive = 5

# Bounded request heads (gunicorn's defaults, stated so nobody raises them by accident).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Import the app once in the master and fork the workers: pages of the imported libraries are
# shared copy-on-write instead of loaded per worker.
preload_app = True
# Workers are not recycled after N requests (gunicorn's max_requests): a threaded worker that
# retires that way drops the connections it has accepted but not yet read, and the 60-user
# rehearsal saw one such reset per restart. Memory stays flat over the rehearsal (its
# web_worker_rss_mb); a deploy or `systemctl reload` replaces workers gracefully.
max_requests = 0

# The app writes one JSON access line per request itself; gunicorn's own lines are JSON too.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "api.observability.json_formatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "WARNING", "handlers": []},  # the app adds its JSON handler here
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}

# Several workers share their metrics through files in one folder (prometheus-client's
# multiprocess mode); it must be set before the app is imported, and is this master's own.
_own_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sponsor-match-metrics-")


def on_starting(server):
    """Refuse to start, naming the setting, when rate limits would be counted per worker."""
    import config

    # A folder given from outside may hold the previous run's files: start the counts afresh.
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()
    values = config.load()
    if values["ENV_NAME"] == "production":
        config.refuse_unusable_rate_limits(str(values["RATELIMIT_STORAGE_URI"]), server.cfg.workers)


def pre_fork(server, worker):
    # Move what the preloaded app allocated out of the garbage collector's reach, so its
    # passes never write to those pages and each worker keeps sharing them with the master.
    import gc

    gc.freeze()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
