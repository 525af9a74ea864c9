"""Births, deaths, moves and household splits, and the hukou records they leave."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator import names
from simulator.population import OTHER_PROVINCE_AREAS, ages_at, draw_ids
from simulator.state import (
    DAUGHTER,
    ENTERPRISE,
    HEAD,
    NONE,
    RELATIONS,
    RESIDENT,
    SON,
    SPOUSE,
    Households,
    People,
    World,
    month_start,
    new_households,
)
from simulator.timeline import Context, Recorder, days_in, monthly


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
        if dates is None:
            raise ValueError(f"hukou change {change!r} needs its change dates")
        frame["变动类型"] = change
        frame["变动日期"] = pd.to_datetime(dates)
    return frame


# --- demography -----------------------------------------------------------------------
def demographic_events(
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
    dies = live & (rng.random(len(p)) < monthly(q))
    # 遗属待遇: when a pensioner dies the family receives a funeral grant and a lump-sum
    # 抚恤金 worth several months of the pension, paid in the month of death
    world.death_grant = np.bincount(
        p.hh[dies], weights=p.pension[dies] * cfg.death_grant_months, minlength=len(h)
    )
    p.alive[dies] = False
    p.employed[dies] = False
    if rec is not None and dies.any():
        idx = np.flatnonzero(dies)
        frames.append(hukou_frame(world, idx, ctx, "死亡", "死亡", days_in(t, rng, len(idx))))
    _promote_heads(world, dies)
    if not full:
        return

    # whole households moving away
    hh_live = np.bincount(p.hh[p.alive & p.present], minlength=len(h)) > 0
    leave = h.present & hh_live & (rng.random(len(h)) < monthly(cfg.move_out_rate)) & (h.category == NONE)
    if leave.any():
        movers = p.alive & p.present & leave[p.hh]
        if rec is not None:
            idx = np.flatnonzero(movers)
            dates = days_in(t, rng, len(h))[p.hh[idx]]
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
    born = np.flatnonzero(mothers & (rng.random(len(p)) < monthly(cfg.fertility_rate)))
    if len(born):
        hh_idx = p.hh[born]
        male = rng.random(len(born)) < 0.52
        birth = days_in(t, rng, len(born))
        ids, world.id_pool = draw_ids(rng, ctx.county_code[h.village[hh_idx]], birth, male, world.id_pool)
        head_surname = p.name[born].astype("U1")  # mothers keep their surname (first character)
        father = np.zeros(len(h), np.int64) - 1
        fathers = np.flatnonzero(live & p.male & np.isin(p.rel, [HEAD, SPOUSE]))
        father[p.hh[fathers]] = fathers
        fam = np.where(
            father[hh_idx] >= 0,
            p.name[np.maximum(father[hh_idx], 0)].astype("U1"),
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
        & (rng.random(len(p)) < monthly(cfg.split_rate * 4))
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
            frames.append(hukou_frame(world, splitters, ctx, "正常", "分户", days_in(t, rng, len(splitters))))

    # households moving in: young families or single workers with a job
    n_in = int(rng.binomial(int(h.present.sum()), monthly(cfg.move_in_rate)))
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
        frames.append(hukou_frame(world, idx, ctx, "正常", "迁入", days_in(t, rng, len(idx))))
