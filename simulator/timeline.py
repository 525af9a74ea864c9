"""Shared month machinery: the context a month needs, recorders, calendar helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lowinc.synthetic import SimulationConfig
from simulator.state import (
    HEAD,
    World,
    month_start,
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


def days_in(t: int, rng: np.random.Generator, n: int) -> np.ndarray:
    start = month_start(t)
    days = (month_start(t + 1) - start).astype(int)
    return start + rng.integers(0, days, n).astype("timedelta64[D]")


def monthly(rate: float | np.ndarray) -> np.ndarray | float:
    return 1.0 - (1.0 - np.clip(rate, 0, 0.999)) ** (1 / 12)


def month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def heads(world: World) -> np.ndarray:
    """Index of each household's living, present head (-1 when none)."""
    p = world.people
    head = np.full(len(world.households), -1, np.int64)
    idx = np.flatnonzero((p.rel == HEAD) & p.alive & p.present)
    head[p.hh[idx]] = idx
    return head
