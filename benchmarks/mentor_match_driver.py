"""Drive mentor-match 7.0.1 on one instance; run by the mentor-match virtualenv's Python.

Usage: ``python mentor_match_driver.py instance.json result.json``. Our hard rules become
its ``Disqualify`` rules and our score (``matcher/rules.py``, loaded by path because this
environment has no numpy) its score; it runs one Munkres pass per capacity slot, as it
does for its own three rounds. The time covers profiles to final assignment.
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
    spec.loader.exec_module(module)
    return module


class Settings(SimpleNamespace):
    def weight(self, block):
        return float(self.weights[block])


def profile(data):
    data = dict(data)
    for key in ("blocked_member_ids", "excluded_sponsor_ids"):
        if key in data:
            data[key] = frozenset(data[key])
    return SimpleNamespace(**data)


class OurScore:
    """A mentor-match rule whose score is our similarity, scaled to an integer."""

    def __init__(self, rules, settings, known):
        self.rules, self.settings, self.known = rules, settings, known

    def evaluate(self, match):
        return True

    def apply(self, match):
        s = self.rules.pair_score(
            match.mentee.profile, match.mentor.profile, self.settings, self.known
        )
        return int(round(s * SCORE_SCALE))


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
    hard = rl.Disqualify(
        lambda match: bool(
            rules.violated_rules(match.mentee.profile, match.mentor.profile, settings)
        )
    )
    full = rl.Disqualify(lambda match: len(match.mentor.mentees) >= match.mentor.spare)
    taken = rl.Disqualify(lambda match: len(match.mentee.mentors) >= 1)
    slots = max((m.spare for m in mentors), default=0)
    passes = [[hard, full, taken, OurScore(rules, settings, known)] for _ in range(slots)]
    process.process_data(mentors, mentees, passes)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    pairs = [[m.profile.request_id, s.profile.member_id] for m in mentees for s in m.mentors]
    result = {"seconds": elapsed, "cpu_seconds": cpu, "pairs": pairs}
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
