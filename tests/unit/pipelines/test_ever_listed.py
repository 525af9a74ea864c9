"""Exploration's never-listed pool: the keys on every earlier month's visit list."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lowinc.home import HomeLayout
from pipelines.score.scores import ever_listed


def test_keys_of_every_earlier_list_once_and_none_of_later_ones(tmp_path: Path) -> None:
    layout = HomeLayout(tmp_path)
    assert ever_listed(layout, pd.Timestamp("2024-01-01")).empty
    for day, keys in (("2023-11-01", ["a", "b"]), ("2023-12-01", ["b", "c"]), ("2024-01-01", ["d"])):
        layout.scores_at(day).mkdir(parents=True)
        pd.DataFrame({"household_key": keys, "rank": range(len(keys))}).to_parquet(layout.visit_list(day))
    found = ever_listed(layout, pd.Timestamp("2024-01-01"))
    assert sorted(found) == ["a", "b", "c"]
