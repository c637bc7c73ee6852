"""Email over SMTP: a neutral subject and sender, a stable Message-ID, the body in the
recipient's language with the link to act on (what it says comes from api.mail)."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from flask_babel import force_locale
from flask_babel import gettext as _

from api.channels import DeliveryError
from api.i18n import N_
from api.mail import Letter
from api.services.notify import EMAIL_SUBJECT
from api.web.context import crisis_text


def message_id(idempotency_key: str, mail_from: str) -> str:
    """The same logical message always gets the same Message-ID, so receivers can dedupe."""
    domain = mail_from.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


# What an inbox preview shows (the first ~140 characters) is this sentence, whatever the message
# says below it: a phone on a shared table must not announce anything about recovery.
OPENING = N_(
    "Hello, there is an update for you in your account. It follows below this short "
    "greeting, and you can also read it, and answer it, in the app:"
)
# The default sender name (config.MAIL_SENDER_NAME) is said in the reader's language; a name
# the operator set is sent as they wrote it.
DEFAULT_SENDER = N_("Your group")
MINIMAL = N_("There is an update for you in your account. Open it here:")


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
    letter: Letter | None = None,
    locale: str = "en",
) -> EmailMessage:
    """The email for one outbox message, in ``locale``: the neutral opening (OPENING), the
    title, the body, the action's label and link, the crisis line. ``letter`` is the message
    as api.mail composed it for the recipient; without one the stored English text is sent.
    A member who chose minimal emails gets one neutral line and a link, nothing else. Mail that
    carries its own link to act on (verification, password) is already neutral and is sent as
    written."""
    from api.services.notify import VERIFICATION_EVENTS

    with force_locale(locale):
        return _build(
            idempotency_key, to, payload, cfg, link, crisis_line, minimal, event, letter,
            VERIFICATION_EVENTS,
        )  # fmt: skip


def _build(key, to, payload, cfg, link, crisis_line, minimal, event, letter, verification):
    msg = EmailMessage()
    # The subject and sender name never say what kind of group this is; the subject names the
    # kind of note and its day, so mail clients do not thread every message into one.
    msg["Subject"] = letter.subject if letter else _(EMAIL_SUBJECT)
    sender = cfg["MAIL_SENDER_NAME"]
    msg["From"] = formataddr((_(sender) if sender == DEFAULT_SENDER else sender, cfg["MAIL_FROM"]))
    msg["To"] = to
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id(key, cfg["MAIL_FROM"])
    home = str(cfg["BASE_URL"]).rstrip("/") + "/"
    title = letter.title if letter else payload.get("title", "")
    body = letter.body if letter else payload.get("body", "")
    if event in verification:
        parts = [title, "", body]
    elif minimal:
        parts = [_(MINIMAL), (letter.page if letter else None) or link or home]
        crisis_line = ""
    else:
        parts = [_(OPENING), home, "", title, "", body]
        if letter and letter.url:
            parts += ["", letter.action or "", letter.url]
        elif link:
            parts += ["", _("Talked today? One tap notes it (no password needed):"), link]
    if crisis_line:
        parts += ["", "--", crisis_text(crisis_line)]
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
