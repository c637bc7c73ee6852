"""Contacts, the pair's cadence, in-app notifications, availability answers (the email links'
pages live in api/web/links.py)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member
from api.schemas.contacts import (
    AvailabilityAnswerSchema,
    AvailabilityCheckSchema,
    CadenceSchema,
    ContactCreateSchema,
    ContactSchema,
    NotificationQueryArgsSchema,
    NotificationSchema,
    SponsorshipScheduleSchema,
)
from api.services import accountability, contacts, idempotency

blp = Blueprint("contacts", __name__, url_prefix="/api/v1", description="Contacts and check-ins")


@blp.route("/sponsorships/<uuid:sponsorship_id>/contacts")
class Contacts(MethodView):
    @auth_required
    @blp.arguments(ContactCreateSchema)
    @blp.response(201, ContactSchema)
    @blp.doc(parameters=[idempotency.HEADER_DOC])
    def post(self, data, sponsorship_id):
        """Log a contact (either side). The private note is readable by you only.

        The same contact sent again by the same member within two minutes (a double tap) writes
        nothing: the first contact comes back with `Idempotent-Replayed: true`."""
        member = current_member()
        pair = contacts.sponsorship_for(member, sponsorship_id)
        g.contact_viewer_id = member.id
        return idempotency.once(member, lambda: _note(member, pair, data))

    @auth_required
    @blp.response(200, ContactSchema(many=True))
    def get(self, sponsorship_id):
        """The pair's contacts (both sides and the programme's coordinators)."""
        member = current_member()
        pair = contacts.sponsorship_for(member, sponsorship_id, coordinators=True)
        g.contact_viewer_id = member.id
        return contacts.list_contacts(pair)


def _note(member, pair, data):
    """A double tap (the same contact again within two minutes) gets the first answer back,
    marked as a repeat, as a retry with the same ``Idempotency-Key`` does."""
    contact, repeat = contacts.note_contact(member, pair, **data)
    if repeat:
        idempotency.replayed(repeat="same contact")
    return contact


@blp.route("/contacts/<uuid:contact_id>/confirm")
class ContactConfirm(MethodView):
    @auth_required
    @blp.response(200, ContactSchema)
    def post(self, contact_id):
        """Confirm a contact the other side logged."""
        member = current_member()
        g.contact_viewer_id = member.id
        return contacts.confirm_contact(member, contact_id)


@blp.route("/sponsorships/<uuid:sponsorship_id>/cadence")
class Cadence(MethodView):
    @auth_required
    @blp.arguments(CadenceSchema)
    @blp.response(200, SponsorshipScheduleSchema)
    def patch(self, data, sponsorship_id):
        """Set the pair's check-in cadence in days (null: the programme's default)."""
        pair = contacts.sponsorship_for(current_member(), sponsorship_id)
        return contacts.set_cadence(pair, data["cadence_days"])


@blp.route("/me/notifications")
class Notifications(MethodView):
    @auth_required
    @blp.arguments(NotificationQueryArgsSchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    def get(self, args):
        """Your in-app notifications, newest first."""
        return accountability.list_notifications(
            current_member(), unread_only=args["unread"], limit=args["limit"]
        )


@blp.route("/notifications/<uuid:notification_id>/read")
class NotificationRead(MethodView):
    @auth_required
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Mark one of your notifications read."""
        return accountability.mark_read(current_member(), notification_id)


@blp.route("/me/availability-checks/<uuid:check_id>/answer")
class AvailabilityAnswer(MethodView):
    @auth_required
    @blp.arguments(AvailabilityAnswerSchema)
    @blp.response(200, AvailabilityCheckSchema)
    def post(self, data, check_id):
        """Answer the monthly "still available to sponsor?" question."""
        return accountability.answer_availability(current_member(), check_id, data["available"])
