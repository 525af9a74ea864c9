"""ingest.people_index: each person's latest identity row in one owner-only file, the same
answer as reading the partitions month by month, kept up to date incrementally, and never
used when it does not match the partitions on disk or the month asked for."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest import people_index, store
from lowinc.home import HomeLayout
from outreach.people import person_identity

TABLES = ("households", "medical_settlements", "social_insurance")
MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04")


def _id(n: int) -> str:
    return f"33050219800101{n:04d}"


def _partition(layout: HomeLayout, table: str, month: str, seed: int, people: int = 40) -> None:
    """Random identity rows: some people twice in a partition, a third of the names missing."""
    rng = np.random.default_rng(seed)
    who = rng.integers(0, people, size=people)
    names = [None if rng.random() < 0.35 else f"名{p}-{table[:3]}-{month}-{i}" for i, p in enumerate(who)]
    frame = pd.DataFrame({"person_key": [f"p{p:03d}" for p in who], "id_no": [_id(p) for p in who]})
    store.write_partition(frame.assign(name=names, amount=1.0), layout.identity, table, month)


def _home(tmp_path: Path, months: tuple[str, ...] = MONTHS) -> HomeLayout:
    layout = HomeLayout(tmp_path / "home")
    for i, month in enumerate(months):
        for j, table in enumerate(TABLES):
            _partition(layout, table, month, seed=100 * i + j)
    return layout


def _everyone() -> list[str]:
    return [f"p{p:03d}" for p in range(45)]  # five keys nobody has


def _scanned(layout: HomeLayout, as_of: dt.date) -> pd.DataFrame:
    """person_identity with the index out of the way: the partitions read month by month."""
    index = people_index.index_path(layout)
    moved = index.with_name("aside.parquet")
    if index.exists():
        index.rename(moved)
    try:
        return person_identity(layout, _everyone(), as_of).sort_values("person_key", ignore_index=True)
    finally:
        if moved.exists():
            moved.rename(index)


def _indexed(layout: HomeLayout, as_of: dt.date) -> pd.DataFrame:
    return person_identity(layout, _everyone(), as_of).sort_values("person_key", ignore_index=True)


def test_the_index_answers_as_the_partitions_do(tmp_path: Path) -> None:
    layout = _home(tmp_path)
    rows = people_index.refresh(layout)
    assert rows == len(_scanned(layout, dt.date(2024, 5, 1))) > 30  # one row per person
    after = dt.date(2024, 5, 1)
    assert people_index.lookup(layout, _everyone(), "2024-05") is not None
    pd.testing.assert_frame_equal(_indexed(layout, after), _scanned(layout, after))
    found = people_index.lookup(layout, ["p001", "nobody"], "2024-05")
    assert found is not None and found["person_key"].tolist() == ["p001"]
    mode = stat.S_IMODE(people_index.index_path(layout).stat().st_mode)
    assert mode == 0o600 and not list(layout.secure.glob(".*.tmp"))


def test_a_month_not_yet_known_is_read_from_the_partitions(tmp_path: Path) -> None:
    layout = _home(tmp_path)
    people_index.refresh(layout)
    assert people_index.lookup(layout, _everyone(), "2024-04") is None  # 2024-04 is not known before
    earlier = person_identity(layout, _everyone(), dt.date(2024, 3, 1))
    assert not earlier["name"].dropna().str.contains("2024-03|2024-04").any()  # point in time
    pd.testing.assert_frame_equal(
        _indexed(layout, dt.date(2024, 3, 1)), _scanned(layout, dt.date(2024, 3, 1))
    )


def test_months_folded_in_one_by_one_equal_a_build_from_scratch(tmp_path: Path) -> None:
    layout = _home(tmp_path, MONTHS[:2])
    people_index.refresh(layout)
    for i, month in enumerate(MONTHS[2:], start=2):
        for j, table in enumerate(TABLES):
            _partition(layout, table, month, seed=100 * i + j)
        assert people_index.lookup(layout, _everyone(), "2024-05") is None  # new partitions: stale
        people_index.refresh(layout)
    incremental = pd.read_parquet(people_index.index_path(layout))
    people_index.index_path(layout).unlink()
    people_index.refresh(layout)
    pd.testing.assert_frame_equal(incremental, pd.read_parquet(people_index.index_path(layout)))


def test_a_month_ingested_again_rebuilds_the_index(tmp_path: Path) -> None:
    layout = _home(tmp_path)
    people_index.refresh(layout)
    frame = pd.DataFrame({"person_key": ["p001"], "id_no": [_id(1)], "name": ["改名后"]})
    store.write_partition(frame, layout.identity, "households", "2024-04")  # 2024-04 delivered again
    assert people_index.lookup(layout, ["p001"], "2024-05") is None  # the index no longer matches
    people_index.refresh(layout)
    again = people_index.lookup(layout, ["p001"], "2024-05")
    assert again is not None and again["name"].tolist() == ["改名后"]
    pd.testing.assert_frame_equal(
        _indexed(layout, dt.date(2024, 5, 1)), _scanned(layout, dt.date(2024, 5, 1))
    )


@pytest.mark.parametrize("damage", [b"not parquet", b""])
def test_a_damaged_index_is_read_around_and_rebuilt(tmp_path: Path, damage: bytes) -> None:
    layout = _home(tmp_path)
    people_index.index_path(layout).parent.mkdir(parents=True, exist_ok=True)
    people_index.index_path(layout).write_bytes(damage)
    assert people_index.lookup(layout, _everyone(), "2024-05") is None
    assert len(person_identity(layout, ["p001"], dt.date(2024, 5, 1))) == 1  # the partitions answer
    assert people_index.refresh(layout) > 0
    assert people_index.lookup(layout, ["p001"], "2024-05") is not None


def test_no_identity_tables(tmp_path: Path) -> None:
    layout = HomeLayout(tmp_path / "empty")
    assert people_index.refresh(layout) == 0
    assert people_index.lookup(layout, ["p001"], "2024-05") is not None  # an empty, matching index
    assert person_identity(layout, ["p001"], dt.date(2024, 5, 1)).empty
