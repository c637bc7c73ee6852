"""`make run`: the web server and the scheduler worker together, stopped together by Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    """Start both processes; when either ends (or on Ctrl-C/SIGTERM) stop the other too."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    cli = str(BIN / "sponsor-match")
    web = [cli, "run", "--host", "127.0.0.1", "--port", str(args.port), "--no-reload"]
    processes = {"web server": subprocess.Popen(web), "worker": subprocess.Popen([cli, "worker"])}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"sponsor-match is serving on http://127.0.0.1:{args.port}  (Ctrl-C stops it)")
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"the {name} stopped (exit {process.returncode}); stopping the rest")
                    return process.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
