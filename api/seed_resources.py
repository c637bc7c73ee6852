"""The demo programme's practical resources: a small set in English and Spanish, plausible and
clearly fictional (example.org hosts, "Sample Street" addresses, no phone numbers; the crisis
line at the top of every page is the only number)."""

from __future__ import annotations

from sqlalchemy import select

from api.extensions import db
from api.models import Program, Resource

# (title, kind, url, text, fellowships, languages)
DEMO_RESOURCES = (
    (
        "Meetings this week",
        "meetings",
        "https://meetings.example.org/demo-intergroup",
        "Every day at 7:00 AM and 6:30 PM, 123 Sample Street, Room 2. Online at 8:00 PM.",
        (),
        ("en",),
    ),
    (
        "Reuniones en español",
        "meetings",
        "https://meetings.example.org/demo-intergroup/es",
        "Martes y jueves a las 7:00 PM, 45 Sample Street, sala B. Café desde las 6:30.",
        (),
        ("es",),
    ),
    (
        "Big Book study guide",
        "literature",
        "https://literature.example.org/aa/study-guide",
        None,
        ("AA",),
        ("en",),
    ),
    (
        "Guía de estudio del Texto Básico",
        "literature",
        "https://literature.example.org/na/guia",
        None,
        ("NA",),
        ("es",),
    ),
    (
        "Finding treatment and health services",
        "treatment",
        "https://treatment.example.org/find",
        "A directory of clinics and counsellors near you, with what each one costs.",
        (),
        ("en",),
    ),
    (
        "HALT: hungry, angry, lonely, tired?",
        "coping",
        None,
        "When a craving comes, check HALT. Eat something, call someone, rest. "
        "Cravings pass, usually within 20 minutes.",
        (),
        ("en",),
    ),
    (
        "Cuando llegan las ganas",
        "coping",
        None,
        "Respira despacio, toma agua y llama a alguien de tu grupo. "
        "Las ganas pasan, casi siempre en menos de 20 minutos.",
        (),
        ("es",),
    ),
    (
        "Help nearby, day and night",
        "crisis",
        "https://help.example.org/demo-city",
        "Walk-in support at 9 Sample Street, open every day. In danger? Call the crisis line "
        "at the top of this page.",
        (),
        ("en",),
    ),
    (
        "Ayuda cerca, de día y de noche",
        "crisis",
        "https://help.example.org/demo-city/es",
        "Apoyo sin cita en 9 Sample Street, abierto todos los días. ¿Estás en peligro? Llama a "
        "la línea de crisis que está arriba en esta página.",
        (),
        ("es",),
    ),
)


def seed_resources(program: Program) -> None:
    """Add the demo resources the programme does not have yet (by title): idempotent."""
    have = set(db.session.scalars(select(Resource.title).where(Resource.program_id == program.id)))
    for title, kind, url, body, fellowships, languages in DEMO_RESOURCES:
        if title in have:
            continue
        db.session.add(
            Resource(
                program_id=program.id,
                title=title,
                kind=kind,
                url=url,
                body=body,
                fellowships=list(fellowships),
                languages=list(languages),
            )
        )
