"""`make run`: the web server, the scheduler worker and the development mailbox together,
stopped together by Ctrl-C.

A worker that dies is started again (with a line saying so) while the web server keeps
serving; if the web server itself stops, everything stops. Mail goes to the development
mailbox (an SMTP sink on loopback), readable at /dev/mailbox.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
MAX_RESTART_DELAY_S = 30.0
STAYED_UP_S = 60.0  # a worker that ran this long is restarted at once when it next dies


def main() -> int:
    """Start everything; restart the worker when it dies; stop all on Ctrl-C/SIGTERM."""
    from api.mailbox import MailboxSink
    from api.seed import DEMO_JOIN_CODE

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    mailbox = os.environ.get("SPONSOR_MAILBOX_DIR") or str(ROOT / "instance" / "mailbox")
    sink = MailboxSink(Path(mailbox)).start()
    env = {
        **os.environ,
        "SPONSOR_SMTP_HOST": "127.0.0.1",
        "SPONSOR_SMTP_PORT": str(sink.port),
        "SPONSOR_BASE_URL": base,
        "SPONSOR_MAILBOX_DIR": mailbox,
    }
    cli = str(BIN / "sponsor-match")
    web_cmd = [cli, "run", "--host", "127.0.0.1", "--port", str(args.port), "--no-reload"]
    web = subprocess.Popen(web_cmd, env=env)
    worker = subprocess.Popen([cli, "worker"], env=env)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _say(f"sponsor-match is serving on {base}  (Ctrl-C stops it)")
    _say(f"try the demo: {base}/join/{DEMO_JOIN_CODE}")
    _say(f"the mail it sends: {base}/dev/mailbox")
    restarts, restart_at, started = 0, None, time.monotonic()
    try:
        while True:
            if web.poll() is not None:
                _say(f"the web server stopped (exit {web.returncode}); stopping the rest")
                return web.returncode or 1
            if restart_at is None and worker.poll() is not None:
                if time.monotonic() - started > STAYED_UP_S:
                    restarts = 0
                delay = min(2.0**restarts, MAX_RESTART_DELAY_S)  # 1, 2, 4 … 30 s in a row
                restarts += 1
                _say(
                    f"the worker stopped (exit {worker.returncode}); restarting it in "
                    f"{delay:g} s (restart {restarts}); the web server keeps serving"
                )
                restart_at = time.monotonic() + delay
            if restart_at is not None and time.monotonic() >= restart_at:
                worker = subprocess.Popen([cli, "worker"], env=env)
                restart_at, started = None, time.monotonic()
                _say(f"the worker is running again (pid {worker.pid})")
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (web, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        sink.stop()


def _say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
