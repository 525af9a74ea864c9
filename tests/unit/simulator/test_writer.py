"""The writer produces the contract's files: encodings, headers, types, reproducibility."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from lowinc.synthetic import DefectRates
from simulator.contract import COLUMN_ALIASES, FILES, SPECS, FileSpec
from simulator.defects import ROW_KINDS
from simulator.writer import FILE_KINDS, ExtractWriter

NO_DEFECTS = DefectRates(**{k: 0.0 for k in (*ROW_KINDS, *FILE_KINDS)}, id_lowercase_x=0.0)
MANY_DEFECTS = DefectRates(
    **{k: 0.05 for k in ROW_KINDS},
    **{k: 0.3 for k in FILE_KINDS},
)


def read_csv(path: Path, spec: FileSpec, encoding: str | None = None) -> pd.DataFrame:
    return pd.read_csv(
        path,
        encoding=encoding or ("utf-8-sig" if spec.bom else spec.encoding),
        dtype=str,
        keep_default_na=False,
    )


def read_xlsx(path: Path, spec: FileSpec) -> tuple[str, list[str], list[tuple]]:
    wb = openpyxl.load_workbook(path)
    ws = wb[spec.sheet]
    rows = list(ws.iter_rows(values_only=True))
    return rows[0][0], list(rows[1]), rows[2:]


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_every_file_reads_back_with_the_contract_encoding_and_header(tmp_path, make_frames):
    frames = make_frames(20, "2023-01", first=True)
    ExtractWriter(tmp_path, NO_DEFECTS, 1, "湖州市", "2023-01").write_month("2023-01", frames)
    for spec in FILES:
        path = tmp_path / spec.source / "2023-01" / spec.name
        clean = frames[spec.key]
        if spec.format == "csv":
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") == spec.bom
            df = read_csv(path, spec)
            assert list(df.columns) == spec.column_names
            assert len(df) == 20
            for col in spec.of_kind("id", "code", "text", "category"):
                assert df[col.name].tolist() == clean[col.name].tolist()
            for col in spec.of_kind("date", "datetime"):
                parsed = pd.to_datetime(df[col.name], format=spec.date_format)
                assert (parsed.to_numpy() == clean[col.name].to_numpy()).all()
            for col in spec.of_kind("money"):
                written = pd.to_numeric(df[col.name].replace("", np.nan))
                np.testing.assert_allclose(written, clean[col.name])
        elif spec.format == "parquet":
            table = pq.read_table(path)
            assert table.column_names == spec.column_names
            assert [str(t) for t in table.schema.types] == [
                {"float64": "double"}.get(c.arrow_type, c.arrow_type) for c in spec.columns
            ]
            assert table.column(spec.columns[0].name).to_pylist() == clean.iloc[:, 0].tolist()
        else:
            title, header, rows = read_xlsx(path, spec)
            assert title == "湖州市残疾人证信息表（2023年01月）"
            assert header == spec.column_names
            assert [r[0] for r in rows] == clean["残疾人证号"].tolist()
            issued = pd.to_datetime([r[header.index("发证日期")] for r in rows])
            assert (issued == pd.DatetimeIndex(clean["发证日期"])).all()


def test_later_excel_months_carry_the_change_title(tmp_path, make_frames):
    frames = make_frames(3, "2023-03")
    ExtractWriter(tmp_path, NO_DEFECTS, 1, "湖州市", "2023-01").write_month("2023-03", frames)
    title, _, _ = read_xlsx(
        tmp_path / "disability/2023-03/残疾人证信息.xlsx", SPECS["disability/残疾人证信息.xlsx"]
    )
    assert title == "湖州市残疾人证信息变动表（2023年03月）"


def test_zero_row_frames_give_header_only_files(tmp_path, make_frames):
    frames = {k: f.iloc[:0] for k, f in make_frames(5, "2023-02").items()}
    writer = ExtractWriter(tmp_path, MANY_DEFECTS, 3, "湖州市", "2023-01")
    writer.write_month("2023-01", frames)
    assert writer.manifest().empty
    for spec in FILES:
        if spec.first_month_only:
            continue
        path = tmp_path / spec.source / "2023-01" / spec.name
        if spec.format == "csv":
            text = path.read_bytes().decode(spec.encoding)
            assert text.lstrip("\ufeff").splitlines() == [",".join(f'"{c}"' for c in spec.column_names)]
        elif spec.format == "parquet":
            table = pq.read_table(path)
            assert table.num_rows == 0 and table.column_names == spec.column_names
        else:
            _, header, rows = read_xlsx(path, spec)
            assert header == spec.column_names and rows == []


def _write_three_months(root: Path, seed: int, make_frames) -> pd.DataFrame:
    writer = ExtractWriter(root, MANY_DEFECTS, seed, "湖州市", "2023-01")
    writer.write_month("2023-01", make_frames(60, "2023-01", first=True))
    writer.write_month("2023-02", make_frames(60, "2023-02", seed=1))
    writer.write_month("2023-03", make_frames(60, "2023-03", seed=2))
    return writer.manifest()


def test_same_seed_gives_byte_identical_files(tmp_path, make_frames):
    first = _write_three_months(tmp_path / "a", 11, make_frames)
    second = _write_three_months(tmp_path / "b", 11, make_frames)
    pd.testing.assert_frame_equal(first, second)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert any(k.endswith(".xlsx") for k in digest(tmp_path / "a"))


def test_different_seed_gives_different_defects(tmp_path, make_frames):
    first = _write_three_months(tmp_path / "a", 11, make_frames)
    second = _write_three_months(tmp_path / "b", 12, make_frames)
    assert not first.equals(second)
    assert digest(tmp_path / "a") != digest(tmp_path / "b")


def test_manifest_has_the_agreed_columns_and_types(tmp_path, make_frames):
    manifest = _write_three_months(tmp_path, 5, make_frames)
    assert list(manifest.columns) == ["file", "row", "kind", "detail"]
    assert manifest["row"].dtype == "Int64"
    file_level = manifest["kind"].isin(FILE_KINDS)
    assert manifest.loc[file_level, "row"].isna().all()
    assert manifest.loc[~file_level, "row"].notna().all()
    assert set(manifest["kind"]) <= {*ROW_KINDS, *FILE_KINDS, "id_lowercase_x"}


def test_first_month_has_no_file_level_defects(tmp_path, make_frames):
    rates = DefectRates(**{k: 1.0 for k in FILE_KINDS})
    writer = ExtractWriter(tmp_path, rates, 1, "湖州市", "2023-01")
    writer.write_month("2023-01", make_frames(5, "2023-01", first=True))
    assert not writer.manifest()["kind"].isin(FILE_KINDS).any()
    assert len(list(tmp_path.rglob("*.*"))) == len(FILES)


def test_a_missing_month_writes_no_file_and_is_in_the_manifest(tmp_path, make_frames):
    rates = NO_DEFECTS.model_copy(update={"month_missing": 1.0})
    writer = ExtractWriter(tmp_path, rates, 1, "湖州市", "2023-01")
    writer.write_month("2023-02", make_frames(5, "2023-02"))
    manifest = writer.manifest()
    assert not list(tmp_path.rglob("*.*"))
    assert sorted(manifest["file"]) == sorted(
        f"{s.source}/2023-02/{s.name}" for s in FILES if not s.first_month_only
    )
    assert (manifest["kind"] == "month_missing").all()


@pytest.mark.parametrize("kind", ["column_added", "column_renamed", "column_reordered"])
def test_column_defects_show_in_the_header(tmp_path, make_frames, kind):
    rates = NO_DEFECTS.model_copy(update={kind: 1.0})
    writer = ExtractWriter(tmp_path, rates, 1, "湖州市", "2023-01")
    writer.write_month("2023-02", make_frames(5, "2023-02"))
    manifest = writer.manifest().set_index("file")
    for spec in FILES:
        if spec.first_month_only:
            continue
        rel = f"{spec.source}/2023-02/{spec.name}"
        path = tmp_path / rel
        if spec.format == "csv":
            header = list(read_csv(path, spec).columns)
        elif spec.format == "parquet":
            header = pq.read_table(path).column_names
        else:
            header = read_xlsx(path, spec)[1]
        detail = manifest.loc[rel, "detail"]
        assert manifest.loc[rel, "kind"] == kind
        if kind == "column_added":
            assert sorted(header) == sorted([*spec.column_names, detail])
        elif kind == "column_renamed":
            old, new = detail.split("→")
            assert new in COLUMN_ALIASES[old]
            assert header == [new if c == old else c for c in spec.column_names]
        else:
            assert header != spec.column_names and sorted(header) == sorted(spec.column_names)
            assert detail == "|".join(header)


def test_wrong_encoding_files_decode_only_with_the_other_encoding(tmp_path, make_frames):
    rates = NO_DEFECTS.model_copy(update={"wrong_encoding": 1.0})
    writer = ExtractWriter(tmp_path, rates, 1, "湖州市", "2023-01")
    writer.write_month("2023-02", make_frames(5, "2023-02"))
    manifest = writer.manifest()
    csvs = [s for s in FILES if s.format == "csv" and not s.first_month_only]
    assert len(manifest) == len(csvs)
    for spec in csvs:
        raw = (tmp_path / spec.source / "2023-02" / spec.name).read_bytes()
        other = "utf-8" if spec.encoding == "gb18030" else "gb18030"
        expected = ",".join(f'"{c}"' for c in spec.column_names)
        assert raw.decode(other).splitlines()[0] == expected
        declared = raw.decode(spec.encoding, errors="replace").lstrip("\ufeff")
        assert declared.splitlines()[0] != expected


def test_a_file_delivered_twice_has_an_identical_copy(tmp_path, make_frames):
    rates = NO_DEFECTS.model_copy(update={"delivered_twice": 1.0})
    writer = ExtractWriter(tmp_path, rates, 1, "湖州市", "2023-01")
    writer.write_month("2023-02", make_frames(5, "2023-02"))
    manifest = writer.manifest()
    assert (manifest["kind"] == "delivered_twice").all()
    for rel, original in zip(manifest["file"], manifest["detail"], strict=True):
        copy = tmp_path / rel
        assert copy.name in {
            f"{Path(original).stem}(1){Path(original).suffix}",
            f"{Path(original).stem}_重报{Path(original).suffix}",
        }
        assert copy.read_bytes() == (copy.parent / original).read_bytes()


def test_frames_with_other_columns_are_refused(tmp_path, make_frames):
    frames = make_frames(2, "2023-02")
    key = "medical/医保结算明细.csv"
    frames[key] = frames[key].iloc[:, ::-1]
    with pytest.raises(ValueError, match="columns"):
        ExtractWriter(tmp_path, NO_DEFECTS, 1, "湖州市", "2023-01").write_month("2023-02", frames)
