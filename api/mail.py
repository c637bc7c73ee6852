"""What each email says: one composer per outbox event, in the recipient's language and zone.

A composer runs when the message is delivered (or a notification is shown), looks up the
objects the row's ``data`` names, and returns a ``Letter``: a neutral subject, a title, a body,
and the one action with its link. Emails get signed one-step links where the action is safe
(api/web/links.py); notifications and everything else link to the logged-in page (login brings
the reader back). An event without a composer, or whose objects are gone, keeps the stored
English text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_skeleton, format_time
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from api.extensions import db
from api.i18n import day_skeleton
from api.models import (
    AvailabilityCheck,
    Member,
    MissedContactFlag,
    Program,
    Proposal,
    SponsorRequest,
    Sponsorship,
    utcnow,
)

_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


def sentences(*parts: str) -> str:
    """Whole sentences joined by one space, never with a doubled full stop: a name such as
    "Elena A." ending a sentence keeps its one stop ("… reach Elena A.", not "… Elena A..")."""
    text = " ".join(part.strip() for part in parts if part and part.strip())
    return _DOUBLE_STOP.sub(".", text)


@dataclass(frozen=True)
class Letter:
    """One message as its reader sees it."""

    subject: str
    title: str
    body: str
    action: str | None = None  # a one-line label for the link
    url: str | None = None  # where to act: a signed link in an email when safe, else the page
    page: str | None = None  # the logged-in page (notifications, minimal emails)


@dataclass
class _Reader:
    """The recipient and the message a composer writes for."""

    member: Member
    event: str
    data: dict
    key: str
    program: Program | None
    email: bool
    now: datetime
    language: str | None = None

    @property
    def zone(self):
        try:
            return ZoneInfo(self.member.time_zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def locale(self) -> str:
        return self.member.locale or self.language or "en"

    def at(self, moment: datetime | None) -> str:
        """A moment in the reader's zone and language: "Sunday, December 6 at 2:30 PM", with
        the year when it is not this one there."""
        if moment is None:
            return ""
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        skeleton = day_skeleton(moment, self.zone, self.now)
        day = format_skeleton(skeleton, moment, tzinfo=self.zone, locale=self.locale)
        time = format_time(moment, "short", tzinfo=self.zone, locale=self.locale)
        return _("%(day)s at %(time)s", day=day, time=time)

    def day(self, value: date) -> str:
        return format_date(value, "full", locale=self.locale)

    def page(self, endpoint: str, **values) -> str | None:
        """The page's address: absolute in an email, a path on a page."""
        if endpoint not in current_app.view_functions:
            return None
        if has_request_context():
            path = url_for(endpoint, **values)
        else:
            with current_app.test_request_context("/"):
                path = url_for(endpoint, **values)
        return self.absolute(path) if self.email else path

    def absolute(self, path: str) -> str:
        return str(current_app.config["BASE_URL"]).rstrip("/") + path

    def signed(self, kind: str, target) -> str | None:
        """A signed one-step link (emails only; a page links to the logged-in page)."""
        if not self.email:
            return None
        from api.web.links import link_path

        return self.absolute(link_path(kind, self.member, target, self.key))


def _find(model, value):
    try:
        public = uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None
    return db.session.scalar(select(model).where(model.uuid == public))


def _letter(r: _Reader, subject, title, body, action=None, page=None, signed=None) -> Letter:
    return Letter(subject, title, body, action, signed or page, page)


# ---- asks and answers --------------------------------------------------------------------


def _proposed(r: _Reader) -> Letter | None:
    return _ask_letter(r, reminder=False)


def _ask_reminder(r: _Reader) -> Letter | None:
    """The one reminder before an unanswered ask runs out (jobs/ask_reminders.py)."""
    return _ask_letter(r, reminder=True)


def _ask_letter(r: _Reader, *, reminder: bool) -> Letter | None:
    """An ask to a sponsor, or its reminder: the deadline and the no-password answer link."""
    proposal = _find(Proposal, r.data.get("proposal_id"))
    if proposal is None:
        return None
    name = proposal.newcomer.display_name
    if reminder:
        subject = _("A reminder: someone is waiting for your answer")
        title = _("%(name)s is still waiting for your answer", name=name)
        first, last = "", _("Saying no is fine too: they see their next option straight away.")
    else:
        subject = _("Someone is waiting for your answer")
        title = _("%(name)s would like you to be their sponsor", name=name)
        first, last = _("%(name)s asked you.", name=name), ""
    return _letter(
        r,
        subject,
        title,
        sentences(
            first,
            _("Please answer by %(deadline)s.", deadline=r.at(proposal.deadline_at)),
            _("If you say nothing by then, they are offered someone else."),
            last,
        ),
        _("See the ask and answer it (no password needed):")
        if r.email
        else _("See the ask and answer it"),
        r.page("sponsor.inbox"),
        r.signed("ask", proposal.uuid),
    )


def _accepted(r: _Reader) -> Letter | None:
    pair = _find(Sponsorship, r.data.get("sponsorship_id"))
    if pair is None:
        return None
    name = pair.sponsor.display_name
    return _letter(
        r,
        _("Good news about your request"),
        _("Good news about your request"),
        sentences(_("%(name)s said yes.", name=name), _("You can now see how to reach them.")),
        _("See how to reach them:"),
        r.page("pairs.pair", pair_id=pair.uuid),
    )


def _not_available(r: _Reader) -> Letter | None:
    """A declined or lapsed ask: the sponsor hears it lapsed, the newcomer their next step."""
    proposal = _find(Proposal, r.data.get("proposal_id"))
    if proposal is not None and proposal.sponsor_id == r.member.id:
        return _letter(
            r,
            _("A request to you has lapsed"),
            _("A request to you has lapsed"),
            _("The answer deadline passed, so the newcomer has been offered someone else."),
            _("See your asks:"),
            r.page("sponsor.inbox"),
        )
    request = _find(SponsorRequest, r.data.get("request_id"))
    if request is None:
        return None
    asked = db.session.scalar(
        select(Proposal)
        .where(Proposal.request_id == request.id, Proposal.status == "pending")
        .limit(1)
    )
    option = r.data.get("next_option") or {}
    name = (option.get("sponsor") or {}).get("display_name")
    if asked is not None:  # "ask the best for me": the next one was asked already
        after = _(
            "We asked %(name)s for you and will let you know.", name=asked.sponsor.display_name
        )
    elif name:
        after = _("You can ask %(name)s next; nobody has been asked yet.", name=name)
    else:
        after = _("Nobody else is free yet; your coordinator can help.")
    return _letter(
        r,
        _("An update on your request"),
        _("An update on your request"),
        sentences(_("This sponsor is not available right now."), after),
        _("See your next step:"),
        r.page("newcomer.home"),
    )


def _withdrawn(r: _Reader) -> Letter:
    return _letter(
        r,
        _("A request was withdrawn"),
        _("A request to you was withdrawn"),
        _("No action is needed. Thank you for being available."),
        _("See your asks:"),
        r.page("sponsor.inbox"),
    )


def _round_published(r: _Reader) -> Letter | None:
    proposal = _find(Proposal, r.data.get("proposal_id"))
    if proposal is None:
        return None
    return _letter(
        r,
        _("We found someone for you"),
        _("We found someone for you"),
        sentences(
            _("Your coordinator asked %(name)s for you.", name=proposal.sponsor.display_name),
            _("They have until %(deadline)s to answer.", deadline=r.at(proposal.deadline_at)),
            _("We will let you know."),
        ),
        _("See who was asked:"),
        r.page("newcomer.home"),
    )


def _shortlist_empty(r: _Reader) -> Letter | None:
    request = _find(SponsorRequest, r.data.get("request_id"))
    if request is None:
        return None
    program = request.program
    return _letter(
        r,
        _("Someone is waiting without a match"),
        _("A newcomer has no eligible sponsor"),
        sentences(
            _(
                "A request in %(programme)s has nobody to propose right now.",
                programme=program.name,
            ),
            _("The members page shows who is waiting and the sponsors who could take them."),
        ),
        _("See who is waiting:"),
        r.page("console.members", program_id=program.uuid, waiting="true"),
    )


LISTED_WAITS = 10  # names in one note about long waits; the page lists everyone


def _waiting_long(r: _Reader) -> Letter | None:
    """Newcomers who have waited a week or more with nobody asked (jobs/waiting.py): their
    coordinators are told, each week, one note for everyone due at once."""
    items = [i for i in r.data.get("waiting") or () if isinstance(i, dict)]
    found = [(_find(SponsorRequest, i.get("request_id")), i.get("weeks")) for i in items]
    found = [(request, weeks) for request, weeks in found if request is not None]
    if not found:
        return None
    program = found[0][0].program
    names = _coordinator_names(program, [request.newcomer for request, _ in found])

    def days(weeks) -> int:
        return 7 * max(1, int(weeks or 1))

    if len(found) == 1:
        request, weeks = found[0]
        newcomer = request.newcomer
        name = names.get(newcomer.id) or newcomer.display_name
        return _letter(
            r,
            _("Someone has waited a while"),
            _("%(name)s is still waiting for a sponsor", name=name),
            sentences(
                _(
                    "%(name)s asked for a sponsor %(num)d days ago or more, and nobody is being "
                    "asked for them right now.",
                    name=name,
                    num=days(weeks),
                ),
                _("A matching round can ask the sponsor who fits them best, or you can reach out."),
            ),
            _("See their page:"),
            r.page("console.member", program_id=program.uuid, member_id=newcomer.uuid),
        )
    waits = "; ".join(
        _(
            "%(name)s, %(num)d days or more",
            name=names.get(request.newcomer.id) or request.newcomer.display_name,
            num=days(weeks),
        )
        for request, weeks in found[:LISTED_WAITS]
    )
    if len(found) > LISTED_WAITS:
        waits = _("%(waits)s and %(num)d more", waits=waits, num=len(found) - LISTED_WAITS)
    return _letter(
        r,
        _("Someone has waited a while"),
        _("%(num)d newcomers are still waiting for a sponsor", num=len(found)),
        sentences(
            _("Nobody is being asked for them right now: %(waits)s.", waits=waits),
            _("A matching round can ask the sponsor who fits each of them best."),
        ),
        _("See who is waiting:"),
        r.page("console.members", program_id=program.uuid, waiting="true"),
    )


# ---- pairs ---------------------------------------------------------------------------------


def _pair(r: _Reader) -> Sponsorship | None:
    pair = _find(Sponsorship, r.data.get("sponsorship_id") or r.data.get("sponsorship"))
    if pair is None or r.member.id not in (pair.sponsor_id, pair.sponsee_id):
        return None
    return pair


def _other(r: _Reader, pair: Sponsorship) -> str:
    return (pair.sponsee if pair.sponsor_id == r.member.id else pair.sponsor).display_name


def _pair_started(r: _Reader) -> Letter | None:
    pair = _pair(r)
    if pair is None:
        return None
    return _letter(
        r,
        _("You have someone new to call"),
        _("You have a new sponsee"),
        sentences(_("You and %(name)s are paired.", name=_other(r, pair)), _("Reach out soon.")),
        _("See how to reach them:"),
        r.page("pairs.pair", pair_id=pair.uuid),
    )


def _pair_ended(r: _Reader) -> Letter | None:
    pair = _pair(r)
    if pair is None:
        return None
    return _letter(
        r,
        _("Your pairing has ended"),
        _("Your pairing has ended"),
        sentences(
            _("%(name)s has closed your pairing.", name=_other(r, pair)),
            _("Thank you for the time together."),
        ),
        _("See the pairing:"),
        r.page("pairs.pair", pair_id=pair.uuid),
    )


def _pair_converted(r: _Reader) -> Letter | None:
    pair = _pair(r)
    if pair is None:
        return None
    return _letter(
        r,
        _("Your pairing continues"),
        _("Your pairing continues"),
        sentences(
            _("%(name)s chose to go on together as a permanent pair.", name=_other(r, pair)),
            _("If that is not what you agreed, talk it over, or close it from the page."),
        ),
        _("See the pairing:"),
        r.page("pairs.pair", pair_id=pair.uuid),
    )


def _term_ending(r: _Reader) -> Letter | None:
    pair = _pair(r)
    if pair is None or pair.ends_on is None:
        return None
    return _letter(
        r,
        _("Your pairing ends soon"),
        _("Your temporary pairing ends soon"),
        sentences(
            _(
                "Your temporary pairing with %(name)s ends on %(day)s.",
                name=_other(r, pair),
                day=r.day(pair.ends_on),
            ),
            _("Talk it over: continue together as a permanent pair, or close it."),
        ),
        _("Choose what happens next:"),
        r.page("pairs.pair", pair_id=pair.uuid),
    )


def _talked_action(r: _Reader) -> str:
    if r.email:
        return _("Talked already? One tap notes it (no password needed):")
    return _("Note that you talked")


def _checkin_due(r: _Reader) -> Letter | None:
    pair = _pair(r)
    if pair is None:
        return None
    name = _other(r, pair)
    due = _("The check-in is due %(when)s.", when=r.at(pair.contact_due_at))
    if pair.sponsee_id == r.member.id:
        title = _("Time to check in")
        body = sentences(
            _("It's a good day to reach %(name)s.", name=name),
            _("A call, a text or a meeting together all count."),
            due,
        )
    else:
        title = _("A check-in is due")
        body = sentences(
            _("You and %(name)s are due to talk.", name=name),
            _("A short call or text counts."),
            due,
        )
    return _letter(
        r,
        _("Time to check in"),
        title,
        body,
        _talked_action(r),
        r.page("pairs.pair", pair_id=pair.uuid),
        r.signed("talked", pair.uuid),
    )


def _overdue(r: _Reader) -> Letter | None:
    pair = _pair(r)
    if pair is None:
        return None
    name = _other(r, pair)
    if int(r.data.get("level") or 1) >= 2:
        subject = _("Please call today")
        title = _("Please reach %(name)s today", name=name)
        body = sentences(
            _(
                "You and %(name)s have gone twice your agreed check-in time without talking.",
                name=name,
            ),
            _("Please reach out today."),
            _("If something is in the way, tell your coordinator."),
        )
    else:
        subject = title = _("Time to reconnect")
        body = sentences(
            _("You and %(name)s have not noted a talk for a while.", name=name),
            _("A short call or text counts; note it when you have talked."),
        )
    page = r.page("pairs.pair", pair_id=pair.uuid)
    return _letter(r, subject, title, body, _talked_action(r), page, r.signed("talked", pair.uuid))


def _escalated(r: _Reader) -> Letter | None:
    pair = _find(Sponsorship, r.data.get("sponsorship"))
    if pair is None:
        return None
    flag = _find(MissedContactFlag, r.data.get("flag"))
    names = _coordinator_names(pair.program, [pair.sponsor, pair.sponsee])
    return _letter(
        r,
        _("A pair needs your attention"),
        _("A pair needs your attention"),
        sentences(
            _(
                "%(sponsor)s and %(sponsee)s have been out of touch for a long time.",
                sponsor=names[pair.sponsor_id],
                sponsee=names[pair.sponsee_id],
            ),
            _("The pair is in your escalation queue."),
            _("It was raised %(when)s.", when=r.at(flag.level3_at)) if flag else "",
        ),
        _("Open the escalation queue:"),
        r.page("dashboard.escalation_queue", program_id=pair.program.uuid),
    )


def _coordinator_names(program: Program, members: list) -> dict[int, str]:
    """Members named for a coordinator as the console names them (same-named members told
    apart, api.web.console.base.people_labels)."""
    from api.web.console.base import people_labels

    return people_labels(program, members)


_RESOLVED_HOW = {
    "coordinator": lambda by: _("%(name)s resolved it.", name=by),
    "contact": lambda by: _("%(name)s logged a contact.", name=by),
    "ended": lambda by: _("%(name)s ended the sponsorship.", name=by),
}


def _resolved(r: _Reader) -> Letter | None:
    """An escalation left the queue: who resolved it and how (issue 14, finding 6)."""
    pair = _find(Sponsorship, r.data.get("sponsorship"))
    if pair is None:
        return None
    flag = _find(MissedContactFlag, r.data.get("flag"))
    by = _find(Member, r.data.get("by")) if r.data.get("by") else None
    names = _coordinator_names(pair.program, [pair.sponsor, pair.sponsee, by])
    how = _RESOLVED_HOW.get(r.data.get("resolution") or "")
    did = flag.action_taken if flag and r.data.get("resolution") == "coordinator" else None
    return _letter(
        r,
        _("An update on a pair"),
        _(
            "%(sponsor)s and %(sponsee)s are off the escalation queue",
            sponsor=names[pair.sponsor_id],
            sponsee=names[pair.sponsee_id],
        ),
        sentences(
            how(names[by.id]) if how and by else _("The escalation was resolved."),
            _("What they did: %(action)s", action=did) if did else "",
        ),
        _("See the sponsor's page:"),
        r.page("console.member", program_id=pair.program.uuid, member_id=pair.sponsor.uuid),
    )


def _coordinator_message(r: _Reader, stored: dict) -> Letter | None:
    pair = _pair(r)
    if pair is None:
        return None
    return _letter(
        r,
        _("A message from your coordinator"),
        _("A message from your coordinator"),
        stored.get("body", ""),  # the coordinator's own words, as they wrote them
        _("Open your pairing:"),
        r.page("pairs.pair", pair_id=pair.uuid),
    )


def _milestone(r: _Reader) -> Letter | None:
    """A sponsee who chose to share their milestones reached one (never their date)."""
    pair = _pair(r)
    code = str(r.data.get("milestone") or "")
    if pair is None or pair.sponsor_id != r.member.id or not code:
        return None
    from api.web.wording import milestone_text

    name = pair.sponsee.display_name
    return _letter(
        r,
        _("Something to celebrate"),
        _("A reason to reach %(name)s", name=name),
        sentences(
            _(
                "%(name)s has reached %(milestone)s and wanted you to know.",
                name=name,
                milestone=milestone_text(code),
            ),
            _("A short call or text to say well done means a lot."),
        ),
        _("Open your pairing:"),
        r.page("pairs.pair", pair_id=pair.uuid),
    )


def _daily_checkin(r: _Reader) -> Letter:
    """The daily reminder the member turned on: three taps, and how to turn it off."""
    return _letter(
        r,
        _("How is today?"),
        _("How is today?"),
        sentences(
            _("Three taps tell how today is going. It takes a few seconds."),
            _("You choose who sees it. You can turn this reminder off on the same page."),
        ),
        _("Check in:"),
        r.page("checkins.today"),
    )


def _reach_out(r: _Reader) -> Letter | None:
    """A sponsor asked to reach out today. The sponsee's answers and private line are never in
    it: only that a call would help, and why in the plainest words their sharing allows."""
    pair = _pair(r)
    if pair is None or pair.sponsor_id != r.member.id:
        return None
    name = pair.sponsee.display_name
    why = {
        "asked": _(
            "%(name)s asked us to let you know they would be glad to hear from you today.",
            name=name,
        ),
        "hard": _("%(name)s is having a hard day today.", name=name),
        "low": _("%(name)s has had a couple of hard days in a row.", name=name),
        "quiet": _("%(name)s checked in every day, and has not for a week.", name=name),
    }.get(r.data.get("reason") or "", _("%(name)s could use a call today.", name=name))
    return _letter(
        r,
        _("A call would help today"),
        _("Please reach out to %(name)s today", name=name),
        sentences(why, _("A short call or text is enough.")),
        _("See how to reach them:"),
        r.page("pairs.pair", pair_id=pair.uuid),
    )


def _resource_shared(r: _Reader) -> Letter | None:
    """A sponsor shared one of the programme's resources with their sponsee."""
    from api.models import Resource

    pair = _pair(r)
    resource = _find(Resource, r.data.get("resource"))
    if pair is None or resource is None or pair.sponsee_id != r.member.id:
        return None
    from api.services.resources import host_of

    name = pair.sponsor.display_name
    where = (
        _("It links to %(host)s.", host=host_of(resource.url))
        if resource.url
        else _("It is a short text to read.")
    )
    return _letter(
        r,
        _("Something to read"),
        _("%(name)s shared something with you", name=name),
        sentences(_("“%(title)s”", title=resource.title), where),
        _("See it with your other resources:"),
        r.page("resources.mine"),
    )


# ---- sponsors' availability ------------------------------------------------------------------


def _availability_check(r: _Reader) -> Letter | None:
    check = _find(AvailabilityCheck, r.data.get("check"))
    if check is None or check.member_id != r.member.id:
        return None
    days = int(r.program.setting("availability_answer_days")) if r.program else 7
    from datetime import timedelta

    deadline = check.asked_at + timedelta(days=days)
    if r.event == "availability.reminder":
        opening = _("A few days ago we asked whether you can still take on someone new.")
    elif r.data.get("stale"):
        opening = _(
            "We have not heard from you in a while, so newcomers cannot ask you for now. "
            "One yes puts you back on the list."
        )
    else:
        opening = _("Once a month we ask every sponsor whether they can take on someone new.")
    return _letter(
        r,
        _("A reminder for you")
        if r.event == "availability.reminder"
        else _("A quick question for you"),
        _("Still available to sponsor?"),
        sentences(
            opening,
            _("Please answer by %(deadline)s.", deadline=r.at(deadline)),
            _("Without an answer we pause new asks to you; your sponsees stay with you."),
        ),
        _("Yes, I'm still available (one tap, no password needed):")
        if r.email
        else _("Answer the question"),
        r.page("sponsor.still_available"),
        r.signed("available", check.uuid),
    )


def _paused(r: _Reader) -> Letter | None:
    """A sponsor paused (for silence or lapsed asks): the sponsor, or a coordinator, is told."""
    subject_id = r.data.get("member") or r.data.get("member_id")
    sponsor = _find(Member, subject_id) if subject_id else None
    if sponsor is not None and sponsor.id != r.member.id:
        program = r.program
        page = (
            r.page("console.member", program_id=program.uuid, member_id=sponsor.uuid)
            if program
            else None
        )
        name = _coordinator_names(program, [sponsor])[sponsor.id] if program else None
        name = name or sponsor.display_name
        return _letter(
            r,
            _("A member was paused"),
            _("%(name)s was paused", name=name),
            _("%(name)s is paused from new asks: they did not answer in time.", name=name),
            _("See their page:"),
            page,
        )
    return _letter(
        r,
        _("New asks are paused"),
        _("New asks to you are paused"),
        sentences(
            _("We did not hear back in time, so new asks to you are paused."),
            _("Your sponsees stay with you. Resume any time."),
        ),
        _("Resume or answer here:"),
        r.page("sponsor.profile"),
    )


_COMPOSERS: dict[str, Callable[[_Reader], Letter | None]] = {
    "match.proposed": _proposed,
    "match.accepted": _accepted,
    "match.declined": _not_available,
    "match.expired": _not_available,
    "match.withdrawn": _withdrawn,
    "round.published": _round_published,
    "match.shortlist_empty": _shortlist_empty,
    "match.waiting_long": _waiting_long,
    "match.ask_reminder": _ask_reminder,
    "pair.started": _pair_started,
    "pair.ended": _pair_ended,
    "pair.converted": _pair_converted,
    "pair.term_ending": _term_ending,
    "checkin.due": _checkin_due,
    "milestone.reached": _milestone,
    "resource.shared": _resource_shared,
    "checkin.daily": _daily_checkin,
    "checkin.reach_out": _reach_out,
    "contact.overdue": _overdue,
    "contact.escalated": _escalated,
    "availability.check": _availability_check,
    "availability.reminder": _availability_check,
    "contact.resolved": _resolved,
    "availability.paused": _paused,
    "member.paused": _paused,
}


def compose(
    member: Member,
    event: str,
    stored: dict,
    *,
    key: str = "",
    program: Program | None = None,
    email: bool = True,
    now: datetime | None = None,
    language: str | None = None,
) -> Letter | None:
    """The message ``event`` for ``member``, in their language (else ``language``, else
    English); None when no composer knows it (the caller keeps the stored text)."""
    data = stored.get("data") or {}
    reader = _Reader(member, event, data, key, program, email, now or utcnow(), language)
    with force_locale(reader.locale):
        if event == "contact.coordinator_message":
            letter = _coordinator_message(reader, stored)
        else:
            composer = _COMPOSERS.get(event)
            letter = composer(reader) if composer else None
        if letter is None:
            return None
        day = format_skeleton("MMMd", reader.now, tzinfo=reader.zone, locale=reader.locale)
        return replace(letter, subject=f"{letter.subject} · {day}")


def when_for(member: Member, moment: datetime) -> str:
    """A moment in ``member``'s zone, in the language being spoken now (a link's page)."""
    from flask_babel import get_locale

    reader = _Reader(member, "", {}, "", None, False, utcnow(), str(get_locale() or "en"))
    with force_locale(str(get_locale() or "en")):
        return reader.at(moment)


def notification_text(notification, member: Member) -> tuple[str, str, str | None]:
    """A notification's title, body and page, in the member's language (the stored English
    text when its event has no composer)."""
    stored = {"title": notification.title, "body": notification.body, "data": notification.data}
    program = db.session.get(Program, notification.program_id) if notification.program_id else None
    from flask_babel import get_locale

    letter = compose(
        member,
        notification.kind,
        stored,
        program=program,
        email=False,
        now=notification.created_at,
        language=str(get_locale() or "en"),
    )
    if letter is None:
        return notification.title, notification.body, None
    return letter.title, letter.body, letter.page
