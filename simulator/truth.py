"""Ground truth: what no department sees, kept under truth/ for evaluation only.

Per household and delivered month: true per-capita disposable income, rigid spending, the
local 低保 standard, whether the household was truly poor, whether it applied, and whether
it fell into poverty within the label horizon. Per household and sampled as-of month: the
probability of falling into poverty within the horizon, by Monte Carlo continuation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.dynamics import MonthResult, advance
from simulator.state import DIBAO, EDGE, MONITOR, RIGID, TEKUN, World, month_label
from simulator.timeline import Context


def _fell(poor: np.ndarray) -> np.ndarray:
    """Per household, poor in any of the months (rows) of a months x households block."""
    return np.asarray(poor.any(axis=0))


def _pad(a: np.ndarray, n: int, fill: object = False) -> np.ndarray:
    if len(a) == n:
        return a
    return np.concatenate([a, np.full(n - len(a), fill, dtype=a.dtype)])


class TruthLog:
    """Writes the monthly truth as it happens and keeps the small arrays the labels need."""

    def __init__(self, truth_dir: Path) -> None:
        self.dir = truth_dir / "household_month"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.months: list[int] = []
        self.poor: list[np.ndarray] = []
        self.category: list[np.ndarray] = []
        self.members: list[np.ndarray] = []
        self.temp_aid: list[np.ndarray] = []
        self.delivered: list[bool] = []
        self.hh_no: np.ndarray = np.zeros(0, "U9")

    def add(self, world: World, t: int, r: MonthResult, delivered: bool) -> None:
        h = world.households
        self.months.append(t)
        self.poor.append(r.poor.copy())
        self.category.append(h.category.copy())
        self.members.append(r.members.astype(np.int16))
        self.temp_aid.append(world.temp_aid.copy() if world.temp_aid is not None else np.zeros(len(h), bool))
        self.delivered.append(delivered)
        self.hh_no = h.hh_no
        if not delivered:
            return
        keep = (r.members > 0) | h.present
        members = np.maximum(r.members, 1)
        pd.DataFrame(
            {
                "month": month_label(t),
                "hh_no": h.hh_no[keep],
                "members": r.members[keep].astype(np.int16),
                "per_capita_income": np.round(r.income[keep] / members[keep], 2),
                "rigid_expenditure": np.round(r.rigid[keep], 2),
                "per_capita_net": np.round((r.income[keep] - r.rigid[keep]) / members[keep], 2),
                "dibao_standard": np.round(r.standard[keep], 2),
                "in_poverty": r.poor[keep],
                "applied": r.applied[keep],
                "assistance": h.category[keep],
            }
        ).to_parquet(self.dir / f"{month_label(t)}.parquet", index=False)

    def finish(self, horizon: int, first: int) -> dict[str, float]:
        """Write the latent labels and return the base rates of the delivered period."""
        n = len(self.hh_no)
        poor = np.stack([_pad(a, n) for a in self.poor])  # months x households
        cat = np.stack([_pad(a, n, 0) for a in self.category])
        members = np.stack([_pad(a, n, 0) for a in self.members]).astype(np.int64)
        aid = np.stack([_pad(a, n) for a in self.temp_aid])
        months = np.array(self.months)
        labels = []
        for i, t in enumerate(months):
            if t < first or i + horizon > len(months) or i == 0:
                continue
            cohort = (members[i - 1] > 0) & ~poor[i - 1] & ~np.isin(cat[i - 1], [DIBAO, TEKUN])
            fell = _fell(poor[i : i + horizon])
            idx = np.flatnonzero(cohort)
            labels.append(
                pd.DataFrame(
                    {"as_of": month_label(int(t)), "hh_no": self.hh_no[idx], "fall_within_h": fell[idx]}
                )
            )
        if labels:
            pd.concat(labels, ignore_index=True).to_parquet(
                self.dir.parent / "latent_labels.parquet", index=False
            )
        return base_rates(months, first, poor, cat, members, aid)


def base_rates(
    months: np.ndarray, first: int, poor: np.ndarray, cat: np.ndarray, members: np.ndarray, aid: np.ndarray
) -> dict[str, float]:
    d = months >= first
    people = members[d].sum(axis=1).astype(float)
    share = {
        name: float(np.mean((members[d] * (cat[d] == c)).sum(axis=1) / people))
        for name, c in (
            ("dibao_share_people", DIBAO),
            ("tekun_share_people", TEKUN),
            ("edge_share_people", EDGE),
        )
    }
    # yearly falls: households not poor in the month before a year starts, poor within 12 months
    falls_all, falls_mon = [], []
    for i in np.flatnonzero(d):
        if (months[i] - first) % 12 or i + 12 > len(months) or i == 0:
            continue
        alive = members[i - 1] > 0
        notpoor = alive & ~poor[i - 1] & ~np.isin(cat[i - 1], [DIBAO, TEKUN])
        fell = _fell(poor[i : i + 12])
        monitored = notpoor & np.isin(cat[i - 1], [EDGE, RIGID, MONITOR])
        falls_all.append(fell[notpoor].mean())
        if monitored.any():
            falls_mon.append(fell[monitored].mean())
    poor_d = poor[d] & (members[d] > 0)
    assisted = np.isin(cat[d], [DIBAO, TEKUN])
    years = max(d.sum() / 12, 1e-9)
    return {
        **share,
        "fall_rate_yearly_all_households": float(np.mean(falls_all)) if falls_all else float("nan"),
        "fall_rate_yearly_monitored_households": float(np.mean(falls_mon)) if falls_mon else float("nan"),
        "temp_aid_yearly_people": float(aid[d].sum() / years / people.mean()),
        "takeup_poor_households": float((poor_d & assisted).sum() / max(poor_d.sum(), 1)),
        "poor_share_households": float(poor_d.sum() / max((members[d] > 0).sum(), 1)),
    }


def monte_carlo_fall(world: World, t: int, ctx: Context, rng: np.random.Generator) -> pd.DataFrame:
    """P(fall into poverty within the horizon) for a sample of the at-risk cohort at month t.

    Each sampled household is copied `mc_paths` times and each copy lives the next
    `label_horizon` months with its own draws (deaths included; no births, moves or
    splits; disasters drawn per village and path). The probability is the share of
    copies that fall.
    """
    cfg = ctx.cfg
    h, p = world.households, world.people
    members = world.members()
    last_poor = np.nanmean(h.net_hist, axis=1) < ctx.dibao_monthly[(t - 1) // 12][h.village]
    cohort = np.flatnonzero(h.present & (members > 0) & ~np.isin(h.category, [DIBAO, TEKUN]) & ~last_poor)
    k = min(cfg.mc_households, len(cohort))
    sample = np.sort(rng.choice(cohort, k, replace=False))
    paths = cfg.mc_paths
    hh_map = np.full(len(h), -1, np.int64)
    hh_map[sample] = np.arange(k)
    pidx = np.flatnonzero((hh_map[p.hh] >= 0) & p.alive & p.present)
    sub_h = h.take(np.tile(sample, paths))
    sub_h.vgroup = sub_h.village.astype(np.int64) + np.repeat(np.arange(paths), k) * len(ctx.village_code)
    sub_p = p.take(np.tile(pidx, paths))
    sub_p.hh = np.tile(hh_map[p.hh[pidx]], paths) + np.repeat(np.arange(paths), len(pidx)) * k
    sim = World(
        people=sub_p,
        households=sub_h,
        next_hh_serial=world.next_hh_serial,
        next_case=world.next_case,
        id_pool=world.id_pool,
    )
    fell = np.zeros(k * paths, bool)
    for s in range(cfg.label_horizon):
        fell |= advance(sim, t + s, rng, ctx, None, None, demography=False).poor
    return pd.DataFrame(
        {
            "as_of": month_label(t),
            "hh_no": h.hh_no[sample],
            "p_fall": fell.reshape(paths, k).mean(axis=0),
            "paths": paths,
        }
    )
