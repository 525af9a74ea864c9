"""Snapshots are written per as-of date and county, read back whole, truth kept apart."""

from __future__ import annotations

import pandas as pd
import pytest

from features import store
from features.snapshot import SNAPSHOT_COLUMNS
from features.truth import latent_truth
from tests.unit.features.factory import snapshot, tables

T = pd.Timestamp("2023-06-01")


@pytest.fixture
def frame() -> pd.DataFrame:
    snap = snapshot(tables(), "2023-06-01").reset_index()
    snap.loc[snap["household_key"] == "h2", "county_code"] = "330503"
    return snap


def truth_of(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_key": frame["household_key"],
            "as_of": frame["as_of"],
            "latent_fall": pd.array([True, pd.NA], dtype="boolean"),
            "p_fall": [0.4, float("nan")],
        }
    )


def test_round_trip_keeps_columns_dtypes_and_partitions(tmp_path, frame):
    path = store.write_snapshot(tmp_path, T, frame, truth_of(frame))
    assert sorted(p.name for p in path.iterdir()) == ["county_code=330502", "county_code=330503"]
    back = store.read_snapshots(tmp_path)
    assert tuple(back.columns) == SNAPSHOT_COLUMNS
    pd.testing.assert_frame_equal(back.sort_values("household_key").reset_index(drop=True), frame)
    assert store.available_as_ofs(tmp_path) == [T]
    assert "latent_fall" not in back.columns
    assert store.read_snapshots(tmp_path, [pd.Timestamp("2023-07-01")]).empty


def test_truth_is_a_separate_tree(tmp_path, frame):
    store.write_snapshot(tmp_path, T, frame, truth_of(frame))
    truth = store.read_truth(tmp_path, [T])
    assert list(truth.columns) == ["household_key", "as_of", "latent_fall", "p_fall"]
    assert str(truth["latent_fall"].dtype) == "boolean"
    assert truth["latent_fall"].isna().sum() == 1
    snapshot_files = list(store.snapshots_dir(tmp_path).rglob("*.parquet"))
    assert all("truth" not in str(p.relative_to(tmp_path / "features" / "snapshots")) for p in snapshot_files)


def test_a_rerun_replaces_the_as_of_date_whole(tmp_path, frame):
    store.write_snapshot(tmp_path, T, frame, None)
    store.write_snapshot(tmp_path, T, frame[frame["household_key"] == "h1"], None)
    back = store.read_snapshots(tmp_path, columns=["household_key", "as_of", "county_code", "members"])
    assert back["household_key"].tolist() == ["h1"]
    assert list(back.columns) == ["household_key", "as_of", "county_code", "members"]


def test_latent_truth_maps_simulator_numbers_through_the_hash():
    latent = pd.DataFrame(
        {
            "as_of": ["2023-06", "2023-06", "2023-05"],
            "hh_no": ["000000001", "2", "1"],
            "fall_within_h": [True, False, False],
        }
    )
    fall = pd.DataFrame({"as_of": ["2023-06"], "hh_no": [2], "p_fall": [0.3]})
    keys = pd.Series(["k000000001", "k000000002", "k000000003"])
    out = latent_truth(keys, T, latent, fall, lambda codes: "k" + codes)
    assert out["latent_fall"].tolist() == [True, False, pd.NA]
    assert out["p_fall"].tolist()[1] == 0.3
    assert out["p_fall"].isna().tolist() == [True, False, True]


def test_visit_labels_and_weights_round_trip_even_where_a_county_has_none(tmp_path):
    visits = pd.DataFrame(
        {
            "household_key": ["h1"],
            "visit_date": pd.to_datetime(["2023-06-20"]),
            "hardship_confirmed": [True],
            "alert_as_of": pd.to_datetime(["2023-06-01"]),
            "listing_probability": [0.25],
            "selection": ["explore"],
        }
    )
    snap = snapshot(tables(), "2023-06-01", visits).reset_index()
    snap.loc[snap["household_key"] == "h2", "county_code"] = "330503"  # a file with no visit label
    store.write_snapshot(tmp_path, T, snap, None)
    back = store.read_snapshots(tmp_path).sort_values("household_key").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, snap)
    assert back["visit_label"].tolist()[0] is True and pd.isna(back["visit_label"].iloc[1])
    assert back["visit_weight"].iloc[0] == 4.0
