"""Social assistance: applications, assessment, reviews, 渐退期, temporary aid, the roster."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.state import (
    CATEGORIES,
    DIBAO,
    EDGE,
    MONITOR,
    NONE,
    RELATIONS,
    RIGID,
    TEKUN,
    World,
)
from simulator.timeline import Context, Recorder, days_in, heads, month_starts


# --- assistance -----------------------------------------------------------------------
def assistance(
    world: World,
    t: int,
    rng: np.random.Generator,
    ctx: Context,
    income: np.ndarray,
    rigid: np.ndarray,
    members: np.ndarray,
    standard: np.ndarray,
    poor: np.ndarray,
    active: np.ndarray,
    age: np.ndarray,
    rec: Recorder | None,
) -> np.ndarray:
    """Applications, assessments, reviews, phase-out and temporary aid; returns who applied."""
    cfg = ctx.cfg
    p, h = world.people, world.households
    n = len(h)
    live = p.alive & p.present
    # the household ends with its last member; 渐退期 and 防止返贫监测 run out
    ended = (h.category != NONE) & ~active
    out = (h.phase_out_until >= 0) & (h.phase_out_until <= t) & np.isin(h.category, [DIBAO, TEKUN])
    # leaving 低保/特困: still below the 低保边缘 line → 低保边缘; otherwise rural households
    # stay under 防止返贫监测 for a year
    h.category[out] = np.where(
        h.assessed_pc[out] < cfg.edge_band * standard[out], EDGE, np.where(h.urban[out], NONE, MONITOR)
    )
    h.monitor_until[out] = t + 12
    h.phase_out_until[out] = -1
    h.benefit[out] = 0.0
    expire = (h.category == MONITOR) & (h.monitor_until <= t)
    h.category[ended | expire] = NONE
    h.benefit[ended] = 0.0

    assessed = _assess(world, income, members, rng, cfg.assessment_hidden_share, cfg.assessment_noise)
    # reviews of those under assistance
    review = active & (h.category != NONE) & (h.next_review <= t)
    h.next_review[review] = t + cfg.review_months
    h.assessed_pc[review] = assessed[review]
    recovered = (
        review & np.isin(h.category, [DIBAO, TEKUN]) & (assessed > standard * 1.05) & (h.phase_out_until < 0)
    )
    h.phase_out_until[recovered] = t + cfg.phase_out_months
    edge_out = review & np.isin(h.category, [EDGE, RIGID]) & (assessed > cfg.edge_band * standard)
    h.category[edge_out] = NONE

    # applications: truly poor households apply with their own take-up; near-poor rarely;
    # monitored households are visited, so their need is found more often
    smooth = np.nanmean(h.net_hist, axis=1)
    near = smooth < cfg.edge_band * standard
    # households with heavy medical bills ask for help too (刚性支出困难, medical assistance)
    heavy_med = h.rigid_12.sum(axis=1) > 0.4 * np.maximum(income * 12, 1.0)
    hazard = (
        cfg.takeup_monthly
        * h.takeup
        * np.where(
            poor,
            1.0,
            np.where(
                near, cfg.near_poor_apply_factor, np.where(heavy_med, cfg.heavy_spending_apply_factor, 0.0)
            ),
        )
    )
    hazard *= np.where(h.category == MONITOR, 2.0, 1.0)
    can_apply = active & np.isin(h.category, [NONE, EDGE, RIGID, MONITOR])
    applied = can_apply & (rng.random(n) < np.clip(hazard, 0, 0.9))
    capacity = work_capacity(world, age)
    incapable_all = np.bincount(p.hh[live & (capacity > 0)], minlength=n) == members
    formal_income = np.bincount(p.hh[live & p.formal & p.employed], minlength=n) > 0
    tekun_ok = incapable_all & ~formal_income & (members <= 2) & ~h.supported
    med_12 = h.rigid_12.sum(axis=1)
    annual = np.maximum(income * 12, 1.0)
    new_cat = np.select(
        [
            tekun_ok & (assessed < standard),
            assessed < standard,
            assessed < cfg.edge_band * standard,
            (med_12 > 0.4 * annual) & (assessed < 2.5 * standard),
        ],
        [TEKUN, DIBAO, EDGE, RIGID],
        NONE,
    )
    admit = applied & (new_cat != NONE) & (new_cat != h.category)
    admit &= ~((h.category == EDGE) & (new_cat == RIGID))
    idx = np.flatnonzero(admit)
    fresh = idx[h.case_no[idx] == ""]
    if len(fresh):
        h.case_no[fresh] = np.char.add(
            ctx.county_code[h.village[fresh]],
            np.char.zfill((world.next_case + np.arange(len(fresh))).astype("U6"), 6),
        )
    world.next_case += len(fresh)
    h.category[idx] = new_cat[idx]
    h.admitted[idx] = t
    h.next_review[idx] = t + cfg.review_months
    h.assessed_pc[idx] = assessed[idx]
    h.phase_out_until[idx] = -1
    # benefits: 低保 pays the gap to the standard, 特困 a fixed support level
    cat = h.category
    h.benefit[:] = np.select(
        [cat == DIBAO, cat == TEKUN],
        [
            np.maximum(100.0, (standard - np.minimum(h.assessed_pc, standard)) * members),
            1.3 * standard * members,
        ],
        0.0,
    )
    h.benefit[:] = np.round(h.benefit, 0)

    # temporary aid: 支出型 after heavy spending, 急难型 after a disaster
    heavy = active & ~np.isin(cat, [DIBAO, TEKUN]) & (rigid > 2.0 * standard * np.maximum(members, 1))
    spend_aid = heavy & (rng.random(n) < cfg.temp_aid_takeup * np.minimum(h.takeup, 2.0) * 0.5)
    hit = world.disaster_hit if world.disaster_hit is not None else np.zeros(n, bool)
    urgent = active & hit & ~spend_aid & (rng.random(n) < cfg.temp_aid_takeup * 0.3)
    world.temp_aid = spend_aid | urgent
    if rec is not None:
        _record_temp_aid(rec, world, t, rng, ctx, spend_aid, urgent, rigid, standard)
    return applied


def _assess(
    world: World,
    income: np.ndarray,
    members: np.ndarray,
    rng: np.random.Generator,
    share: float,
    noise: float,
) -> np.ndarray:
    """Per-capita income as an assessor finds it: visible income, part of the hidden, minus rigid."""
    p, h = world.people, world.households
    live = p.alive & p.present
    hidden_person = np.where(live & p.employed & ~p.formal, p.wage, 0.0)
    hidden = np.bincount(p.hh, weights=hidden_person, minlength=len(h)) + h.farm + h.transfers
    visible = income - hidden - h.benefit
    rigid_avg = h.rigid_12[:, -6:].mean(axis=1)
    pc = (visible + share * hidden - rigid_avg) / np.maximum(members, 1)
    return np.maximum(0.0, pc * rng.lognormal(0.0, noise, len(h)))


def work_capacity(world: World, age: np.ndarray) -> np.ndarray:
    """0 有, 1 部分丧失, 2 完全丧失, 3 无(未成年/老年)."""
    p = world.people
    young_old = (age < 16) | (age >= np.where(p.male, 60, 55))
    return np.select(
        [
            young_old,
            (p.disab_grade > 0) & (p.disab_grade <= 2),
            (p.disab_grade >= 3) | (p.chronic & (age >= 50)),
        ],
        [3, 2, 1],
        0,
    ).astype(np.int8)


def _record_temp_aid(
    rec: Recorder,
    world: World,
    t: int,
    rng: np.random.Generator,
    ctx: Context,
    spend: np.ndarray,
    urgent: np.ndarray,
    rigid: np.ndarray,
    standard: np.ndarray,
) -> None:
    p, h = world.people, world.households
    head = heads(world)
    rows = np.flatnonzero((spend | urgent) & (head >= 0))
    if not len(rows):
        return
    hd = head[rows]
    amount = np.where(
        spend[rows],
        np.minimum(0.3 * rigid[rows], 6 * standard[rows]),
        rng.uniform(1, 3, len(rows)) * standard[rows],
    )
    rec.add(
        "civil_affairs/临时救助.csv",
        pd.DataFrame(
            {
                "身份证号": p.id_no[hd],
                "姓名": p.name[hd],
                "救助日期": pd.to_datetime(days_in(t, rng, len(rows))),
                "救助金额": np.round(np.maximum(amount, 500), 0),
                "救助类型": np.where(spend[rows], "支出型", "急难型"),
                "事由": np.where(spend[rows], "疾病", "灾害"),
                "区划代码": ctx.village_code[h.village[rows]],
            }
        ),
    )


CAUSES = np.array(["疾病", "残疾", "因学", "灾害", "缺乏劳动力", "失业", "其他"])


def roster_frame(world: World, t: int, ctx: Context, live: np.ndarray, age: np.ndarray) -> pd.DataFrame:
    p, h = world.people, world.households
    n = len(h)
    on = live & (h.category[p.hh] != NONE)
    idx = np.flatnonzero(on)
    hh = p.hh[idx]
    head = heads(world)
    cap = work_capacity(world, age)
    members = np.bincount(p.hh[live], minlength=n)
    severe = np.bincount(p.hh[live & (p.disab_grade > 0) & (p.disab_grade <= 2)], minlength=n) > 0
    sick = np.bincount(p.hh[live & p.chronic], minlength=n) > 0
    jobless = np.bincount(p.hh[live & (p.jobless_since >= 0)], minlength=n) > 0
    incapable = np.bincount(p.hh[live & (cap > 0)], minlength=n) == members
    students = np.bincount(p.hh[live & (age >= 15) & (age < 22)], minlength=n) > 0
    disaster = h.farm_cut_until >= t
    cause = np.select([severe, sick, incapable, jobless, disaster, students], [1, 0, 4, 5, 3, 2], 6)
    head_id = np.where(head[hh] >= 0, p.id_no[np.maximum(head[hh], 0)], p.id_no[idx])
    return pd.DataFrame(
        {
            "家庭编号": h.case_no[hh],
            "户主身份证号": head_id,
            "成员身份证号": p.id_no[idx],
            "成员姓名": p.name[idx],
            "与户主关系": RELATIONS[p.rel[idx]],
            "救助类别": CATEGORIES[h.category[hh]],
            "保障人数": members[hh].astype(np.int64),
            "月救助金额": h.benefit[hh],
            "家庭人均月收入": np.round(h.assessed_pc[hh], 2),
            "致贫原因": CAUSES[cause[hh]],
            "劳动能力": np.array(["有", "部分丧失", "完全丧失", "无(未成年/老年)"])[cap[idx]],
            "区划代码": ctx.village_code[h.village[hh]],
            "认定日期": pd.to_datetime(month_starts(h.admitted[hh])),
            "状态": np.where(h.phase_out_until[hh] >= 0, "渐退期", "在保"),
        }
    )
