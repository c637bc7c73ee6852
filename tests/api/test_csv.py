"""CSV import/export: per-row errors, all-or-nothing, idempotent upsert, round trip, no formulas."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from api.models import AuditLog, Member, Membership, SponsorProfile
from api.services.csv_io import neutralise, unneutralise

DOC = Path(__file__).resolve().parents[2] / "docs" / "csv-import.md"

GOOD = [
    {
        "email": "Ana@Example.test",
        "display_name": "Ana B.",
        "roles": "sponsor;newcomer",
        "time_zone": "America/Chicago",
        "gender": "woman",
        "fellowships": "AA;NA",
        "languages": "en;es",
        "city": "Chicago",
        "country": "US",
        "contact_modes": "phone;video",
        "tags": "parent",
        "age_band": "35-44",
        "phone": "+1 312 555 0100",
        "sobriety_date": "2019-04-01",
        "steps_completed": "12",
        "capacity": "3",
        "accepting": "true",
        "temporary_willing": "false",
        "shoe_size": "ignored",
    },
    {"email": "nia@example.test", "display_name": "Nia C.", "roles": "newcomer"},
]


def to_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    columns = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture
def coordinated(make_program, make_member, auth):
    program = make_program(fellowships=["AA", "NA"], tags=["parent", "veteran"])
    coordinator = make_member(program, "coordinator")
    return program, auth(coordinator)


def post(client, program, headers, body: bytes, dry_run=False, multipart=False):
    url = f"/api/v1/programs/{program.uuid}/import" + ("?dry_run=true" if dry_run else "")
    if multipart:
        data = {"file": (io.BytesIO(body), "members.csv")}
        return client.post(url, data=data, headers=headers, content_type="multipart/form-data")
    return client.post(url, data=body, headers={**headers, "Content-Type": "text/csv"})


def people(db) -> int:
    return db.session.scalar(select(func.count(Member.id)))


def accept_invitations(program, rows: list[dict]) -> None:
    """Each imported person opens the invitation link they were emailed."""
    from api.services.invitations import accept_invitation, invitation_link

    for row in rows:
        roles = row["roles"].split(";")
        token = invitation_link(program, row["email"].lower(), roles).rsplit("/", 1)[1]
        accept_invitation(token, password="correct horse battery", display_name=row["display_name"])


def _documented_headings() -> list[str]:
    """The first column of the table under '## Headings' in docs/csv-import.md."""
    section = DOC.read_text(encoding="utf-8").split("\n## Headings\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)


def test_template_lists_the_documented_headings(client, coordinated):
    program, headers = coordinated
    res = client.get(f"/api/v1/programs/{program.uuid}/import/template.csv", headers=headers)
    assert res.status_code == 200 and res.mimetype == "text/csv"
    template = res.get_data(as_text=True).lstrip("\ufeff").strip().split(",")
    assert template == _documented_headings(), "docs/csv-import.md's Headings table differs"


def test_import_creates_then_upserts_idempotently(client, coordinated, db):
    program, headers = coordinated
    before = people(db)
    res = post(client, program, headers, to_csv(GOOD), multipart=True)
    assert res.status_code == 200, res.json
    assert (res.json["created"], res.json["updated"]) == (2, 0)
    ana = db.session.scalar(select(Member).where(Member.email == "ana@example.test"))
    assert ana.city_label == "Chicago, US" and ana.languages == ["en", "es"]
    assert ana.sponsor_profile.capacity == 3 and ana.sponsor_profile.temporary_willing is False
    assert ana.password_hash.startswith("!")  # unusable until the invitation is opened
    assert not ana.memberships  # in the programme only once they open the invitation
    res = post(client, program, headers, to_csv(GOOD))
    assert (res.json["created"], res.json["updated"]) == (2, 0)  # invited again, not created
    assert res.json["already_invited"] == 2  # the same invitations this hour: no second email
    accept_invitations(program, GOOD)
    res = post(client, program, headers, to_csv(GOOD))
    assert (res.json["created"], res.json["updated"]) == (0, 2)
    assert people(db) == before + 2
    assert db.session.scalar(select(func.count(SponsorProfile.id))) == 1


BAD_ROWS = [
    ({"email": "not-an-email"}, "email"),
    ({"roles": "coordinator"}, "roles"),
    ({"display_name": "Ana Bellamy"}, "display_name"),
    ({"time_zone": "Mars/Base"}, "time_zone"),
    ({"gender": "female"}, "gender"),
    ({"fellowships": "AA;XA"}, "fellowships"),
    ({"languages": "english"}, "languages"),
    ({"city": "Atlantis"}, "city"),
    ({"contact_modes": "fax"}, "contact_modes"),
    ({"tags": "astronaut"}, "tags"),
    ({"age_band": "40"}, "age_band"),
    ({"phone": "call me"}, "phone"),
    ({"sobriety_date": "2999-01-01"}, "sobriety_date"),
    ({"sobriety_date": ""}, "sobriety_date"),
    ({"steps_completed": "13"}, "steps_completed"),
    ({"capacity": "0"}, "capacity"),
    ({"accepting": "maybe"}, "accepting"),
]


def test_dry_run_reports_every_bad_row_and_writes_nothing(client, coordinated, db):
    program, headers = coordinated
    rows = [dict(GOOD[0])]
    for i, (change, _) in enumerate(BAD_ROWS):
        rows.append({**GOOD[0], "email": f"p{i}@example.test", **change})
    rows.append({**GOOD[1]})
    rows.append({**GOOD[1], "display_name": "Dup D."})  # same email as the row before
    before = people(db)
    res = post(client, program, headers, to_csv(rows), dry_run=True)
    assert res.status_code == 200
    assert res.json["valid"] is False and res.json["dry_run"] is True
    found = {(e["row"], e["column"]) for e in res.json["errors"]}
    expected = {(i + 3, column) for i, (_, column) in enumerate(BAD_ROWS)}
    expected.add((len(rows) + 1, "email"))
    assert found == expected
    assert people(db) == before

    res = post(client, program, headers, to_csv(rows))
    assert res.status_code == 422
    assert {(e["row"], e["column"]) for e in res.json["errors"]["csv"]} == expected
    assert people(db) == before  # all or nothing


def test_unreadable_files_are_named(client, coordinated):
    program, headers = coordinated
    res = post(client, program, headers, b"name,phone\nAna,1\n")
    assert res.status_code == 422 and "file" in res.json["errors"]["json"]
    res = post(client, program, headers, "email\n\xff".encode("latin-1"))
    assert res.status_code == 422 and "file" in res.json["errors"]["json"]


def test_an_account_elsewhere_is_invited_like_a_new_address(
    client, coordinated, make_program, make_member, db
):
    """The answer never says whether an address has an account in another programme, and
    that account is left as it is (it only gets an invitation)."""
    program, headers = coordinated
    other = make_member(make_program(), "newcomer", email="elsewhere@example.test", phone=None)
    answers = []
    for email in (other.email, "brand-new@example.test"):
        for dry_run in (True, False):
            res = post(client, program, headers, to_csv([{**GOOD[1], "email": email}]), dry_run)
            answers.append(res.get_data())
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert b'"created": 1' in answers[1] or b'"created":1' in answers[1]
    db.session.expire_all()
    assert db.session.get(Member, other.id).display_name != "Nia C."  # untouched
    assert db.session.scalar(select(func.count(Membership.id))) == 2


def test_export_round_trips_and_neutralises_formulas(client, coordinated, db):
    program, headers = coordinated
    rows = [dict(GOOD[0]), {**GOOD[1], "tags": "parent"}]
    assert post(client, program, headers, to_csv(rows)).status_code == 200
    accept_invitations(program, rows)
    nia = db.session.scalar(select(Member).where(Member.email == "nia@example.test"))
    nia.phone = "+44 20 7946 0000"
    nia.display_name = "Nia C."
    db.session.commit()

    res = client.get(f"/api/v1/programs/{program.uuid}/export.csv", headers=headers)
    assert res.status_code == 200
    raw = res.get_data()
    assert raw.startswith("\ufeff".encode())
    exported = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["email"] for r in exported] == ["ana@example.test", "nia@example.test"]
    ana = exported[0]
    assert ana["sobriety_date"] == "2019-04-01"
    assert "phone" not in ana and "tags" not in ana and "city" not in ana  # minimised
    assert "+1 312 555 0100" not in raw.decode() and "7946" not in raw.decode()
    for row in exported:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert "password" not in raw.decode().lower()
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "csv_export")).one()
    assert audit.program_id == program.id and audit.actor_id is not None
    assert audit.details == {"people": 2}  # who took the file is on record, not its contents

    snapshot = sorted(
        (m.email, m.phone, m.city_id, tuple(m.tags)) for m in db.session.scalars(select(Member))
    )
    res = post(client, program, headers, raw)
    assert res.status_code == 200, res.json
    assert (res.json["created"], res.json["updated"]) == (0, 2)
    db.session.expire_all()
    after = sorted(
        (m.email, m.phone, m.city_id, tuple(m.tags)) for m in db.session.scalars(select(Member))
    )
    assert after == snapshot


def test_formula_cells_from_members_are_neutralised(client, coordinated, make_member, db):
    program, headers = coordinated
    evil = make_member(program, "newcomer", phone=None)
    evil.display_name = "@SUM(A1)"
    evil.email = "=cmd@example.test"
    db.session.commit()
    res = client.get(f"/api/v1/programs/{program.uuid}/export.csv", headers=headers)
    text = res.get_data().decode("utf-8-sig")
    assert "'=cmd@example.test" in text and "'@SUM(A1)" in text


@given(st.text(max_size=30))
def test_neutralise_round_trips_any_cell(value):
    cell = neutralise(value)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unneutralise(cell) == value


def test_the_invitation_answer_says_what_happened(client, coordinated, make_member):
    program, headers = coordinated
    url = f"/api/v1/programs/{program.uuid}/invitations"
    body = {"email": "Kim@example.test", "roles": ["newcomer"]}
    assert client.post(url, json=body, headers=headers).json["status"] == "invited"
    assert client.post(url, json=body, headers=headers).json["status"] == "already_invited"
    body["roles"] = ["sponsor", "newcomer"]
    assert client.post(url, json=body, headers=headers).json["status"] == "invited"
    member = make_member(program, "sponsor")
    res = client.post(url, json={"email": member.email}, headers=headers)
    assert res.status_code == 202
    assert res.json["status"] == "already_member" and res.json["member_id"] == str(member.uuid)


def test_an_empty_file_is_called_empty(client, coordinated):
    program, headers = coordinated
    res = post(client, program, headers, b"", dry_run=True)
    assert res.status_code == 422 and "This file is empty." in str(res.json)
