"""benchmarks.steady's delivery of one more month from the longer simulation."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.steady import deliver_month


def test_it_copies_every_departments_files_of_that_month_only(tmp_path: Path) -> None:
    source, target = tmp_path / "next", tmp_path / "home"
    for dept, month in [("medical", "2025-01"), ("hukou", "2025-01"), ("hukou", "2024-12")]:
        (source / "raw" / dept / month).mkdir(parents=True)
        (source / "raw" / dept / month / "a.csv").write_text(f"{dept} {month}")
    copied = deliver_month(source, target, "2025-01")
    assert sorted(p.relative_to(target).as_posix() for p in copied) == [
        "raw/hukou/2025-01/a.csv",
        "raw/medical/2025-01/a.csv",
    ]
    assert not (target / "raw" / "hukou" / "2024-12").exists()
    assert (target / "raw" / "medical" / "2025-01" / "a.csv").read_text() == "medical 2025-01"


def test_a_month_the_simulation_has_not_written_stops_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no delivery for 2025-02"):
        deliver_month(tmp_path, tmp_path / "home", "2025-02")
