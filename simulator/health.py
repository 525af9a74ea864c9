"""Illness and disability: hospital stays and outpatient settlements through the insurance
waterfall, chronic illness, disability certificates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.state import (
    DIBAO,
    DISABILITY_KINDS,
    EDGE,
    TEKUN,
    World,
    month_label,
    month_start,
)
from simulator.timeline import Context, Pending, Recorder, days_in, month_of, monthly

DIAGNOSES = pd.DataFrame(
    [
        ("I63.9", "脑梗死", 1.3),
        ("I25.1", "冠状动脉粥样硬化性心脏病", 1.2),
        ("C34.9", "支气管或肺恶性肿瘤", 3.0),
        ("C16.9", "胃恶性肿瘤", 2.6),
        ("J18.9", "肺炎", 0.6),
        ("K80.2", "胆囊结石", 0.8),
        ("S72.0", "股骨颈骨折", 1.6),
        ("N18.5", "慢性肾脏病5期", 2.2),
        ("E11.9", "2型糖尿病", 0.5),
        ("O80.0", "单胎顺产", 0.4),
    ],
    columns=["code", "name", "cost_factor"],
)
SETTLEMENT_PREFIX = {"住院": "ZY", "门诊慢特病": "MT", "普通门诊": "MZ"}
CHRONIC_DX = pd.DataFrame(
    [
        ("I10", "原发性高血压"),
        ("E11.9", "2型糖尿病"),
        ("N18.5", "慢性肾脏病5期"),
        ("F20.9", "精神分裂症"),
        ("J44.9", "慢性阻塞性肺病"),
    ],
    columns=["code", "name"],
)


def _waterfall(
    total: np.ndarray,
    in_scope: np.ndarray,
    employee: np.ndarray,
    level: np.ndarray,
    category: np.ndarray,
    disposable: np.ndarray,
    factor: float,
    deductible_on: bool = True,
) -> dict[str, np.ndarray]:
    """Medical cost parts in fen (integers that add up exactly): basic, critical, assistance."""
    deductible = np.array([0, 300, 600, 1000])[level] * 100 * deductible_on
    rate = (
        np.where(employee, np.array([0, 0.88, 0.85, 0.80])[level], np.array([0, 0.88, 0.80, 0.70])[level])
        * factor
    )
    basic = np.minimum(30_000_000, np.maximum(0, in_scope - deductible) * rate).astype(np.int64)
    copay = in_scope - basic
    assisted = np.isin(category, [DIBAO, TEKUN, EDGE])
    ci_deduct = np.where(assisted, 0.25, 0.5) * disposable * 100
    critical = (np.maximum(0, copay - ci_deduct) * np.where(assisted, 0.75, 0.6)).astype(np.int64)
    remaining = copay - critical
    aid_rate = np.select([np.isin(category, [DIBAO, TEKUN]), category == EDGE], [0.75, 0.5], 0.0)
    aid = (remaining * aid_rate).astype(np.int64)
    return {
        "basic": basic,
        "critical": critical,
        "aid": aid,
        "copay": remaining - aid,
        "selfpay": total - in_scope,
    }


def _settlements(
    world: World,
    who: np.ndarray,
    kind: str,
    admit: np.ndarray,
    settle: np.ndarray,
    total_yuan: np.ndarray,
    level: np.ndarray,
    dx: pd.DataFrame,
    dx_idx: np.ndarray,
    ctx: Context,
    t: int,
    rng: np.random.Generator,
    scope_lo: float,
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Out-of-pocket yuan per settlement, the settlement rows, and the medical aid paid."""
    p, h = world.people, world.households
    total = np.round(total_yuan * 100).astype(np.int64)
    in_scope = (total * rng.uniform(scope_lo, 0.97, len(who))).astype(np.int64)
    employee = p.formal[who] | (p.pension[who] > 1500)
    year = t // 12
    disposable = ctx.disposable_annual[year - 1][h.village[p.hh[who]]]
    parts = _waterfall(
        total,
        in_scope,
        employee,
        level,
        h.category[p.hh[who]],
        disposable,
        ctx.reimbursement_factor.get(t, 1.0),
        deductible_on=kind != "门诊慢特病",
    )  # 慢特病 outpatient: no per-visit deductible
    oop = (parts["copay"] + parts["selfpay"]) / 100.0
    serial = np.char.zfill(np.arange(len(who)).astype("U7"), 7)
    frame = pd.DataFrame(
        {
            # unique: kind, month of admission or visit, serial within that month
            "结算流水号": np.char.add(f"{SETTLEMENT_PREFIX[kind]}{month_label(t).replace('-', '')}", serial),
            "公民身份号码": p.id_no[who],
            "姓名": p.name[who],
            "险种类型": np.where(employee, "职工医保", "城乡居民医保"),
            "就诊类型": kind,
            "入院日期": pd.to_datetime(admit),
            "结算日期": pd.to_datetime(settle),
            "主诊断编码": dx["code"].to_numpy()[dx_idx],
            "主诊断名称": dx["name"].to_numpy()[dx_idx],
            "医疗机构等级": np.array(["", "一级", "二级", "三级"])[level],
            "医疗总费用": total / 100.0,
            "政策范围内费用": in_scope / 100.0,
            "统筹基金支付": parts["basic"] / 100.0,
            "大病保险支付": parts["critical"] / 100.0,
            "医疗救助支付": parts["aid"] / 100.0,
            "个人自付": parts["copay"] / 100.0,
            "个人自费": parts["selfpay"] / 100.0,
        }
    )
    return oop, frame, parts["aid"] / 100.0


def hospital_stays(
    world: World,
    t: int,
    rng: np.random.Generator,
    ctx: Context,
    stay: np.ndarray,
    age: np.ndarray,
    rec: Recorder | None,
    pending: Pending | None,
) -> np.ndarray:
    """Inpatient stays admitted this month; returns out-of-pocket per stay (aligned to `stay`)."""
    who = np.flatnonzero(stay)
    if not len(who):
        return np.zeros(0)
    p = world.people
    dx_idx = rng.integers(0, len(DIAGNOSES), len(who))
    factor = DIAGNOSES["cost_factor"].to_numpy()[dx_idx] * np.where(age[who] >= 65, 1.2, 1.0)
    total: np.ndarray = (
        ctx.cfg.hospital_cost_median * factor * rng.lognormal(0, ctx.cfg.hospital_cost_sigma, len(who))
    )
    total = np.round(np.clip(total, 800, 900_000), 2)
    level = rng.choice([1, 2, 3], len(who), p=[0.20, 0.50, 0.30])  # most stays are in county hospitals
    start = month_start(t)
    ndays = int((month_start(t + 1) - start).astype(int))
    admit_day = start + rng.integers(0, ndays, len(who)).astype("timedelta64[D]")
    los = rng.integers(2, 21, len(who)).astype("timedelta64[D]")
    lag = np.select(
        [rng.random(len(who)) < 0.6, rng.random(len(who)) < 0.6, rng.random(len(who)) < 0.7],
        [rng.integers(0, 5, len(who)), rng.integers(20, 40, len(who)), rng.integers(50, 70, len(who))],
        rng.integers(80, 100, len(who)),
    ).astype("timedelta64[D]")
    settle_day = admit_day + los + lag
    admit = admit_day.astype("datetime64[s]") + rng.integers(7 * 3600, 18 * 3600, len(who)).astype(
        "timedelta64[s]"
    )
    settle = settle_day.astype("datetime64[s]") + rng.integers(8 * 3600, 17 * 3600, len(who)).astype(
        "timedelta64[s]"
    )
    oop, frame, _ = _settlements(
        world, who, "住院", admit, settle, total, level, DIAGNOSES, dx_idx, ctx, t, rng, 0.80
    )
    p.employed[who[rng.random(len(who)) < 0.02]] = False  # a few lose work after a serious stay
    if rec is not None and pending is not None:
        pending.add(month_of(settle_day), frame)
    return oop


def outpatient(
    world: World, t: int, rng: np.random.Generator, ctx: Context, chronic: np.ndarray, rec: Recorder | None
) -> np.ndarray:
    """Chronic/special and large ordinary outpatient settlements; out-of-pocket per household."""
    p, h = world.people, world.households
    live = p.alive & p.present
    visits = np.flatnonzero(chronic & (rng.random(len(p)) < 0.55))
    ordinary = np.flatnonzero(live & ~chronic & (rng.random(len(p)) < 0.012))
    oop_hh = np.zeros(len(h))
    frames = []
    for who, kind, median, lo in ((visits, "门诊慢特病", 420.0, 0.85), (ordinary, "普通门诊", 650.0, 0.6)):
        if not len(who):
            continue
        total = np.round(median * rng.lognormal(0, 0.6, len(who)), 2)
        if kind == "普通门诊":
            total = np.maximum(total, 500.0)
        day = days_in(t, rng, len(who)).astype("datetime64[s]") + rng.integers(
            8 * 3600, 17 * 3600, len(who)
        ).astype("timedelta64[s]")
        dx = CHRONIC_DX if kind == "门诊慢特病" else DIAGNOSES
        dx_idx = rng.integers(0, len(dx), len(who))
        level = rng.choice([1, 2, 3], len(who), p=[0.5, 0.35, 0.15])
        oop, frame, _ = _settlements(world, who, kind, day, day, total, level, dx, dx_idx, ctx, t, rng, lo)
        oop_hh += np.bincount(p.hh[who], weights=oop, minlength=len(h))
        frames.append(frame)
    if rec is not None and frames:
        rec.add("medical/医保结算明细.csv", pd.concat(frames, ignore_index=True))
    return oop_hh


def disability(
    world: World,
    t: int,
    rng: np.random.Generator,
    ctx: Context,
    live: np.ndarray,
    age: np.ndarray,
    rec: Recorder | None,
) -> None:
    cfg = ctx.cfg
    p = world.people
    rate = cfg.disability_onset_rate * np.clip(age / 45, 0.2, 3.0)
    new = live & (p.disab_grade == 0) & (rng.random(len(p)) < monthly(rate))
    idx_new = np.flatnonzero(new)
    severe = rng.random(len(idx_new)) < cfg.severe_disability_share
    p.disab_grade[idx_new] = np.where(
        severe, rng.choice([1, 2], len(idx_new)), rng.choice([3, 4], len(idx_new))
    )
    p.disab_kind[idx_new] = rng.choice(
        np.arange(1, 8), len(idx_new), p=[0.12, 0.2, 0.02, 0.38, 0.1, 0.1, 0.08]
    )
    lost = idx_new[severe]
    p.employed[lost] = False
    p.formal[lost] = False
    worse = np.flatnonzero(live & ~new & (p.disab_grade > 1) & (rng.random(len(p)) < monthly(0.01)))
    p.disab_grade[worse] -= 1
    gone = np.flatnonzero(~p.alive & (p.disab_grade > 0))
    if rec is not None:
        frames = [
            disability_frame(world, idx, ctx, change, days_in(t, rng, len(idx)))
            for idx, change in ((idx_new, "新办"), (worse, "等级变更"), (gone, "注销"))
            if len(idx)
        ]
        if frames:
            rec.add("disability/残疾人证信息.xlsx", pd.concat(frames, ignore_index=True))
    p.disab_grade[gone] = 0
    p.disab_kind[gone] = 0


def disability_frame(
    world: World, idx: np.ndarray, ctx: Context, change: str, issued: np.ndarray
) -> pd.DataFrame:
    p, h = world.people, world.households
    grade = p.disab_grade[idx]
    kind = p.disab_kind[idx]
    poor = np.isin(h.category[p.hh[idx]], [DIBAO, TEKUN, EDGE])
    return pd.DataFrame(
        {
            "残疾人证号": np.char.add(np.char.add(p.id_no[idx], kind.astype("U1")), grade.astype("U1")),
            "姓名": p.name[idx],
            "性别": np.where(p.male[idx], "男", "女"),
            "残疾类别": DISABILITY_KINDS[kind],
            "残疾等级": np.array(["", "一级", "二级", "三级", "四级"])[grade],
            "发证日期": pd.to_datetime(issued),
            "变动类型": change,
            "困难残疾人生活补贴": np.where(poor, "是", "否"),
            "重度残疾人护理补贴": np.where(grade <= 2, "是", "否"),
            "区划代码": ctx.village_code[h.village[p.hh[idx]]],
        }
    )
