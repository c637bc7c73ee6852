"""Issue 12, finding 8: webhook targets whose IPv6 address carries a non-public IPv4 address
(NAT64, 6to4, IPv4-compatible, IPv4-mapped, Teredo) are refused, and only ports 80, 443 and
configured ones are allowed, at registration and again at every delivery."""

from __future__ import annotations

import pytest

from api.channels.webhook import TargetRefused, resolve_target

PUBLIC = "93.184.216.34"  # a public address; registration resolves but never connects


@pytest.fixture
def coordinator(make_program, make_member):
    return make_member(make_program(), "coordinator")


def _register(client, auth, member, url):
    path = f"/api/v1/programs/{member.memberships[0].program.uuid}/webhooks"
    return client.post(path, json={"url": url}, headers=auth(member))


@pytest.fixture
def no_loopback(app):
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    yield
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = True


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of the metadata address
        "http://[64:ff9b:1::a00:5]/hook",  # local-use NAT64 of 10.0.0.5
        "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "http://[2002:a9fe:a9fe::]/latest/meta-data",  # 6to4 of the metadata address
        "http://[::127.0.0.1]/hook",  # IPv4-compatible
        "http://[::a9fe:a9fe]/hook",
        "http://[::ffff:10.0.0.5]/hook",  # IPv4-mapped
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",  # Teredo to 10.0.0.1
    ],
)
def test_ipv6_forms_of_private_addresses_are_refused(client, auth, coordinator, no_loopback, url):
    res = _register(client, auth, coordinator, url)
    assert res.status_code == 422, res.json
    assert "url" in res.json["errors"]["json"]


@pytest.mark.parametrize("port", [25, 22, 6379, 8080])
def test_ports_other_than_80_and_443_are_refused(client, auth, coordinator, no_loopback, port):
    res = _register(client, auth, coordinator, f"http://{PUBLIC}:{port}/hook")
    assert res.status_code == 422
    assert "port" in res.json["errors"]["json"]["url"][0]


@pytest.mark.parametrize("url", [f"https://{PUBLIC}/hook", f"http://{PUBLIC}:80/hook"])
def test_public_targets_on_web_ports_are_accepted(client, auth, coordinator, no_loopback, url):
    assert _register(client, auth, coordinator, url).status_code == 201


def test_a_configured_port_is_accepted(app, client, auth, coordinator, no_loopback):
    app.config["WEBHOOK_PORTS"] = "8443, 9000"
    try:
        res = _register(client, auth, coordinator, f"https://{PUBLIC}:8443/hook")
        assert res.status_code == 201
        assert _register(client, auth, coordinator, f"https://{PUBLIC}:8444/h").status_code == 422
    finally:
        app.config["WEBHOOK_PORTS"] = ""


def test_delivery_checks_the_same_rules():
    for url in ("http://[64:ff9b::7f00:1]/h", f"http://{PUBLIC}:25/h"):
        with pytest.raises(TargetRefused):
            resolve_target(url, allow_loopback=False)
