"""Accounts of the web page: Argon2id passwords, the password policy, users, and sign-in.

No web imports here: the ``lowinc users`` commands, the demo staff and the web page share it.
Every change to an account is audited (never with the password); every sign-in attempt is a
login_attempts row, every failed one an audit entry too.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lowinc.divisions import LEVEL_DIGITS, Level, validate_code
from lowinc.errors import AccessDenied, BadValue, NotFound, UserError
from outreach.audit import record_audit
from outreach.db import utc_naive
from outreach.schema import LoginAttempt, User, UserArea, WebSession

# OWASP Password Storage Cheat Sheet's first Argon2id setting (m=19 MiB, t=2, p=1): about
# 30-70 ms a hash on this project's 2-core machine (docs/security.md)
HASHER = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)
MIN_LENGTH, MAX_LENGTH = 12, 128  # ASVS 2.1.1 and 2.1.2, counted in characters after NFC
ROLES = ("village_worker", "town_officer", "county_officer", "data_team", "model_owner")
ORIGINS = ("config", "cli", "demo")
ROLE_LEVEL: dict[str, Level | None] = {
    "village_worker": "village",
    "town_officer": "town",
    "county_officer": "county",
    "data_team": None,
    "model_owner": None,
}
COMMON_PASSWORDS = "data/common_passwords.txt"
GENERIC_FAILURE = "wrong user name or password, or the account cannot sign in now"


class LoginFailed(AccessDenied):
    """A sign-in that did not succeed; the same message whatever the cause."""


class PasswordRefused(BadValue):
    """A password the policy refuses; ``rule`` names the rule (too_short, too_long, control,
    common, user_name) so a page can say it in the user's language."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class RateLimited(AccessDenied):
    """Too many failed sign-ins from one client: it must wait (says nothing about any account)."""


@dataclass(frozen=True)
class LoginPolicy:
    """Lock-out and rate limit of :func:`authenticate` (outreach.web.config.WebConfig has them)."""

    lockout_threshold: int = 5
    lockout_minutes: int = 15
    rate_limit_attempts: int = 20
    rate_limit_window_minutes: int = 15


@dataclass(frozen=True)
class UserSummary:
    """One account as ``lowinc users list`` shows it (no hash, no addresses)."""

    name: str
    role: str
    areas: tuple[str, ...]
    origin: str
    active: bool
    locked: bool
    capacity: int | None
    has_password: bool


def normalised(password: str) -> str:
    """The form a password is checked and hashed in (NFC, so the same characters typed on two
    keyboards are one password); nothing is stripped or truncated."""
    return unicodedata.normalize("NFC", password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords, lower-cased."""
    text = resources.files("outreach").joinpath(COMMON_PASSWORDS).read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(password: str, username: str) -> str:
    """The normalised password when it meets the policy (ASVS 2.1: 12-128 characters, any
    Unicode including spaces, no composition rules, not a common password, not the user name);
    a BadValue naming the rule else (never the password)."""
    if not isinstance(password, str):
        raise PasswordRefused("a password must be text", "too_short")
    value = normalised(password)
    if len(value) < MIN_LENGTH:
        raise PasswordRefused(
            f"a password needs at least {MIN_LENGTH} characters (a few words make a good one)", "too_short"
        )
    if len(value) > MAX_LENGTH:
        raise PasswordRefused(f"a password may have at most {MAX_LENGTH} characters", "too_long")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise PasswordRefused("a password may not contain control characters (tabs, line breaks)", "control")
    folded = value.casefold()
    if folded in common_passwords():
        raise PasswordRefused(
            "this password is on the list of common or breached passwords: choose another", "common"
        )
    name = normalised(username).casefold().strip()
    if name and (folded == name or (len(name) >= 2 and name in folded)):
        raise PasswordRefused("a password may not contain the user name", "user_name")
    return value


def hash_password(password: str) -> str:
    """The Argon2id hash of a password (encoded with its parameters and salt); no policy check."""
    return HASHER.hash(normalised(password))


@cache
def _dummy_hash() -> str:
    return HASHER.hash("a password nobody has: the work done for an unknown user")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches the hash; a missing or broken hash is a mismatch after the
    same work (a dummy verification), so timing does not tell accounts apart."""
    try:
        return HASHER.verify(password_hash or _dummy_hash(), normalised(password)) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with other parameters than today's (rehashed at the next sign-in)."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_name(name: str) -> str:
    """A user name: 1-100 characters, no control characters, no spaces at either end."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise BadValue("a user name must be 1-100 characters without spaces at either end")
    if len(name) > 100 or any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in name):
        raise BadValue("a user name must be 1-100 printable characters")
    return unicodedata.normalize("NFC", name)


def check_areas(role: str, areas: list[str]) -> list[tuple[Level, str]]:
    """The areas a role answers for, validated: village workers one or more village codes, town
    and county officers exactly one town or county code, the data team and model owners none."""
    if role not in ROLES:
        raise BadValue(f"unknown role {role[:30]!r}: one of {', '.join(ROLES)}")
    level = ROLE_LEVEL[role]
    if level is None:
        if areas:
            raise BadValue(f"a {role} user has no area (no access to personal data): drop --area")
        return []
    if not areas:
        raise BadValue(f"a {role} needs --area with a {LEVEL_DIGITS[level]}-digit {level} code")
    if level != "village" and len(areas) > 1:
        raise BadValue(f"a {role} answers for one {level}: give one --area")
    codes = [validate_code(code, level) for code in areas]
    if len(set(codes)) != len(codes):
        raise BadValue("an area is given twice")
    return [(level, code) for code in codes]


def add_user(
    session: Session,
    name: str,
    role: str,
    areas: list[str],
    password: str | None,
    origin: str,
    now: dt.datetime,
    capacity: int | None = None,
    *,
    actor: str = "system",
    password_hash: str | None = None,
) -> User:
    """Create an active user (audited); the first area is the primary one (on users), the rest
    go to user_areas. ``password`` is checked against the policy and hashed; a caller that made
    many accounts' hashes beforehand (hash_password) may pass ``password_hash`` instead. With
    neither the account exists but cannot sign in until reset-password."""
    name = check_name(name)
    if origin not in ORIGINS:
        raise BadValue(f"unknown origin {origin[:20]!r}: one of {', '.join(ORIGINS)}")
    validated = check_areas(role, list(areas))
    if capacity is not None and (isinstance(capacity, bool) or not 0 <= capacity <= 10_000):
        raise BadValue("--capacity is a number of home visits a month (0-10000)")
    if password is not None and password_hash is not None:
        raise BadValue("give a password or a password hash, not both")
    if password is not None:
        password_hash = hash_password(check_password(password, name))
    if session.execute(select(User.id).where(User.name == name)).first() is not None:
        raise UserError(f"a user named {name} exists already", hint="lowinc users list")
    moment = utc_naive(now)
    primary = validated[0] if validated else (None, None)
    user = User(
        name=name,
        role=role,
        level=primary[0],
        code=primary[1],
        addresses={},
        active=True,
        password_hash=password_hash,
        failed_logins=0,
        password_changed_at=moment if password_hash else None,
        created_at=moment,
        origin=origin,
        capacity=capacity,
    )
    session.add(user)
    session.flush()
    for level, code in validated[1:]:
        session.add(UserArea(user_id=user.id, level=level, code=code))
    record_audit(
        session,
        actor=actor[:100],
        action="add_user",
        target=f"user:{name}",
        now=moment,
        detail={
            "role": role,
            "areas": [code for _, code in validated],
            "origin": origin,
            "capacity": capacity,
        },
    )
    return user


def _user(session: Session, name: str) -> User:
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user named {name[:100]}", hint="lowinc users list")
    return user


def list_users(session: Session) -> list[UserSummary]:
    """Every account by name, with its areas, origin and whether it can sign in now."""
    users = session.execute(select(User).order_by(User.name)).scalars().all()
    extra: dict[int, list[str]] = {}
    for user_id, code in session.execute(select(UserArea.user_id, UserArea.code).order_by(UserArea.code)):
        extra.setdefault(user_id, []).append(code)
    now = utc_naive(dt.datetime.now(dt.UTC))
    return [
        UserSummary(
            name=u.name,
            role=u.role,
            areas=tuple([u.code] if u.code else []) + tuple(extra.get(u.id, [])),
            origin=u.origin,
            active=u.active,
            locked=u.locked_until is not None and u.locked_until > now,
            capacity=u.capacity,
            has_password=u.password_hash is not None,
        )
        for u in users
    ]


def revoke_user_sessions(session: Session, user_id: int, now: dt.datetime) -> int:
    """End every open web session of a user; how many were open."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utc_naive(now))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def disable_user(session: Session, name: str, now: dt.datetime, *, actor: str = "system") -> User:
    """Disable an account (kept for the audit log's names); its web sessions end at once.
    Users of the configuration (origin config) are disabled there instead (active: false)."""
    user = _user(session, name)
    if user.origin == "config":
        raise UserError(
            f"user {user.name} comes from outreach.users in the configuration",
            hint="set active: false for that user in configs/outreach.yaml",
        )
    user.active = False
    revoked = revoke_user_sessions(session, user.id, now)
    record_audit(
        session,
        actor=actor[:100],
        action="disable_user",
        target=f"user:{user.name}",
        now=utc_naive(now),
        detail={"sessions_revoked": revoked},
    )
    return user


def reset_password(
    session: Session, name: str, password: str, now: dt.datetime, *, actor: str = "system"
) -> User:
    """Set a new password (policy checked) and clear a lock-out; the user's sessions end."""
    user = _user(session, name)
    user.password_hash = hash_password(check_password(password, user.name))
    user.password_changed_at = utc_naive(now)
    user.failed_logins = 0
    user.locked_until = None
    revoked = revoke_user_sessions(session, user.id, now)
    record_audit(
        session,
        actor=actor[:100],
        action="reset_password",
        target=f"user:{user.name}",
        now=utc_naive(now),
        detail={"sessions_revoked": revoked},
    )
    return user


def _failed_from(session: Session, client: str, since: dt.datetime) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.client == client, LoginAttempt.at >= since, LoginAttempt.ok.is_(False))
        ).scalar_one()
    )


def authenticate(
    session: Session,
    username: str,
    password: str,
    client: str,
    now: dt.datetime,
    policy: LoginPolicy | None = None,
) -> User:
    """The active, unlocked user whose password this is; LoginFailed (one message for an unknown
    user, a wrong password, a disabled or locked account, after the same Argon2 work) or
    RateLimited (too many failures from this client in the window) else.

    Every attempt is a login_attempts row and every failure an audit entry (no password): the
    caller commits the session whether this returns or raises.
    """
    policy = policy or LoginPolicy()
    moment = utc_naive(now)
    typed = str(username)[:100]
    client = str(client)[:64]
    if _failed_from(session, client, moment - dt.timedelta(minutes=policy.rate_limit_window_minutes)) >= (
        policy.rate_limit_attempts
    ):
        verify_password(None, password)
        _record(session, typed, client, moment, ok=False, reason="rate_limited")
        raise RateLimited("too many failed sign-ins from this address: wait a few minutes and try again")
    # FOR UPDATE (PostgreSQL): concurrent failures each count toward the lock-out
    user = session.execute(select(User).where(User.name == typed).with_for_update()).scalar_one_or_none()
    matches = verify_password(user.password_hash if user else None, password)
    reason = None
    if user is None:
        reason = "unknown_user"
    elif not user.active:
        reason = "disabled"
    elif user.locked_until is not None and user.locked_until > moment:
        reason = "locked"
    elif not matches:
        reason = "wrong_password"
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= policy.lockout_threshold:
            user.locked_until = moment + dt.timedelta(minutes=policy.lockout_minutes)
            user.failed_logins = 0
            reason = "wrong_password_locked"
    if reason is not None or user is None:
        _record(session, typed, client, moment, ok=False, reason=reason or "unknown_user")
        raise LoginFailed(GENERIC_FAILURE)
    user.failed_logins = 0
    user.locked_until = None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _record(session, typed, client, moment, ok=True, reason=None)
    return user


def _record(
    session: Session, username: str, client: str, now: dt.datetime, *, ok: bool, reason: str | None
) -> None:
    session.add(LoginAttempt(at=now, username=username, client=client, ok=ok))
    record_audit(
        session,
        actor=username,
        action="login" if ok else "login_failed",
        target=f"user:{username}",
        now=now,
        detail={"client": client} if ok else {"client": client, "reason": reason},
    )


def change_password(
    session: Session,
    user: User,
    new_password: str,
    now: dt.datetime,
) -> int:
    """A signed-in user's own new password (the caller has checked the current one with
    :func:`authenticate`): policy checked, hashed, every session of the user ended (the caller
    starts a fresh one); audited. How many sessions were ended."""
    user.password_hash = hash_password(check_password(new_password, user.name))
    user.password_changed_at = utc_naive(now)
    revoked = revoke_user_sessions(session, user.id, now)
    record_audit(
        session,
        actor=user.name,
        action="change_password",
        target=f"user:{user.name}",
        now=utc_naive(now),
        detail={"sessions_revoked": revoked},
    )
    return revoked
