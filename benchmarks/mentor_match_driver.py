"""Drive mentor-match 7.0.1 on one instance; run by the mentor-match virtualenv's Python.

Usage: ``python mentor_match_driver.py instance.json result.json``. Our hard rules become
its ``Disqualify`` rules and our score (``matcher/rules.py``, loaded by path because this
environment has no numpy) its score; it runs one Munkres pass per capacity slot, as it
does for its own three rounds. The time covers profiles to final assignment.

A fair driver: the disqualifying rules come first in every pass (capacity and "already
matched" first of all, being the cheapest), and the hard rules and the score of a pair are
each evaluated once and cached, so no pass re-scores a pair in Python.
"""

import importlib.util
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from matching import process
from matching.mentee import Mentee
from matching.mentor import Mentor
from matching.rules import rule as rl

RULES_PATH = Path(__file__).resolve().parent.parent / "matcher" / "rules.py"
SCORE_SCALE = 10_000  # mentor-match scores are integers


def load_rules():
    spec = importlib.util.spec_from_file_location("sponsor_rules", RULES_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


class Settings(SimpleNamespace):
    def weight(self, group):
        return float(self.weights[group])


def profile(data):
    data = dict(data)
    for key in ("blocked_member_ids", "excluded_sponsor_ids"):
        if key in data:
            data[key] = frozenset(data[key])
    return SimpleNamespace(**data)


class OurScore:
    """A mentor-match rule whose score is our similarity, scaled to an integer (cached)."""

    def __init__(self, rules, settings, known):
        self.rules, self.settings, self.known = rules, settings, known
        self.cache = {}

    def evaluate(self, match):
        return True

    def apply(self, match):
        key = (id(match.mentee), id(match.mentor))
        score = self.cache.get(key)
        if score is None:
            s = self.rules.pair_score(
                match.mentee.profile, match.mentor.profile, self.settings, self.known
            )
            score = self.cache[key] = int(round(s * SCORE_SCALE))
        return score


def main(instance_path, result_path):
    instance = json.loads(Path(instance_path).read_text())
    rules = load_rules()
    settings = Settings(**instance["settings"])
    start, start_cpu = time.perf_counter(), time.process_time()
    mentors, mentees = [], []
    for d in instance["sponsors"]:
        m = Mentor(grade=0, email=d["member_id"])
        m.profile, m.spare = profile(d), max(d["capacity"] - d["load"], 0)
        mentors.append(m)
    for d in instance["seekers"]:
        m = Mentee(grade=0, email=d["member_id"])
        m.profile = profile(d)
        mentees.append(m)
    known = {
        b: set().union(*(rules.group_tokens(m.profile, b) for m in mentors))
        for b in rules.SET_GROUPS
    }
    broken = {}

    def breaks_a_rule(match):
        key = (id(match.mentee), id(match.mentor))
        if key not in broken:
            profiles = (match.mentee.profile, match.mentor.profile)
            broken[key] = bool(rules.violated_rules(*profiles, settings))
        return broken[key]

    hard = rl.Disqualify(breaks_a_rule)
    full = rl.Disqualify(lambda match: len(match.mentor.mentees) >= match.mentor.spare)
    taken = rl.Disqualify(lambda match: len(match.mentee.mentors) >= 1)
    slots = max((m.spare for m in mentors), default=0)
    score = OurScore(rules, settings, known)
    passes = [[full, taken, hard, score] for _ in range(slots)]
    process.process_data(mentors, mentees, passes)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    pairs = [[m.profile.request_id, s.profile.member_id] for m in mentees for s in m.mentors]
    from importlib.metadata import version

    result = {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "pairs": pairs,
        "munkres": version("munkres"),
    }
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
