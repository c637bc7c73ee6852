"""Print example shortlists from a small fictional pool, for docs/matching.md.

Run: ``python -m benchmarks.demo_shortlists``.
"""

from __future__ import annotations

from matcher import (
    EXCLUSION_SENTENCES,
    MatchSettings,
    SeekerRequest,
    SponsorCandidate,
    SponsorIndex,
)

EVENINGS = tuple(d * 24 + h for d in range(5) for h in (23, 24, 25))  # 7-10 pm US Eastern
WEEKEND = tuple(range(129, 135)) + tuple(range(153, 159))


def sponsor(member_id, **kw) -> SponsorCandidate:
    base = dict(
        program_id="philly-intergroup",
        fellowships=("AA",),
        languages=("en",),
        contact_modes=("phone", "text"),
        lat=39.95,
        lon=-75.16,
        sobriety_days=2500,
        capacity=3,
        load=1,
        availability_confirmed_days_ago=10,
        answer_rate=0.85,
        median_answer_hours=12.0,
    )
    return SponsorCandidate(member_id=member_id, **{**base, **kw})


POOL = [
    sponsor(
        "Maria G.",
        gender="woman",
        languages=("es", "en"),
        tags=("parent", "faith-based"),
        availability_utc=EVENINGS,
        age_band="35-44",
        contact_modes=("phone", "in_person"),
        lat=39.99,
        lon=-75.13,
    ),
    sponsor(
        "Lucia R.",
        gender="woman",
        languages=("es",),
        tags=("parent",),
        availability_utc=WEEKEND,
        age_band="45-54",
        sobriety_days=5200,
        load=2,
    ),
    sponsor(
        "Dana K.",
        gender="woman",
        tags=("veteran", "secular"),
        availability_utc=EVENINGS,
        age_band="25-34",
        sobriety_days=900,
        recent_proposals=6,
        answer_rate=0.6,
        median_answer_hours=40.0,
    ),
    sponsor(
        "Joan P.",
        gender="woman",
        tags=("lgbtq+",),
        gender_rule="any",
        availability_utc=WEEKEND + EVENINGS[:4],
        age_band="55-64",
        sobriety_days=9000,
    ),
    sponsor("Beth S.", gender="woman", paused=True, availability_utc=EVENINGS),
    sponsor(
        "Ray T.",
        gender="man",
        tags=("veteran",),
        fellowships=("AA", "NA"),
        availability_utc=EVENINGS,
        age_band="45-54",
        contact_modes=("phone", "in_person"),
        lat=40.04,
        lon=-75.06,
        sobriety_days=4100,
    ),
    sponsor(
        "Luis M.",
        gender="man",
        languages=("es", "en"),
        tags=("parent",),
        fellowships=("NA",),
        availability_utc=WEEKEND,
        age_band="25-34",
        sobriety_days=1500,
    ),
    sponsor(
        "Kevin O.",
        gender="man",
        tags=("veteran", "professional"),
        availability_utc=EVENINGS[:3],
        age_band="35-44",
        sobriety_days=300,
    ),
    sponsor(
        "Sam W.",
        gender="man",
        fellowships=("NA",),
        tags=("veteran",),
        contact_modes=("video", "in_person"),
        availability_utc=EVENINGS + WEEKEND,
        age_band="35-44",
        lat=39.96,
        lon=-75.20,
        load=3,
    ),
]

SEEKERS = [
    SeekerRequest(request_id="r1", member_id="Ana V.", program_id="philly-intergroup",
                  gender="woman", fellowships=("AA",), languages=("es",), tags=("parent",),
                  contact_modes=("phone",), availability_utc=EVENINGS, age_band="35-44",
                  lat=39.98, lon=-75.15),
    SeekerRequest(request_id="r2", member_id="Chris D.", program_id="philly-intergroup",
                  gender="man", fellowships=("NA",), languages=("en",), tags=("veteran",),
                  contact_modes=("phone", "in_person"), availability_utc=EVENINGS,
                  age_band="35-44", lat=39.97, lon=-75.18, in_person_needed=True,
                  max_distance_km=20.0),
    SeekerRequest(request_id="r3", member_id="Alex B.", program_id="philly-intergroup",
                  gender="woman", gender_rule="any", fellowships=("AA",), languages=("en",),
                  tags=("lgbtq+", "secular"), contact_modes=("text", "video"),
                  availability_utc=WEEKEND, age_band="25-34"),
]  # fmt: skip


def main() -> None:
    """Print each example request's shortlist and exclusion counts as Markdown."""
    index = SponsorIndex(MatchSettings()).fit(POOL)
    for q in SEEKERS:
        need = ""
        if q.in_person_needed:
            need = f"; needs to meet in person within {q.max_distance_km:.0f} km"
        print(f"**{q.member_id}** ({', '.join(q.fellowships)}; {', '.join(q.languages)}{need}):\n")
        for rank, entry in enumerate(index.shortlist(q, 3), 1):
            print(f"{rank}. {entry.member_id} — score {entry.score:.2f}")
            for reason in entry.reasons:
                print(f"   - {reason.text}")
        print()
        counts = index.explain_exclusions(q)
        print(
            "Not shown: "
            + "; ".join(
                f"{n} × {EXCLUSION_SENTENCES[c].rstrip('.')} (`{c}`)" for c, n in counts.items()
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
