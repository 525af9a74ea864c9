"""The data-quality check on a real simulated and ingested region: normal months (with the
contract's defects at the simulator's rates) are green or amber, never red; a delivered file
that loses a required column turns its month red as a schema break."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from ingest import delivery
from lowinc.home import HomeLayout
from lowinc.pseudonym import load_key
from lowinc.settings import DEFAULT_CONFIG_DIR
from monitoring.quality import QualityConfig, assess_quality, quality_notice_lines

pytestmark = pytest.mark.integration

CFG = QualityConfig()


def _reports(paths: HomeLayout) -> list:
    return [delivery.read_report(paths, m) for m in delivery.ingested_months(paths)]


def test_normal_months_are_never_red(ingested_region) -> None:
    reports = _reports(HomeLayout(ingested_region.home))
    assert [r.month for r in reports] == ingested_region.months
    results = [assess_quality(r, reports[:i], CFG) for i, r in enumerate(reports)]
    assert all(r.status in ("green", "amber") for r in results), [
        (r.month, [f.text for f in r.findings]) for r in results if r.status == "red"
    ]
    assert not any(r.schema_break for r in results)
    assert sum(r.status == "green" for r in results) >= len(results) // 2  # amber is the exception
    last = results[-1]
    assert last.metrics["quality.medical.rows"] > 0
    assert "quality.medical.rows_ratio_to_median12" in last.metrics
    assert set(last.table["source"]) == {
        "civil_affairs",
        "disability",
        "employment",
        "housing",
        "hukou",
        "medical",
    }


def test_a_delivered_file_losing_a_required_column_is_red(ingested_region, tmp_path) -> None:
    home = tmp_path / "home"
    shutil.copytree(ingested_region.home, home, symlinks=True)
    paths = HomeLayout(home)
    month = ingested_region.months[-1]  # the last month: no later month to re-ingest
    csv = paths.raw / "hukou" / month / "户籍变动.csv"
    frame = pd.read_csv(csv, encoding="gb18030", dtype="str", keep_default_na=False)
    frame.drop(columns=["公民身份号码"]).to_csv(csv, encoding="gb18030", index=False)
    sources = delivery.sources_from(DEFAULT_CONFIG_DIR / "sources")
    delivery.ingest_month(month, paths, sources, load_key(paths.secure))

    reports = _reports(paths)
    result = assess_quality(reports[-1], reports[:-1], CFG)
    assert result.status == "red" and result.schema_break
    (finding,) = [f for f in result.findings if f.severity == "red"]
    assert (finding.kind, finding.source) == ("vanished_columns", "hukou")
    assert "公民身份号码 (id_no)" in finding.text
    assert result.metrics["quality.schema_break"] == 1.0
    lines = quality_notice_lines(result)
    assert lines[0].startswith(f"Data quality of delivery month {month}: RED (schema break)")
    assert not any(v in "\n".join(lines) for v in frame["公民身份号码"].head(50))  # no delivered IDs
