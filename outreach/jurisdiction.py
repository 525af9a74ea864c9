"""Who may act, and who answers for which households.

Only a configured, active user acts, and only in a role allowed to (:data:`PERMISSIONS`); a
user's area (a county, town or village) covers a division when the division lies inside it,
compared structurally on validated codes (:func:`lowinc.divisions.contains`). Every refusal is
written to the audit log with the name that was tried (:func:`audited_refusals`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, false, or_, select
from sqlalchemy.orm import Session

from lowinc.divisions import LEVEL_DIGITS, contains, validate_code
from lowinc.errors import AccessDenied, NotFound, UserError
from outreach.audit import record_audit
from outreach.config import UserConfig
from outreach.db import transaction, utc_naive
from outreach.schema import Alert, User, UserArea

USER_COLUMNS = ["user_id", "name", "role", "level", "code", "addresses", "capacity"]
AREA_COLUMNS = ["user_id", "level", "code"]
AREA_ROLES = frozenset({"village_worker", "town_officer", "county_officer"})
# which roles may do what; the area check comes on top for the personal-data actions
PERMISSIONS: dict[str, frozenset[str]] = {
    "export_list": AREA_ROLES,
    "record_visit": AREA_ROLES,
    "explain": AREA_ROLES,
    "view_household": AREA_ROLES,
    "follow_referral": frozenset({"town_officer", "county_officer"}),
    "view_dashboard": frozenset({"town_officer", "county_officer"}),
    "manage_users": frozenset({"data_team"}),
    "requeue_dead": frozenset({"data_team"}),
}
USERS_HINT = "add the user under outreach.users in configs/outreach.yaml (active: true)"


def covers(level: str | None, code: str | None, area_code: str) -> bool:
    """Whether a user at level/code may see an area (a village, town or county code).

    Both codes are validated (a malformed area raises UserError); a user above the area covers
    it, a user below it (a village worker asking for a town) does not.
    """
    if level is None or not code:
        return False
    return contains(validate_code(code, level), validate_code(area_code))  # type: ignore[arg-type]


def acting_user(session: Session, name: str, action: str) -> User:
    """The configured, active user of that name, allowed to do the action; AccessDenied else."""
    user = active_user(session, name)
    if user is None:
        raise AccessDenied(f"{name!r} is not an active user of the outreach database", hint=USERS_HINT)
    if user.role not in PERMISSIONS[action]:
        raise AccessDenied(f"{name} ({user.role}) may not {action.replace('_', ' ')}")
    return user


@contextmanager
def audited_refusals(
    engine: Engine,
    *,
    actor: str,
    action: str,
    target: str,
    now: dt.datetime,
    detail: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Write any UserError raised inside to the audit log, then raise it again.

    The entry has its own transaction, so the refusal stays although the work is rolled back;
    actor and target are cut to their columns' lengths (they may be whatever was typed).
    """
    try:
        yield
    except UserError as error:
        with transaction(engine) as session:
            record_audit(
                session,
                actor=actor[:100],
                action=action,
                target=target[:200],
                now=utc_naive(now),
                detail={**(detail or {}), "reason": error.message},
            )
        raise


def _validated_area(spec: UserConfig) -> tuple[str | None, str | None]:
    if spec.level is None:
        return None, None
    if spec.code is None:
        digits = LEVEL_DIGITS[spec.level]
        raise UserError(f"user {spec.name}: a {spec.level} user needs a {digits}-digit code")
    try:
        return spec.level, validate_code(spec.code, spec.level)
    except UserError as error:
        raise UserError(f"user {spec.name}: {error.message}", hint="fix outreach.users") from error


def sync_users(session: Session, users: list[UserConfig], now: dt.datetime | None = None) -> None:
    """Insert or update the configured users by name (users missing from the config stay, inactive).

    Sign-in columns (password hash, lock-out) are left alone: the configuration does not own them,
    nor the users added by ``lowinc users add`` or the demo's staff (origin cli/demo), which the
    sync never changes; a configured name that one of those already has is refused.
    """
    created = utc_naive(now or dt.datetime.now(dt.UTC))
    rows = session.execute(select(User)).scalars().all()
    existing = {u.name: u for u in rows if u.origin == "config"}
    managed = {u.name for u in rows if u.origin != "config"}
    configured = {u.name for u in users}
    for spec in users:
        if spec.name in managed:
            raise UserError(
                f"user {spec.name} of outreach.users is already a user added by lowinc users add",
                hint="give the configured user another name, or remove it from outreach.users",
            )
        level, code = _validated_area(spec)
        values = {
            "role": spec.role,
            "level": level,
            "code": code,
            "addresses": dict(spec.addresses),
            "active": spec.active,
        }
        row = existing.get(spec.name)
        if row is None:
            session.add(User(name=spec.name, created_at=created, failed_logins=0, origin="config", **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
    for name, row in existing.items():
        if name not in configured:
            row.active = False


def users_frame(session: Session) -> pd.DataFrame:
    """Active users as a frame (user_id, name, role, level, code, addresses, capacity)."""
    rows = session.execute(select(User).where(User.active.is_(True)).order_by(User.name)).scalars().all()
    return pd.DataFrame(
        [
            {
                "user_id": u.id,
                "name": u.name,
                "role": u.role,
                "level": u.level,
                "code": u.code,
                "addresses": u.addresses,
                "capacity": u.capacity,
            }
            for u in rows
        ],
        columns=USER_COLUMNS,
    )


def extra_areas_frame(session: Session) -> pd.DataFrame:
    """The further areas (user_areas) of active users: user_id, level, code."""
    rows = session.execute(
        select(UserArea.user_id, UserArea.level, UserArea.code)
        .join(User, User.id == UserArea.user_id)
        .where(User.active.is_(True))
    ).all()
    return pd.DataFrame(rows, columns=AREA_COLUMNS)


def load_users(engine: Engine) -> pd.DataFrame:
    with Session(engine) as session:
        return users_frame(session)


def active_user(session: Session, name: str) -> User | None:
    """The active user of that name, if any."""
    return session.execute(select(User).where(User.name == name, User.active.is_(True))).scalar_one_or_none()


def authorize_household(
    engine: Engine,
    *,
    user_name: str,
    household_key: str,
    village_code: str | None,
    now: dt.datetime,
    action: str = "explain",
    detail: dict[str, Any] | None = None,
) -> str:
    """Let an active worker or officer see one household of their area, audited as ``action``;
    returns the user's name. A household that is not there (village_code None) and one outside
    the user's area get the same NotFound, so the answer cannot be used to probe for keys."""
    target = f"household:{household_key}"
    refusal: dict[str, Any] = {"actor": user_name, "action": f"{action}_denied", "target": target, "now": now}
    with audited_refusals(engine, **refusal, detail=detail), transaction(engine) as session:
        user = acting_user(session, user_name, action)
        if village_code is None or not scope_of(session, user).covers(village_code):
            raise NotFound(
                f"no such household in the snapshot of {user_name}'s area",
                hint="copy the household key from your visit list (lowinc lists export)",
            )
        record_audit(
            session, actor=user.name, action=action, target=target, now=utc_naive(now), detail=detail
        )
        return user.name


@dataclass(frozen=True)
class Scope:
    """What one active user may see: their areas (level, code), primary and further ones.

    The one authorization layer: every query of alerts, households, outcomes, referrals and
    needs on behalf of a user filters with :meth:`alert_filter` (or asks :meth:`covers`), the web
    page and the CLI commands alike. A user without an area (data team, model owner) covers
    nothing personal.
    """

    user_id: int
    name: str
    role: str
    areas: tuple[tuple[str, str], ...]

    def covers(self, village_code: str | None) -> bool:
        """Whether a village (12 digits) or a town/county code lies inside one of the areas."""
        if not village_code:
            return False
        return any(contains(code, village_code) for _, code in self.areas)

    def alert_filter(self) -> ColumnElement[bool]:
        """A WHERE clause on :class:`Alert` rows inside the areas (false when there are none)."""
        return self.area_filter(Alert)

    def area_filter(self, model: type[Any]) -> ColumnElement[bool]:
        """A WHERE clause on rows of a model with county_code, town_code and village_code columns
        inside the areas, each area on its own level's column (false when there are none)."""
        by_level: dict[str, list[str]] = {}
        for level, code in self.areas:
            by_level.setdefault(level, []).append(code)
        clauses = [getattr(model, f"{level}_code").in_(codes) for level, codes in sorted(by_level.items())]
        return or_(*clauses) if clauses else false()

    @property
    def villages(self) -> tuple[str, ...]:
        return tuple(code for level, code in self.areas if level == "village")


def scope_of(session: Session, user: User) -> Scope:
    """The user's scope: the primary area on users plus the rows of user_areas."""
    areas: list[tuple[str, str]] = []
    if user.level and user.code:
        areas.append((user.level, user.code))
    extra = session.execute(
        select(UserArea.level, UserArea.code).where(UserArea.user_id == user.id).order_by(UserArea.code)
    ).all()
    areas += [(level, code) for level, code in extra if (level, code) not in areas]
    return Scope(user_id=user.id, name=user.name, role=user.role, areas=tuple(areas))


def acting_scope(session: Session, name: str, action: str) -> Scope:
    """The scope of the active user of that name allowed to do the action (AccessDenied else)."""
    return scope_of(session, acting_user(session, name, action))


def authorized_alert(session: Session, scope: Scope, alert_id: int) -> Alert:
    """The alert if it lies inside the scope; the same NotFound for one that does not exist and
    one outside the area, so ids cannot be probed."""
    alert = session.get(Alert, alert_id)
    if alert is None or not scope.covers(alert.village_code):
        raise NotFound(f"no alert {alert_id} in the area of {scope.name}")
    return alert
