"""Seed an outreach database to a city's size for the web load benchmark (synthetic, seeded).

The households of a real city of the divisions reference (湖州市 by default: 5 counties, 72
towns, 1,301 villages) spread over its villages with uneven sizes; each month about a tenth of
them are on a visit list (red, orange, yellow), most with a visit task, all with a contact (a
made-up name, a masked ID, an address and 组). Staff: workers per village (one per
``capacity`` tasks, the village's tasks shared among them in turn), an officer per town and
per county, a data-team user. Earlier months' tasks are visited or closed. Rows go in with
Core executemany in batches (ids given, so no read-back), on SQLite or PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, text

from lowinc.divisions import load_divisions
from outreach.db import transaction, upgrade
from outreach.schema import Alert, AlertContact, User, VisitTask

TIER_SHARES = {"red": 0.12, "orange": 0.38, "yellow": 0.50}
DUE_DAYS = {"red": 7, "orange": 14, "yellow": 30}
BATCH = 20_000
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海")
REASONS = [
    "近6个月医疗自付 38,200 元，超过上年当地人均可支配收入的一半",
    "户主 2024年3月 失业登记，此前月缴费基数 4,200 元",
    "新办 二级 肢体残疾证",
    "家中无劳动年龄成员",
    "住房安全鉴定为 C 级",
]
ACTIONS = {"red": "医疗救助、核查低保", "orange": "核查低保边缘", "yellow": "纳入月度走访"}


@dataclass(frozen=True)
class Seeded:
    """What went in, and how long it took."""

    households: int
    alerts: int
    open_alerts: int
    tasks: int
    users: int
    seconds: float
    as_of: dt.date
    village_workers: dict[str, list[str]]  # village code -> the workers' names
    towns: list[str]
    counties: list[str]


def city_villages(city: str) -> pd.DataFrame:
    divisions = load_divisions()
    villages = divisions[divisions["city_code"] == city].reset_index(drop=True)
    if villages.empty:
        raise SystemExit(f"no villages of city {city} in the divisions reference")
    return villages


def _batches(engine: Engine, table: Any, rows: Sequence[Mapping[Any, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        with transaction(engine) as session:
            session.execute(insert(table), rows[start : start + BATCH])


def _names(rng: np.random.Generator, n: int) -> list[str]:
    s = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(-len(GIVEN) // 2, len(GIVEN), n)  # about a third have one given character
    return [SURNAMES[a] + GIVEN[b] + (GIVEN[c] if c >= 0 else "") for a, b, c in zip(s, g1, g2, strict=True)]


def _staff(
    villages: pd.DataFrame, per_village: np.ndarray, capacity: int, now: dt.datetime
) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    base = {"addresses": {}, "active": True, "failed_logins": 0, "origin": "demo", "created_at": now}
    for code, count in zip(villages["village_code"], per_village, strict=True):
        for k in range(max(1, int(np.ceil(count / capacity)))):
            users.append(
                {
                    **base,
                    "name": f"村{code}-{k + 1}",
                    "role": "village_worker",
                    "level": "village",
                    "code": code,
                }
            )
    for code in sorted(villages["town_code"].unique()):
        users.append({**base, "name": f"镇{code}", "role": "town_officer", "level": "town", "code": code})
    for code in sorted(villages["county_code"].unique()):
        users.append({**base, "name": f"县{code}", "role": "county_officer", "level": "county", "code": code})
    users.append({**base, "name": "数据组", "role": "data_team", "level": None, "code": None})
    for i, user in enumerate(users, start=1):
        user["id"] = i
        user["capacity"] = capacity if user["role"] == "village_worker" else None
    return users


def seed_city(
    url: str,
    *,
    households: int = 1_000_000,
    alert_share: float = 0.1,
    months: int = 3,
    city: str = "3305",
    capacity: int = 60,
    as_of: dt.date = dt.date(2024, 6, 1),
    seed: int = 14,
    log: Any = print,
) -> Seeded:
    """Migrate the database at url and fill it; the newest month's alerts are the open ones."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    engine = upgrade(url)
    now = dt.datetime(as_of.year, as_of.month, as_of.day, 8, 0)
    villages = city_villages(city)
    weights = rng.lognormal(0.0, 0.6, len(villages))
    home_village = rng.choice(len(villages), size=households, p=weights / weights.sum())
    per_alert = max(1, int(households * alert_share))
    months_list = [(pd.Timestamp(as_of) - pd.DateOffset(months=m)).date() for m in reversed(range(months))]

    # the newest month's alerts per village decide how many workers a village has
    latest_pick = rng.choice(households, size=per_alert, replace=False)
    per_village = np.bincount(home_village[latest_pick], minlength=len(villages))
    users = _staff(villages, per_village, capacity, now)
    _batches(engine, User, users)
    workers: dict[str, list[int]] = {}
    names: dict[str, list[str]] = {}
    for user in users:
        if user["role"] == "village_worker":
            workers.setdefault(user["code"], []).append(user["id"])
            names.setdefault(user["code"], []).append(user["name"])
    log(f"  users: {len(users):,} ({time.perf_counter() - started:.1f}s)")

    alert_id = task_id = 0
    open_alerts = tasks_total = 0
    for month_no, month in enumerate(months_list):
        latest = month_no == len(months_list) - 1
        pick = latest_pick if latest else rng.choice(households, size=per_alert, replace=False)
        pick = np.sort(pick)
        v = home_village[pick]
        tiers = rng.choice(list(TIER_SHARES), size=len(pick), p=list(TIER_SHARES.values()))
        lift = np.where(tiers == "red", 0.5, np.where(tiers == "orange", 0.25, 0.0))
        risk = np.round(np.clip(rng.beta(2, 8, len(pick)) * 0.5 + lift, 0, 0.999), 4)
        frame = pd.DataFrame({"hh": pick, "v": v, "tier": tiers, "risk": risk})
        frame["tier_order"] = frame["tier"].map({t: i for i, t in enumerate(TIER_SHARES)})
        frame = frame.sort_values(["v", "tier_order", "risk"], ascending=[True, True, False])
        frame["rank_in_village"] = frame.groupby("v").cumcount() + 1
        frame["town"] = villages["town_code"].to_numpy()[frame["v"].to_numpy()]
        frame = frame.sort_values(["town", "tier_order", "risk"], ascending=[True, True, False])
        frame["rank_in_town"] = frame.groupby("town").cumcount() + 1
        frame = frame.reset_index(drop=True)
        n = len(frame)
        ids = np.arange(alert_id + 1, alert_id + n + 1)
        alert_id += n
        notify = rng.random(n) < 0.85  # the rest were alerted within the cooldown: listed, no task
        vrow = villages.iloc[frame["v"].to_numpy()].reset_index(drop=True)
        keys = pd.Series([hashlib.sha256(f"hh-{h}".encode()).hexdigest() for h in frame["hh"]])
        reason_pick = rng.integers(0, len(REASONS), size=(n, 3))
        tier = frame["tier"]
        due = pd.Series([month + dt.timedelta(days=d) for d in range(31)]).to_numpy()[
            tier.map(DUE_DAYS).to_numpy()
        ]
        red = (tier == "red").to_numpy()
        alerts = pd.DataFrame(
            {
                "id": ids,
                "household_key": keys,
                "as_of": month,
                "run_id": f"seed-{month:%Y%m}",
                "county_code": vrow["county_code"],
                "town_code": vrow["town_code"],
                "village_code": vrow["village_code"],
                "village_name": vrow["village_name"],
                "town_name": vrow["town_name"],
                "tier": tier,
                "risk": frame["risk"].astype(float),
                "rank_in_village": frame["rank_in_village"],
                "rank_in_town": frame["rank_in_town"],
                "hard_triggers": np.where(red & (np.arange(n) % 3 == 0), "新增重度残疾", ""),
                "reasons_zh": ["；".join(dict.fromkeys(REASONS[j] for j in row)) for row in reason_pick],
                "reasons_en": "out-of-pocket medical cost; head unemployed; new disability certificate",
                "action_zh": tier.map(ACTIONS),
                "due_date": due,
                "model_version": "lowinc-risk/1",
                "status": np.where(notify, "notify", "cooldown"),
                "previous_alert_id": None,
                "created_at": now,
                "household_code": keys.str[:8].str.upper(),
            }
        )
        _batches(engine, Alert, alerts.to_dict("records"))
        turn = frame.groupby("v").cumcount().to_numpy()
        pools = [workers[c] for c in vrow["village_code"]]
        assignee = np.array([pool[t % len(pool)] for pool, t in zip(pools, turn, strict=True)])
        status = (
            np.full(n, "new")
            if latest
            else rng.choice(["visited", "closed", "new"], size=n, p=[0.2, 0.7, 0.1])
        )
        tasks = pd.DataFrame({"alert_id": ids, "assignee_id": assignee, "due_date": due, "status": status})[
            notify
        ].reset_index(drop=True)
        tasks.insert(0, "id", np.arange(task_id + 1, task_id + len(tasks) + 1))
        task_id += len(tasks)
        _batches(engine, VisitTask, tasks.to_dict("records"))
        groups = rng.integers(1, 12, n).astype(str)
        doors = rng.integers(1, 200, n).astype(str)
        tails = pd.Series(rng.integers(0, 10_000, n)).map("{:04d}".format)
        contacts = pd.DataFrame(
            {
                "alert_id": ids,
                "head_name": _names(rng, n),
                "head_id_masked": vrow["county_code"] + "********" + tails,
                "address": vrow["village_name"] + groups + "组" + doors + "号",
                "group_name": pd.Series(groups) + "组",
                "stand_in": np.arange(n) % 40 == 0,
            }
        )
        _batches(engine, AlertContact, contacts.to_dict("records"))
        tasks_total += len(tasks)
        if latest:
            open_alerts = n
        log(f"  {month:%Y-%m}: {n:,} alerts, {len(tasks):,} tasks ({time.perf_counter() - started:.1f}s)")

    if engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
        with engine.begin() as connection:
            for table in ("users", "alerts", "visit_tasks"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            connection.execute(text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return Seeded(
        households=households,
        alerts=alert_id,
        open_alerts=open_alerts,
        tasks=tasks_total,
        users=len(users),
        seconds=time.perf_counter() - started,
        as_of=as_of,
        village_workers=names,
        towns=sorted(villages["town_code"].unique()),
        counties=sorted(villages["county_code"].unique()),
    )
