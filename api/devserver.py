"""`make run`: the web server and the scheduler worker together, stopped together by Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    cli = str(BIN / "sponsor-match")
    web = [cli, "run", "--host", "127.0.0.1", "--port", str(args.port), "--no-reload"]
    processes = [subprocess.Popen(web)]
    if _has_worker(cli):
        processes.append(subprocess.Popen([cli, "worker"]))
    print(f"sponsor-match is serving on http://127.0.0.1:{args.port}  (Ctrl-C stops it)")
    try:
        return processes[0].wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)


def _has_worker(cli: str) -> bool:
    out = subprocess.run([cli, "--help"], capture_output=True, text=True, check=False).stdout
    return "  worker " in out


if __name__ == "__main__":
    sys.exit(main())
