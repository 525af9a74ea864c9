import codecs

import openpyxl
import pandas as pd
import pytest

from ingest.readers import FileRejected, read_delivered

from .factory import HUKOU_HEADER, MEDICAL_HEADER, hukou_rows, make_id, medical_row, write_csv


def test_a_gb18030_file_is_read_with_canonical_names(tmp_path, sources):
    spec = sources["hukou"].files[0]
    path = write_csv(tmp_path / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    result = read_delivered(path, spec)
    assert result.frame["name"].tolist() == ["张三", "李四", "张小"]
    assert result.frame["relation"].iloc[0] == "户主"
    assert result.extras.columns.tolist() == []


def test_a_utf8_file_declared_gb18030_is_rejected_not_turned_into_mojibake(tmp_path, sources):
    spec = sources["hukou"].files[0]
    path = write_csv(tmp_path / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "utf-8")
    with pytest.raises(FileRejected) as exc:
        read_delivered(path, spec)
    message = str(exc.value)
    assert "户籍人口_全量.csv" in message and "GB18030" in message and "appears to be UTF-8" in message
    assert exc.value.kind == "wrong_encoding"


def test_a_gb18030_file_declared_utf8_is_rejected(tmp_path, sources):
    spec = sources["medical"].files[0]
    path = write_csv(tmp_path / "医保结算明细.csv", MEDICAL_HEADER, [medical_row("S1", make_id())], "gb18030")
    with pytest.raises(FileRejected, match="appears to be GB18030"):
        read_delivered(path, spec)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_utf8_is_read_with_or_without_a_bom(tmp_path, sources, encoding):
    spec = sources["medical"].files[0]
    path = write_csv(tmp_path / "医保结算明细.csv", MEDICAL_HEADER, [medical_row("S1", make_id())], encoding)
    assert path.read_bytes().startswith(codecs.BOM_UTF8) == (encoding == "utf-8-sig")
    frame = read_delivered(path, spec).frame
    assert frame["settlement_id"].tolist() == ["S1"]  # the BOM is not part of the first header


def test_renamed_columns_map_by_alias_and_added_columns_are_kept_aside(tmp_path, sources):
    spec = sources["medical"].files[0]
    header = [
        h.replace("结算日期", "结算时间").replace("公民身份号码", "身份证号码") for h in MEDICAL_HEADER
    ] + ["备注"]
    path = write_csv(
        tmp_path / "医保结算明细.csv",
        header,
        [[*medical_row("S1", make_id()), "加急"]],
        "utf-8-sig",
    )
    result = read_delivered(path, spec)
    assert result.frame["settled_at"].iloc[0] == "2023-03-05 10:00:00"
    assert result.frame["id_no"].iloc[0] == make_id()
    assert result.extras.to_dict("list") == {"备注": ["加急"]}
    assert any("alias" in n for n in result.notes)
    # an unknown header is reported by its position only (it may be a row of data); the
    # header itself stays with the values, in quarantine/extra_columns
    assert result.extra_labels == ["column 18 (unrecognised header)"]
    assert not any("备注" in n for n in result.notes)


def test_reordered_columns_are_read_by_name(tmp_path, sources):
    spec = sources["hukou"].files[0]
    rows = [list(reversed(r)) for r in hukou_rows()]
    path = write_csv(tmp_path / "户籍人口_全量.csv", list(reversed(HUKOU_HEADER)), rows, "gb18030")
    assert read_delivered(path, spec).frame["name"].iloc[0] == "张三"


def test_a_missing_required_column_rejects_the_file_naming_file_and_column(tmp_path, sources):
    spec = sources["hukou"].files[0]
    keep = [i for i, h in enumerate(HUKOU_HEADER) if h != "户号"]
    path = write_csv(
        tmp_path / "户籍人口_全量.csv",
        [HUKOU_HEADER[i] for i in keep],
        [[r[i] for i in keep] for r in hukou_rows()],
        "gb18030",
    )
    with pytest.raises(FileRejected) as exc:
        read_delivered(path, spec)
    assert "户籍人口_全量.csv" in str(exc.value) and "户号" in str(exc.value)
    assert "household_no" in str(exc.value) and exc.value.kind == "missing_required_column"


def test_a_header_only_file_is_an_empty_month(tmp_path, sources):
    spec = sources["hukou"].files[1]
    header = [*HUKOU_HEADER, "变动类型", "变动日期"]
    path = write_csv(tmp_path / "户籍变动.csv", header, [], "gb18030")
    assert len(read_delivered(path, spec).frame) == 0


def _workbook(path, title: bool):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "残疾人证"
    if title:
        ws.append(["湖州市残疾人证信息变动表（2023年03月）"])
    ws.append(
        [
            "残疾人证号",
            "姓名",
            "性别",
            "残疾类别",
            "残疾等级",
            "发证日期",
            "变动类型",
            "困难残疾人生活补贴",
            "重度残疾人护理补贴",
            "区划代码",
        ]
    )
    ws.append(
        [
            make_id(seq="011") + "41",
            "张三",
            "男",
            "肢体",
            "一级",
            pd.Timestamp("2023-03-02").to_pydatetime(),
            "新办",
            "是",
            "否",
            "330502001001",
        ]
    )
    wb.save(path)
    return path


@pytest.mark.parametrize("title", [True, False])
def test_excel_with_or_without_a_title_row_above_the_header(tmp_path, sources, title):
    spec = sources["disability"].files[0]
    result = read_delivered(_workbook(tmp_path / "残疾人证信息.xlsx", title), spec)
    assert result.frame["issued_date"].tolist() == ["2023-03-02"]
    assert result.frame["division_code"].tolist() == ["330502001001"]
    assert any("header found on row 1" in n for n in result.notes) == (not title)


def test_parquet_keeps_its_types_and_maps_renamed_columns(tmp_path, sources):
    spec = sources["employment"].files[1]
    path = tmp_path / "社保缴费.parquet"
    pd.DataFrame(
        {
            "公民身份号码": [make_id()],
            "费款所属期": pd.array([202303], dtype="int32"),
            "险种": ["企业职工基本养老保险"],
            "月缴费基数": [4500.0],
            "缴费状态": ["正常应缴"],
        }
    ).to_parquet(path)
    frame = read_delivered(path, spec).frame
    assert frame["contribution_base"].tolist() == [4500.0]
    assert frame["contribution_month"].tolist() == [202303]
