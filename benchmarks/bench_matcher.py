"""Matcher benchmarks: shortlist latency, index build, batch assignment, and mentor-match."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.population import make_chain, make_seekers, make_sponsors
from benchmarks.reference import exact_reference
from matcher import MatchSettings, SponsorIndex
from matcher import rules as R
from matcher.round import assign, assign_pairs
from matcher.types import DEFAULT_WEIGHTS

HERE = Path(__file__).resolve().parent
MENTOR_MATCH = "mentor-match==7.0.1"
# mentor-match 7.0.1 was released against munkres 1.1.4; pip now resolves 3.0.0 (a much
# faster Munkres step): each in its own virtualenv, both timed
MENTOR_VENVS = {
    "munkres3": (HERE / ".mentor-venv-munkres3", [MENTOR_MATCH]),
    "munkres114": (HERE / ".mentor-venv", [MENTOR_MATCH, "munkres==1.1.4"]),
}
TARGETS = {
    "shortlist_p95_ms_100k": "≤ 3",
    "shortlist_p95_ms_1m": "≤ 25",
    "index_build_s_100k": "≤ 3",
    "assign_s_10k": "≤ 0.5",
    "assign_s_100k": "≤ 10",
    "assign_peak_gib_100k": "≤ 2",
    "chain_1500_s": "≤ 0.5",
    "exclusions_p95_ms_100k": "≤ 2",
    "assign_with_reasons_s_10k": "≤ 1",
    "assign_optimal_small": "true",
    "mentor_match_s_1k": "≥ 1000 × ours_s_1k",
    "ours_matched_1k": "≥ mentor_match_matched_1k",
    "ours_score_1k": "≥ mentor_match_score_1k",
}


NOTES = [
    "Matcher figures: make bench's matcher parts (python -m benchmarks.run matcher) on "
    "2026-12-06 07:03-07:09 UTC on an Intel Xeon (2 cores, AVX-512, idle). Big rounds: "
    "each run three times in a fresh process, the median run's figures and the range; "
    "peak is the child's own VmHWM. The 10k round: the median of nine runs. Earlier the "
    "same morning (docs/matching.md section 7): 10k 0.482 s and 100k 9.63 s (9.21-10.01) "
    "before that morning's two changes, 0.493 s and 8.91 s (8.21-8.94) with the first of "
    "them; this machine's speed moves by a fifth within the hour. On the AMD EPYC of the "
    "day before, 10k 0.456-0.618 s and 100k 10.51 s (10.46-11.04).",
    "Large rounds (docs/matching.md section 7): rounds of 50,000 seekers or more are priced "
    "before their first solve (tatonnement over the candidates, then a check under those "
    "prices), so one solve ends them. 100k/50k 7.81 s (7.67-8.50 s over three fresh "
    "processes, CPU 11.3 s), 1.05 GiB peak, certified gap 21.5 (0.030%), 87,900 matched "
    "(proven maximal): 10 s and 2 GiB met. 50k/25k 2.96 s (2.94-3.00 s), gap 0.019%. The "
    "10k round (not priced: it needs its second solve for the cardinality anyway) 0.466 s, "
    "median of 9: met. The public assign on it (every assignment's reasons worded too) "
    "0.56 s.",
    "chain_1500_s: 1,500 seekers who can each meet two neighbouring sponsors "
    "(benchmarks.population.make_chain).",
    "exclusions_p95_ms_100k 0.506 ms wall (0.808 ms on the AMD EPYC the day before): the "
    "profile and sponsor rules "
    "once per kind of row "
    "(~2,800 kinds at 100k sponsors) instead of per sponsor, the distance rule only in the "
    "newcomer's latitude band (issue 15 measured 4.4 ms, and 43 ms at 1M sponsors).",
    "mentor-match 7.0.1, fair driver (cheapest disqualifying rules first, rules and score "
    "cached per pair): 187 s with munkres 1.1.4 (what 7.0.1 was released against; "
    "mentor_match_s_1k, 5,224x ours at 0.036 s) and 28.4 s with munkres 3.0.0, which pip "
    "now resolves (793x ours). Both find 608 pairs with 0 rule violations; ours finds 610 "
    "with a higher total.",
]

REPEATS = 3  # the machine is shared: each timing is the median of several runs
# the 10k round's own figure: its time moves by a fifth between runs a minute apart
# (0.45-0.58 s, 2026-12-06, the same code; its solver's CPU time moving with it)
ASSIGN_REPEATS = 9


def _median_time(func, repeats=REPEATS, cpu=None):
    """Return (median seconds, last result) of ``repeats`` calls of ``func``.

    ``cpu``, a list, receives the median CPU seconds of this process too: on the shared
    machine wall time includes waiting for a core, CPU time does not.
    """
    times, cpu_times = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    if cpu is not None:
        cpu.append(float(np.median(cpu_times)))
    return float(np.median(times)), result


def _p95_ms(call, seekers) -> tuple[float, float]:
    """Return the medians over ``REPEATS`` passes of the p95 wall and CPU ms of ``call(q)``."""
    passes = []
    for _ in range(REPEATS):
        for q in seekers[:20]:
            call(q)  # warm up
        times, cpu = [], []
        for q in seekers:
            start, start_cpu = time.perf_counter(), time.process_time()
            call(q)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        passes.append((np.percentile(times, 95) * 1000, np.percentile(cpu, 95) * 1000))
    passes = np.array(passes)
    return float(np.median(passes[:, 0])), float(np.median(passes[:, 1]))


def bench_chain() -> dict:
    """The chain of alternatives: 1,500 seekers, each able to meet two neighbouring sponsors."""
    sponsors, seekers = make_chain(1_500)
    index = SponsorIndex(MatchSettings()).fit(sponsors)
    chain_s, (pairs, _, _) = _median_time(lambda: assign_pairs(index, seekers))
    return {"chain_1500_s": round(chain_s, 3), "chain_1500_matched": len(pairs)}


_BIG_ROUND = """
import json, resource, sys, time
from benchmarks.population import make_seekers, make_sponsors
from matcher import MatchSettings, SponsorIndex
from matcher.round import assign_pairs

def peak_kib():
    # this process's own peak: ru_maxrss carries the parent's over a vfork and exec
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

n = int(sys.argv[1])
index = SponsorIndex(MatchSettings()).fit(make_sponsors(n // 2, seed=401, capacities=(1, 5)))
seekers = make_seekers(n, seed=402)
before = peak_kib()
start, start_cpu = time.perf_counter(), time.process_time()
pairs, _, proof = assign_pairs(index, seekers)
seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
peak = peak_kib()
print(json.dumps({"s": seconds, "cpu_s": cpu, "peak_kib": peak, "before_kib": before,
                  "matched": len(pairs), "proof": str(proof), "gap": proof.gap,
                  "total": proof.total, "checks": proof.checks}))
"""


BIG_REPEATS = 3  # each big round's figures are those of its median run (by time)


def bench_big_rounds(sizes=(50_000, 100_000), repeats=BIG_REPEATS) -> dict:
    """Rounds of 50k seekers / 25k sponsors and 100k / 50k, each run ``repeats`` times in a
    fresh process, with the process's peak resident memory: the figures of the median
    run, and the fastest and slowest times (the machine's speed moves 5-10% within
    minutes)."""
    figures = {}
    for n in sizes:
        key = f"{n // 1000}k"
        runs = []
        for _ in range(repeats):
            done = subprocess.run(
                [sys.executable, "-c", _BIG_ROUND, str(n)],
                capture_output=True,
                text=True,
                timeout=3600,
                cwd=HERE.parent,
            )
            if done.returncode != 0:
                figures[f"assign_error_{key}"] = done.stderr.strip()[-300:]
                break
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if len(runs) < repeats:
            continue
        runs.sort(key=lambda run: run["s"])
        result = runs[len(runs) // 2]
        figures[f"assign_s_{key}"] = round(result["s"], 2)
        figures[f"assign_s_range_{key}"] = f"{runs[0]['s']:.2f}-{runs[-1]['s']:.2f}"
        figures[f"assign_cpu_s_{key}"] = round(result["cpu_s"], 2)  # both threads' CPU
        figures[f"assign_matched_{key}"] = result["matched"]
        figures[f"assign_peak_gib_{key}"] = round(result["peak_kib"] / 2**20, 2)
        figures[f"assign_added_gib_{key}"] = round(
            (result["peak_kib"] - result["before_kib"]) / 2**20, 2
        )
        figures.update(_gap_figures(key, result["gap"], result["total"]))
        figures[f"assign_proof_{key}"] = result["proof"]
        figures[f"assign_checks_{key}"] = result["checks"]
    return figures


def _gap_figures(key, gap, total) -> dict:
    """The certified bound on the total score a round may have missed, and as a share."""
    share = 100 * gap / total if total > 0 else 0.0
    return {f"assign_gap_{key}": round(gap, 6), f"assign_gap_pct_{key}": round(share, 5)}


def _shortlist_p95_ms(index, seekers, k=3) -> tuple[float, float]:
    """Return the medians over ``REPEATS`` passes of the p95 wall and CPU ms of a shortlist."""
    passes = np.array([_shortlist_p95_once(index, seekers, k) for _ in range(REPEATS)])
    return float(np.median(passes[:, 0])), float(np.median(passes[:, 1]))


def _shortlist_p95_once(index, seekers, k=3) -> tuple[float, float]:
    for q in seekers[:20]:
        index.shortlist(q, k)  # warm up
    times, cpu = [], []
    for q in seekers:
        start, start_cpu = time.perf_counter(), time.process_time()
        index.shortlist(q, k)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return float(np.percentile(times, 95) * 1000), float(np.percentile(cpu, 95) * 1000)


def _replicate(pool, times):
    out = list(pool)
    for r in range(1, times):
        out += [dataclasses.replace(s, member_id=f"{s.member_id}-{r}") for s in pool]
    return out


def bench_shortlists() -> dict:
    pool = make_sponsors(100_000, seed=101)
    seekers = make_seekers(300, seed=102)
    cpu = []
    build_s, index = _median_time(lambda: SponsorIndex(MatchSettings()).fit(pool), cpu=cpu)
    figures = {"index_build_s_100k": round(build_s, 3)}
    figures["index_build_cpu_s_100k"] = round(cpu[0], 3)
    wall, cpu_ms = _shortlist_p95_ms(index, seekers)
    figures["shortlist_p95_ms_100k"] = round(wall, 3)
    figures["shortlist_p95_cpu_ms_100k"] = round(cpu_ms, 3)
    wall, cpu_ms = _p95_ms(index.exclusions, seekers)
    figures["exclusions_p95_ms_100k"] = round(wall, 3)
    figures["exclusions_p95_cpu_ms_100k"] = round(cpu_ms, 3)
    del index
    big = _replicate(pool, 10)
    start = time.perf_counter()
    index = SponsorIndex(MatchSettings()).fit(big)
    figures["index_build_s_1m"] = round(time.perf_counter() - start, 2)
    wall, cpu_ms = _shortlist_p95_ms(index, seekers)
    figures["shortlist_p95_ms_1m"] = round(wall, 3)
    figures["shortlist_p95_cpu_ms_1m"] = round(cpu_ms, 3)
    return figures


def bench_assign() -> dict:
    pool = make_sponsors(5_000, seed=201, capacities=(1, 5))
    seekers = make_seekers(10_000, seed=202)
    index = SponsorIndex(MatchSettings()).fit(pool)
    cpu = []
    assign_s, (pairs, _, proof) = _median_time(
        lambda: assign_pairs(index, seekers), repeats=ASSIGN_REPEATS, cpu=cpu
    )
    figures = {"assign_s_10k": round(assign_s, 3), "assign_cpu_s_10k": round(cpu[0], 3)}
    figures["assign_matched_10k"] = len(pairs)
    figures.update(_gap_figures("10k", proof.gap, proof.total))
    # the exact path on the same round (past RoundOptions.exact_max_seekers it is not used)
    cpu = []
    exact_s, (exact_pairs, _, exact_proof) = _median_time(
        lambda: assign_pairs(index, seekers, exact_max_seekers=len(seekers)), cpu=cpu
    )
    figures["assign_exact_s_10k"] = round(exact_s, 3)
    figures["assign_exact_cpu_s_10k"] = round(cpu[0], 3)
    figures["assign_exact_matched_10k"] = len(exact_pairs)
    figures["assign_true_gap_10k"] = round(exact_proof.total - proof.total, 6)
    # The public ``assign``: the same solve, plus every assignment's reasons and every left-out
    # request's code, as a matching round uses it.
    cpu = []
    public_s, (assignments, _) = _median_time(lambda: assign(index, seekers), cpu=cpu)
    assert len(assignments) == len(pairs)
    figures["assign_with_reasons_s_10k"] = round(public_s, 3)
    figures["assign_with_reasons_cpu_s_10k"] = round(cpu[0], 3)
    figures["assign_proof_10k"] = str(proof)
    figures["assign_optimal_small"] = _optimal_on_small_instances()
    return figures


def _optimal_on_small_instances(runs: int = 30) -> bool:
    settings = MatchSettings()
    for seed in range(runs):
        pool = make_sponsors(12, seed=1000 + seed, capacities=(1, 3))
        seekers = make_seekers(15, seed=2000 + seed)
        index = SponsorIndex(settings).fit(pool)
        pairs, _, _ = assign_pairs(index, seekers, top_k=2)
        matched, total = exact_reference(pool, seekers, settings)
        if len(pairs) != matched or abs(sum(p[2] for p in pairs) - total) > 1e-4:
            return False
    return True


def _as_json(member) -> dict:
    data = dataclasses.asdict(member)
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in data.items()}


def _mentor_python(venv: Path, requirements: list[str]) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    check = subprocess.run(
        [str(python), "-c", "import matching.process, munkres"], capture_output=True
    )
    if check.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *requirements],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return python


def bench_mentor_match() -> dict:
    settings = MatchSettings()
    pool = make_sponsors(500, seed=301, capacities=(1, 3))
    seekers = make_seekers(1_000, seed=302)

    def ours_from_profiles():  # the same span mentor-match is timed over
        index = SponsorIndex(settings).fit(pool)
        return index, assign_pairs(index, seekers)[0]

    ours_from_profiles()  # warm-up: imports, the BLAS thread pool
    cpu = []
    ours_s, (index, pairs) = _median_time(ours_from_profiles, repeats=7, cpu=cpu)
    known = index.known_tokens()
    by_request = {q.request_id: q for q in seekers}
    by_member = {s.member_id: s for s in pool}

    def total(pairs_by_id):
        return round(
            sum(R.pair_score(by_request[r], by_member[m], settings, known) for r, m in pairs_by_id),
            4,
        )

    ours = [(seekers[i].request_id, index.member_ids_[row]) for i, row, _ in pairs]
    figures = {
        "ours_s_1k": round(ours_s, 4),
        "ours_cpu_s_1k": round(cpu[0], 4),
        "ours_matched_1k": len(ours),
        "ours_score_1k": total(ours),
    }
    instance = {
        "settings": {
            **{f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)},
            "weights": {b: settings.weight(b) for b in DEFAULT_WEIGHTS},
        },
        "sponsors": [_as_json(s) for s in pool],
        "seekers": [_as_json(q) for q in seekers],
    }
    results = {}
    for name, (venv, requirements) in MENTOR_VENVS.items():
        try:
            python = _mentor_python(venv, requirements)
            with tempfile.TemporaryDirectory() as tmp:
                src, out = Path(tmp) / "instance.json", Path(tmp) / "result.json"
                src.write_text(json.dumps(instance))
                driver = HERE / "mentor_match_driver.py"
                subprocess.run(
                    [str(python), str(driver), str(src), str(out)], check=True, timeout=3600
                )
                results[name] = json.loads(out.read_text())
        except (OSError, subprocess.SubprocessError) as why:
            figures[f"mentor_match_error_{name}"] = f"{type(why).__name__}: {why}"[:300]
    if "munkres3" in results:
        other = results["munkres3"]
        figures["mentor_match_munkres3_s_1k"] = round(other["seconds"], 2)
        figures["speedup_vs_mentor_match_munkres3_1k"] = round(other["seconds"] / ours_s, 1)
    result = results.get("munkres114")
    if result is None:
        return figures
    theirs = [tuple(p) for p in result["pairs"]]
    violations = sum(
        bool(R.violated_rules(by_request[r], by_member[m], settings)) for r, m in theirs
    )
    figures.update(
        {
            "mentor_match_s_1k": round(result["seconds"], 2),
            "mentor_match_munkres_version": result.get("munkres"),
            "mentor_match_matched_1k": len(theirs),
            "mentor_match_score_1k": total(theirs),
            "mentor_match_rule_violations_1k": violations,
            "speedup_vs_mentor_match_1k": round(result["seconds"] / ours_s, 1),
            "mentor_match_cpu_s_1k": round(result["cpu_seconds"], 2),
            "speedup_cpu_vs_mentor_match_1k": round(result["cpu_seconds"] / cpu[0], 1),
        }
    )
    return figures


def run() -> dict:
    """Run every matcher benchmark and return the flat figures."""
    figures = {}
    figures.update(bench_assign())
    figures.update(bench_chain())
    figures.update(bench_shortlists())
    figures.update(bench_big_rounds())
    figures.update(bench_mentor_match())
    return figures


PARTS = {
    "assign": bench_assign,
    "chain": bench_chain,
    "shortlists": bench_shortlists,
    "big": bench_big_rounds,
    "mentor": bench_mentor_match,
}

if __name__ == "__main__":  # python -m benchmarks.bench_matcher [part ...]: all by default
    for part in sys.argv[1:] or list(PARTS):
        for key, value in PARTS[part]().items():
            print(key, value, flush=True)
