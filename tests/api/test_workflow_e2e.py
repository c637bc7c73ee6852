"""The whole journey over HTTP: sign up → profile → request → shortlist → ask → decline → next
→ accept → contact details → end → ask again, and the ended sponsor is never proposed again."""

from __future__ import annotations

from datetime import date, timedelta

from tests.factories import PASSWORD
from tests.signup import sign_up_confirmed

SLOTS = [{"day": d, "start": "18:00", "end": "21:00"} for d in (0, 2, 4)]
PROFILE = {
    "gender": "woman",
    "fellowships": ["AA"],
    "languages": ["en"],
    "contact_modes": ["phone", "text"],
    "availability": SLOTS,
    "tags": ["parent"],
}


def _sign_up(client, program, email, name, roles, **profile):
    body = {
        "join_code": program.join_code,
        "email": email,
        "password": PASSWORD,
        "display_name": name,
        "time_zone": "America/Chicago",
        "roles": roles,
    }
    sign_up_confirmed(client, body)
    token = client.post("/api/v1/auth/tokens", json={"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    r = client.patch("/api/v1/me/profile", json={**PROFILE, **profile}, headers=headers)
    assert r.status_code == 200, r.json
    return headers


def _sponsor(client, program, i):
    headers = _sign_up(
        client,
        program,
        f"sponsor{i}@example.test",
        f"Spon{'abc'[i]} R.",
        ["sponsor"],
        phone=f"+1 555 010{i}",
        contact_email=f"reach.sponsor{i}@example.test",
        tags=["parent"] if i == 0 else [],
    )
    body = {"sobriety_date": (date.today() - timedelta(days=4 * 365)).isoformat(), "capacity": 2}
    assert client.put("/api/v1/me/sponsor-profile", json=body, headers=headers).status_code == 200
    r = client.post("/api/v1/me/sponsor-profile/confirm-availability", headers=headers)
    assert r.status_code == 200
    me = client.get("/api/v1/me", headers=headers).json
    return headers, me["id"]


def test_newcomer_journey_end_to_end(client, make_program):
    program = make_program()
    sponsors = [_sponsor(client, program, i) for i in range(3)]
    newcomer = _sign_up(
        client,
        program,
        "new@example.test",
        "Nia P.",
        ["newcomer"],
        phone="+1 555 0199",
        contact_email="reach.nia@example.test",
    )
    r = client.post(f"/api/v1/programs/{program.uuid}/requests", json={}, headers=newcomer)
    assert r.status_code == 201, r.json
    rid = r.json["id"]

    short = client.get(f"/api/v1/requests/{rid}/shortlist", headers=newcomer).json
    assert len(short["entries"]) == 3
    first = short["entries"][0]["sponsor"]["id"]
    assert first == sponsors[0][1]  # shares the "parent" tag
    text = str(short)
    assert "reach.sponsor" not in text and "555 010" not in text

    asked = client.post(
        f"/api/v1/requests/{rid}/proposals", json={"sponsor_id": first}, headers=newcomer
    )
    assert asked.status_code == 201
    by_id = {sid: h for h, sid in sponsors}
    inbox = client.get("/api/v1/me/proposals?status=pending", headers=by_id[first]).json
    assert [p["id"] for p in inbox] == [asked.json["id"]]
    assert "reach.nia" not in str(inbox) and "0199" not in str(inbox)
    r = client.post(
        f"/api/v1/proposals/{asked.json['id']}/decline",
        json={"reason": "not_a_good_fit"},
        headers=by_id[first],
    )
    assert r.status_code == 200

    notes = client.get("/api/v1/me/notifications", headers=newcomer)
    assert notes.status_code == 200
    told = [n for n in notes.json if n["kind"] == "match.declined"]
    assert len(told) == 1 and told[0]["body"].startswith("This sponsor is not available")
    assert "not_a_good_fit" not in notes.get_data(as_text=True)
    short = client.get(f"/api/v1/requests/{rid}/shortlist", headers=newcomer).json
    second = short["entries"][0]["sponsor"]["id"]
    assert second != first and first not in {e["sponsor"]["id"] for e in short["entries"]}
    asked = client.post(
        f"/api/v1/requests/{rid}/proposals", json={"sponsor_id": second}, headers=newcomer
    )
    assert asked.status_code == 201
    r = client.post(f"/api/v1/proposals/{asked.json['id']}/accept", json={}, headers=by_id[second])
    assert r.status_code == 201
    sid = r.json["id"]
    assert r.json["contact"]["contact_email"] == "reach.nia@example.test"
    theirs = client.get(f"/api/v1/sponsorships/{sid}", headers=newcomer).json
    assert (
        theirs["contact"]["contact_email"]
        == f"reach.sponsor{list(by_id).index(second)}@example.test"
    )
    assert client.get(f"/api/v1/sponsorships/{sid}", headers=by_id[first]).status_code == 404

    r = client.post(
        f"/api/v1/sponsorships/{sid}/end", json={"reason": "not_a_good_fit"}, headers=by_id[second]
    )
    assert r.status_code == 200
    r = client.post(f"/api/v1/programs/{program.uuid}/requests", json={}, headers=newcomer)
    assert r.status_code == 201, r.json
    short = client.get(f"/api/v1/requests/{r.json['id']}/shortlist", headers=newcomer).json
    ids = {e["sponsor"]["id"] for e in short["entries"]}
    assert second not in ids and first not in ids  # ended with one, declined by the other
    assert ids == {sid for _, sid in sponsors} - {first, second}
