"""Print example shortlists from the demo programme (``api/seed.py``), for docs/matching.md.

Run: ``python -m benchmarks.demo_shortlists``. It seeds the demo programme into a throw-away
SQLite database through the app factory, opens requests for a few demo newcomers chosen to
differ (a Spanish speaker, a member outside AA, someone who needs to meet in person), and
prints the shortlists they are shown, with the reasons and who was not shown and why.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from matcher import EXCLUSION_SENTENCES
from matcher.explain import LANGUAGE_NAMES

IN_PERSON_KM = 25

# (what the example shows, which newcomer fits it, the request they open, the fewest entries
# worth showing: demo members live in a dozen cities, so few sponsors are near anyone)
CHOICES: list[tuple[str, Callable, dict, int]] = [
    ("speaks Spanish", lambda m: "es" in (m.languages or ()), {}, 2),
    ("outside AA", lambda m: "AA" not in (m.fellowships or ()), {}, 2),
    (
        "meets in person",
        lambda m: m.lat is not None and "in_person" in (m.contact_modes or ()),
        {"in_person_needed": True, "max_distance_km": IN_PERSON_KM},
        1,
    ),
]


def examples(now: datetime | None = None) -> list[dict]:
    """Seed the demo into a throw-away database and return one shortlist per choice.

    Each example: ``name``, ``fellowships``, ``languages``, ``request`` (what was asked),
    ``entries`` (``name``, ``score``, ``reasons``) and ``not_shown`` (rule code → count).
    """
    from api import create_app
    from api.extensions import db

    now = now or datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        app.instance_path = tmp
        try:
            with app.app_context():
                db.create_all()
                return _examples(now)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _examples(now: datetime) -> list[dict]:
    from api.extensions import db
    from api.matching_index import WarmIndex
    from api.matching_inputs import seeker_request
    from api.models import Member, Membership, SponsorRequest, Sponsorship
    from api.seed import seed_demo
    from api.services import shortlist, sponsor_requests

    program = seed_demo().program
    busy = (
        select(SponsorRequest.newcomer_id)
        .where(SponsorRequest.status == "open")
        .union(select(Sponsorship.sponsee_id).where(Sponsorship.status == "active"))
    )
    free = db.session.scalars(
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.program_id == program.id,
            Membership.is_newcomer.is_(True),
            Member.id.not_in(busy),
        )
        .order_by(Member.id)
    ).all()
    out, used = [], set()
    for label, fits, asks, fewest in CHOICES:
        for member in free:
            if member.id in used or not fits(member):
                continue
            request = sponsor_requests.open_request(member, program, dict(asks))
            listed = shortlist.shortlist_for(member, request.uuid, now)
            if len(listed["entries"]) < fewest:  # try the next newcomer
                sponsor_requests.withdraw_request(member, request.uuid)
                continue
            with WarmIndex(program, now) as index:
                not_shown = index.explain_exclusions(seeker_request(request, now))
            used.add(member.id)
            out.append(_example(label, member, request, listed, not_shown))
            break
    return out


def _example(label: str, member, request, listed: dict, not_shown: dict) -> dict:
    not_shown = {c: n for c, n in not_shown.items() if c not in ("self", "different_program")}
    return {
        "label": label,
        "name": member.display_name,
        "fellowships": list(member.fellowships or ()),
        "languages": list(member.languages or ()),
        "request": {
            "in_person_needed": request.in_person_needed,
            "max_distance_km": request.max_distance_km,
        },
        "entries": [
            {
                "name": e["sponsor"]["display_name"],
                "score": e["score"],
                "reasons": [r["text"] for r in e["reasons"]],
            }
            for e in listed["entries"]
        ],
        "not_shown": not_shown,
    }


def markdown(found: list[dict]) -> str:
    """The examples as the Markdown used in docs/matching.md."""
    lines = []
    for ex in found:
        languages = ", ".join(LANGUAGE_NAMES.get(x, x) for x in ex["languages"])
        need = ""
        if ex["request"]["in_person_needed"]:
            need = f"; needs to meet in person within {ex['request']['max_distance_km']} km"
        lines.append(f"**{ex['name']}** ({', '.join(ex['fellowships'])}; {languages}{need}):\n")
        for rank, entry in enumerate(ex["entries"], 1):
            lines.append(f"{rank}. {entry['name']} — score {entry['score']:.2f}")
            lines += [f"   - {text}" for text in entry["reasons"]]
        not_shown = "; ".join(
            f"{n} × {EXCLUSION_SENTENCES[c].rstrip('.')} (`{c}`)"
            for c, n in sorted(ex["not_shown"].items(), key=lambda cn: -cn[1])
        )
        lines.append(f"\nNot shown: {not_shown or 'nobody'}\n")
    return "\n".join(lines)


def main() -> None:
    """Print the demo programme's example shortlists as Markdown."""
    print(markdown(examples()))


if __name__ == "__main__":
    main()
