"""Temporal splits (triage's timechop, reduced to what one monthly model needs).

Windows are sets of as-of dates. A label at as-of T covers (T, T+H]; it is known from T+H on.
So a window may only use labels known before the next window starts: train as-ofs end at
least ``gap`` months before the first validation as-of, validation ends ``gap`` months before
the first test as-of, and the test window is the latest whose labels are complete.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from models.config import SplitConfig


@dataclass(frozen=True)
class TemporalSplit:
    train: tuple[pd.Timestamp, ...]
    validation: tuple[pd.Timestamp, ...]
    test: tuple[pd.Timestamp, ...]
    gap_months: int

    def window_of(self, as_of: pd.Series) -> pd.Series:
        """'train' / 'validation' / 'test' / NA per row of an as-of column."""
        out = pd.Series(pd.NA, index=as_of.index, dtype="string")
        for name in ("train", "validation", "test"):
            out[as_of.isin(getattr(self, name))] = name
        return out

    def to_params(self) -> dict[str, str]:
        """Split dates for the MLflow run."""

        def fmt(ts: tuple[pd.Timestamp, ...]) -> str:
            return f"{ts[0]:%Y-%m}..{ts[-1]:%Y-%m}" if ts else ""

        return {
            "split.train": fmt(self.train),
            "split.validation": fmt(self.validation),
            "split.test": fmt(self.test),
            "split.gap_months": str(self.gap_months),
        }


def months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return int((b.year - a.year) * 12 + (b.month - a.month))


def make_split(complete_as_ofs: list[pd.Timestamp], cfg: SplitConfig, horizon: int) -> TemporalSplit:
    """Choose the windows from the as-of dates whose labels are complete.

    Raises ValueError when the history is too short for a training window after the gaps.
    """
    dates = sorted(pd.Timestamp(d) for d in set(complete_as_ofs))
    gap = horizon if cfg.gap_months is None else cfg.gap_months
    if len(dates) < cfg.test_months:
        raise ValueError(f"{len(dates)} complete snapshots, fewer than test_months={cfg.test_months}")
    test = tuple(dates[-cfg.test_months :])
    validation = tuple(d for d in dates if d < test[0] and months_between(d, test[0]) >= gap)[
        -cfg.validation_months :
    ]
    if not validation:
        raise ValueError(f"no complete snapshot {gap} months before the test window {test[0]:%Y-%m}")
    train = tuple(d for d in dates if d < validation[0] and months_between(d, validation[0]) >= gap)
    if cfg.train_months is not None:
        train = train[-cfg.train_months :]
    if not train:
        raise ValueError(
            f"no complete snapshot {gap} months before the validation window {validation[0]:%Y-%m}: "
            "simulate or deliver a longer history, or lower model.splits.gap_months"
        )
    return TemporalSplit(train=train, validation=validation, test=test, gap_months=gap)
