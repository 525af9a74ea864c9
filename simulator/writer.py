"""Writes the simulator's monthly department extracts as the contract's files, with defects.

The engine hands over clean frames; :class:`ExtractWriter` renders them in each file's
format (encoding, date layout, Excel title row, parquet types), spoils rows and files
at the configured rates and keeps a manifest of every defect it injected, so tests and
evaluation can check that ingest caught each one. Output is byte-identical for the
same inputs and seed, and each file's defects depend only on (seed, month, file).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lowinc.synthetic import DefectRates
from simulator.contract import (
    COLUMN_ALIASES,
    EXTRA_COLUMNS,
    SPECS,
    FileSpec,
    format_dates,
    format_money,
)
from simulator.defects import inject_row_defects

FILE_KINDS: tuple[str, ...] = (
    "month_missing",
    "column_added",
    "column_renamed",
    "column_reordered",
    "wrong_encoding",
    "delivered_twice",
)
MANIFEST_COLUMNS = ["file", "row", "kind", "detail"]
_FIXED_TIME = datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_STRING_KINDS = ("id", "cert", "code", "text", "category")


def render(frame: pd.DataFrame, spec: FileSpec) -> pd.DataFrame:
    """The values as they go into the file: text for CSV, typed for parquet and Excel."""
    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        s = frame[col.name].reset_index(drop=True)
        if col.kind in _STRING_KINDS:
            out[col.name] = s.astype("str")
        elif spec.format == "csv":
            if col.kind in ("date", "datetime"):
                assert spec.date_format is not None
                out[col.name] = format_dates(s, spec.date_format)
            elif col.kind in ("money", "number"):
                out[col.name] = format_money(s)
            else:  # int, period
                out[col.name] = pd.Series(s.to_numpy(dtype=np.int64).astype(str), dtype="str")
        elif col.kind in ("date", "datetime"):  # Excel: real dates
            d = pd.Series(s.to_numpy(dtype="datetime64[s]"))
            dates = d.dt.date if col.kind == "date" else d.dt.to_pydatetime()
            out[col.name] = pd.Series(dates, dtype=object).where(d.notna(), None)
        elif col.kind in ("money", "number"):
            out[col.name] = pd.Series(np.round(s.to_numpy(dtype=np.float64), 2))
        else:
            out[col.name] = pd.Series(s.to_numpy(dtype=col.arrow_type))
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def csv_bytes(frame: pd.DataFrame, encoding: str, bom: bool) -> bytes:
    """CSV text in ``encoding``: Arrow writes UTF-8 fast, then it is re-encoded if needed."""
    arrays = [pa.array(frame[c], type=pa.large_string(), from_pandas=True) for c in frame]
    table = pa.table(arrays, names=[str(c) for c in frame.columns])
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    data = buf.getvalue()
    if encoding.lower().replace("-", "") != "utf8":
        data = data.decode("utf-8").encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def parquet_bytes(frame: pd.DataFrame, types: dict[str, str]) -> bytes:
    """A parquet file with the given arrow types per column (no pandas metadata)."""
    schema = pa.schema([pa.field(c, types.get(c, "string")) for c in frame.columns])
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(None), buf)
    return buf.getvalue()


def xlsx_bytes(frame: pd.DataFrame, sheet: str, title: str) -> bytes:
    """An Excel workbook: title in row 1, header in row 2, data from row 3; reproducible."""
    wb = openpyxl.Workbook(write_only=True)
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    ws = wb.create_sheet(sheet)
    ws.append([title])
    ws.append(list(frame.columns))
    columns = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in frame]
    for row in zip(*columns, strict=True):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite an xlsx zip with constant timestamps (openpyxl stamps the time of saving)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>2000-01-01T00:00:00Z",
                    content,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, content)
    return buf.getvalue()


class ExtractWriter:
    """Writes each delivered month's files under ``<raw_dir>/<source>/<YYYY-MM>/``."""

    def __init__(
        self,
        raw_dir: Path,
        defects: DefectRates,
        seed: int,
        region_name: str,
        first_month: str,
    ) -> None:
        self.raw_dir = Path(raw_dir)
        self.defects = defects
        self.seed = seed
        self.region_name = region_name
        self.first_month = first_month
        self._entries: list[pd.DataFrame] = []

    def write_month(self, month: str, frames: dict[str, pd.DataFrame]) -> None:
        """Write one delivered month; ``frames`` is keyed ``<source>/<file>`` as in SPECS."""
        unknown = set(frames) - set(SPECS)
        if unknown:
            raise KeyError(f"not files of the contract: {sorted(unknown)}")
        for key, spec in SPECS.items():
            if key in frames:
                self._write_file(month, spec, frames[key])

    def manifest(self) -> pd.DataFrame:
        """One row per injected defect: file (relative to raw_dir), row, kind, detail."""
        if not self._entries:
            return _manifest_frame([], np.array([], dtype=np.int64), [], [])
        return pd.concat(self._entries, ignore_index=True)

    # ------------------------------------------------------------------------------
    def _write_file(self, month: str, spec: FileSpec, frame: pd.DataFrame) -> None:
        if list(frame.columns) != spec.column_names:
            raise ValueError(f"{spec.key}: columns {list(frame.columns)} differ from {spec.column_names}")
        crc = zlib.crc32(f"{month}/{spec.key}".encode())
        rng = np.random.default_rng([self.seed, crc])
        file_rng = np.random.default_rng([self.seed, crc, 1])
        rel = f"{spec.source}/{month}/{spec.name}"
        hits = self._file_defects(spec, month, file_rng)
        if "month_missing" in hits:
            self._add(rel, [None], ["month_missing"], [""])
            return

        clean = frame.reset_index(drop=True)
        injected = inject_row_defects(clean, render(clean, spec), spec, self.defects, rng, month)
        out = injected.frame
        self._add(rel, injected.rows, injected.kinds, injected.details)

        types = {c.name: c.arrow_type for c in spec.columns}
        file_kinds: list[str] = []
        file_details: list[str] = []
        if "column_added" in hits:
            name = EXTRA_COLUMNS[file_rng.integers(len(EXTRA_COLUMNS))]
            out.insert(
                int(file_rng.integers(0, out.shape[1] + 1)),
                name,
                _extra(name, spec, month, len(out)),
            )
            file_kinds.append("column_added")
            file_details.append(name)
        if "column_renamed" in hits:
            choices = [c for c in out.columns if c in COLUMN_ALIASES]
            old = choices[file_rng.integers(len(choices))]
            aliases = [a for a in COLUMN_ALIASES[old] if a not in out.columns]
            if aliases:
                new = aliases[file_rng.integers(len(aliases))]
                out = out.rename(columns={old: new})
                types[new] = types[old]
                file_kinds.append("column_renamed")
                file_details.append(f"{old}→{new}")
        if "column_reordered" in hits:
            perm = file_rng.permutation(out.shape[1])
            if (perm == np.arange(len(perm))).all():
                perm = np.roll(perm, 1)
            out = out.iloc[:, perm]
            file_kinds.append("column_reordered")
            file_details.append("|".join(out.columns))

        if spec.format == "csv":
            assert spec.encoding is not None
            encoding, bom = spec.encoding, spec.bom
            if "wrong_encoding" in hits:
                encoding = "utf-8" if spec.encoding == "gb18030" else "gb18030"
                bom = False
                file_kinds.append("wrong_encoding")
                file_details.append(f"{spec.encoding}→{encoding}")
            data = csv_bytes(out, encoding, bom)
        elif spec.format == "parquet":
            data = parquet_bytes(out, types)
        else:
            template = spec.title_first if month <= self.first_month else spec.title
            assert template is not None and spec.sheet is not None
            title = template.format(region=self.region_name, year=month[:4], month=month[5:])
            data = xlsx_bytes(out, spec.sheet, title)

        path = self.raw_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self._add(rel, [None] * len(file_kinds), file_kinds, file_details)
        if "delivered_twice" in hits:
            stem, ext = path.stem, path.suffix
            copy = f"{stem}(1){ext}" if file_rng.random() < 0.5 else f"{stem}_重报{ext}"
            (path.parent / copy).write_bytes(data)
            self._add(f"{spec.source}/{month}/{copy}", [None], ["delivered_twice"], [spec.name])

    def _file_defects(self, spec: FileSpec, month: str, rng: np.random.Generator) -> set[str]:
        """File-level defects hitting this file this month (none in a source's first month)."""
        draws = rng.random(len(FILE_KINDS))  # drawn always, so later draws stay stable
        if month <= self.first_month or spec.first_month_only:
            return set()
        hits = {k for k, u in zip(FILE_KINDS, draws, strict=True) if u < getattr(self.defects, k)}
        if spec.format != "csv":
            hits.discard("wrong_encoding")
        return hits

    def _add(self, rel: str, rows, kinds, details) -> None:
        if len(kinds):
            self._entries.append(_manifest_frame([rel] * len(kinds), rows, kinds, details))


def _manifest_frame(files, rows, kinds, details) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": pd.Series(files, dtype="str"),
            "row": pd.array(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype="Int64"),
            "kind": pd.Series(kinds, dtype="str"),
            "detail": pd.Series(details, dtype="str"),
        }
    )


def _extra(name: str, spec: FileSpec, month: str, n: int) -> pd.Series:
    """Values of a column a department added to its export."""
    if name == "序号":
        return pd.Series(np.arange(1, n + 1).astype(str), dtype="str")
    if name == "数据来源":
        return pd.Series([spec.department] * n, dtype="str")
    if name == "导出时间":
        stamp = (pd.Timestamp(f"{month}-01") + pd.offsets.MonthBegin(1)).strftime("%Y-%m-03 09:30:00")
        return pd.Series([stamp] * n, dtype="str")
    return pd.Series([None] * n, dtype="str")  # 备注, left empty
