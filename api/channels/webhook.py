"""Standard Webhooks delivery: signed, timed out, size-capped, never to private addresses."""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
from datetime import datetime
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook as Signer

from api.channels import DeliveryError
from api.i18n import N_

MAX_RESPONSE_BYTES = 64 * 1024


class TargetRefused(ValueError):
    """The URL is malformed or points at a private, loopback or link-local address."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


DEFAULT_PORTS = frozenset({80, 443})
NOT_PUBLIC = N_("Private, loopback and link-local addresses are not allowed.")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def webhook_ports(cfg) -> frozenset[int]:
    """Ports allowed besides 80 and 443 (SPONSOR_WEBHOOK_PORTS, comma-separated)."""
    raw = str(cfg.get("WEBHOOK_PORTS") or "")
    return frozenset(int(p) for p in raw.replace(" ", "").split(",") if p.isdigit())


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and that a network may route to: mapped
    (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), 6to4 (2002::/16), Teredo and NAT64."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64 or ip in _NAT64_LOCAL or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _refused(ip, allow_loopback: bool) -> bool:
    """True unless ``ip`` (and every IPv4 address it carries) is public unicast."""
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates += embedded_ipv4(ip)
    for address in candidates:
        if address.is_loopback and allow_loopback:
            continue
        if not address.is_global or address.is_multicast or address.is_reserved:
            return True
    return False


def resolve_target(
    url: str, *, allow_loopback: bool, ports: frozenset[int] | None = None
) -> tuple[urlsplit, list[str]]:
    """Parse and resolve ``url``; every address must be public (loopback only if allowed),
    including any IPv4 address an IPv6 one carries, and the port one of ``ports`` (80 and
    443 unless configured; any port on loopback where loopback is allowed, i.e. tests).

    Raises TargetRefused. Checking *every* address stops a name that resolves to one public
    and one private address; delivery then connects to a checked address, not the name.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused(N_("Use an http(s) URL with a host name."))
    if parts.username or parts.password:
        raise TargetRefused(N_("Credentials in the URL are not allowed."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        raise TargetRefused(N_("The host name does not resolve.")) from None
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise TargetRefused(N_("The host name does not resolve."))
    ips = [ipaddress.ip_address(address.split("%")[0]) for address in addresses]
    if any(_refused(ip, allow_loopback) for ip in ips):
        raise TargetRefused(NOT_PUBLIC)
    allowed = DEFAULT_PORTS | (ports or frozenset())
    loopback_test = allow_loopback and all(ip.is_loopback for ip in ips)
    if port not in allowed and not loopback_test:
        shown = ", ".join(str(p) for p in sorted(allowed))
        raise TargetRefused(f"Use port {shown} (port {port} is not allowed).")
    return parts, addresses


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked IP address, with SNI and certificate checks for the host name."""

    def __init__(self, address: str, port: int, server_hostname: str, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._server_hostname = server_hostname

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_hostname)


def deliver(
    *,
    url: str,
    secret: str,
    msg_id: str,
    event: str,
    data: dict,
    now: datetime,
    timeout: float,
    allow_loopback: bool,
    ports: frozenset[int] | None = None,
) -> int:
    """POST one signed event. Returns the status; raises DeliveryError on anything but 2xx."""
    if ports is None:
        from flask import current_app

        ports = webhook_ports(current_app.config)
    try:
        parts, addresses = resolve_target(url, allow_loopback=allow_loopback, ports=ports)
    except TargetRefused as exc:
        raise DeliveryError(f"refused: {exc}") from None
    body = json.dumps({"type": event, "timestamp": now.isoformat(), "data": data})
    headers = {
        "Host": parts.netloc,
        "Content-Type": "application/json",
        "User-Agent": "sponsor-match-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(secret).sign(msg_id, now, body),
    }
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "https":
        conn = _PinnedHTTPS(addresses[0], port, parts.hostname, timeout)
    else:
        conn = http.client.HTTPConnection(addresses[0], port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body.encode(), headers=headers)
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)  # never more: a hostile receiver cannot flood us
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"webhook: {type(exc).__name__}") from None
    finally:
        conn.close()
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook: HTTP {status}")
    return status
