"""Values every page template needs: the crisis line, the role-aware navigation, filters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC

from flask import Flask, current_app, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, select

from api.extensions import db
from api.i18n import LANGUAGES
from api.program_settings import DEFAULT_CRISIS_LINE

# Phone numbers inside a crisis line: 3 or more digits, with spaces, dashes, dots or brackets.
_PHONE = re.compile(r"(?<![\w+])(\+?\d[\d\-. ()]*\d)(?![\w])")


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string
    badge: int = 0


# Who sees what: (role, endpoint, label). A role's items appear once the page exists. "sponsee"
# is not a role: it is anyone with a sponsor right now (a sponsor usually has one of their own).
NAVIGATION = (
    # Leads to asking for a sponsor until there is one, then to them: words that fit both.
    ("newcomer", "newcomer.home", _l("Sponsor")),
    ("sponsee", "newcomer.my_sponsor", _l("My sponsor")),
    ("newcomer", "checkins.today", _l("Check-in")),
    ("sponsee", "checkins.today", _l("Check-in")),
    ("sponsor", "sponsor.inbox", _l("Asks")),
    ("sponsor", "sponsor.sponsees", _l("My sponsees")),
    ("sponsor", "sponsor.profile", _l("Sponsoring")),
    ("coordinator", "console.home", _l("Coordinator")),
    ("member", "account.notifications", _l("Notifications")),
    ("member", "account.profile", _l("Profile")),
)


def member_roles(member) -> set[str]:
    roles = {"member"}
    for membership in member.memberships:
        roles.update(membership.roles)
    if member.is_admin:
        roles.add("coordinator")
    return roles


def has_own_sponsor(member) -> bool:
    """Whether ``member`` is the sponsee of an active sponsorship, whatever their roles."""
    from api.models import Sponsorship

    found = db.session.scalar(
        select(Sponsorship.id)
        .where(Sponsorship.sponsee_id == member.id, Sponsorship.status == "active")
        .limit(1)
    )
    return found is not None


def crisis_text(line: str | None) -> str:
    """The programme's crisis line; the default one in the reader's language."""
    if not line or line == DEFAULT_CRISIS_LINE:
        from flask_babel import gettext

        return gettext(
            "Not a crisis service. In the US, call or text 988 (Suicide & Crisis Lifeline), "
            "or call the SAMHSA National Helpline at 1-800-662-4357 (free, 24/7)."
        )
    return line


def dial(number: str) -> str:
    """A phone number as a ``tel:`` or ``sms:`` link dials it: digits and a leading plus."""
    return re.sub(r"[^\d+]", "", number)


def tel_links(text: str) -> Markup:
    """``text`` escaped, with each phone number in it a tappable ``tel:`` link."""
    out, last = [], 0
    for found in _PHONE.finditer(text):
        number = found.group(1)
        digits = dial(number)
        if len(digits.lstrip("+")) < 3:
            continue
        out.append(escape(text[last : found.start(1)]))
        out.append(Markup('<a href="tel:{}">{}</a>').format(digits, number))
        last = found.end(1)
    out.append(escape(text[last:]))
    return Markup("").join(out)


def crisis_numbers(text: str) -> Markup:
    """Only the phone numbers of a crisis line, as tappable links (the short line at the top
    of every page); the whole line when it has none."""
    links = [
        Markup('<a href="tel:{}">{}</a>').format(dial(n), n)
        for n in (found.group(1) for found in _PHONE.finditer(text))
        if len(re.sub(r"\D", "", n)) >= 3
    ]
    return Markup(" · ").join(links) if links else tel_links(text)


def _unread(member) -> int:
    from api.models import Notification

    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.member_id == member.id, Notification.read_at.is_(None))
    )


def navigation(member) -> list[NavItem]:
    if member is None:
        return []
    roles = member_roles(member)
    if "newcomer" not in roles and has_own_sponsor(member):
        roles.add("sponsee")  # a newcomer's own items already lead to their sponsor
    views = current_app.view_functions
    items = []
    for role, endpoint, label in NAVIGATION:
        if role in roles and endpoint in views:
            badge = _unread(member) if endpoint == "account.notifications" else 0
            items.append(NavItem(endpoint, label, badge))
    return items


def reminders_paused(member):
    """For coordinators and admins only: the scheduler's status when reminders are not going
    out (no worker has reported recently), else None."""
    if member is None or "coordinator" not in member_roles(member):
        return None
    from api.services.scheduler import scheduler_status

    status = scheduler_status()
    return status if status.paused else None


def page_context() -> dict:
    """The crisis line of the member's first programme (else the default), the menu and, for
    coordinators, whether reminders are paused."""
    member = current_user if current_user and current_user.is_authenticated else None
    line = None
    if member is not None and member.memberships:
        line = member.memberships[0].program.setting("crisis_line")
    return {
        "crisis_line": line or DEFAULT_CRISIS_LINE,
        "nav_items": navigation(member),
        "scheduler_paused": reminders_paused(member),
        "languages": LANGUAGES,
        "current_locale": str(get_locale() or "en"),
        "here": request.full_path.rstrip("?") if request else "/",
    }


def url_for_nav(item: NavItem) -> str:
    return url_for(item.endpoint)


def when(value) -> str:
    """A moment as people say it, in the reader's zone and language: "Sun, December 6 at
    2:30 PM" / "dom, 6 de diciembre, 14:30"; with the year when it is not the reader's current
    year ("Sun, November 30, 2025 at 6:00 PM"), so last year's events never read as last week's."""
    if not value:
        return ""
    from babel.dates import format_skeleton, format_time
    from flask_babel import get_timezone, gettext

    from api.i18n import day_skeleton
    from api.models import utcnow

    zone, locale = get_timezone(), get_locale()
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    skeleton = day_skeleton(moment, zone, utcnow())
    day = format_skeleton(skeleton, value, tzinfo=zone, locale=locale, fuzzy=True)
    time = format_time(value, "short", tzinfo=zone, locale=locale)
    return gettext("%(day)s at %(time)s", day=day, time=time)


def was_due(value, now=None) -> str | None:
    """A due time already past, as people say it in the reader's zone and language: "Was due
    Fri, November 13 (24 days ago)"; None while it is still ahead (then it is "next")."""
    from api.models import utcnow

    now = now or utcnow()
    if not value or value > now:
        return None
    from babel.dates import format_skeleton, format_time
    from flask_babel import get_timezone, gettext, ngettext

    zone, locale = get_timezone(), get_locale()
    days = (now.astimezone(zone).date() - value.astimezone(zone).date()).days
    if days < 1:
        time = format_time(value, "short", tzinfo=zone, locale=locale)
        return gettext("Was due earlier today, at %(time)s", time=time)
    day = format_skeleton("MMMMEEEEd", value, tzinfo=zone, locale=locale, fuzzy=True)
    return ngettext(
        "Was due %(day)s (%(num)d day ago)", "Was due %(day)s (%(num)d days ago)", days, day=day
    )


def waited(days) -> str:
    """A wait in days as people say it: "5 days", "3 weeks", "4 months", "1 year, 2 months"
    (whole units, rounded down; under a day is "less than a day")."""
    from flask_babel import gettext, ngettext

    days = int(days or 0)
    if days < 1:
        return gettext("less than a day")
    if days < 14:
        return ngettext("%(num)d day", "%(num)d days", days)
    if days < 61:
        return ngettext("%(num)d week", "%(num)d weeks", days // 7)
    if days < 365:
        return ngettext("%(num)d month", "%(num)d months", int(days / 30.44))  # average month
    years, rest = divmod(days, 365)
    months = min(int(rest / 30.44), 11)
    in_years = ngettext("%(num)d year", "%(num)d years", years)
    if not months:
        return in_years
    in_months = ngettext("%(num)d month", "%(num)d months", months)
    return gettext("%(years)s, %(months)s", years=in_years, months=in_months)


def number(value, places: int | None = None) -> str:
    """A number as the reader writes it ("0.33" / "0,33"); ``places`` fixes the decimals."""
    if value is None:
        return ""
    from flask_babel import format_decimal

    return format_decimal(value, format=None if places is None else "#,##0." + "0" * places)


def init_app(app: Flask) -> None:
    from api.web import wording

    app.context_processor(page_context)
    app.jinja_env.globals["wording"] = wording
    app.jinja_env.filters["when"] = when
    app.jinja_env.globals["was_due"] = was_due
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["waited"] = waited
    app.jinja_env.filters["tel_links"] = tel_links
    app.jinja_env.filters["crisis_numbers"] = crisis_numbers
    from api.mail import sentences

    app.jinja_env.filters["sentence"] = sentences  # "… Ana P." never "… Ana P.."
    app.jinja_env.filters["crisis_text"] = crisis_text
    from api.services.resources import host_of

    app.jinja_env.filters["host"] = host_of  # where a resource's link goes ("example.org")
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value, fmt) if value else ""
    )
    app.jinja_env.filters["date"] = lambda value, fmt="medium": (
        format_date(value, fmt) if value else ""
    )
