"""Every defect in the written files is in the manifest, at its row, and nothing else is.

Defects are found again from the files alone, with checks that do not share code with
the injector: ID validation from lowinc.idno, date parsing in the declared format,
money parsing, the medical cost identity, repeated rows and the contract's categories.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from lowinc.idno import valid_vec
from lowinc.synthetic import DefectRates
from simulator.contract import FILES, FileSpec
from simulator.defects import ROW_KINDS, applicable_kinds, assign_kinds
from simulator.writer import FILE_KINDS, ExtractWriter

MONTH = "2023-03"
MONTH_END = pd.Timestamp("2023-04-01")
HIGH = DefectRates(
    **{k: 0.05 for k in ROW_KINDS},
    **{k: 0.0 for k in FILE_KINDS},
    id_lowercase_x=0.5,
)
FULL_WIDTH = re.compile("[０-９Ｘ]")
OTHER_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y年%m月%d日",
    "%Y.%m.%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
)


def read_rows(path: Path, spec: FileSpec) -> pd.DataFrame:
    """The data rows as written: text for CSV, cell values for Excel, values for parquet."""
    if spec.format == "csv":
        enc = "utf-8-sig" if spec.bom else spec.encoding
        return pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False)
    if spec.format == "parquet":
        return pq.read_table(path).to_pandas().astype(object).fillna("")
    ws = openpyxl.load_workbook(path)[spec.sheet]
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[2:], columns=rows[1], dtype=object).fillna("")


def id_defect(value: str) -> str | None:
    if value == "":
        return "id_empty"
    if FULL_WIDTH.search(value):
        return "id_full_width"
    if " " in value:
        return "id_spaces"
    if len(value) == 15 and value.isdigit():
        return "id_15_digit"
    if len(value) == 18 and value.endswith("x"):
        return "id_lowercase_x"
    if not valid_vec(np.array([value.encode()]))[0]:
        return "id_bad_check_digit"
    if not value.startswith("33"):
        return "not_in_hukou"
    return None


def parses(value: str, fmt: str) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(datetime.strptime(value, fmt))
    except ValueError:
        return None


def date_defect(value: object, fmt: str | None) -> str | None:
    """``fmt`` None: an Excel file, where any text in a date column is a defect."""
    if value == "":
        return None
    if isinstance(value, datetime):  # a real Excel date
        return "date_future" if value >= MONTH_END else None
    stamp = parses(str(value), fmt) if fmt else None
    if stamp is not None:
        return "date_future" if stamp >= MONTH_END else None
    if any(parses(str(value), f) is not None for f in OTHER_DATE_FORMATS):
        return "date_other_format"
    return "date_impossible"


def money_defect(value: object) -> str | None:
    if value == "":
        return None
    if isinstance(value, str) and ("," in value or value.endswith("元")):
        return "money_formatted"
    return "money_negative" if float(value) < 0 else None


def detect(df: pd.DataFrame, spec: FileSpec) -> list[tuple[int, str, str]]:
    """(row, kind, column) of every defect visible in a written file."""
    found: list[tuple[int, str, str]] = []
    fmt = spec.date_format if spec.format == "csv" else None
    for i, row in enumerate(df.to_dict("records"), start=1):
        hits: list[tuple[str, str]] = []
        for col in spec.columns:
            value = row[col.name]
            if col.kind == "id":
                kind = id_defect(value)
            elif col.kind == "cert":
                kind = id_defect(value[:-2] if value else value)
            elif col.kind in ("date", "datetime"):
                kind = date_defect(value, fmt)
            elif col.kind == "money":
                kind = money_defect(value)
            elif col.kind == "category":
                kind = None if value in col.values else "unknown_category"
            else:
                kind = None
            if kind:
                hits.append((kind, col.name))
        if spec.parts_total and not hits:
            total, *parts = (float(row[c]) for c in spec.parts_total)
            if abs(total - sum(parts)) > 0.005:
                hits.append(("money_parts_mismatch", ""))
        found += [(i, kind, col) for kind, col in hits]
    # a duplicate is an exact copy of the row above; for medical, a repeated settlement id
    same = (df == df.shift(1)).all(axis=1).to_numpy()
    if spec.parts_total:
        same = df["结算流水号"].duplicated().to_numpy()
    found += [(int(i) + 1, "duplicate_row", "") for i in np.flatnonzero(same)]
    return sorted(found)


@pytest.fixture
def written(tmp_path, make_frames):
    writer = ExtractWriter(tmp_path, HIGH, 2024, "湖州市", "2023-01")
    writer.write_month(MONTH, make_frames(400, MONTH, first=True))
    return tmp_path, writer.manifest()


@pytest.mark.parametrize("spec", FILES, ids=lambda s: s.key)
def test_defects_found_in_each_file_equal_the_manifest(written, spec):
    root, manifest = written
    rel = f"{spec.source}/{MONTH}/{spec.name}"
    mine = manifest[manifest["file"] == rel]
    expected = sorted(
        (
            int(r),
            k,
            "" if k in ("duplicate_row", "money_parts_mismatch") else d,
        )
        for r, k, d in zip(mine["row"], mine["kind"], mine["detail"], strict=True)
    )
    assert detect(read_rows(root / rel, spec), spec) == expected
    # every defect kind that fits the file was injected at least once
    assert set(mine["kind"]) >= applicable_kinds(spec) - {"money_parts_mismatch"}


def test_parts_mismatch_names_a_cost_part(written):
    _, manifest = written
    parts = manifest.loc[manifest["kind"] == "money_parts_mismatch", "detail"]
    assert len(parts) > 0
    assert set(parts) <= {"统筹基金支付", "大病保险支付", "医疗救助支付", "个人自付", "个人自费"}


def test_duplicates_shift_the_rows_after_them(written):
    root, manifest = written
    spec = next(s for s in FILES if s.key == "civil_affairs/临时救助.csv")
    rel = f"{spec.source}/{MONTH}/{spec.name}"
    n_dup = int(((manifest["file"] == rel) & (manifest["kind"] == "duplicate_row")).sum())
    assert len(read_rows(root / rel, spec)) == 400 + n_dup


def test_row_defect_shares_follow_the_rates():
    rates = DefectRates()
    kinds = assign_kinds(1_000_000, rates, np.random.default_rng(0))
    counts = Counter(kinds.tolist())
    for k, kind in enumerate(ROW_KINDS):
        expected = getattr(rates, kind) * 1_000_000
        assert abs(counts[k] - expected) < 5 * np.sqrt(expected) + 5


def test_rates_adding_up_to_more_than_one_are_refused():
    rates = DefectRates(**{k: 0.1 for k in ROW_KINDS})
    with pytest.raises(ValueError, match="add up"):
        assign_kinds(10, rates, np.random.default_rng(0))


def test_hukou_files_get_no_people_from_outside_the_registry():
    hukou = [s for s in FILES if s.source == "hukou"]
    assert all("not_in_hukou" not in applicable_kinds(s) for s in hukou)
