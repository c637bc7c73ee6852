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
    lines += rehearsal_section()
    notes = module_notes()
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines) + "\n")


def rehearsal_section() -> list[str]:
    """The last full `make rehearsal` (benchmarks/rehearsal.json), against its targets."""
    path = HERE / "rehearsal.json"
    if not path.exists():
        return []
    r = json.loads(path.read_text())
    outside, lease, rss = r["outside_faults"], r["lease_s"], r["web_worker_rss_mb"]
    msgs = r["messages"]
    load = r.get("load_1m", {})
    lines = [
        "",
        "## Rehearsal",
        "",
        f"`make rehearsal` ({'short' if r['short'] else 'full'}): two gunicorn nodes, two "
        f"schedulers, {r['users']} simulated users for {r['duration_s']} s (sponsors and "
        f"newcomers; the newcomers also read their shortlists), lease {lease} s; "
        f"{r.get('when', 'date not recorded')}, load average "
        f"{load.get('before', '?')} before and {load.get('after', '?')} after "
        "(2 cores; other work on the machine inflates latency).",
        "",
        "| figure | value | target | met |",
        "|---|---|---|---|",
    ]

    def row(name, value, target="", ok=None):
        verdict = "" if ok is None else ("yes" if ok else "no")
        lines.append(f"| {name} | {value} | {target} | {verdict} |")

    p99 = outside["p99_ms"]
    row("requests served (not logins)", r["requests"])
    row(
        "outside the faults: p50 / p95 / p99 ms",
        f"{outside['p50_ms']} / {outside['p95_ms']} / {p99}",
        "p99 ≤ 150",
        p99 is not None and p99 <= 150,
    )
    row("errors outside the faults", outside["errors"] or 0, "0", not outside["errors"])
    for name, fault in sorted(r["faults"].items()):
        row(
            f"{name}: requests, errors, p99 ms",
            f"{fault['requests']}, {fault['errors'] or 0}, {fault['p99_ms']}",
        )
    for kind in ("sigkill", "sigstop"):
        took = r.get(f"new_leader_after_{kind}_s")
        row(
            f"new leader after {kind.upper()} (s)",
            took,
            f"≤ {2 * lease} (2 lease periods)",
            took is not None and took <= 2 * lease,
        )
    held = msgs.get("held_for_later", "?")
    row(
        "messages queued / sent / held for later / unique / duplicates (recorded) / lost",
        f"{msgs['queued']} / {msgs['sent']} / {held} / {msgs['unique']} / {msgs['duplicates']} "
        f"({msgs['repeats_recorded']}) / {msgs['lost']}",
        "0 lost, every duplicate recorded",
        not msgs["lost"] and not msgs["duplicates_not_counted"],
    )
    row(
        "web worker RSS max / mean MB",
        f"{rss['max']} / {rss['mean']}",
        "≤ 150",
        rss["max"] <= 150,
    )
    if "uss_mean" in rss:
        row("web worker PSS / USS mean MB (own pages)", f"{rss['pss_mean']} / {rss['uss_mean']}")
    logins = r["logins"]
    row(
        "logins (argon2): count, p50 / p99 ms",
        f"{logins['requests']}, {logins['p50_ms']} / {logins['p99_ms']}",
    )
    return lines


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
