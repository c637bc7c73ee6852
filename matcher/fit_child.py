"""Learn a pool's encoding in a short-lived child process, so the caller never loads scikit-learn.

A web worker keeps a fitted ``SponsorIndex`` per programme and refits it about once a day; the
fit needs scikit-learn and SciPy (~135 MB resident), the rest of the index only numpy. So the
web app passes ``learn_in_child`` to ``SponsorIndex.fit``: the pool's distinct token sets go to
a fresh interpreter on stdin as JSON, it runs ``features.learn_encoding`` (the same code as an
in-process fit) and writes the ``Encoding`` back on stdout, then exits and its memory is
returned. A fit costs 1.3–2.6 s (mostly starting Python and importing scikit-learn) and ~140 MB
while the child runs, measured on the 2-core reference machine under load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from matcher import features as F

TIMEOUT_S = 300
_ROOT = str(Path(__file__).resolve().parent.parent)


class FitChildError(RuntimeError):
    """The child process that learns an encoding failed."""


def learn_in_child(tokens: dict[str, list]) -> F.Encoding:
    """``features.learn_encoding(tokens)``, computed in a child process."""
    payload = {
        group: [[sorted(set(members)), n] for members, n in Counter(map(tuple, lists)).items()]
        for group, lists in tokens.items()
    }
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "matcher.fit_child"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise FitChildError(f"learning the encoding failed (exit {done.returncode}): {last}")
    return F.Encoding.from_json(json.loads(done.stdout))


def main() -> None:
    """Read ``{group: [[tokens, count], ...]}`` on stdin, write the ``Encoding`` on stdout."""
    payload = json.load(sys.stdin)
    tokens = {
        group: [tuple(members) for members, n in sets for _ in range(n)]
        for group, sets in payload.items()
    }
    json.dump(F.learn_encoding(tokens).to_json(), sys.stdout)


if __name__ == "__main__":
    main()
