"""Server-side sessions in web_sessions, and the signed token of the sign-in form.

The cookie carries a random 256-bit token; the table keeps only its SHA-256 (the id), so a
copy of the table cannot be replayed as cookies. A session ends when revoked (sign-out, the
user disabled or given a new password), after ``session_idle_minutes`` without a request, or
``session_absolute_hours`` after sign-in, whatever the activity — all checked here, on the
server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lowinc.private import private_dir
from outreach.schema import LoginAttempt, User, WebSession
from outreach.web.config import WebConfig

TOKEN_BYTES = 32  # 256 bits
LAST_SEEN_RESOLUTION = dt.timedelta(seconds=30)  # last_seen_at is written at most this often
LOGIN_FORM_MAX_AGE = dt.timedelta(hours=2)
KEY_FILE = "web.key"
KEEP_ENDED_SESSIONS = dt.timedelta(days=1)
KEEP_LOGIN_ATTEMPTS = dt.timedelta(days=30)  # the audit log keeps the failures for good


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class OpenSession:
    """A valid session and its user, as a request finds it."""

    id: str
    user: User
    csrf_token: str
    created_at: dt.datetime


def start_session(
    session: Session, user_id: int, now: dt.datetime, config: WebConfig
) -> tuple[str, WebSession]:
    """A new session for a user who just signed in: (the cookie's token, the row). Always a new
    token (rotation): no session from before the sign-in is ever carried over."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSession(
        id=token_hash(token),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(hours=config.session_absolute_hours),
        revoked_at=None,
    )
    session.add(row)
    return token, row


def purge_ended(session: Session, now: dt.datetime) -> None:
    """Delete sessions that ended more than a day ago and sign-in attempts older than 30 days
    (both far outside any timeout or rate-limit window); run at each sign-in."""
    old = now - KEEP_ENDED_SESSIONS
    session.execute(delete(WebSession).where((WebSession.expires_at < old) | (WebSession.revoked_at < old)))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_LOGIN_ATTEMPTS))


def find_session(
    session: Session, token: str | None, now: dt.datetime, config: WebConfig
) -> OpenSession | None:
    """The session a cookie's token names when it is valid now (not revoked, not idle too long,
    not past its absolute limit, its user active); its last_seen_at moves on. None else."""
    if not token or len(token) > 200:
        return None
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id == token_hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    idle = dt.timedelta(minutes=config.session_idle_minutes)
    if (
        row.revoked_at is not None
        or not user.active
        or now >= row.expires_at
        or now - row.last_seen_at >= idle
    ):
        return None
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
    return OpenSession(id=row.id, user=user, csrf_token=row.csrf_token, created_at=row.created_at)


def revoke_session(session: Session, token: str | None, now: dt.datetime) -> None:
    """End the session a token names (sign-out, or the one replaced at a new sign-in)."""
    if not token or len(token) > 200:
        return
    session.execute(
        update(WebSession)
        .where(WebSession.id == token_hash(token), WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def load_secret_key(secure_dir: Path) -> bytes:
    """The key that signs the sign-in form's token: <home>/secure/web.key (0600), made once."""
    folder = private_dir(secure_dir)
    path = folder / KEY_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
    key = path.read_bytes()
    if len(key) < 32:
        raise RuntimeError(f"{path} is shorter than 32 bytes: remove it to make a new one")
    return key


def new_login_nonce(now: dt.datetime) -> str:
    """The pre-session cookie of the sign-in form: a random nonce and when it was issued."""
    return f"{secrets.token_urlsafe(TOKEN_BYTES)}.{int(now.replace(tzinfo=dt.UTC).timestamp())}"


def login_form_token(key: bytes, nonce: str) -> str:
    """The form's hidden csrf_token for a nonce: an HMAC only the server can make."""
    return hmac.new(key, b"login-form:" + nonce.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def login_form_valid(key: bytes, nonce: str | None, token: str | None, now: dt.datetime) -> bool:
    """Whether a posted sign-in form carries the token of the nonce in its cookie, in time."""
    if not nonce or not token or len(nonce) > 200 or len(token) > 200:
        return False
    issued = nonce.rpartition(".")[2]
    if not issued.isascii() or not issued.isdigit():
        return False
    age = now.replace(tzinfo=dt.UTC) - dt.datetime.fromtimestamp(int(issued), dt.UTC)
    if not dt.timedelta(seconds=-60) <= age <= LOGIN_FORM_MAX_AGE:
        return False
    return hmac.compare_digest(login_form_token(key, nonce), token)
