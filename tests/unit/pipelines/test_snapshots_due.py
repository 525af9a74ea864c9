"""Which snapshots a pass of the monthly loop builds whole and which it only relabels."""

from __future__ import annotations

from pathlib import Path

from features.store import snapshots_dir
from pipelines.loop import snapshots_due
from pipelines.settings import load_settings

MONTHS = [f"2023-{m:02d}" for m in range(1, 13)]  # delivered and ingested


def _settings(home: Path, written: list[str]):
    for as_of in written:
        (snapshots_dir(home) / f"as_of={as_of}").mkdir(parents=True)
    return load_settings(home=home)


def test_a_new_month_builds_its_snapshot_and_relabels_the_maturing_ones(tmp_path: Path) -> None:
    settings = _settings(tmp_path, [f"2023-{m:02d}-01" for m in range(2, 13)])
    horizon = settings.features.label_horizon
    due = snapshots_due(settings, MONTHS, fresh=["2023-12"])
    assert due.scoring == "2024-01-01" and due.build == ["2024-01-01"]
    # the last horizon + 1 as-of dates, less the new one, already written: labels only
    assert due.relabel == [f"2023-{m:02d}-01" for m in range(13 - horizon, 13)]


def test_a_month_ingested_again_rebuilds_the_snapshots_after_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, [f"2023-{m:02d}-01" for m in range(2, 13)])
    horizon = settings.features.label_horizon
    due = snapshots_due(settings, MONTHS, fresh=["2023-11", "2023-12"])
    # 2023-12-01 read 2023-11 as a feature month: built again; earlier maturing ones relabelled
    assert due.build == ["2023-12-01", "2024-01-01"]
    assert due.relabel == [f"2023-{m:02d}-01" for m in range(13 - horizon, 12)]


def test_missing_snapshots_are_built_and_nothing_ingested_means_nothing_due(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ["2023-02-01"])
    due = snapshots_due(settings, MONTHS, fresh=[])
    assert due.build == [f"{y}-{m:02d}-01" for y, m in [(2023, i) for i in range(3, 13)] + [(2024, 1)]]
    assert due.relabel == []
    empty = snapshots_due(settings, [], fresh=[])
    assert (empty.build, empty.relabel, empty.scoring) == ([], [], None)
