"""Dates a few days after the delivery month: within the column's grace they are accepted
(and known in the delivery month), beyond it they are quarantined as in the future."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from ingest import delivery, store
from ingest.normalise import normalise_frame
from ingest.suites import latest_dates
from lowinc.sources import CONTRACT_FUTURE_GRACE_DAYS, ColumnSpec, SourceSpec

from .conftest import KEY
from .factory import HUKOU_HEADER, MEDICAL_HEADER, hukou_rows, make_id, medical_row, write_csv

MONTH = "2023-03"
SETTLED = MEDICAL_HEADER.index("结算日期")


def _settled(sid: str, when: str) -> list[str]:
    row = medical_row(sid, make_id(seq="011"))
    row[SETTLED] = when
    return row


def _ingest(paths, sources: dict[str, SourceSpec]):
    write_csv(paths.raw / "hukou" / MONTH / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    rows = [
        _settled("IN_MONTH", "2023-03-31 16:00:00"),
        _settled("FIVE_DAYS", "2023-04-05 10:00:00"),  # extracted by admission month: settled later
        _settled("LAST_GRACE_DAY", "2023-04-10 23:00:00"),
        _settled("ELEVEN_DAYS", "2023-04-11 09:00:00"),
        _settled("NEXT_YEAR", "2024-03-05 10:00:00"),
    ]
    write_csv(paths.raw / "medical" / MONTH / "医保结算明细.csv", MEDICAL_HEADER, rows, "utf-8-sig")
    report = delivery.ingest_month(MONTH, paths, sources, KEY)
    canon = store.read_partitions(paths.canonical, "medical_settlements", [MONTH])
    quarantine = store.read_partitions(paths.quarantine, "medical_settlements", [MONTH])
    return report, canon, quarantine


def _with_grace(sources, grace: int) -> dict[str, SourceSpec]:
    """The medical definition as a bureau would edit it: ``future_grace_days`` on 结算日期."""
    medical = sources["medical"].model_dump()
    for column in medical["files"][0]["columns"]:
        if column["name"] == "settled_at":
            column["future_grace_days"] = grace
    return {"hukou": sources["hukou"], "medical": SourceSpec.model_validate(medical)}


def test_the_contract_default_grace_is_ten_days_for_dates_and_none_for_months(sources):
    settled = sources["medical"].files[0].column("settled_at")
    assert settled.future_grace_days is None and settled.grace_days == CONTRACT_FUTURE_GRACE_DAYS == 10
    assert sources["employment"].files[1].column("contribution_month").grace_days == 0


def test_a_settlement_five_days_after_the_month_is_accepted_and_known_in_the_delivery_month(paths, sources):
    chosen = {k: sources[k] for k in ("hukou", "medical")}
    report, canon, quarantine = _ingest(paths, chosen)
    medical = next(f for f in report.files if f.source == "medical")
    assert medical.quarantined_by_reason == {"date_future": 2}
    assert set(quarantine["kind"]) == {"date_future"}
    assert quarantine["reason"].str.contains("结算日期 .*over 10 days after the delivery month").all()
    assert (quarantine["known_month"] == MONTH).all()
    assert medical.accepted == 3 and len(canon) == 3
    assert (canon["known_month"] == MONTH).all()  # the knowledge month stays the delivery month
    assert canon["settled_at"].max() == pd.Timestamp("2023-04-10 23:00:00")


def test_a_bureau_sets_the_grace_per_column(paths, sources):
    _, canon, quarantine = _ingest(paths, _with_grace(sources, 0))
    assert len(canon) == 1  # only the settlement inside March
    assert len(quarantine) == 4 and quarantine["reason"].str.contains("is after the delivery month").all()


def test_a_longer_grace_takes_the_later_settlements_too(paths, sources):
    _, canon, quarantine = _ingest(paths, _with_grace(sources, 45))
    assert len(canon) == 4 and len(quarantine) == 1  # a year out is still in the future


def test_a_yyyymm_month_after_the_delivery_month_is_still_in_the_future(sources, runner):
    spec = sources["employment"].files[2]  # 养老金发放: 发放年月 YYYYMM
    raw = pd.DataFrame(
        {
            "id_no": ["330502198001010116"] * 2,
            "paid_month": [202303, 202304],
            "scheme": ["企业职工基本养老保险"] * 2,
        }
    ).assign(amount=[3000.0, 3000.0])
    frame = normalise_frame(spec, raw).frame
    failures = runner.run(spec, frame, delivery.latest_date(MONTH))
    assert set(zip(failures["row_id"], failures["kind"], strict=True)) == {(2, "date_future")}


def test_each_grace_gets_its_own_limit(sources):
    spec = _with_grace(sources, 3)["medical"].files[0]
    limits = latest_dates(spec, delivery.latest_date(MONTH))
    assert limits["latest_date"] == delivery.latest_date(MONTH)
    assert limits["latest_date_plus_3d"] == pd.Timestamp("2023-04-03 23:59:59.999999")
    assert limits["latest_date_plus_10d"] == pd.Timestamp("2023-04-10 23:59:59.999999")  # admitted_at


@pytest.mark.parametrize(
    "column",
    [
        {"name": "x", "header": "甲", "type": "date", "future_grace_days": 5},  # not checked at all
        {"name": "x", "header": "甲", "type": "money", "not_future": True, "future_grace_days": 5},
        {"name": "x", "header": "甲", "type": "date", "not_future": True, "future_grace_days": -1},
    ],
)
def test_a_grace_where_it_means_nothing_is_refused(column):
    with pytest.raises(ValidationError):
        ColumnSpec.model_validate(column)
