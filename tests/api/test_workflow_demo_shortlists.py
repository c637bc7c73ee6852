"""The example shortlists in docs/matching.md come from the real demo programme."""

from __future__ import annotations

from benchmarks import demo_shortlists


def test_the_demo_shortlists_script_runs_on_the_demo_seed(monkeypatch, capsys):
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
    monkeypatch.setattr(demo_shortlists, "examples", lambda: found)
    demo_shortlists.main()
    printed = capsys.readouterr().out
    assert printed == demo_shortlists.markdown(found) + "\n"
    for ex in found:
        assert f"**{ex['name']}**" in printed
        assert all(f"   - {text}" in printed for e in ex["entries"] for text in e["reasons"])
