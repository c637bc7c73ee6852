"""Making pairs and receivers for the accountability tests."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from api.extensions import db
from api.models import Program, Sponsorship
from api.services.cadence import next_contact_due


def make_pair(
    make_member,
    program: Program,
    *,
    started_at: datetime,
    tz: str = "America/New_York",
    sponsor_tz: str | None = None,
    kind: str = "permanent",
    ends_on=None,
) -> Sponsorship:
    """A pair whose first contact is due one cadence after ``started_at``; the sponsee lives
    in ``tz``, the sponsor in ``sponsor_tz`` (default: the same zone)."""
    sponsor = make_member(program, "sponsor", time_zone=sponsor_tz or tz)
    sponsee = make_member(program, "newcomer", time_zone=tz)
    pair = Sponsorship(
        program_id=program.id,
        sponsor_id=sponsor.id,
        sponsee_id=sponsee.id,
        kind=kind,
        started_at=started_at,
        ends_on=ends_on,
    )
    pair.program = program
    pair.contact_due_at = next_contact_due(pair, program, started_at)
    db.session.add(pair)
    db.session.commit()
    return pair


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free loopback port that records Message-IDs."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes
                from email.policy import default

                sink.messages.append(message_from_bytes(envelope.content, policy=default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


class WebhookReceiver:
    """A real HTTP server on loopback that verifies Standard Webhooks signatures.

    It counts every request that reaches it (``requests``). ``delay`` makes it sleep before
    answering (released early by ``__exit__``); ``flood`` makes it answer 200 with an endless
    body, counting the bytes it managed to write (``flooded``).
    """

    def __init__(
        self,
        secret: str | None = None,
        status: int = 200,
        *,
        delay: float = 0.0,
        flood: bool = False,
    ):
        self.secret, self.status = secret, status
        self.received: list[dict] = []
        self.rejected = self.requests = self.flooded = 0
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                from standardwebhooks.webhooks import Webhook, WebhookVerificationError

                receiver.requests += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if delay:
                    receiver.release.wait(delay)
                if flood:
                    return self._flood()
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                    receiver.received.append({"id": self.headers["webhook-id"], **payload})
                    code = receiver.status
                except WebhookVerificationError:
                    receiver.rejected += 1
                    code = 400
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up waiting (timeout test)

            def _flood(self):
                self.send_response(200)  # HTTP/1.0, no length: the body runs until we stop
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    while receiver.flooded < 256 * 2**20:
                        self.wfile.write(chunk)
                        receiver.flooded += len(chunk)
                except OSError:
                    pass  # the sender closed the connection: what we want

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def days(n: float) -> timedelta:
    return timedelta(days=n)
