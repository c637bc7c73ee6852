"""Sign-up with a join code, tokens (issue, use, revoke, expire), and no account enumeration."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.models import ApiToken, Member, Membership, utcnow
from api.services.accounts import CHECK_EMAIL
from tests.factories import PASSWORD
from tests.signup import sign_up_confirmed, verification_token

SIGNUP = {
    "email": "New.Comer@example.test",
    "password": "long enough pw",
    "display_name": "Jamie R.",
    "time_zone": "Europe/Berlin",
}


def signup(client, program, **overrides):
    body = {**SIGNUP, "join_code": program.join_code, **overrides}
    return client.post("/api/v1/auth/signup", json=body)


def test_sign_up_confirm_by_link_then_log_in_and_use_token(client, make_program):
    program = make_program()
    res = signup(client, program)
    assert res.status_code == 202, res.json
    assert res.json == {"message": CHECK_EMAIL}
    login = {"email": "new.comer@example.test", "password": "long enough pw"}
    before = client.post("/api/v1/auth/tokens", json=login)
    assert before.status_code == 401  # not before the address is confirmed
    assert (
        client.post(
            "/api/v1/auth/verify", json={"token": verification_token(SIGNUP["email"])}
        ).status_code
        == 204
    )

    res = client.post("/api/v1/auth/tokens", json=login)
    assert res.status_code == 201
    assert set(res.json) >= {"token", "expires_at"}
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {res.json['token']}"})
    assert me.status_code == 200
    assert me.json["email"] == "new.comer@example.test"
    assert me.json["display_name"] == "Jamie R."
    assert me.json["memberships"][0]["roles"] == ["newcomer"]


def test_unknown_join_code_is_named(client, db):
    res = client.post("/api/v1/auth/signup", json={**SIGNUP, "join_code": "NOPE-NOPE"})
    assert res.status_code == 422
    assert "join_code" in res.json["errors"]["json"]
    assert db.session.scalar(select(func.count(Member.id))) == 0


def test_sign_up_with_a_confirmed_account_changes_nothing_and_answers_alike(
    client, make_program, db
):
    first, second = make_program(), make_program()
    sign_up_confirmed(client, {**SIGNUP, "join_code": first.join_code})
    res = signup(client, second, display_name="Other P.", roles=["sponsor"], password="x" * 12)
    assert res.status_code == 202
    assert res.json == {"message": CHECK_EMAIL}
    member = db.session.scalar(select(Member))
    assert member.display_name == "Jamie R."  # the account keeps its own name and password
    assert db.session.scalar(select(func.count(Membership.id))) == 1
    login = {"email": SIGNUP["email"], "password": SIGNUP["password"]}
    assert client.post("/api/v1/auth/tokens", json=login).status_code == 201


def test_sign_up_with_an_imported_account_sends_a_link_that_claims_it(client, make_program, db):
    from api.services.csv_io import UNUSABLE_PASSWORD

    program = make_program()
    db.session.add(
        Member(
            email="new.comer@example.test",
            password_hash=UNUSABLE_PASSWORD + "0" * 32,
            display_name="Jamie R.",
        )
    )
    db.session.commit()
    res = signup(client, program)
    assert res.status_code == 202
    assert res.json == {"message": CHECK_EMAIL}
    assert (
        client.post(
            "/api/v1/auth/verify", json={"token": verification_token(SIGNUP["email"])}
        ).status_code
        == 204
    )
    login = {"email": SIGNUP["email"], "password": SIGNUP["password"]}
    assert client.post("/api/v1/auth/tokens", json=login).status_code == 201
    assert db.session.scalar(select(func.count(Member.id))) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("password", "short"),
        ("display_name", "Jamie Robertson"),
        ("display_name", "J"),
        ("time_zone", "Mars/Olympus"),
        ("time_zone", "America"),  # a folder of the zone data, once a 500
        ("time_zone", "Europe/" + "x" * 300),  # too long for a file name, once a 500
        ("roles", ["coordinator"]),
    ],
)
def test_bad_sign_up_names_the_field_and_writes_nothing(client, make_program, db, field, value):
    program = make_program()
    res = signup(client, program, **{field: value})
    assert res.status_code == 422
    assert res.json["code"] == "validation_error"
    assert field in res.json["errors"]["json"]
    assert db.session.scalar(select(func.count(Member.id))) == 0


def test_unknown_and_server_owned_fields_are_rejected(client, make_program, db):
    program = make_program()
    res = signup(client, program, is_admin=True, id="x")
    assert res.status_code == 422
    assert {"is_admin", "id"} <= set(res.json["errors"]["json"])
    assert db.session.scalar(select(func.count(Member.id))) == 0


def test_wrong_password_and_unknown_email_answer_alike(client, make_member):
    member = make_member()
    wrong = client.post("/api/v1/auth/tokens", json={"email": member.email, "password": "nope"})
    unknown = client.post(
        "/api/v1/auth/tokens", json={"email": "ghost@example.test", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_token_revoke_and_expiry(client, make_member, db):
    member = make_member()
    res = client.post("/api/v1/auth/tokens", json={"email": member.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {res.json['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert (
        client.delete(f"/api/v1/auth/tokens/{res.json['id']}", headers=headers).status_code == 204
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401

    res = client.post("/api/v1/auth/tokens", json={"email": member.email, "password": PASSWORD})
    row = db.session.scalar(select(ApiToken).where(ApiToken.revoked_at.is_(None)))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = {"Authorization": f"Bearer {res.json['token']}"}
    assert client.get("/api/v1/me", headers=expired).status_code == 401


def test_tokens_are_stored_hashed(client, make_member, db):
    member = make_member()
    res = client.post("/api/v1/auth/tokens", json={"email": member.email, "password": PASSWORD})
    row = db.session.scalar(select(ApiToken))
    assert res.json["token"] not in row.token_hash


def test_cannot_revoke_someone_elses_token(client, make_member, auth, db):
    alice, bob = make_member(), make_member()
    res = client.post("/api/v1/auth/tokens", json={"email": alice.email, "password": PASSWORD})
    res2 = client.delete(f"/api/v1/auth/tokens/{res.json['id']}", headers=auth(bob))
    assert res2.status_code == 404


def test_member_cannot_read_another_members_account(client, make_member, auth):
    alice, bob = make_member(), make_member()
    assert client.get(f"/api/v1/accounts/{alice.uuid}", headers=auth(alice)).status_code == 200
    res = client.get(f"/api/v1/accounts/{alice.uuid}", headers=auth(bob))
    assert res.status_code == 404
    assert alice.email not in res.get_data(as_text=True)


def test_api_without_token_is_401_json(client):
    res = client.get("/api/v1/me")
    assert res.status_code == 401
    assert set(res.json) >= {"code", "status", "message"}


def test_login_attempts_are_rate_limited(app, client, make_member):
    member = make_member()
    app.config["LOGIN_RATE_LIMIT"] = "3/minute"
    try:
        codes = [
            client.post(
                "/api/v1/auth/tokens", json={"email": member.email, "password": "bad"}
            ).status_code
            for _ in range(5)
        ]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "1000/minute"
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]


def test_join_second_programme(client, make_program, make_member, auth):
    first, second = make_program(), make_program()
    member = make_member(first, "newcomer")
    res = client.post(
        "/api/v1/me/memberships",
        json={"join_code": second.join_code, "roles": ["sponsor"]},
        headers=auth(member),
    )
    assert res.status_code == 201
    assert res.json["roles"] == ["sponsor"]


def test_programmes_are_invisible_to_outsiders(client, make_program, make_member, auth):
    mine, theirs = make_program(), make_program()
    member = make_member(mine, "newcomer")
    assert client.get(f"/api/v1/programs/{mine.uuid}", headers=auth(member)).status_code == 200
    assert client.get(f"/api/v1/programs/{theirs.uuid}", headers=auth(member)).status_code == 404
    res = client.get(f"/api/v1/programs/{mine.uuid}/settings", headers=auth(member))
    assert res.status_code == 404  # newcomers do not see the coordinator view


def test_coordinator_edits_settings_with_validation(client, make_program, make_member, auth):
    program = make_program()
    coordinator = make_member(program, "coordinator")
    url = f"/api/v1/programs/{program.uuid}"
    res = client.patch(url, json={"settings": {"shortlist_size": 5}}, headers=auth(coordinator))
    assert res.status_code == 200
    assert res.json["settings"]["shortlist_size"] == 5
    assert res.json["settings"]["min_sobriety_days"] == 365
    bad = client.patch(
        url, json={"settings": {"quiet_hours_start": "9pm"}}, headers=auth(coordinator)
    )
    assert bad.status_code == 422
    assert "quiet_hours_start" in bad.json["errors"]["json"]["settings"]


@pytest.mark.parametrize("value", [0, 1, 4])
def test_the_smallest_group_shown_can_never_go_below_five(
    client, make_program, make_member, auth, value
):
    program = make_program(settings={"small_cell_min": 2})  # stored before the floor existed
    coordinator = make_member(program, "coordinator")
    url = f"/api/v1/programs/{program.uuid}"
    shown = client.get(url + "/settings", headers=auth(coordinator)).json["settings"]
    assert shown["small_cell_min"] == 5
    bad = client.patch(url, json={"settings": {"small_cell_min": value}}, headers=auth(coordinator))
    assert bad.status_code == 422
    assert "small_cell_min" in bad.json["errors"]["json"]["settings"]
    ok = client.patch(url, json={"settings": {"small_cell_min": 5}}, headers=auth(coordinator))
    assert ok.status_code == 200 and ok.json["settings"]["small_cell_min"] == 5


def test_web_login_with_session_and_csrf(app, make_member):
    member = make_member()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        page = client.get("/login")
        assert page.status_code == 200
        no_token = client.post("/login", data={"email": member.email, "password": PASSWORD})
        assert no_token.status_code == 400  # CSRF token missing
        import re

        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
        ok = client.post(
            "/login", data={"email": member.email, "password": PASSWORD, "csrf_token": token}
        )
        assert ok.status_code == 302
        home = client.get("/")
        assert member.display_name in home.get_data(as_text=True)
        assert "988" in home.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize(
    "stored_hash",
    ["!imported:" + "0" * 32, "", "$argon2id$v=19$damaged"],
    ids=["imported-by-csv", "empty", "damaged-argon2"],
)
def test_account_without_usable_password_costs_one_argon2_check_like_an_unknown_email(
    db, make_member, monkeypatch, stored_hash
):
    """Timing must not tell an imported (password-less) account from an unknown email."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    from api.auth import verify_password

    real_verify = PasswordHasher.verify
    outcomes: list[str] = []  # one per argon2 hashing actually done

    def counting_verify(self, hash, password):
        try:
            result = real_verify(self, hash, password)
        except VerifyMismatchError:
            outcomes.append("mismatch")
            raise
        # any other error (a hash that cannot be decoded) is refused before any hashing
        outcomes.append("match")
        return result

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    assert verify_password(None, PASSWORD) is False
    unknown_email = list(outcomes)
    outcomes.clear()
    member = make_member(password_hash=stored_hash)
    assert verify_password(member, PASSWORD) is False
    assert outcomes == unknown_email == ["mismatch"]


def test_logging_in_holds_no_database_connection_while_the_password_is_hashed(
    client, make_program, make_member, db, monkeypatch
):
    """A room logging in at once must not pin one pooled connection per login for the whole
    argon2 hash (the full rehearsal saw 503s from an exhausted pool at 60 users)."""
    import api.services.accounts as accounts

    member = make_member(make_program(), "newcomer")
    db.session.commit()
    held = []
    real = accounts.password_matches

    def watched(stored, password):
        held.append(db.engine.pool.checkedout())
        return real(stored, password)

    monkeypatch.setattr(accounts, "password_matches", watched)
    res = client.post("/api/v1/auth/tokens", json={"email": member.email, "password": PASSWORD})
    assert res.status_code == 201, res.json
    miss = client.post("/api/v1/auth/tokens", json={"email": "nobody@x.test", "password": "p"})
    assert miss.status_code == 401
    assert held == [0, 0]
