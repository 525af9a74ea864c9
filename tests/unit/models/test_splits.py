"""Temporal splits: ordered windows with gaps, so no label from after a window leaks into it."""

import pandas as pd
import pytest

from models.config import SplitConfig
from models.splits import make_split, months_between

MONTHS = list(pd.date_range("2022-01-01", "2023-12-01", freq="MS"))  # 24 complete snapshots


def test_windows_are_ordered_and_separated_by_the_label_horizon():
    s = make_split(MONTHS, SplitConfig(test_months=1, validation_months=3, train_months=None), horizon=6)
    assert s.test == (pd.Timestamp("2023-12-01"),)
    assert s.validation[-1] == pd.Timestamp("2023-06-01")
    # a training label covers (T, T+6]: it is known before validation starts
    assert months_between(s.train[-1], s.validation[0]) >= 6
    assert months_between(s.validation[-1], s.test[0]) >= 6
    assert s.train[0] == MONTHS[0] and len(s.validation) == 3
    assert s.to_params()["split.train"] == "2022-01..2022-10"


def test_train_months_keeps_the_latest_training_snapshots():
    s = make_split(MONTHS, SplitConfig(test_months=1, train_months=4), horizon=6)
    assert len(s.train) == 4 and s.train[-1] == pd.Timestamp("2022-10-01")


def test_a_zero_gap_is_allowed_only_when_configured():
    s = make_split(MONTHS, SplitConfig(test_months=1, gap_months=0, validation_months=1), horizon=6)
    assert s.validation == (pd.Timestamp("2023-11-01"),) and s.gap_months == 0


def test_a_history_too_short_for_the_gaps_is_refused():
    with pytest.raises(ValueError, match="longer history"):
        make_split(MONTHS[:12], SplitConfig(), horizon=6)


def test_window_of_labels_rows_by_their_as_of():
    s = make_split(MONTHS, SplitConfig(), horizon=6)
    as_of = pd.Series([MONTHS[0], MONTHS[-1], pd.Timestamp("2023-08-01")])
    assert s.window_of(as_of).tolist()[:2] == ["train", "test"]
    assert pd.isna(s.window_of(as_of).iloc[2])  # in a gap: used by no window


def test_the_default_test_window_is_the_latest_quarter():
    s = make_split(MONTHS, SplitConfig(), horizon=6)
    assert s.to_params()["split.test"] == "2023-10..2023-12"
    assert s.validation == tuple(pd.date_range("2023-02-01", "2023-04-01", freq="MS"))
