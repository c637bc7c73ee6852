"""The example shortlists in docs/matching.md are what the real demo programme shows today."""

from __future__ import annotations

import difflib
from pathlib import Path

from benchmarks import demo_shortlists

DOC = Path(__file__).resolve().parents[2] / "docs" / "matching.md"
SECTION = "## 5. Examples"
REGENERATE = (
    "docs/matching.md §5 differs from what the demo programme shows now. Regenerate it: run "
    "`python -m benchmarks.demo_shortlists` and paste its output over the examples in §5 "
    "(from the first '**Name**' line to the blank line before '## 6.')."
)


def _committed_examples() -> str:
    """The generated part of §5: from the first example's bold name to the next heading."""
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/matching.md has no '{SECTION}' heading"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    start = section.find("\n**")
    assert start >= 0, f"no example ('**Name** ...' line) under '{SECTION}' in docs/matching.md"
    return section[start + 1 :].strip()


def test_the_doc_shows_the_shortlists_the_demo_programme_gives():
    found = demo_shortlists.examples()
    assert 2 <= len(found) <= 3
    assert len({ex["name"] for ex in found}) == len(found)  # different newcomers
    for ex in found:
        assert ex["entries"], ex["label"]
        for entry in ex["entries"]:
            assert 2 <= len(entry["reasons"]) <= 4, entry
            assert len(set(entry["reasons"])) == len(entry["reasons"])
        scores = [e["score"] for e in ex["entries"]]
        assert scores == sorted(scores, reverse=True)
    generated = demo_shortlists.markdown(found).strip()
    committed = _committed_examples()
    diff = "\n".join(
        difflib.unified_diff(
            committed.splitlines(),
            generated.splitlines(),
            "docs/matching.md §5 (committed)",
            "python -m benchmarks.demo_shortlists (now)",
            lineterm="",
        )
    )
    assert committed == generated, f"{REGENERATE}\n{diff}"
