"""One month of the simulated world, vectorised over all people and households.

`advance` moves the world one month and, when a `Recorder` is given, writes what each
department would record that month (in the contract's columns, clean values). The same
function runs the Monte Carlo continuations of the ground truth, with no recorder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.assistance import assistance
from simulator.demography import demographic_events
from simulator.health import disability, hospital_stays, outpatient
from simulator.housing import housing_and_property
from simulator.population import ages_at, working_age
from simulator.rolls import record_employment, record_monthly_rolls
from simulator.state import (
    DIBAO,
    EDGE,
    ENTERPRISE,
    TEKUN,
    World,
    month_start,
)
from simulator.timeline import Context, Pending, Recorder, monthly


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
    demographic_events(world, t, rng, ctx, rec, full=demography)
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
    loses = live & p.employed & wa & (rng.random(len(p)) < monthly(lay_rate))
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
        record_employment(rec, world, t, rng, ctx, registers, finds, deregister)

    # --- health -----------------------------------------------------------------------
    poor_hh = np.isin(h.category, [DIBAO, TEKUN, EDGE])
    hosp_rate = np.where(age >= 65, cfg.hospital_rate_elderly, cfg.hospital_rate * np.clip(age / 45, 0.3, 1))
    hosp_rate = hosp_rate * np.where(p.chronic, 1.6, 1.0) * np.where(poor_hh[p.hh], 1.25, 1.0)
    stay = live & (rng.random(len(p)) < monthly(hosp_rate))
    oop = hospital_stays(world, t, rng, ctx, stay, age, rec, pending)
    rigid += np.bincount(p.hh[stay], weights=oop, minlength=len(h))
    chronic_onset = (
        live & ~p.chronic & (rng.random(len(p)) < monthly(cfg.chronic_onset_rate * np.clip(age / 50, 0.1, 3)))
    )
    p.chronic[chronic_onset] = True
    chronic_oop = outpatient(world, t, rng, ctx, live & p.chronic, rec)
    rigid += chronic_oop
    disability(world, t, rng, ctx, live, age, rec)

    # --- housing, disasters, property -------------------------------------------------
    rigid += housing_and_property(world, t, rng, ctx, rec)

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
    applied = assistance(world, t, rng, ctx, income, rigid, members, standard, poor, active, age, rec)
    if rec is not None:
        record_monthly_rolls(rec, world, t, ctx, live, age)
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
