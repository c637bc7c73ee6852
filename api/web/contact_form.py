"""The pair page's "We talked" form: the kind of talk, optional minutes, a private note, and
when it was, read in the reader's own time zone (api/web/pairs.py shows and posts it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import gettext as _

from api.models import Sponsorship, utcnow
from api.schemas.contacts import ContactCreateSchema
from api.web.forms import OMIT, Form

CONTACT_FIELDS = ("kind", "occurred_at", "duration_minutes", "note")
WHEN_CHOICES = ("now", "yesterday", "earlier")
NOON = time(12)


class ContactForm(Form):
    """ "We talked": the kind (a call unless changed), optional minutes, a private note, and
    when: just now (the default), yesterday or another day, with an optional time, read in
    the reader's own zone. A day or time that cannot be read is named beside its field; the
    service refuses a moment in the future or before the pair began, beside "When"."""

    def __init__(self, pair: Sponsorship, initial: dict | None = None):
        self.pair = pair
        self.when_errors: dict[str, list[str]] = {}
        super().__init__(
            ContactCreateSchema(),
            CONTACT_FIELDS,
            initial=initial or {"kind": "call", "occurred_at": "now"},
            convert={"occurred_at": self._occurred_at},
        )

    def validate(self) -> bool:
        valid = super().validate()
        if self.when_errors:  # instead of the schema's "missing" for the moment left out
            self.errors.pop("occurred_at", None)
            self.errors.update(self.when_errors)
            return False
        return valid

    def _occurred_at(self, form) -> object:
        now = utcnow()
        choice = form.get("occurred_at") or "now"
        if choice not in WHEN_CHOICES:
            return self._refuse("occurred_at", _("Choose one of the options."))
        if choice == "now":
            return now.isoformat()
        zone = ZoneInfo(str(get_timezone()))  # zoneinfo: combine() with pytz would use LMT
        if choice == "yesterday":
            day = now.astimezone(zone).date() - timedelta(days=1)
        else:
            try:
                day = date.fromisoformat(form.get("talked_on", "").strip())
            except ValueError:
                return self._refuse("talked_on", _("Enter the day you talked."))
        typed = form.get("talked_at", "").strip()
        try:
            at = time.fromisoformat(typed) if typed else NOON
        except ValueError:
            return self._refuse("talked_at", _("Enter a time like 18:30, or leave it empty."))
        moment = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if not typed:  # no time given: midday, or the nearest moment of that day that fits
            if day == now.astimezone(zone).date():
                moment = min(moment, now)
            if day == self.pair.started_at.astimezone(zone).date():
                moment = max(moment, self.pair.started_at)
        return moment.isoformat()

    def _refuse(self, name: str, message: str) -> object:
        self.when_errors[name] = [message]
        return OMIT


def local_days(pair: Sponsorship) -> dict[str, str]:
    """The first and the latest day a contact may have on the reader's calendar (the date
    field's bounds)."""
    zone = get_timezone()
    return {
        "first": pair.started_at.astimezone(zone).date().isoformat(),
        "today": utcnow().astimezone(zone).date().isoformat(),
    }
