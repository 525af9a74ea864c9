"""`lowinc simulate`: run the region month by month, deliver the extracts, keep the truth."""

from __future__ import annotations

import json
import shutil
import zlib
from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd

from features.policy import PolicyLinesConfig
from lowinc.home import HomeLayout
from lowinc.synthetic import SimulationConfig
from simulator.contract import SPECS
from simulator.demography import hukou_frame
from simulator.dynamics import advance
from simulator.geography import Region, select_region
from simulator.health import disability_frame
from simulator.population import build_world
from simulator.state import (
    World,
    month_index,
    month_label,
    month_start,
)
from simulator.timeline import Context, Pending, Recorder
from simulator.truth import TruthLog, monte_carlo_fall
from simulator.writer import ExtractWriter

Progress = Callable[[str, int, int], None]


class SimulationSettings(Protocol):
    """What a simulation reads of the settings: its own section, the policy lines it lives
    under and the home it writes to (the composed ``pipelines.settings.Settings`` has them)."""

    @property
    def simulation(self) -> SimulationConfig: ...

    @property
    def policy_lines(self) -> PolicyLinesConfig: ...

    @property
    def layout(self) -> HomeLayout: ...


# Base rates the defaults must reach (shared/domain.md), as (low, high).
EXPECTED = {
    "dibao_share_people": (0.015, 0.045),
    "tekun_share_people": (0.001, 0.006),
    "edge_share_people": (0.003, 0.03),
    "fall_rate_yearly_all_households": (0.002, 0.012),
    "fall_rate_yearly_monitored_households": (0.02, 0.12),
    "temp_aid_yearly_people": (0.001, 0.01),
    "takeup_poor_households": (0.3, 0.9),
}


def policy_lines(settings: SimulationSettings, region: Region, years: range) -> tuple[dict, dict]:
    """Monthly 低保 standard and yearly disposable income per village, for each year."""
    th = settings.policy_lines
    city = region.villages["city_name"].to_numpy()
    county = region.villages["county_code"].to_numpy()
    dibao: dict[int, np.ndarray] = {}
    income: dict[int, np.ndarray] = {}
    for year in years:
        std = np.empty(len(city))
        inc = np.empty(len(city))
        for name in np.unique(city):
            c = th.cities.get(str(name))
            grow = (1 + th.yearly_growth) ** (year - 2022)
            std_year = c.dibao_annual.get(year) if c else None
            inc_year = c.disposable_income_annual.get(year) if c else None
            sel = city == name
            std[sel] = std_year if std_year else th.default_dibao_annual_2022 * grow
            inc[sel] = inc_year if inc_year else th.default_disposable_income_2022 * grow
            if c:
                for code, by_year in c.counties.items():
                    if year in by_year:
                        std[sel & (county == code)] = by_year[year]
        dibao[year] = std / 12.0
        income[year] = inc
    return dibao, income


def build_context(settings: SimulationSettings, region: Region, first: int, last: int) -> Context:
    cfg = settings.simulation
    dibao, income = policy_lines(settings, region, range(first // 12 - 2, last // 12 + 2))
    layoffs: dict[int, tuple[str | None, float]] = {}
    reimb: dict[int, float] = {}
    for sc in cfg.scenarios:
        start = month_index(sc.start)
        if sc.kind == "factory_closure":
            layoffs[start] = (sc.county, sc.share)
        else:
            reimb.update({m: sc.factor for m in range(start, last + 1)})
    return Context(
        cfg=cfg,
        village_code=region.villages["village_code"].to_numpy(dtype="U12"),
        urban=region.villages["urban"].to_numpy(dtype=bool),
        county_code=region.county_codes(),
        dibao_monthly=dibao,
        disposable_annual=income,
        scenario_layoffs=layoffs,
        reimbursement_factor=reimb,
    )


def _base_frames(world: World, ctx: Context, t: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The 全量 hukou base and the valid disability certificates at the first delivered month."""
    p = world.people
    on = np.flatnonzero(p.alive & p.present & world.households.present[p.hh])
    certs = np.flatnonzero(p.alive & p.present & (p.disab_grade > 0))
    issued = month_start(t) - rng.integers(30, 3650, len(certs)).astype("timedelta64[D]")
    return {
        "hukou/户籍人口_全量.csv": hukou_frame(world, on, ctx, "正常"),
        "disability/残疾人证信息.xlsx": disability_frame(world, certs, ctx, "新办", issued),
    }


def _empty(key: str) -> pd.DataFrame:
    spec = SPECS[key]
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in spec.column_names})


def simulate(settings: SimulationSettings, progress: Progress | None = None) -> dict:
    """Simulate the configured region, write raw/ and truth/, return the summary."""
    cfg = settings.simulation
    region = select_region(cfg.city, cfg.county, cfg.province)
    first = month_index(cfg.start)
    last = first + cfg.months - 1
    t0 = first - cfg.burn_in_months
    ctx = build_context(settings, region, t0, last + cfg.label_horizon)
    raw, truth_dir = settings.layout.raw, settings.layout.truth
    for d in (raw, truth_dir):  # a re-run replaces the previous region whole
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    rng = np.random.default_rng(cfg.seed)
    world = build_world(region, cfg, rng, month_start(t0))
    writer = ExtractWriter(raw, cfg.defects, cfg.seed, region.name, cfg.start)
    pending = Pending()
    log = TruthLog(truth_dir)
    mc_months = {month_index(m) for m in cfg.mc_months}
    mc_frames = []
    for t in range(t0, last + 1):
        delivered = t >= first
        rec = Recorder() if delivered else None
        if t in mc_months and delivered:
            mc_rng = np.random.default_rng([cfg.seed, zlib.crc32(f"mc/{t}".encode())])
            mc_frames.append(monte_carlo_fall(world, t, ctx, mc_rng))
        base = _base_frames(world, ctx, t, rng) if t == first else {}
        result = advance(world, t, rng, ctx, rec, pending if delivered else None)
        log.add(world, t, result, delivered)
        if rec is not None:
            # the 全量 base is delivered once, in the first month; every other file every month
            keys = [k for k, spec in SPECS.items() if t == first or not spec.first_month_only]
            frames = {key: [*rec.frames.get(key, [])] for key in keys}
            frames["medical/医保结算明细.csv"] += pending.pop(t)
            for key, frame in base.items():
                frames[key] = [frame, *frames[key]] if key.startswith("disability") else [frame]
            out = {k: (pd.concat(v, ignore_index=True) if v else _empty(k)) for k, v in frames.items()}
            writer.write_month(month_label(t), out)
        if progress:
            progress(month_label(t), t - t0 + 1, last - t0 + 1)
    truth_summary = log.finish(cfg.label_horizon, first)
    writer.manifest().to_csv(truth_dir / "defects_manifest.csv", index=False, encoding="utf-8")
    if mc_frames:
        pd.concat(mc_frames, ignore_index=True).to_parquet(
            truth_dir / "fall_probability.parquet", index=False
        )
    summary = {
        "region": region.name,
        "city": region.city_name,
        "villages": int(region.n_villages),
        "households_start": int(cfg.households),
        "people_end": int((world.people.alive & world.people.present).sum()),
        "households_end": int(world.households.present.sum()),
        "months": [month_label(first), month_label(last)],
        "seed": cfg.seed,
        "raw_dir": str(raw),
        "truth_dir": str(truth_dir),
        "files_written": sum(1 for _ in raw.rglob("*") if _.is_file()),
        "defects_injected": len(writer.manifest()),
        "monte_carlo": {
            "as_of_months": sorted(str(f["as_of"].iloc[0]) for f in mc_frames),
            "households_per_month": cfg.mc_households,
            "paths": cfg.mc_paths,
        },
        "rates": truth_summary,
        "expected": {k: list(v) for k, v in EXPECTED.items()},
    }
    summary["rates_in_range"] = {
        k: bool(lo <= truth_summary[k] <= hi) for k, (lo, hi) in EXPECTED.items() if k in truth_summary
    }
    # the file carries no machine paths, so the same seed writes the same bytes anywhere
    portable = {k: v for k, v in summary.items() if k not in ("raw_dir", "truth_dir")}
    (truth_dir / "summary.json").write_text(json.dumps(portable, ensure_ascii=False, indent=2))
    return summary
