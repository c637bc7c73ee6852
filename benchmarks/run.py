"""Run the benchmarks and record their figures: ``python -m benchmarks.run [names...]``.

Each ``benchmarks/bench_<name>.py`` exposes ``run() -> dict`` of flat figures and may
define ``TARGETS = {key: "≤ 3"}``. The selected modules (default: all) run in turn; their
keys are merged into ``benchmarks/results.json`` (other keys are kept) and
``docs/benchmarks.md`` is written again from the whole file. A module that cannot run
here (e.g. it needs PostgreSQL) raises ``Skip("why")``; the reason is printed and the
others go on.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import platform
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
DOC = HERE.parent / "docs" / "benchmarks.md"


class Skip(Exception):
    """Raised by a benchmark that cannot run on this machine; the message says why."""


def available() -> list[str]:
    """Return the names of every ``bench_<name>.py`` module, sorted."""
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def machine() -> dict[str, str]:
    """Return the core count, CPU model and memory of this machine."""
    model, mem = platform.processor() or "unknown", "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": mem}


def module_notes() -> list[str]:
    """Collect ``NOTES`` (plain sentences) from every benchmark module that imports here."""
    found = []
    for name in available():
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
        except Exception:  # a module that cannot import here has no notes to show
            continue
        found += list(getattr(module, "NOTES", []))
    return found


def targets() -> dict[str, str]:
    """Collect ``TARGETS`` from every benchmark module that imports here."""
    found = {}
    for name in available():
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
        except Exception:  # a module that cannot import here has no targets to show
            continue
        found.update(getattr(module, "TARGETS", {}))
    return found


def met(target: str, value, results: dict) -> str:
    """Whether ``value`` meets ``target`` ("≤ 3", "< 2", "≥ 1000 × other_key", "≥ other_key",
    "true"): "yes", "no", or "" when the target cannot be read or its other key is missing."""
    text = target.strip()
    if text == "true":
        return "yes" if value is True else "no"
    ops = {"≤": float.__le__, "<": float.__lt__, "≥": float.__ge__, ">": float.__gt__}
    op = ops.get(text[:1])
    if op is None or not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    bound = text[1:].strip()
    factor = 1.0
    if "×" in bound:
        left, _, bound = bound.partition("×")
        factor, bound = float(left), bound.strip()
    try:
        limit = float(bound)
    except ValueError:
        if not isinstance(results.get(bound), int | float):
            return ""
        limit = float(results[bound])
    return "yes" if op(float(value), factor * limit) else "no"


def write_doc(results: dict, known_targets: dict[str, str], when: str) -> None:
    """Write ``docs/benchmarks.md``: every key with its value, target and whether it is met,
    the machine, and each benchmark module's ``NOTES``."""
    info = machine()
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m benchmarks.run` (`make bench`) from `benchmarks/results.json`.",
        "",
        f"- Machine: {info['nproc']} cores, {info['cpu']}, {info['memory']} memory",
        f"- Date: {when}",
        f"- Python {platform.python_version()} on {platform.system()}",
        "",
        "| key | value | target | met |",
        "|---|---|---|---|",
    ]
    for key in sorted(results):
        value = results[key]
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        target = known_targets.get(key, "")
        verdict = met(target, value, results) if target else ""
        lines.append(f"| `{key}` | {shown} | {target} | {verdict} |")
    notes = module_notes()
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (default all); return 1 if one crashed, else 0."""
    names = (sys.argv[1:] if argv is None else argv) or available()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    failed = False
    for name in names:
        print(f"== bench_{name}", flush=True)
        try:
            figures = importlib.import_module(f"benchmarks.bench_{name}").run()
        except Skip as why:
            print(f"   skipped: {why}", flush=True)
            continue
        except Exception:  # report it and go on with the other benchmarks
            traceback.print_exc()
            failed = True
            continue
        for key, value in figures.items():
            print(f"   {key} = {value}", flush=True)
        results.update(figures)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_doc(results, targets(), now)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
