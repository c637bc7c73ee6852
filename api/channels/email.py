"""Email over SMTP: neutral subject and sender, a stable Message-ID, a one-click link."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from api.channels import DeliveryError
from api.services.notify import EMAIL_SUBJECT

# Events whose email carries the one-click "we talked today" link.
LINK_EVENTS = frozenset({"checkin.due", "contact.overdue"})


def message_id(idempotency_key: str, mail_from: str) -> str:
    """The same logical message always gets the same Message-ID, so receivers can dedupe."""
    domain = mail_from.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


# What an inbox preview shows (the first ~140 characters) is this sentence, whatever the message
# says below it: a phone on a shared table must not announce anything about recovery.
OPENING = (
    "Hello, there is an update for you in your account. It follows below this short "
    "greeting, and you can also read it, and answer it, in the app:"
)
MINIMAL = "There is an update for you in your account. Open it here:"


def build_email(
    *,
    idempotency_key: str,
    to: str,
    payload: dict,
    cfg,
    link: str | None = None,
    crisis_line: str = "",
    minimal: bool = False,
    event: str = "",
) -> EmailMessage:
    """The email for one outbox message. Bodies open with a neutral greeting (OPENING); a
    member who chose minimal emails gets one neutral line and a link, nothing else. Mail that
    carries its own link to act on (verification, password) is already neutral and is sent
    as written."""
    from api.services.notify import VERIFICATION_EVENTS

    msg = EmailMessage()
    # The subject and sender name never say what kind of group this is.
    msg["Subject"] = EMAIL_SUBJECT
    msg["From"] = formataddr((cfg["MAIL_SENDER_NAME"], cfg["MAIL_FROM"]))
    msg["To"] = to
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id(idempotency_key, cfg["MAIL_FROM"])
    home = str(cfg["BASE_URL"]).rstrip("/") + "/"
    if event in VERIFICATION_EVENTS:
        parts = [payload.get("title", ""), "", payload.get("body", "")]
    elif minimal:
        parts = [MINIMAL, link or home]
        crisis_line = ""
    else:
        parts = [OPENING, home, "", payload.get("title", ""), "", payload.get("body", "")]
        if link:
            parts += ["", "Talked today? One click notes it (the link works for a week):", link]
    if crisis_line:
        parts += ["", "--", crisis_line]
    msg.set_content("\n".join(parts).strip() + "\n")
    return msg


def send_email(msg: EmailMessage, cfg) -> None:
    """Hand one message to the SMTP server. Raises DeliveryError (no address in the text)."""
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=15) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("SMTP_USERNAME"):
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"smtp: {type(exc).__name__}") from None
