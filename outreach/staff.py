"""The demo's staff: realistic users for the simulated region, made from its villages.

From the villages actually in the region's data (households per village): a village worker per
village, or one for a few small neighbouring villages of a township (up to
``households_per_worker`` households and ``max_villages_per_worker`` villages), two or more
sharing a large one; a town officer per township, a county officer per county, one data-team
user and one model owner. User names are ASCII codes a person can type (``cw-330503101201``
for the worker whose first village is that one, ``to-330503101`` a town officer, ``co-330503``
a county officer, ``data-team``, ``model-owner``).

Passwords are random (``secrets``), stored as Argon2id hashes, and written with the names,
roles and areas to ``<home>/secure/demo-logins.csv`` (mode 0600). A second ``lowinc up`` on the
same home keeps the users and the file consistent: a user whose password in the file still
verifies keeps it, any other gets a new one, users the region no longer needs are disabled.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from lowinc.divisions import load_divisions
from lowinc.errors import UserError
from lowinc.private import private_dir, private_file
from outreach.accounts import add_user, hash_password, verify_password
from outreach.audit import record_audit
from outreach.config import DemoStaffConfig
from outreach.db import utc_naive
from outreach.schema import User, UserArea

LOGINS_FILE = "demo-logins.csv"
LOGIN_COLUMNS = ["username", "password", "role", "areas", "area_names", "capacity"]
DATA_TEAM, MODEL_OWNER = "data-team", "model-owner"
ROLE_ZH = {
    "village_worker": "村（社区）工作人员",
    "town_officer": "乡镇（街道）民政干部",
    "county_officer": "县（区）民政局",
    "data_team": "数据组",
    "model_owner": "模型负责人",
}


@dataclass(frozen=True)
class StaffMember:
    """One planned user: name, role, areas (codes; the first is the primary one), their names."""

    name: str
    role: str
    areas: tuple[str, ...]
    area_names: tuple[str, ...]


def region_villages(codes_and_households: pd.DataFrame) -> pd.DataFrame:
    """village_code, households, village/town/county names of the villages in the data: the
    rows whose village is a known division (a defective code is dropped)."""
    divisions = load_divisions()
    counts = codes_and_households.groupby("village_code", sort=True)["household_no"].nunique()
    frame = counts.rename("households").reset_index()
    return frame.merge(divisions, on="village_code", how="inner")


def plan_staff(villages: pd.DataFrame, config: DemoStaffConfig) -> list[StaffMember]:
    """The staff for these villages (columns of :func:`region_villages`), in a fixed order."""
    staff: list[StaffMember] = []
    villages = villages.sort_values("village_code")
    for _town, town in villages.groupby("town_code", sort=True):
        staff += _village_workers(town, config)
    for role, level, prefix in (("town_officer", "town", "to"), ("county_officer", "county", "co")):
        areas = villages.drop_duplicates(f"{level}_code")
        for code, name in zip(areas[f"{level}_code"], areas[f"{level}_name"], strict=True):
            staff.append(StaffMember(f"{prefix}-{code}", role, (str(code),), (str(name),)))
    staff.append(StaffMember(DATA_TEAM, "data_team", (), ()))
    staff.append(StaffMember(MODEL_OWNER, "model_owner", (), ()))
    return staff


def _village_workers(town: pd.DataFrame, config: DemoStaffConfig) -> list[StaffMember]:
    """Workers of one township: neighbouring small villages packed together (by code), a large
    village shared by ceil(households / households_per_worker) workers."""
    out: list[StaffMember] = []
    group: list[tuple[str, str]] = []
    size = 0
    row: Any  # a row of the town's villages

    def close() -> None:
        nonlocal group, size
        if group:
            codes, names = zip(*group, strict=True)
            out.append(StaffMember(f"cw-{codes[0]}", "village_worker", tuple(codes), tuple(names)))
        group, size = [], 0

    for row in town.itertuples(index=False):
        households = int(row.households)
        if households > config.households_per_worker:
            close()
            n = min(config.max_workers_per_village, math.ceil(households / config.households_per_worker))
            for i in range(n):
                name = f"cw-{row.village_code}" + (f"-{i + 1}" if i else "")
                out.append(StaffMember(name, "village_worker", (row.village_code,), (row.village_name,)))
            continue
        if group and (
            size + households > config.households_per_worker or len(group) >= config.max_villages_per_worker
        ):
            close()
        group.append((row.village_code, row.village_name))
        size += households
    close()
    return out


@dataclass(frozen=True)
class StaffResult:
    users: int  # demo users active after the run
    added: int
    new_passwords: int  # users given a (new) password this run
    disabled: int
    logins_file: Path

    def to_dict(self) -> dict[str, object]:
        return {
            "users": self.users,
            "added": self.added,
            "new_passwords": self.new_passwords,
            "disabled": self.disabled,
            "logins_file": str(self.logins_file),
        }


def read_logins(path: Path) -> dict[str, str]:
    """username → password of an earlier logins file (none: empty)."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["username"]: row["password"] for row in csv.DictReader(handle) if row.get("username")}


def write_logins(path: Path, rows: Iterable[dict[str, str]]) -> Path:
    """The logins file, owner-only from the first byte (written beside it, then renamed)."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOGIN_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return private_file(path)


def new_password() -> str:
    """A random password a person can type: 16 characters of letters and digits (~95 bits)."""
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


T = TypeVar("T")
R = TypeVar("R")


def _in_threads(func: Callable[[T], R], items: list[T]) -> list[R]:
    """Argon2 releases the GIL: hash or verify many passwords on the machine's cores."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return list(pool.map(func, items))


def ensure_demo_staff(
    session: Session,
    staff: list[StaffMember],
    secure_dir: Path,
    now: dt.datetime,
    *,
    capacity: int | None = None,
) -> StaffResult:
    """Create or keep the planned users (origin demo) and write the logins file.

    A planned name that exists as a configured or command-line user is refused (one line). A
    demo user no longer planned is disabled (kept for the audit log's names)."""
    path = Path(secure_dir) / LOGINS_FILE
    known = read_logins(path)
    rows = {u.name: u for u in session.execute(select(User)).scalars()}
    planned = {m.name for m in staff}
    clash = sorted(n for n in planned if n in rows and rows[n].origin != "demo")
    if clash:
        raise UserError(
            f"{len(clash)} demo user names are taken by users not made by lowinc up (e.g. {clash[0]})",
            hint="rename those users, or use another home for the demo",
        )
    existing = [m for m in staff if m.name in rows]
    keep = _in_threads(
        lambda m: m.name in known and verify_password(rows[m.name].password_hash, known[m.name]), existing
    )
    kept = {m.name for m, ok in zip(existing, keep, strict=True) if ok}
    fresh = [m for m in staff if m.name not in kept]
    passwords = {m.name: new_password() for m in fresh}
    hashes = dict(zip(passwords, _in_threads(hash_password, list(passwords.values())), strict=True))
    moment = utc_naive(now)
    added = 0
    for member in staff:
        user = rows.get(member.name)
        if user is None:
            add_user(
                session,
                member.name,
                member.role,
                list(member.areas),
                None,
                "demo",
                moment,
                capacity if member.role == "village_worker" else None,
                password_hash=hashes[member.name],
            )
            added += 1
            continue
        if member.name in hashes:
            user.password_hash = hashes[member.name]
            user.password_changed_at = moment
            user.failed_logins = 0
            user.locked_until = None
        if not user.active:
            user.active = True
        _sync_areas(session, user, member)
    disabled = 0
    for name, user in rows.items():
        if user.origin == "demo" and name not in planned and user.active:
            user.active = False
            disabled += 1
    record_audit(
        session,
        actor="system",
        action="demo_staff",
        target=f"file:{LOGINS_FILE}",
        now=moment,
        detail={"users": len(staff), "added": added, "new_passwords": len(fresh), "disabled": disabled},
    )
    passwords_of = {m.name: passwords.get(m.name) or known[m.name] for m in staff}
    write_logins(
        path,
        (
            {
                "username": m.name,
                "password": passwords_of[m.name],
                "role": m.role,
                "areas": ";".join(m.areas),
                "area_names": "、".join(m.area_names),
                "capacity": str(capacity) if capacity is not None and m.role == "village_worker" else "",
            }
            for m in staff
        ),
    )
    return StaffResult(len(staff), added, len(fresh), disabled, path)


def _sync_areas(session: Session, user: User, member: StaffMember) -> None:
    """The user's primary area and user_areas rows as planned (the region may have changed)."""
    if not member.areas:
        user.level, user.code = None, None
        return
    level = {6: "county", 9: "town", 12: "village"}[len(member.areas[0])]
    user.level, user.code = level, member.areas[0]
    have = {a.code: a for a in session.execute(select(UserArea).where(UserArea.user_id == user.id)).scalars()}
    for code in member.areas[1:]:
        if code not in have:
            session.add(UserArea(user_id=user.id, level=level, code=code))
    for code, row in have.items():
        if code not in member.areas[1:]:
            session.delete(row)


def set_demo_addresses(session: Session, webhook_base: str) -> int:
    """Point every active demo user's webhook at ``webhook_base/<name>`` (the local inbox);
    returns how many."""
    users = session.execute(select(User).where(User.origin == "demo", User.active.is_(True))).scalars().all()
    for user in users:
        user.addresses = {"webhook": f"{webhook_base.rstrip('/')}/{user.name}"}
    return len(users)


def example_logins(staff: list[StaffMember]) -> list[StaffMember]:
    """Who to try first: a village worker, a town officer and a county officer."""
    out = []
    for role in ("village_worker", "town_officer", "county_officer"):
        out += [m for m in staff if m.role == role][:1]
    return out
