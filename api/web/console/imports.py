"""Import and export in the browser: upload a CSV, see the dry run as a table, confirm."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required

from api.errors import AppError, Invalid
from api.i18n import translate_error
from api.services import csv_io
from api.web import wording
from api.web.console.base import bp, coordinator_access


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


# The file's headings in words, for the preview's problems (the heading follows in brackets,
# so the coordinator finds the column in their spreadsheet).
COLUMNS = {
    "email": _l("Email"),
    "display_name": _l("Name"),
    "roles": _l("Roles"),
    "time_zone": _l("Time zone"),
    "gender": _l("Gender"),
    "gender_rule": _l("Same-gender custom"),
    "fellowships": _l("Fellowships"),
    "languages": _l("Languages"),
    "city": _l("City"),
    "country": _l("Country"),
    "contact_modes": _l("Ways to keep in touch"),
    "tags": _l("Background"),
    "age_band": _l("Age group"),
    "phone": _l("Phone"),
    "sobriety_date": _l("Sobriety date"),
    "steps_completed": _l("Steps worked"),
    "capacity": _l("Sponsees at once"),
    "accepting": _l("Taking new sponsees"),
    "temporary_willing": _l("Willing to be a temporary sponsor"),
}


def _upload() -> bytes:
    """The uploaded file, or the file text carried by the preview's confirm form. Raises
    Invalid naming ``file`` when nothing was chosen or the chosen file is empty."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read()
        if not raw.strip():
            raise Invalid("file", _("This file is empty."))
        return raw
    raw = request.form.get("csv", "").encode("utf-8")
    if not raw.strip():
        raise Invalid("file", _("Choose a CSV file first."))
    return raw


def _roles_in_words(cell: str) -> str:
    """The roles cell as words ("Newcomer and Sponsor"); a cell we cannot read stays as typed
    (its problem is listed beside it)."""
    codes = [c.strip() for c in cell.split(";") if c.strip()]
    if not codes or any(c not in csv_io.IMPORT_ROLES for c in codes):
        return cell
    return wording.roles_text(dict.fromkeys(codes))


@bp.get("/<uuid:program_id>/import")
@login_required
def imports(program_id):
    access = coordinator_access(program_id)
    return render_template("console/import.html", program=access.program, error=None)


@bp.post("/<uuid:program_id>/import/preview")
@login_required
def import_preview(program_id):
    """The dry run: every row with what will happen to it or what is wrong, nothing written."""
    access = coordinator_access(program_id)
    try:
        raw = _upload()
        rows = csv_io.read_rows(raw)
        if not rows:
            raise Invalid(
                "file", _("This file has only the headings. Add one row per person under them.")
            )
        result = csv_io.import_members(access, raw, dry_run=True)
    except AppError as exc:
        page = render_template(
            "console/import.html", program=access.program, error=translate_error(exc.message)
        )
        return page, 422
    problems: dict[int, list[dict]] = {}
    for e in result["errors"]:
        problems.setdefault(e["row"], []).append(e)
    actions = {a["row"]: a["action"] for a in result["actions"]}
    table = [
        {
            "row": number,
            "email": cells.get("email", ""),
            "name": cells.get("display_name", ""),
            "roles": _roles_in_words(cells.get("roles", "")),
            "action": actions.get(number),
            "errors": problems.get(number, []),
        }
        for number, cells in enumerate(rows, start=2)
    ]
    return render_template(
        "console/import_preview.html",
        program=access.program,
        result=result,
        table=table,
        text=raw.decode("utf-8-sig", errors="replace"),
        translate_error=translate_error,
        columns=COLUMNS,
    )  # a dry run answers 200 with its findings, like the API's


@bp.post("/<uuid:program_id>/import")
@login_required
def import_confirm(program_id):
    """Import the previewed file: all rows or none (the file is checked again)."""
    access = coordinator_access(program_id)
    try:
        result = csv_io.import_members(access, _upload(), dry_run=False)
    except AppError as exc:
        flash(translate_error(exc.message), "error")
        return redirect(url_for("console.imports", program_id=program_id))
    standing = result["already_invited"]
    invited, updated = result["created"] - standing, result["updated"]
    said = []
    if invited or not (updated or standing):
        said.append(
            ngettext("%(num)d person was invited.", "%(num)d people were invited.", invited)
        )
    if updated:
        said.append(
            ngettext(
                "%(num)d person already in the programme was updated.",
                "%(num)d people already in the programme were updated.",
                updated,
            )
        )
    if standing:
        said.append(
            ngettext(
                "%(num)d person was invited less than an hour ago: their details were updated "
                "and that invitation stands (no second email).",
                "%(num)d people were invited less than an hour ago: their details were "
                "updated and those invitations stand (no second email).",
                standing,
            )
        )
    flash(" ".join(said), "ok")
    return redirect(url_for("console.imports", program_id=program_id))


@bp.get("/<uuid:program_id>/import/template.csv")
@login_required
def import_template(program_id):
    coordinator_access(program_id)
    return _csv(csv_io.template_csv(), "members-template.csv")


@bp.get("/<uuid:program_id>/export.csv")
@login_required
def export(program_id):
    return _csv(csv_io.export_csv(coordinator_access(program_id)), "members.csv")
