"""Who answers for which households: a user's area covers a village when its code is a prefix.

Division codes nest (county 6 digits, town 9, village 12), so a town officer covers every
village whose code starts with the town's code.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from outreach.config import UserConfig
from outreach.schema import User

LEVEL_DIGITS = {"village": 12, "town": 9, "county": 6}
USER_COLUMNS = ["user_id", "name", "role", "level", "code", "addresses"]


def covers(level: str | None, code: str | None, area_code: str) -> bool:
    """Whether a user at level/code may see an area (a village, town or county code)."""
    if level is None or not code:
        return False
    if len(area_code) >= len(code):
        return area_code.startswith(code)
    return False


def sync_users(session: Session, users: list[UserConfig]) -> None:
    """Insert or update the configured users by name (users missing from the config stay, inactive)."""
    existing = {u.name: u for u in session.execute(select(User)).scalars()}
    configured = {u.name for u in users}
    for spec in users:
        if spec.level is not None and (spec.code is None or len(spec.code) != LEVEL_DIGITS[spec.level]):
            raise ValueError(f"user {spec.name}: a {spec.level} code has {LEVEL_DIGITS[spec.level]} digits")
        values = {
            "role": spec.role,
            "level": spec.level,
            "code": spec.code,
            "addresses": dict(spec.addresses),
            "active": True,
        }
        row = existing.get(spec.name)
        if row is None:
            session.add(User(name=spec.name, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
    for name, row in existing.items():
        if name not in configured:
            row.active = False


def users_frame(session: Session) -> pd.DataFrame:
    """Active users as a frame (user_id, name, role, level, code, addresses)."""
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
            }
            for u in rows
        ],
        columns=USER_COLUMNS,
    )


def assign_responsible(households: pd.DataFrame, users: pd.DataFrame) -> pd.Series:
    """The user_id responsible for each row: the village worker, else the town officer, else the
    county officer (first by name when several share an area); <NA> when nobody covers it."""
    result = pd.Series(pd.NA, index=households.index, dtype="Int64")
    for level, column in [("county", "county_code"), ("town", "town_code"), ("village", "village_code")]:
        at_level = users[users["level"] == level].drop_duplicates("code", keep="first")
        mapping = pd.Series(at_level["user_id"].to_numpy(), index=at_level["code"].to_numpy())
        found = households[column].map(mapping).astype("Int64")
        result = found.fillna(result) if found.notna().any() else result
    return result


def load_users(engine: Engine) -> pd.DataFrame:
    with Session(engine) as session:
        return users_frame(session)


def active_user(session: Session, name: str) -> User | None:
    """The active user of that name, if any."""
    return session.execute(select(User).where(User.name == name, User.active.is_(True))).scalar_one_or_none()
