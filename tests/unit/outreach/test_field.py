"""The field loop's pure parts: the configured vocabulary, a sheet row read back, the SVG bars,
reason kinds."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from pydantic import ValidationError

from outreach.dashboard import reason_kinds
from outreach.field import DEFAULT_NEEDS, FieldConfig, NeedKind, result_code
from outreach.importer import RowRefused, parse_row
from outreach.outcomes import task_status
from outreach.web.charts import Bar, bar_chart

FIELD = FieldConfig()


def test_the_vocabulary_reads_codes_and_chinese_names_and_refuses_repeats():
    assert result_code("确认困难") == "confirmed" and result_code(" refused ") == "refused"
    assert result_code("确认") is None
    assert (
        FIELD.need_code("心理与社会融入") == "psychosocial" and FIELD.route_code("医疗救助") == "medical_aid"
    )
    assert [r.department for r in FIELD.routes if r.department] == [
        "医保局",
        "人社局",
        "残联",
        "住建局",
        "慈善总会/社会组织",
    ]
    with pytest.raises(ValidationError, match="code repeated: medical"):
        FieldConfig(needs=[*DEFAULT_NEEDS, NeedKind(code="medical", zh="看病", en="doctor")])
    with pytest.raises(ValidationError):
        NeedKind(code="Medical Needs", zh="医疗", en="medical")  # codes are identifiers


def test_the_task_status_follows_the_result():
    assert [
        task_status(r, 0) for r in ("confirmed", "no_hardship", "assisted", "unreachable", "refused")
    ] == [
        "closed",
        "closed",
        "closed",
        "new",
        "closed",
    ]
    assert task_status("confirmed", 2) == "visited"


@pytest.mark.parametrize(
    "date", ["2024-06-05", "2024/6/5", "2024.06.05", "2024年6月5日", "20240605", dt.datetime(2024, 6, 5)]
)
def test_a_filled_row_reads_the_dates_workers_write(date):
    row = parse_row(
        "东村",
        2,
        {"预警编号": 17.0, "走访日期": date, "核查结果": "确认困难", "需求": "医疗，照护 、 住房"},
        set(),
        FIELD,
    )
    assert row is not None
    assert (row.alert_id, row.visited_on, row.result) == (17, dt.date(2024, 6, 5), "confirmed")
    assert row.needs == ("medical", "care", "housing")


@pytest.mark.parametrize(
    ("cells", "formulas", "reason"),
    [
        ({"预警编号": "17", "核查结果": "拒绝"}, set(), "走访日期 is empty"),
        ({"预警编号": "17", "走访日期": "2024-06-05"}, set(), "核查结果 is empty"),
        ({"预警编号": "１７", "走访日期": "2024-06-05", "核查结果": "拒绝"}, set(), "not an alert number"),
        ({"预警编号": "17", "走访日期": "2024-06-05", "核查结果": "拒绝"}, {"备注"}, "备注 holds a formula"),
        (
            {"预警编号": "17", "走访日期": "2024-06-05", "核查结果": "确认困难", "需求": "医疗、张三"},
            set(),
            "item 2",
        ),
    ],
)
def test_a_row_that_cannot_be_read_says_why_without_quoting_it(cells, formulas, reason):
    with pytest.raises(RowRefused, match=reason) as refused:
        parse_row("东村", 3, cells, formulas, FIELD)
    assert "张三" not in refused.value.reason


def test_a_row_without_fill_ins_is_empty():
    assert parse_row("东村", 2, {"预警编号": 17, "户编码": "HH1"}, set(), FIELD) is None


def test_the_bars_escape_their_labels_and_scale_to_the_maximum():
    svg = str(
        bar_chart([Bar("<script>x</script>", 1, "1"), Bar("东村", 0.5, "50%", "bar-red")], "t", maximum=1)
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'class="bar-red"' in svg and 'width="360.0"' in svg and 'width="180.0"' in svg
    assert str(bar_chart([], "none")) == ""


def test_reasons_are_counted_by_kind_whatever_their_numbers():
    reasons = pd.DataFrame(
        {
            "reasons_zh": ["近6个月医疗自付 38,200 元；新办 二级 肢体残疾证", "近6个月医疗自付 1,200 元"],
            "n": [2, 1],
        }
    )
    assert reason_kinds(reasons).values.tolist() == [["近…个月医疗自付 … 元", 3], ["新办 二级 肢体残疾证", 2]]
