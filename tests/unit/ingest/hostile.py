"""Hostile delivered files made in the test: broken, headerless, oversized, with formulas.

Everything is generated here (openpyxl, zipfile, pyarrow); the identifying values planted
in them (``SECRETS``) must never appear in a report, a log or an error message.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd

from .factory import make_id

DISABILITY_HEADER = [
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
DIV = "330502001001"
NAMES = ["王秀英", "欧阳建国", "赵丽华"]
IDS = [make_id(area="330502", birth="19760312", seq=f"{i:03d}") for i in (101, 203, 305)]  # odd: men
SECRETS = (*NAMES, *IDS)


def disability_row(id_no: str, name: str) -> list[object]:
    return [id_no + "41", name, "男", "肢体", "一级", "2023-03-02", "新办", "是", "否", DIV]


def disability_workbook(
    path: Path, rows: list[list[object]], header: bool = True, title: bool = True
) -> Path:
    """The 残联 workbook: a title row, the header, the rows (formulas as ``=...`` strings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "残疾人证"
    if title:
        ws.append(["湖州市残疾人证信息变动表（2023年03月）"])
    if header:
        ws.append(DISABILITY_HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def rewrite_sheet(path: Path, change: Callable[[bytes], bytes], compresslevel: int = 6) -> Path:
    """The workbook with its worksheet XML changed (to make what openpyxl will not write)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = change(data)
            dst.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
    tmp.replace(path)
    return path


def zip_bomb_workbook(path: Path, unpacked: int = 1 << 30) -> Path:
    """A valid-looking workbook a few MB large whose sheet unpacks to ``unpacked`` bytes."""
    disability_workbook(path, [disability_row(IDS[0], NAMES[0])])
    filler = b'<row><c t="inlineStr"><is><t>' + b"9" * 4000 + b"</t></is></c></row>"
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if not info.filename.startswith("xl/worksheets/sheet"):
                dst.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            head, tail = data.split(b"</sheetData>")
            part = zipfile.ZipInfo(info.filename)
            part.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(part, "w", force_zip64=True) as out:
                out.write(head)
                block = filler * ((1 << 20) // len(filler) + 1)
                for _ in range(unpacked // len(block)):
                    out.write(block)
                out.write(b"</sheetData>" + tail)
    tmp.replace(path)
    return path


def contributions(path: Path, ids: list[str]) -> Path:
    """A 社保缴费 Parquet file, one row per ID."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "公民身份号码": ids,
            "费款所属期": pd.array([202303] * len(ids), dtype="int32"),
            "险种": ["企业职工基本养老保险"] * len(ids),
            "缴费基数": [4500.0] * len(ids),
            "缴费状态": ["正常应缴"] * len(ids),
        }
    ).to_parquet(path)
    return path


def payments(path: Path, ids: list[str]) -> Path:
    """A 养老金发放 Parquet file, one row per ID."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "公民身份号码": ids,
            "发放年月": pd.array([202303] * len(ids), dtype="int32"),
            "险种": ["城乡居民基本养老保险"] * len(ids),
            "月发放金额": [230.0] * len(ids),
        }
    ).to_parquet(path)
    return path


EMPLOYMENT_HEADER = ["公民身份号码", "姓名", "登记类型", "登记日期", "失业保险金月额", "区划代码"]


def employment_rows() -> list[list[str]]:
    return [[i, n, "失业登记", "2023/03/01", "1500", DIV] for i, n in zip(IDS, NAMES, strict=True)]
