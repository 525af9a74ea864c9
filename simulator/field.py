"""Simulated field visits: what a worker finds at the door, given the latent truth.

Pure and vectorised. A social worker visiting a listed household sees its real situation, but
not perfectly: a share of the truly poor households is recorded as having no hardship (the
worker misses it: pride, a tidy house, the member who knows is away), and some doors stay
closed (nobody reached). Both rates are drawn once per simulated region from the ranges given,
so regions differ as real ones do, and every draw comes from the seed (deterministic).

The order at the door: nobody reached → 联系不上 (``unreachable``); already on 低保/特困 at the
visit → 已在救助 (``assisted``); truly poor → 确认困难 (``confirmed``) unless missed, then
暂无困难 (``no_hardship``); not poor → ``no_hardship``. A confirmed household gets the needs a
worker would write down: basic living always, medical when its rigid spending is high against
the local 低保 standard, so the needs register fills as it would.

The glue that reads the outreach database and the truth files is :mod:`simulator.visits`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.state import DIBAO, TEKUN

# the columns simulate_visits needs of the tasks and of the truth, and what it returns
TASK_COLUMNS = ("alert_id", "household_key", "as_of", "due_date")
TRUTH_COLUMNS = (
    "household_key",
    "month",
    "in_poverty",
    "assistance",
    "rigid_expenditure",
    "members",
    "dibao_standard",
)
VISIT_COLUMNS = ("alert_id", "household_key", "visited_on", "result", "needs", "truly_poor")
ASSISTED_CATEGORIES = (DIBAO, TEKUN)


@dataclass(frozen=True)
class FieldVisitConfig:
    """How simulated workers see the truth. ``miss`` and ``unreachable`` are ranges: the
    region's rates are drawn uniformly inside them from ``seed`` (:meth:`rates`).
    ``medical_rigid_share``: a confirmed household's rigid spending per member at or above this
    share of the monthly 低保 standard is recorded with a medical need too."""

    miss: tuple[float, float] = (0.10, 0.20)
    unreachable: tuple[float, float] = (0.05, 0.10)
    medical_rigid_share: float = 0.5
    seed: int = 16

    def __post_init__(self) -> None:
        for name in ("miss", "unreachable"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high <= 1.0:
                raise ValueError(f"FieldVisitConfig.{name} must be a range inside [0, 1], got {low}-{high}")

    def rates(self) -> tuple[float, float]:
        """(miss, unreachable) of this region: one draw each from the seed."""
        rng = np.random.default_rng([self.seed, 0])
        return float(rng.uniform(*self.miss)), float(rng.uniform(*self.unreachable))


def visit_dates(as_of: pd.Series, due: pd.Series, rng: np.random.Generator) -> pd.Series:
    """A day between the list's as-of date and the task's due date, both included, uniformly
    (a due date before the as-of date gives the as-of date)."""
    start = pd.to_datetime(as_of).to_numpy(dtype="datetime64[D]")
    end = pd.to_datetime(due).to_numpy(dtype="datetime64[D]")
    span = np.maximum((end - start).astype(np.int64), 0)
    offset = np.floor(rng.random(len(start)) * (span + 1)).astype(np.int64)
    return pd.Series(start + offset.astype("timedelta64[D]"), index=as_of.index).dt.date


def _truth_at_visit(
    tasks: pd.DataFrame, visited_on: pd.Series, truth: pd.DataFrame, columns: list[str]
) -> pd.DataFrame:
    """The truth row of each task's household in the month of its visit (NaN when the household
    is not in that month's truth: it left or dissolved)."""
    months = pd.to_datetime(visited_on).dt.strftime("%Y-%m")
    left = pd.DataFrame({"household_key": tasks["household_key"].astype("str").to_numpy(), "month": months})
    right = truth.loc[:, columns].drop_duplicates(["household_key", "month"])
    right = right.astype({"household_key": "str", "month": "str"})
    return left.merge(right, on=["household_key", "month"], how="left", validate="many_to_one")


def simulate_visits(tasks: pd.DataFrame, truth: pd.DataFrame, config: FieldVisitConfig) -> pd.DataFrame:
    """One visit per task: ``alert_id``, ``household_key``, ``visited_on`` (a date), ``result``
    (one of the five codes, never ``refused``), ``needs`` (a tuple of need codes, only with
    confirmed) and ``truly_poor`` (the truth at the visit, for evaluation).

    ``tasks``: :data:`TASK_COLUMNS`. ``truth``: :data:`TRUTH_COLUMNS` per household and month
    (``month`` as YYYY-MM; ``dibao_standard`` monthly per person), as the simulator writes it
    under truth/household_month. Deterministic for a seed: the draws are made in the
    tasks' order after sorting by alert id.
    """
    order = tasks.sort_values("alert_id", kind="stable").reset_index(drop=True)
    rng = np.random.default_rng([config.seed, 1])
    miss, unreachable = config.rates()
    n = len(order)
    visited_on = visit_dates(order["as_of"], order["due_date"], rng)
    reach_draw, miss_draw = rng.random(n), rng.random(n)
    seen = _truth_at_visit(order, visited_on, truth, list(TRUTH_COLUMNS))
    known = seen["in_poverty"].notna().to_numpy()
    poor = seen["in_poverty"].fillna(False).astype(bool).to_numpy()
    assisted = seen["assistance"].isin(ASSISTED_CATEGORIES).to_numpy()
    result = np.where(poor & (miss_draw >= miss), "confirmed", "no_hardship").astype(object)
    result[assisted] = "assisted"
    result[(reach_draw < unreachable) | ~known] = "unreachable"
    standard = seen["dibao_standard"].to_numpy(dtype="float64")
    per_member = seen["rigid_expenditure"].to_numpy(dtype="float64") / np.maximum(
        seen["members"].fillna(1).to_numpy(dtype="float64"), 1.0
    )
    medical = per_member >= config.medical_rigid_share * standard
    confirmed = result == "confirmed"
    choices = np.empty(3, dtype=object)
    choices[:] = [(), ("basic_living",), ("basic_living", "medical")]
    needs = choices[np.where(confirmed, np.where(medical, 2, 1), 0)]
    return pd.DataFrame(
        {
            "alert_id": order["alert_id"].astype("int64").to_numpy(),
            "household_key": order["household_key"].astype("str").to_numpy(),
            "visited_on": visited_on.to_numpy(),
            "result": result.astype(str),
            "needs": needs,
            "truly_poor": poor,
        }
    )


def visit_moment(visited_on: dt.date) -> dt.datetime:
    """The moment a visit is recorded: that day at 18:00 in Zhejiang (10:00 UTC, naive), so the
    record's date is never after its "today"."""
    return dt.datetime.combine(visited_on, dt.time(10, 0))
