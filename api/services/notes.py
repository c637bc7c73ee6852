"""Private contact notes: Fernet encryption at rest with key rotation (MultiFernet)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import select

from api.extensions import db
from api.models import Contact


@lru_cache(maxsize=8)
def _cipher(note_keys: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in note_keys.split(",") if k.strip()]
    if not keys:
        # Development and tests only (production sets SPONSOR_NOTE_KEYS): derive a stable key
        # from SECRET_KEY so notes survive restarts without extra setup.
        digest = hashlib.sha256(b"sponsor-match notes:" + secret_key.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    # The first key encrypts; every key decrypts, so a new key can be put first and old
    # notes stay readable until rotate_note() re-encrypts them.
    return MultiFernet([Fernet(k) for k in keys])


def cipher() -> MultiFernet:
    cfg = current_app.config
    return _cipher(str(cfg.get("NOTE_KEYS") or ""), str(cfg["SECRET_KEY"]))


def encrypt_note(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_note(token: str) -> str | None:
    """The plaintext, or None if no configured key opens it (e.g. a retired key)."""
    try:
        return cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        return None


def rotate_note(token: str) -> str:
    """Re-encrypt under the current first key. Raises InvalidToken if no key opens it."""
    return cipher().rotate(token.encode("ascii")).decode("ascii")


def rotate_all_notes(batch: int = 500) -> tuple[int, int]:
    """Re-encrypt every stored note under the first key of SPONSOR_NOTE_KEYS, a batch per
    transaction, so an old key can then be retired. Returns (rotated, unreadable): notes no
    configured key opens are left as they are (and counted), never dropped."""
    rotated = unreadable = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Contact.id, Contact.note_ciphertext)
            .where(Contact.id > last_id, Contact.note_ciphertext.is_not(None))
            .order_by(Contact.id)
            .limit(batch)
        ).all()
        if not rows:
            return rotated, unreadable
        for contact_id, token in rows:
            try:
                fresh = rotate_note(token)
            except InvalidToken:
                unreadable += 1
                continue
            db.session.execute(
                Contact.__table__.update()
                .where(Contact.id == contact_id, Contact.note_ciphertext == token)
                .values(note_ciphertext=fresh)
            )
            rotated += 1
        db.session.commit()
        last_id = rows[-1][0]
