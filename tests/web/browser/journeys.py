"""Small steps the journeys share: words in the reader's language, logging in."""

from __future__ import annotations

import gettext
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path

from api.seed import DEMO_PASSWORD

TRANSLATIONS = Path(__file__).resolve().parents[3] / "api" / "translations"


@cache
def words(lang: str) -> Callable[..., str]:
    """``say(msgid, **names)``: what a page in ``lang`` shows for ``msgid`` (the catalogue's
    own translation, so the tests follow the wording the translators chose)."""
    catalogue = gettext.translation("messages", TRANSLATIONS, [lang], fallback=lang == "en")

    def say(msgid: str, **names) -> str:
        text = catalogue.gettext(msgid)
        assert lang == "en" or text != msgid, f"no {lang} translation for {msgid!r}"
        return text % names if names else text

    return say


def log_in(page, email: str, password: str = DEMO_PASSWORD, *, here: bool = False) -> None:
    """Log in from the login page (``here``: the one the page shows), as a person types it."""
    if not here:
        page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"could not log in as {email}"


# -- setting a scene inside the app (run these through ``live.act``) ----------------------------


def _member(email: str):
    from sqlalchemy import select

    from api.extensions import db
    from api.models import Member

    return db.session.scalar(select(Member).where(Member.email == email))


def _open_request(newcomer):
    """The newcomer's open request, opened now (with the API's defaults) if they have none."""
    from api.schemas.profiles import SponsorRequestSchema
    from api.services import sponsor_requests

    for request in sponsor_requests.my_requests(newcomer):
        if request.status == "open":
            return request
    program = newcomer.memberships[0].program
    return sponsor_requests.open_request(newcomer, program, SponsorRequestSchema().load({}))


def two_who_fit(newcomers: list[str]) -> tuple[str, str, str]:
    """A sponsor on the shortlists of two of ``newcomers`` (demo newcomers; those who have a
    sponsor already are passed over): returns the sponsor's email and the two newcomers'
    emails."""
    from api.errors import Conflict
    from api.services import proposals, shortlist

    lists = {}
    for email in newcomers:
        newcomer = _member(email)
        try:
            request = _open_request(newcomer)
        except Conflict:  # already has a sponsor
            continue
        if any(p.status == "pending" for p in proposals.for_request(newcomer, request.uuid)):
            continue
        entries = shortlist.shortlist_for(newcomer, request.uuid)["entries"]
        lists[email] = [entry["sponsor"]["id"] for entry in entries]
    for first, ids in lists.items():
        for sponsor_id in ids:
            for second, others in lists.items():
                if second != first and sponsor_id in others:
                    return _email_of(sponsor_id), first, second
    raise AssertionError(f"no sponsor fits two of {newcomers}")


def _email_of(member_uuid: str) -> str:
    from sqlalchemy import select

    from api.extensions import db
    from api.models import Member

    return db.session.scalar(select(Member.email).where(Member.uuid == uuid.UUID(member_uuid)))


def asks(newcomer_email: str, sponsor_email: str) -> str:
    """The newcomer asks the sponsor, through the same service as the "Ask" button; returns
    the newcomer's display name."""
    from api.services import proposals

    newcomer = _member(newcomer_email)
    request = _open_request(newcomer)
    proposals.ask(newcomer, request.uuid, sponsor_uuid=_member(sponsor_email).uuid)
    return newcomer.display_name
