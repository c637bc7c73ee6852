"""The development mailbox: an SMTP server on loopback that keeps every message as a file.

`make run` starts it beside the worker, so a person trying the demo can read "the email the
sponsor got" at /dev/mailbox and follow its links. Development only: production never starts
it and never serves the page.
"""

from __future__ import annotations

import email
import email.policy
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


def mailbox_dir(configured: str, instance_path: str) -> Path:
    """SPONSOR_MAILBOX_DIR, else the instance folder's mailbox/."""
    return Path(configured) if configured else Path(instance_path) / "mailbox"


class MailboxSink:
    """aiosmtpd on 127.0.0.1:``port`` (0: a free port) writing each message to ``directory``."""

    def __init__(self, directory: Path, port: int = 0):
        self.directory = Path(directory)
        self.port = port
        self._controller = None

    def start(self) -> MailboxSink:
        from aiosmtpd.controller import Controller

        self.directory.mkdir(parents=True, exist_ok=True)
        directory = self.directory

        class Keep:
            async def handle_DATA(self, server, session, envelope):
                name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
                (directory / f".{name}").write_bytes(envelope.original_content)
                (directory / f".{name}").rename(directory / name)  # never a half-written file
                return "250 kept"

        if not self.port:
            with socket.socket() as probe:  # aiosmtpd's readiness check needs a real port
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        self._controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()


@dataclass(frozen=True)
class Letter:
    name: str
    to: str
    subject: str
    date: datetime
    body: str


def _read(path: Path) -> Letter:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
    stamp = int(path.name.split("-", 1)[0]) / 1e9
    return Letter(
        name=path.name,
        to=str(msg.get("To", "")),
        subject=str(msg.get("Subject", "")),
        date=datetime.fromtimestamp(stamp, UTC),
        body=part.get_content() if part is not None else "",
    )


def letters(directory: Path, limit: int = 200) -> list[Letter]:
    """The newest ``limit`` messages, newest first."""
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("[0-9]*.eml"), reverse=True)[:limit]
    return [_read(path) for path in paths]


def letter(directory: Path, name: str) -> Letter | None:
    """One message by its file name (only names this mailbox made), or None."""
    if "/" in name or not name.endswith(".eml") or not name[:1].isdigit():
        return None
    path = directory / name
    return _read(path) if path.is_file() else None
