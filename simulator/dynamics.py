"""One month of the simulated world, vectorised over all people and households.

`advance` moves the world one month and, when a `Recorder` is given, writes what each
department would record that month (in the contract's columns, clean values). The same
function runs the Monte Carlo continuations of the ground truth, with no recorder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lowinc.settings import SimulationConfig
from simulator import names
from simulator.population import OTHER_PROVINCE_AREAS, ages_at, draw_ids, working_age
from simulator.state import (
    CATEGORIES,
    DAUGHTER,
    DIBAO,
    DISABILITY_KINDS,
    EDGE,
    ENTERPRISE,
    HEAD,
    HOUSE_GRADES,
    MONITOR,
    NONE,
    PUBLIC,
    RELATIONS,
    RESIDENT,
    RIGID,
    SCHEMES,
    SON,
    SPOUSE,
    TEKUN,
    Households,
    People,
    World,
    month_label,
    month_start,
    new_households,
)

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


@dataclass
class Context:
    """What a month needs besides the world: config, region lookups, policy lines."""

    cfg: SimulationConfig
    village_code: np.ndarray  # U12 per village
    urban: np.ndarray  # bool per village
    county_code: np.ndarray  # U6 per village
    dibao_monthly: dict[int, np.ndarray]  # year -> monthly standard per village
    disposable_annual: dict[int, np.ndarray]  # year -> local per-capita disposable income
    scenario_layoffs: dict[int, tuple[str | None, float]] = field(default_factory=dict)
    reimbursement_factor: dict[int, float] = field(default_factory=dict)


@dataclass
class Recorder:
    """Collects each department's records for one delivery month."""

    frames: dict[str, list[pd.DataFrame]] = field(default_factory=dict)

    def add(self, key: str, frame: pd.DataFrame) -> None:
        if len(frame):
            self.frames.setdefault(key, []).append(frame)


@dataclass
class Pending:
    """Hospital settlements waiting for their settlement month (medical knowledge lags)."""

    frames: dict[int, list[pd.DataFrame]] = field(default_factory=dict)

    def add(self, month: np.ndarray, frame: pd.DataFrame) -> None:
        for m in np.unique(month):
            self.frames.setdefault(int(m), []).append(frame[month == m])

    def pop(self, month: int) -> list[pd.DataFrame]:
        return self.frames.pop(month, [])


def month_starts(index: np.ndarray) -> np.ndarray:
    """First days of month indices (vectorised `month_start`)."""
    months = (np.asarray(index, np.int64) - 1970 * 12).astype("timedelta64[M]") + np.datetime64(
        "1970-01", "M"
    )
    return months.astype("datetime64[D]")


def _days_in(t: int, rng: np.random.Generator, n: int) -> np.ndarray:
    start = month_start(t)
    days = (month_start(t + 1) - start).astype(int)
    return start + rng.integers(0, days, n).astype("timedelta64[D]")


def _monthly(rate: float | np.ndarray) -> np.ndarray | float:
    return 1.0 - (1.0 - np.clip(rate, 0, 0.999)) ** (1 / 12)


@dataclass
class MonthResult:
    """Per-household truth of one month (arrays aligned with the household arrays)."""

    income: np.ndarray
    rigid: np.ndarray
    members: np.ndarray
    standard: np.ndarray
    poor: np.ndarray
    applied: np.ndarray


def advance(
    world: World,
    t: int,
    rng: np.random.Generator,
    ctx: Context,
    rec: Recorder | None,
    pending: Pending | None,
    demography: bool = True,
) -> MonthResult:
    """`demography=False` (Monte Carlo continuations) keeps deaths but no births, moves or splits."""
    """Move the world through month t; record department data if `rec` is given."""
    cfg = ctx.cfg
    p, h = world.people, world.households
    day0 = month_start(t)
    year = t // 12
    _demography(world, t, rng, ctx, rec, full=demography)
    p, h = world.people, world.households
    age = ages_at(p.birth, day0)
    live = p.alive & p.present & h.present[p.hh]
    rigid = np.zeros(len(h))

    # --- yearly nominal growth (January): wages, pensions, transfers, farm income ------
    # the 低保 standard rises every year; incomes do too, so households do not drift under it
    if t % 12 == 0:
        p.wage *= 1.0 + cfg.wage_growth_yearly
        p.pension *= 1.0 + cfg.pension_growth_yearly
        h.transfers *= 1.0 + cfg.wage_growth_yearly
        h.farm *= 1.0 + cfg.farm_growth_yearly
    level = (1.0 + cfg.wage_growth_yearly) ** (year - int(cfg.start[:4]))

    # --- work -------------------------------------------------------------------------
    wa = working_age(age, p.male)
    lay_rate = np.full(len(p), cfg.job_loss_rate) * np.where(p.wage < 4000, 1.4, 0.8)
    shock = ctx.scenario_layoffs.get(t)
    loses = live & p.employed & wa & (rng.random(len(p)) < _monthly(lay_rate))
    if shock is not None:
        county, share = shock
        in_county = ctx.county_code[h.village[p.hh]] == county if county else True
        loses |= live & p.formal & (p.scheme == ENTERPRISE) & in_county & (rng.random(len(p)) < share)
    # jobless_since: a month index while seeking work; -1 never worked yet; -2 keeps house
    entrants = live & ~p.employed & (p.jobless_since == -1) & wa & (age >= 22)
    p.jobless_since[entrants] = t
    finds = (
        live & ~p.employed & (p.jobless_since >= 0) & wa & (rng.random(len(p)) < cfg.job_find_rate_monthly)
    )
    retire = live & p.employed & ~wa & (age >= 50)
    registers = loses & p.formal & (rng.random(len(p)) < cfg.unemployment_registration_share)
    p.employed[loses | retire] = False
    p.jobless_since[loses] = t
    p.ue_registered[registers] = True
    p.ue_benefit[registers] = np.round(np.clip(0.4 * p.wage[registers], 1870, 2280), 0)
    p.ue_until[registers] = t + rng.integers(3, 13, registers.sum())
    p.employed[finds] = True
    p.jobless_since[finds] = -1
    p.wage[finds] *= rng.lognormal(-0.05, 0.15, finds.sum())
    first_job = finds & (p.wage == 0)
    median = np.where(h.urban[p.hh[first_job]], cfg.wage_median_urban, cfg.wage_median_rural)
    p.wage[first_job] = 0.8 * level * median * rng.lognormal(0, cfg.wage_sigma, first_job.sum())
    p.formal[first_job] = rng.random(first_job.sum()) < np.where(h.urban[p.hh[first_job]], 0.75, 0.55)
    p.scheme[first_job & p.formal] = ENTERPRISE
    deregister = (finds & p.ue_registered) | (p.ue_registered & (p.ue_until <= t))
    p.ue_registered[deregister] = False
    p.ue_benefit[deregister] = 0.0
    # households whose last worker retires: children start sending money, as for the elderly
    young = np.bincount(p.hh[live & (age < 60)], minlength=len(h))
    now_old = (
        h.present
        & (young == 0)
        & h.supported
        & (h.transfers == 0)
        & (np.bincount(p.hh[live], minlength=len(h)) > 0)
    )
    h.transfers[now_old] = cfg.transfer_median * level * rng.lognormal(0, 0.7, now_old.sum())
    new_pension = retire & p.formal
    p.pension[new_pension] = cfg.enterprise_pension_replacement * p.wage[new_pension]
    p.pension[retire & ~p.formal & (p.pension == 0)] = cfg.resident_pension * (
        (1.0 + cfg.pension_growth_yearly) ** (year - int(cfg.start[:4]))
    )
    p.formal[retire] = False
    if rec is not None:
        _record_employment(rec, world, t, rng, ctx, registers, finds, deregister)

    # --- health -----------------------------------------------------------------------
    poor_hh = np.isin(h.category, [DIBAO, TEKUN, EDGE])
    hosp_rate = np.where(age >= 65, cfg.hospital_rate_elderly, cfg.hospital_rate * np.clip(age / 45, 0.3, 1))
    hosp_rate = hosp_rate * np.where(p.chronic, 1.6, 1.0) * np.where(poor_hh[p.hh], 1.25, 1.0)
    stay = live & (rng.random(len(p)) < _monthly(hosp_rate))
    oop = _hospital(world, t, rng, ctx, stay, age, rec, pending)
    rigid += np.bincount(p.hh[stay], weights=oop, minlength=len(h))
    chronic_onset = (
        live
        & ~p.chronic
        & (rng.random(len(p)) < _monthly(cfg.chronic_onset_rate * np.clip(age / 50, 0.1, 3)))
    )
    p.chronic[chronic_onset] = True
    chronic_oop = _chronic_outpatient(world, t, rng, ctx, live & p.chronic, rec)
    rigid += chronic_oop
    _disability(world, t, rng, ctx, live, age, rec)

    # --- housing, disasters, property -------------------------------------------------
    rigid += _housing(world, t, rng, ctx, rec)

    # --- income and truth -------------------------------------------------------------
    live = p.alive & p.present & h.present[p.hh]
    members = np.bincount(p.hh[live], minlength=len(h))
    farm = np.where(h.farm_cut_until >= t, 0.5 * h.farm, h.farm)
    work = np.where(p.employed & live, p.wage * np.where(p.formal, 0.895, 1.0), 0.0)
    person_income = work + np.where(live, p.pension + p.ue_benefit, 0.0)
    grant = np.zeros(len(h))
    grant[: len(world.death_grant)] = world.death_grant
    income = (
        np.bincount(p.hh, weights=person_income, minlength=len(h)) + farm + h.transfers + h.benefit + grant
    )
    severe = live & (p.disab_grade > 0) & (p.disab_grade <= 2)
    disabled_cost = np.bincount(p.hh[severe], minlength=len(h)) * 400.0  # care and rehabilitation
    rigid += disabled_cost
    standard = ctx.dibao_monthly[year][h.village]
    net_pc = (income - rigid) / np.maximum(members, 1)
    h.net_hist[:] = np.roll(h.net_hist, -1, axis=1)
    h.net_hist[:, -1] = net_pc
    h.rigid_12[:] = np.roll(h.rigid_12, -1, axis=1)
    h.rigid_12[:, -1] = rigid
    smooth = np.nanmean(h.net_hist, axis=1)
    active = h.present & (members > 0)
    # the window's incomes are compared with the standards in force in those months, so a
    # January rise of the standard does not outrun incomes that rise in the same January
    poor = active & (smooth < _window_standard(ctx, h.village, t, h.net_hist))
    h.ever_poor |= poor

    # --- assistance -------------------------------------------------------------------
    applied = _assistance(world, t, rng, ctx, income, rigid, members, standard, poor, active, age, rec)
    if rec is not None:
        _record_monthly_rolls(rec, world, t, ctx, live, age)
    return MonthResult(
        income=income, rigid=rigid, members=members, standard=standard, poor=poor, applied=applied
    )


def _window_standard(ctx: Context, village: np.ndarray, t: int, hist: np.ndarray) -> np.ndarray:
    """Mean 低保 standard over the months of each household's income window (ending at t)."""
    filled = np.maximum((~np.isnan(hist)).sum(axis=1), 1)
    year = t // 12
    this_year = np.minimum(filled, t % 12 + 1)
    now = ctx.dibao_monthly[year][village]
    before = ctx.dibao_monthly.get(year - 1, ctx.dibao_monthly[year])[village]
    return (this_year * now + (filled - this_year) * before) / filled


# --- records helpers ------------------------------------------------------------------
def person_rows(world: World, idx: np.ndarray, ctx: Context) -> dict[str, np.ndarray]:
    """Identity columns of people, as departments print them."""
    p, h = world.people, world.households
    return {
        "id": p.id_no[idx],
        "name": p.name[idx],
        "sex": np.where(p.male[idx], "男", "女"),
        "birth": p.birth[idx],
        "hh_no": h.hh_no[p.hh[idx]],
        "rel": RELATIONS[p.rel[idx]],
        "area": ctx.village_code[h.village[p.hh[idx]]],
    }


def hukou_frame(
    world: World,
    idx: np.ndarray,
    ctx: Context,
    status: str | np.ndarray,
    change: str | None = None,
    dates: np.ndarray | None = None,
) -> pd.DataFrame:
    r = person_rows(world, idx, ctx)
    frame = pd.DataFrame(
        {
            "公民身份号码": r["id"],
            "姓名": r["name"],
            "性别": r["sex"],
            "出生日期": pd.to_datetime(r["birth"]),
            "户号": r["hh_no"],
            "与户主关系": r["rel"],
            "区划代码": r["area"],
            "人员状态": np.broadcast_to(status, len(idx)),
        }
    )
    if change is not None:
        frame["变动类型"] = change
        frame["变动日期"] = pd.to_datetime(dates)
    return frame


# --- demography -----------------------------------------------------------------------
def _demography(
    world: World, t: int, rng: np.random.Generator, ctx: Context, rec: Recorder | None, full: bool = True
) -> None:
    cfg = ctx.cfg
    p, h = world.people, world.households
    day0 = month_start(t)
    age = ages_at(p.birth, day0)
    live = p.alive & p.present & h.present[p.hh]
    frames: list[pd.DataFrame] = []

    # deaths by age (Gompertz), higher with chronic illness or severe disability
    q = np.minimum(0.6, 0.00004 * np.exp(0.097 * age)) + 0.0004
    q = q * np.where(p.chronic, 1.5, 1.0) * np.where((p.disab_grade > 0) & (p.disab_grade <= 2), 1.6, 1.0)
    dies = live & (rng.random(len(p)) < _monthly(q))
    # 遗属待遇: when a pensioner dies the family receives a funeral grant and a lump-sum
    # 抚恤金 worth several months of the pension, paid in the month of death
    world.death_grant = np.bincount(
        p.hh[dies], weights=p.pension[dies] * cfg.death_grant_months, minlength=len(h)
    )
    p.alive[dies] = False
    p.employed[dies] = False
    if rec is not None and dies.any():
        idx = np.flatnonzero(dies)
        frames.append(hukou_frame(world, idx, ctx, "死亡", "死亡", _days_in(t, rng, len(idx))))
    _promote_heads(world, dies)
    if not full:
        return

    # whole households moving away
    hh_live = np.bincount(p.hh[p.alive & p.present], minlength=len(h)) > 0
    leave = h.present & hh_live & (rng.random(len(h)) < _monthly(cfg.move_out_rate)) & (h.category == NONE)
    if leave.any():
        movers = p.alive & p.present & leave[p.hh]
        if rec is not None:
            idx = np.flatnonzero(movers)
            dates = _days_in(t, rng, len(h))[p.hh[idx]]
            frames.append(hukou_frame(world, idx, ctx, "迁出", "迁出", dates))
        p.present[movers] = False
        h.present[leave] = False
    h.present &= np.bincount(p.hh[p.alive & p.present], minlength=len(h)) > 0

    # births to women 22-40 who live with a partner (head and spouse)
    couple_hh = np.zeros(len(h), np.int64)
    live = p.alive & p.present
    np.add.at(couple_hh, p.hh[live & np.isin(p.rel, [HEAD, SPOUSE])], 1)
    mothers = (
        live & ~p.male & (age >= 22) & (age < 41) & np.isin(p.rel, [HEAD, SPOUSE]) & (couple_hh[p.hh] == 2)
    )
    born = np.flatnonzero(mothers & (rng.random(len(p)) < _monthly(cfg.fertility_rate)))
    if len(born):
        hh_idx = p.hh[born]
        male = rng.random(len(born)) < 0.52
        birth = _days_in(t, rng, len(born))
        ids, world.id_pool = draw_ids(rng, ctx.county_code[h.village[hh_idx]], birth, male, world.id_pool)
        head_surname = np.array([s[:1] for s in p.name[born]])  # mothers keep their surname
        father = np.zeros(len(h), np.int64) - 1
        fathers = np.flatnonzero(live & p.male & np.isin(p.rel, [HEAD, SPOUSE]))
        father[p.hh[fathers]] = fathers
        fam = np.where(
            father[hh_idx] >= 0,
            np.array([s[:1] for s in p.name[np.maximum(father[hh_idx], 0)]]),
            head_surname,
        )
        babies = _new_people(
            ids,
            np.char.add(fam, names.draw_given(rng, male)),
            birth,
            male,
            hh_idx,
            np.where(male, SON, DAUGHTER),
        )
        start = len(p)
        p.extend(babies)
        if rec is not None:
            idx = np.arange(start, len(p))
            frames.append(hukou_frame(world, idx, ctx, "正常", "出生", birth))

    # splits: an adult son or daughter of 24-40 leaves to a new 户号 in the same village
    p = world.people
    age = ages_at(p.birth, day0)
    live = p.alive & p.present
    size = np.bincount(p.hh[live], minlength=len(h))
    splitters = np.flatnonzero(
        live
        & np.isin(p.rel, [SON, DAUGHTER])
        & (age >= 24)
        & (age < 41)
        & (size[p.hh] >= 3)
        & (rng.random(len(p)) < _monthly(cfg.split_rate * 4))
    )
    if len(splitters):
        old_hh = p.hh[splitters]
        splitters = splitters[np.unique(old_hh, return_index=True)[1]]
        new = _spawn_households(
            world,
            rng,
            h.village[p.hh[splitters]],
            h.urban[p.hh[splitters]],
            h.farm[p.hh[splitters]] * 0.3,
            cfg.takeup_stigma_sigma,
        )
        p.hh[splitters] = new
        p.rel[splitters] = HEAD
        if rec is not None:
            frames.append(
                hukou_frame(world, splitters, ctx, "正常", "分户", _days_in(t, rng, len(splitters)))
            )

    # households moving in: young families or single workers with a job
    n_in = rng.binomial(int(h.present.sum()), _monthly(cfg.move_in_rate))
    if n_in:
        _move_in(world, t, rng, ctx, n_in, frames if rec is not None else None)
    if rec is not None and frames:
        rec.add("hukou/户籍变动.csv", pd.concat(frames, ignore_index=True))


def _new_people(
    ids: np.ndarray, pname: np.ndarray, birth: np.ndarray, male: np.ndarray, hh: np.ndarray, rel: np.ndarray
) -> People:
    n = len(ids)
    return People(
        hh=hh.astype(np.int64),
        id_no=ids.astype("U18"),
        name=pname.astype("U4"),
        birth=birth.astype("datetime64[D]"),
        male=male,
        rel=np.asarray(rel, np.int8),
        alive=np.ones(n, bool),
        present=np.ones(n, bool),
        wage=np.zeros(n),
        formal=np.zeros(n, bool),
        employed=np.zeros(n, bool),
        scheme=np.zeros(n, np.int8),
        jobless_since=np.full(n, -1, np.int32),
        ue_registered=np.zeros(n, bool),
        ue_benefit=np.zeros(n),
        ue_until=np.full(n, -1, np.int32),
        pension=np.zeros(n),
        chronic=np.zeros(n, bool),
        disab_kind=np.zeros(n, np.int8),
        disab_grade=np.zeros(n, np.int8),
    )


def _spawn_households(
    world: World,
    rng: np.random.Generator,
    village: np.ndarray,
    urban: np.ndarray,
    farm: np.ndarray,
    takeup_sigma: float,
) -> np.ndarray:
    """Append new households; returns their indices."""
    h = world.households
    n = len(village)
    serial = world.next_hh_serial + np.arange(n)
    world.next_hh_serial += n
    hh_no = (500_000_000 + serial).astype("U9")  # new 户号 come from a range the base never uses
    house = np.char.add(np.full(n, "N"), np.char.zfill(serial.astype("U13"), 13))
    new = Households(
        hh_no=hh_no,
        village=village.astype(np.int32),
        vgroup=village.astype(np.int64),
        urban=urban,
        farm=farm,
        transfers=np.zeros(n),
        supported=np.ones(n, bool),
        house_id=house.astype("U19"),
        house_grade=np.zeros(n, np.int8),
        properties=np.zeros(n, np.int16),
        takeup=rng.lognormal(0.0, takeup_sigma, n),
        **new_households(n, h.net_hist.shape[1]),
    )
    start = len(h)
    h.extend(new)
    return np.arange(start, start + n)


def _promote_heads(world: World, dies: np.ndarray) -> None:
    """When a head dies, the spouse (or the oldest member) becomes head."""
    p = world.people
    dead_heads = np.flatnonzero(dies & (p.rel == HEAD))
    if not len(dead_heads):
        return
    orphan = np.zeros(len(world.households), bool)
    orphan[p.hh[dead_heads]] = True
    cand = np.flatnonzero(p.alive & p.present & orphan[p.hh])
    if not len(cand):
        return
    # spouse first, then the oldest
    score = np.where(p.rel[cand] == SPOUSE, 0, 1) * 1e6 + p.birth[cand].astype(np.int64)
    order = np.lexsort((score, p.hh[cand]))
    cand = cand[order]
    first = np.r_[True, p.hh[cand][1:] != p.hh[cand][:-1]]
    p.rel[cand[first]] = HEAD


def _move_in(
    world: World, t: int, rng: np.random.Generator, ctx: Context, n: int, frames: list[pd.DataFrame] | None
) -> None:
    cfg = ctx.cfg
    village = rng.integers(0, len(ctx.village_code), n)
    hh_idx = _spawn_households(world, rng, village, ctx.urban[village], np.zeros(n), cfg.takeup_stigma_sigma)
    size = rng.choice([1, 2, 3], n, p=[0.45, 0.25, 0.30])
    hh = np.repeat(hh_idx, size)
    slot = np.arange(len(hh)) - np.repeat(np.cumsum(size) - size, size)
    male = np.where(
        slot == 0,
        rng.random(len(hh)) < 0.6,
        np.where(slot == 1, rng.random(len(hh)) < 0.2, rng.random(len(hh)) < 0.5),
    )
    age = np.where(slot == 2, rng.uniform(0, 12, len(hh)), rng.uniform(22, 45, len(hh)))
    birth = (month_start(t) - np.round(age * 365.25).astype("timedelta64[D]")).astype("datetime64[D]")
    area = OTHER_PROVINCE_AREAS[rng.integers(0, len(OTHER_PROVINCE_AREAS), len(hh))]
    ids, world.id_pool = draw_ids(rng, area, birth, male, world.id_pool)
    rel = np.select([slot == 0, slot == 1], [HEAD, SPOUSE], np.where(male, SON, DAUGHTER))
    pname = np.char.add(names.draw_surnames(rng, len(hh)), names.draw_given(rng, male))
    newp = _new_people(ids, pname, birth, male, hh, rel)
    working = (slot < 2) & (rng.random(len(hh)) < 0.85)
    newp.employed[:] = working
    newp.formal[:] = working & (rng.random(len(hh)) < 0.6)
    newp.wage[:] = np.where(working, cfg.wage_median_rural * rng.lognormal(0, cfg.wage_sigma, len(hh)), 0)
    newp.scheme[:] = np.where(newp.formal, ENTERPRISE, np.where(slot < 2, RESIDENT, 0))
    p = world.people
    start = len(p)
    p.extend(newp)
    if frames is not None:
        idx = np.arange(start, len(p))
        frames.append(hukou_frame(world, idx, ctx, "正常", "迁入", _days_in(t, rng, len(idx))))


# --- health ---------------------------------------------------------------------------
def _month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]").astype(np.int64) + 1970 * 12


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
) -> tuple[np.ndarray, pd.DataFrame | None, np.ndarray]:
    """Out-of-pocket yuan per settlement, and the settlement rows (None without a recorder)."""
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


def _hospital(
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
    total = ctx.cfg.hospital_cost_median * factor * rng.lognormal(0, ctx.cfg.hospital_cost_sigma, len(who))
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
        pending.add(_month_of(settle_day), frame)
    return oop


def _chronic_outpatient(
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
        day = _days_in(t, rng, len(who)).astype("datetime64[s]") + rng.integers(
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


def _disability(
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
    new = live & (p.disab_grade == 0) & (rng.random(len(p)) < _monthly(rate))
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
    worse = np.flatnonzero(live & ~new & (p.disab_grade > 1) & (rng.random(len(p)) < _monthly(0.01)))
    p.disab_grade[worse] -= 1
    gone = np.flatnonzero(~p.alive & (p.disab_grade > 0))
    if rec is not None:
        frames = [
            disability_frame(world, idx, ctx, change, _days_in(t, rng, len(idx)))
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


# --- housing, disasters, property -----------------------------------------------------
def _housing(
    world: World, t: int, rng: np.random.Generator, ctx: Context, rec: Recorder | None
) -> np.ndarray:
    """House decay, renovation, village disasters and property sales; rigid spending per household."""
    cfg = ctx.cfg
    p, h = world.people, world.households
    n = len(h)
    rural = h.present & ~h.urban
    rigid = np.zeros(n)
    old_grade = h.house_grade.copy()
    decay = rural & (h.house_grade < 3) & (rng.random(n) < _monthly(cfg.house_deteriorate_rate * 1.5))
    h.house_grade[decay] += 1
    # disasters strike whole villages (clusters), then a share of their households
    struck = rng.random(int(h.vgroup.max()) + 1) < _monthly(cfg.disaster_village_rate)
    hit = h.present & struck[h.vgroup] & (rng.random(n) < cfg.disaster_household_share)
    rigid[hit] = np.round(6000 * rng.lognormal(0, 0.8, hit.sum()), 0)
    h.farm_cut_until[hit] = t + 6
    damaged = hit & rural & (rng.random(n) < 0.3)
    h.house_grade[damaged] = np.minimum(3, h.house_grade[damaged] + rng.integers(1, 3, damaged.sum()))
    # renovation of dangerous houses of assisted households
    assisted = np.isin(h.category, [DIBAO, TEKUN, EDGE, MONITOR])
    start_reno = rural & assisted & (h.house_grade >= 2) & (h.renovating == 0) & (rng.random(n) < 0.08)
    h.renovating[start_reno] = 1
    done = (h.renovating == 1) & ~start_reno & (rng.random(n) < 0.25)
    h.renovating[done] = 2
    h.house_grade[done] = 0
    routine = rural & (rng.random(n) < 0.004)
    appraised = (rural & (h.house_grade >= 2) & (h.house_grade != old_grade)) | routine
    # property: sales (more likely when money is short) and purchases
    net = np.nan_to_num(h.net_hist[:, -1], nan=0.0)
    sells = (
        h.present
        & (h.properties > 0)
        & (rng.random(n) < _monthly(cfg.property_sale_rate) * np.where(net < 1500, 3, 1))
    )
    buys = h.present & (net > 4000) & (rng.random(n) < _monthly(cfg.property_buy_rate))
    h.properties[sells] -= 1
    h.properties[buys] += 1
    world.disaster_hit = hit
    if rec is None:
        return rigid
    head = _heads(world)
    rows = np.flatnonzero((appraised | start_reno | done) & (head >= 0))
    if len(rows):
        hd = head[rows]
        reno = np.array(["未改造", "改造中", "已改造"])[h.renovating[rows]]
        day = _days_in(t, rng, len(rows))
        rec.add(
            "housing/农村房屋安全鉴定.csv",
            pd.DataFrame(
                {
                    "房屋编号": h.house_id[rows],
                    "户主身份证号": p.id_no[hd],
                    "户主姓名": p.name[hd],
                    "区划代码": ctx.village_code[h.village[rows]],
                    "鉴定日期": pd.to_datetime(day),
                    "鉴定等级": HOUSE_GRADES[h.house_grade[rows]],
                    "改造状态": reno,
                    "改造完成日期": pd.to_datetime(
                        np.where(h.renovating[rows] == 2, day, np.datetime64("NaT"))
                    ),
                }
            ),
        )
    deals = np.flatnonzero((sells | buys) & (head >= 0))
    if len(deals):
        hd = head[deals]
        sold = sells[deals]
        unit = np.char.add(
            np.char.add(ctx.village_code[h.village[deals]], "GB"),
            np.char.zfill((rng.integers(0, 10**7, len(deals))).astype("U7"), 7),
        )
        rec.add(
            "housing/不动产登记.csv",
            pd.DataFrame(
                {
                    "不动产单元号": unit,
                    "权利人证件号码": p.id_no[hd],
                    "登记类型": "转移登记",
                    "登记日期": pd.to_datetime(_days_in(t, rng, len(deals))),
                    "登记原因": np.where(
                        sold, "买卖", np.where(rng.random(len(deals)) < 0.85, "买卖", "继承")
                    ),
                    "转移方向": np.where(sold, "转出", "取得"),
                    "建筑面积": np.round(rng.uniform(45, 160, len(deals)), 2),
                    "用途": np.where(rng.random(len(deals)) < 0.95, "住宅", "商业"),
                }
            ),
        )
    return rigid


def _heads(world: World) -> np.ndarray:
    """Index of each household's living, present head (-1 when none)."""
    p = world.people
    head = np.full(len(world.households), -1, np.int64)
    idx = np.flatnonzero((p.rel == HEAD) & p.alive & p.present)
    head[p.hh[idx]] = idx
    return head


# --- employment records ---------------------------------------------------------------
def _record_employment(
    rec: Recorder,
    world: World,
    t: int,
    rng: np.random.Generator,
    ctx: Context,
    registers: np.ndarray,
    finds: np.ndarray,
    deregister: np.ndarray,
) -> None:
    p, h = world.people, world.households
    frames = []
    for mask, kind in ((registers, "失业登记"), (finds & p.formal, "就业登记"), (deregister, "失业登记注销")):
        idx = np.flatnonzero(mask)
        if len(idx):
            frames.append(
                pd.DataFrame(
                    {
                        "公民身份号码": p.id_no[idx],
                        "姓名": p.name[idx],
                        "登记类型": kind,
                        "登记日期": pd.to_datetime(_days_in(t, rng, len(idx))),
                        "失业保险金月额": np.where(kind == "失业登记", p.ue_benefit[idx], np.nan),
                        "区划代码": ctx.village_code[h.village[p.hh[idx]]],
                    }
                )
            )
    if frames:
        rec.add("employment/就业失业登记.csv", pd.concat(frames, ignore_index=True))


# --- assistance -----------------------------------------------------------------------
def _assistance(
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
    capacity = _work_capacity(world, age)
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


def _work_capacity(world: World, age: np.ndarray) -> np.ndarray:
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
    head = _heads(world)
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
                "救助日期": pd.to_datetime(_days_in(t, rng, len(rows))),
                "救助金额": np.round(np.maximum(amount, 500), 0),
                "救助类型": np.where(spend[rows], "支出型", "急难型"),
                "事由": np.where(spend[rows], "疾病", "灾害"),
                "区划代码": ctx.village_code[h.village[rows]],
            }
        ),
    )


# --- monthly rolls: contributions, pensions, the assistance roster --------------------
CONTRIB_FLOOR, CONTRIB_CAP = 3957.0, 19783.0


def _record_monthly_rolls(
    rec: Recorder, world: World, t: int, ctx: Context, live: np.ndarray, age: np.ndarray
) -> None:
    p, _h = world.people, world.households
    ym = np.int32((t // 12) * 100 + t % 12 + 1)
    paying = live & p.formal & p.employed & np.isin(p.scheme, [ENTERPRISE, PUBLIC])
    lapsed = (
        live
        & np.isin(p.scheme, [ENTERPRISE])
        & ~p.employed
        & (p.jobless_since >= 0)
        & (t - p.jobless_since < 24)
    )
    resident = live & (p.scheme == RESIDENT) & (age >= 16) & (age < 60) & (t % 12 == 0)
    idx = np.concatenate([np.flatnonzero(paying), np.flatnonzero(lapsed), np.flatnonzero(resident)])
    status = np.concatenate(
        [
            np.full(paying.sum(), "正常应缴"),
            np.full(lapsed.sum(), "中断"),
            np.full(resident.sum(), "正常应缴"),
        ]
    )
    is_resident = np.arange(len(idx)) >= len(idx) - resident.sum()
    # resident scheme: a yearly grade chosen by the household, not a wage
    base = np.where(
        is_resident, 500.0 * (1 + p.hh[idx] % 4), np.clip(p.wage[idx], CONTRIB_FLOOR, CONTRIB_CAP)
    )
    order = np.argsort(idx, kind="stable")
    rec.add(
        "employment/社保缴费.parquet",
        pd.DataFrame(
            {
                "公民身份号码": p.id_no[idx][order],
                "费款所属期": np.full(len(idx), ym, np.int32),
                "险种": SCHEMES[p.scheme[idx]][order],
                "缴费基数": np.round(base[order], 2),
                "缴费状态": status[order],
            }
        ),
    )
    pens = np.flatnonzero(live & (p.pension > 0))
    rec.add(
        "employment/养老金发放.parquet",
        pd.DataFrame(
            {
                "公民身份号码": p.id_no[pens],
                "发放年月": np.full(len(pens), ym, np.int32),
                "险种": SCHEMES[np.where(p.scheme[pens] == 0, RESIDENT, p.scheme[pens])],
                "月发放金额": np.round(p.pension[pens], 2),
            }
        ),
    )
    rec.add("civil_affairs/救助对象花名册.csv", roster_frame(world, t, ctx, live, age))


CAUSES = np.array(["疾病", "残疾", "因学", "灾害", "缺乏劳动力", "失业", "其他"])


def roster_frame(world: World, t: int, ctx: Context, live: np.ndarray, age: np.ndarray) -> pd.DataFrame:
    p, h = world.people, world.households
    n = len(h)
    on = live & (h.category[p.hh] != NONE)
    idx = np.flatnonzero(on)
    hh = p.hh[idx]
    head = _heads(world)
    cap = _work_capacity(world, age)
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
