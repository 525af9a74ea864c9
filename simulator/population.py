"""The starting population: households of realistic composition placed in real villages."""

from __future__ import annotations

import numpy as np

from lowinc import idno
from lowinc.synthetic import SimulationConfig
from simulator import names
from simulator.geography import Region
from simulator.state import (
    DAUGHTER,
    ENTERPRISE,
    GRANDCHILD,
    HEAD,
    NO_SCHEME,
    PARENT,
    PUBLIC,
    RESIDENT,
    SIBLING,
    SON,
    SPOUSE,
    Households,
    People,
    World,
    new_households,
)

# Household types: share (urban, rural), head age range, and who lives with the head.
#               name               urban  rural  head_lo head_hi spouse kids adult_kid parents sib
TYPES = [
    ("elderly_alone", 0.10, 0.12, 65, 92, 0, 0, 0, 0, 0),
    ("elderly_couple", 0.12, 0.14, 62, 88, 1, 0, 0, 0, 0),
    ("single_adult", 0.16, 0.10, 20, 55, 0, 0, 0, 0, 0),
    ("young_couple", 0.09, 0.06, 23, 38, 1, 0, 0, 0, 0),
    ("nuclear", 0.29, 0.22, 28, 55, 1, 2, 0, 0, 0),
    ("single_parent", 0.04, 0.04, 26, 52, 0, 2, 0, 0, 0),
    ("three_generations", 0.10, 0.19, 30, 55, 1, 2, 0, 2, 0),
    ("couple_adult_child", 0.07, 0.10, 45, 64, 1, 0, 1, 0, 0),
    ("siblings", 0.03, 0.03, 30, 65, 0, 0, 0, 0, 1),
]
TYPE_NAMES = np.array([t[0] for t in TYPES])
OTHER_PROVINCE_AREAS = np.array(["320102", "340104", "360102", "410105", "420106", "510107"])


def working_age(age: np.ndarray, male: np.ndarray) -> np.ndarray:
    return (age >= 16) & (age < np.where(male, 60, 55))


def ages_at(birth: np.ndarray, day: np.datetime64) -> np.ndarray:
    return ((day - birth).astype("timedelta64[D]").astype(np.int64) / 365.25).astype(np.float64)


def _member(sorted_pool: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Membership of keys in a sorted array (binary search: no hashing of the large pool)."""
    if len(sorted_pool) == 0:
        return np.zeros(len(keys), bool)
    pos = np.minimum(np.searchsorted(sorted_pool, keys), len(sorted_pool) - 1)
    return sorted_pool[pos] == keys


def draw_ids(
    rng: np.random.Generator,
    area: np.ndarray,
    birth: np.ndarray,
    male: np.ndarray,
    pool: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Unique, valid 18-character IDs; returns (ids as U18, the grown sorted pool of keys).

    The sequence number's parity gives the sex (odd = male); a clash with an ID already
    issued, or within the batch, draws that sequence number again.
    """
    n = len(area)
    keys = np.zeros(n, np.int64)
    base_key = idno.make_first17(area, birth, np.zeros(n, np.int64)).astype(np.int64)
    todo = np.arange(n)
    for _ in range(50):
        if len(todo) == 0:
            break
        keys[todo] = base_key[todo] + rng.integers(0, 500, len(todo)) * 2 + male[todo]
        order = np.argsort(keys, kind="stable")
        dup_sorted = np.r_[False, keys[order][1:] == keys[order][:-1]]
        dup = np.zeros(n, bool)
        dup[order[dup_sorted]] = True
        clash = dup | _member(pool, keys)
        todo = np.flatnonzero(clash)
    prefix = np.char.zfill(keys.astype("S17"), 17)
    ids = idno.complete_vec(prefix).astype("U18")
    new = np.sort(keys)
    return ids, np.insert(pool, np.searchsorted(pool, new), new)


def build_world(
    region: Region, cfg: SimulationConfig, rng: np.random.Generator, start_day: np.datetime64
) -> World:
    """The households of the region at the first simulated month, with assistance empty."""
    n = cfg.households
    villages = region.villages
    urban_v = villages["urban"].to_numpy()
    weight = np.where(urban_v, 3.0 * cfg.urban_share_weighting, 1.0)  # communities are larger
    village = rng.choice(len(villages), size=n, p=weight / weight.sum()).astype(np.int32)
    urban = urban_v[village]
    shares = np.array([[t[1], t[2]] for t in TYPES])
    p_urban, p_rural = shares[:, 0] / shares[:, 0].sum(), shares[:, 1] / shares[:, 1].sum()
    htype = np.where(urban, rng.choice(len(TYPES), n, p=p_urban), rng.choice(len(TYPES), n, p=p_rural))
    spec = np.array([t[3:] for t in TYPES], dtype=np.int64)
    head_age = rng.uniform(spec[htype, 0], spec[htype, 1])
    has_spouse = spec[htype, 2].astype(bool)
    n_kids = np.where(spec[htype, 3] > 0, rng.choice([1, 2, 3], n, p=[0.55, 0.40, 0.05]), 0)
    n_kids = np.where(head_age - 22 < 0, 0, n_kids)
    n_adult_kid = spec[htype, 4]
    n_parents = np.where(spec[htype, 5] > 0, rng.choice([1, 2], n, p=[0.45, 0.55]), 0)
    n_sib = spec[htype, 6]
    head_male = rng.random(n) < np.where(
        TYPE_NAMES[htype] == "elderly_alone",
        0.35,
        np.where(TYPE_NAMES[htype] == "single_parent", 0.3, 0.8),
    )

    # people, slot by slot
    hh_parts, rel_parts, age_parts, male_parts = [], [], [], []

    def add(hh_idx: np.ndarray, rel: np.ndarray | int, age: np.ndarray, male: np.ndarray) -> None:
        hh_parts.append(hh_idx)
        rel_parts.append(np.broadcast_to(rel, hh_idx.shape).astype(np.int8))
        age_parts.append(age)
        male_parts.append(male)

    all_hh = np.arange(n)
    add(all_hh, HEAD, head_age, head_male)
    sp = all_hh[has_spouse]
    add(sp, SPOUSE, np.clip(head_age[sp] + rng.normal(-2, 3, len(sp)), 18, 98), ~head_male[sp])
    kid_hh = np.repeat(all_hh, n_kids)
    kid_age = rng.uniform(0, np.minimum(18, head_age[kid_hh] - 21))
    kid_male = rng.random(len(kid_hh)) < 0.52
    add(kid_hh, np.where(kid_male, SON, DAUGHTER), kid_age, kid_male)
    ak_hh = np.repeat(all_hh, n_adult_kid)
    ak_male = rng.random(len(ak_hh)) < 0.55
    ak_age = rng.uniform(18, np.maximum(19, np.minimum(34, head_age[ak_hh] - 20)))
    add(ak_hh, np.where(ak_male, SON, DAUGHTER), ak_age, ak_male)
    par_hh = np.repeat(all_hh, n_parents)
    first = np.r_[True, par_hh[1:] != par_hh[:-1]] if len(par_hh) else np.zeros(0, bool)
    par_male = np.where(n_parents[par_hh] == 2, first, rng.random(len(par_hh)) < 0.35)
    add(
        par_hh,
        PARENT,
        np.clip(head_age[par_hh] + rng.uniform(24, 33, len(par_hh)), 50, 99),
        par_male,
    )
    sib_hh = np.repeat(all_hh, n_sib)
    add(
        sib_hh,
        SIBLING,
        np.clip(head_age[sib_hh] + rng.normal(0, 5, len(sib_hh)), 18, 95),
        rng.random(len(sib_hh)) < 0.5,
    )

    hh = np.concatenate(hh_parts)
    order = np.argsort(hh, kind="stable")
    hh = hh[order]
    rel = np.concatenate(rel_parts)[order]
    age = np.concatenate(age_parts)[order]
    male = np.concatenate(male_parts)[order]
    m = len(hh)
    birth = start_day - np.round(age * 365.25).astype("timedelta64[D]")

    county = region.county_codes()[village]
    ids, pool = draw_ids(rng, county[hh], birth, male, np.zeros(0, np.int64))
    surname = names.draw_surnames(rng, n)
    own_surname = names.draw_surnames(rng, m)
    inherits = np.isin(rel, [HEAD, SON, DAUGHTER, GRANDCHILD, SIBLING])
    pname = np.char.add(np.where(inherits, surname[hh], own_surname), names.draw_given(rng, male))

    # work and income: a household factor correlates members' earnings
    hfactor = rng.lognormal(0.0, 0.25, n)
    wa = working_age(age, male)
    student = (age < 22) & (rng.random(m) < 0.7)
    severe_at_start = np.zeros(m, bool)
    urban_p = urban[hh]
    formal = (
        wa
        & ~student
        & (rng.random(m) < np.where(urban_p, cfg.employment_rate_urban, cfg.employment_rate_rural))
    )
    informal = wa & ~student & ~formal & (rng.random(m) < np.where(urban_p, 0.45, 0.6))
    median = np.where(urban_p, cfg.wage_median_urban, cfg.wage_median_rural)
    wage = median * hfactor[hh] * rng.lognormal(0.0, cfg.wage_sigma, m)
    wage = np.where(informal, 0.6 * wage, wage)
    scheme = np.where(
        formal,
        np.where(urban_p & (rng.random(m) < 0.12), PUBLIC, ENTERPRISE),
        np.where((age >= 16) & ~student & (rng.random(m) < 0.75), RESIDENT, NO_SCHEME),
    )
    retired = age >= np.where(male, 60, 55)
    had_job = rng.random(m) < np.where(urban_p, 0.72, 0.35)
    scheme = np.where(retired, np.where(had_job, ENTERPRISE, RESIDENT), scheme).astype(np.int8)
    pension = np.where(
        retired & had_job,
        cfg.enterprise_pension_replacement * median * hfactor[hh] * rng.lognormal(0, 0.3, m),
        np.where(age >= 60, cfg.resident_pension * rng.uniform(0.9, 1.3, m), 0.0),
    )
    chronic = rng.random(m) < np.select([age >= 60, age >= 40], [0.28, 0.08], 0.02)
    disabled = rng.random(m) < np.select([age >= 60, age >= 18], [0.05, 0.02], 0.008)
    kind = np.where(disabled, rng.choice(np.arange(1, 8), m, p=[0.12, 0.2, 0.02, 0.38, 0.1, 0.1, 0.08]), 0)
    grade = np.where(disabled, rng.choice([1, 2, 3, 4], m, p=[0.12, 0.25, 0.3, 0.33]), 0)
    severe_at_start = disabled & (grade <= 2)
    formal &= ~severe_at_start
    informal &= ~severe_at_start

    # working-age people without work: most look for a job, some keep house
    idle = wa & ~student & ~formal & ~informal & ~severe_at_start
    seeking = idle & (rng.random(m) < 0.6)
    t0 = int(start_day.astype("datetime64[M]").astype(np.int64)) + 1970 * 12
    np.where(seeking, t0 - rng.integers(1, 13, m), np.where(idle, -2, -1))
    people = People(
        hh=hh.astype(np.int64),
        id_no=ids,
        name=pname.astype("U4"),
        birth=birth.astype("datetime64[D]"),
        male=male,
        rel=rel,
        alive=np.ones(m, bool),
        present=np.ones(m, bool),
        wage=wage,
        formal=formal,
        employed=formal | informal,
        scheme=scheme,
        jobless_since=np.full(m, -1, np.int32),
        ue_registered=np.zeros(m, bool),
        ue_benefit=np.zeros(m),
        ue_until=np.full(m, -1, np.int32),
        pension=pension,
        chronic=chronic,
        disab_kind=kind.astype(np.int8),
        disab_grade=grade.astype(np.int8),
    )

    elderly_only = np.bincount(hh, weights=(age < 60).astype(float), minlength=n) == 0
    # 法定赡养人: most elderly have children who support them; the few who do not get no transfers
    supported = rng.random(n) >= cfg.unsupported_elderly_share
    transfers = np.where(elderly_only & supported, cfg.transfer_median * rng.lognormal(0, 0.7, n), 0.0)
    hh_no = (100_000_000 + rng.choice(400_000_000, size=n, replace=False)).astype("U9")
    grade_h = np.where(urban, 0, rng.choice(4, n, p=[0.70, 0.25, 0.04, 0.01])).astype(np.int8)
    vcode = villages["village_code"].to_numpy(dtype="U12")[village]
    house_id = np.char.add(vcode, np.char.zfill(np.arange(n).astype("U7"), 7))
    alone_elderly = TYPE_NAMES[htype] == "elderly_alone"
    takeup = rng.lognormal(0.0, cfg.takeup_stigma_sigma, n) * np.where(
        alone_elderly, cfg.takeup_elderly_alone_factor, 1.0
    )
    households = Households(
        hh_no=hh_no,
        village=village,
        vgroup=village.astype(np.int64),
        urban=urban,
        farm=np.where(
            urban,
            0.0,
            cfg.farm_income_median
            * hfactor
            * rng.lognormal(0, 0.6, n)
            * np.where(elderly_only, cfg.elderly_farm_factor, 1.0),
        ),
        transfers=transfers,
        supported=supported,
        house_id=house_id.astype("U19"),
        house_grade=grade_h,
        properties=np.where(
            urban,
            rng.choice([0, 1, 2], n, p=[0.06, 0.82, 0.12]),
            rng.choice([0, 1], n, p=[0.35, 0.65]),
        ).astype(np.int16),
        takeup=takeup,
        **new_households(n, cfg.poverty_window),
    )
    return World(people=people, households=households, next_hh_serial=n, next_case=1, id_pool=pool)
