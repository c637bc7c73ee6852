"""The programme's practical resources for members: the ones that fit them, the ones their
sponsor shared, and a sponsor sharing one from the pair's page."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from api.errors import AppError, NotFound
from api.schemas.between import ResourceShareSchema
from api.services import resources, sponsorships
from api.web.forms import Form, form_view

bp = Blueprint("resources", __name__)


def share_form() -> Form:
    return Form(ResourceShareSchema(), ("resource_id",))


@bp.get("/resources")
@login_required
def mine():
    member = current_user
    fitting = resources.fitting(member)  # meetings first, crisis and local help last
    return render_template(
        "resources/mine.html",
        by_kind=[(kind, list(items)) for kind, items in groupby(fitting, lambda r: r.kind)],
        shared=resources.shared_with(member),
    )


@bp.post("/pairs/<uuid:pair_id>/share")
@login_required
@form_view
def share(pair_id):
    """A sponsor shares one resource with their sponsee (it arrives in their notifications)."""
    from api.web.pairs import render_pair

    member = current_user
    row = sponsorships.sponsorship_for(member, pair_id)  # NotFound: not one of your pairs
    form = share_form()
    if form.validate():
        try:
            shared = resources.share(member, pair_id, form.data["resource_id"])
        except NotFound:
            abort(404)  # the sponsee's side, or a pair that ended
        except AppError as exc:
            form.fail(exc)
        else:
            flash(
                _(
                    "You shared “%(title)s”. %(name)s will find it in their notifications.",
                    title=shared.title,
                    name=row.sponsee.display_name,
                ),
                "ok",
            )
            return redirect(url_for("pairs.pair", pair_id=row.uuid))
    return render_pair(row, member, share=form)
