"""The web login: where it sends you afterwards (never off the site) and its rate limit."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD


def _login(client, member, next_url=None, password=PASSWORD):
    query = {"next": next_url} if next_url is not None else {}
    return client.post(
        "/login", query_string=query, data={"email": member.email, "password": password}
    )


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\x00/evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        " /evil.example",
        "",
    ],
)
def test_login_never_redirects_off_the_site(client, make_member, next_url):
    res = _login(client, make_member(), next_url)
    assert res.status_code == 302
    assert res.headers["Location"] == "/"


@pytest.mark.parametrize(
    "next_url",
    [
        "/",
        "/coordinator",
        "/programs/3f2c/dashboard?tab=flags&sort=age",
        "/requests/abc#shortlist",
        "/a//b",
        "/%2F%2Fevil.example",  # stays a path on this site: browsers do not decode it
    ],
)
def test_login_returns_to_the_page_on_this_site_it_came_from(client, make_member, next_url):
    res = _login(client, make_member(), next_url)
    assert res.status_code == 302
    assert res.headers["Location"] == next_url


def test_web_login_attempts_are_rate_limited(app, client, make_member):
    member = make_member()
    app.config["LOGIN_RATE_LIMIT"] = "3/minute"
    try:
        codes = [_login(client, member, password="bad").status_code for _ in range(5)]
        blocked = _login(client, member)  # even the right password waits for the window
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "1000/minute"
    assert codes == [401, 401, 401, 429, 429]
    assert blocked.status_code == 429


def test_a_page_that_needs_a_login_says_so_in_the_readers_language(client):
    res = client.get("/account", headers={"Accept-Language": "es"})
    assert res.status_code == 302
    page = client.get(res.headers["Location"], headers={"Accept-Language": "es"})
    assert "Entra para ver esta página." in page.get_data(as_text=True)


def test_logging_out_says_so(client, make_member):
    member = make_member()
    _login(client, member)
    res = client.post("/logout")
    assert res.status_code == 302
    assert "You are logged out." in client.get(res.headers["Location"]).get_data(as_text=True)


def test_logging_in_keeps_the_page_language_for_the_emails(client, make_member):
    from api.extensions import db

    never, chose = make_member(), make_member()
    never.locale, chose.locale = None, "en"
    db.session.commit()
    spanish = {"Accept-Language": "es"}
    for member in (never, chose):  # a browser in Spanish, no choice made on the site
        res = client.post(
            "/login", data={"email": member.email, "password": PASSWORD}, headers=spanish
        )
        assert res.status_code == 302
        client.post("/logout")
    db.session.refresh(never)
    db.session.refresh(chose)
    assert never.locale == "es"  # so their emails speak it too
    assert chose.locale == "en"  # a saved choice stays
    client.post("/language", data={"locale": "es", "next": "/login"})  # the footer's choice
    assert _login(client, chose).status_code == 302
    db.session.refresh(chose)
    assert chose.locale == "es"  # made on the login page: it is kept
