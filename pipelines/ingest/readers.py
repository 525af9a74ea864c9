"""Read a delivered file as its source definition says, or reject it with a clear reason.

A reader returns the rows under canonical column names (CSV and Excel values as strings,
Parquet values in their delivered types), the columns the definition does not know
(kept aside and reported), and notes on what was mapped. A file that is not in its
declared encoding, cannot be parsed or lacks a required column raises
:class:`FileRejected`; nothing half-decoded is ever returned.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lowinc.sources import FileSpec

ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gb18030": "GB18030"}
HEADER_SEARCH_ROWS = 5  # an Excel header is looked for this far down when not where declared


class FileRejected(Exception):
    """A delivered file that cannot be ingested as a whole (stops only this file)."""

    def __init__(self, path: Path, reason: str, kind: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason
        self.kind = kind


@dataclass
class ReadResult:
    """The rows of one file under canonical names, plus what did not map."""

    frame: pd.DataFrame  # canonical column names; a missing optional column is all-missing
    headers: dict[str, str]  # canonical name → header as delivered
    extras: pd.DataFrame  # unknown columns as delivered, same row order as frame
    notes: list[str] = field(default_factory=list)


# --- encodings ---------------------------------------------------------------------------


def detect_encoding(data: bytes) -> str:
    """What encoding a byte string appears to be in: UTF-8 (BOM), UTF-8, GB18030 or unknown."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"  # also plain ASCII, which every declared encoding reads the same
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return "unknown"


def decode_strict(path: Path, data: bytes, declared: str) -> str:
    """Decode a whole file in its declared encoding, or reject it naming what it appears to be.

    A GB18030 file read as UTF-8 fails to decode; a UTF-8 file read as GB18030 usually
    *does* decode, into mojibake, so a GB18030 declaration is also checked against the
    bytes being valid UTF-8 with multibyte characters (real GB18030 Chinese text almost
    never is).
    """
    appears = detect_encoding(data)
    ascii_only = data.isascii()
    if declared == "gb18030":
        ok = ascii_only or appears == "gb18030"
    else:  # UTF-8 is accepted with or without a BOM
        ok = appears in ("utf-8", "utf-8-sig")
    if not ok:
        raise FileRejected(
            path,
            f"declared encoding {ENCODING_NAMES[declared]}, but the file appears to be "
            f"{ENCODING_NAMES.get(appears, 'in an unknown encoding')}; "
            "file rejected (re-deliver it in the declared encoding or fix the source config)",
            kind="wrong_encoding",
        )
    if appears == "utf-8-sig":
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    return data.decode("utf-8" if appears == "utf-8" else "gb18030")


# --- header mapping ------------------------------------------------------------------------


def _clean_header(h: object) -> str:
    return str(h).replace("\ufeff", "").strip() if h is not None else ""


def map_headers(path: Path, spec: FileSpec, delivered: list[str]) -> tuple[dict[int, str], list[str]]:
    """Positions of delivered columns → canonical names; notes; rejects a missing required one."""
    lookup = {h: c.name for c in spec.columns for h in c.headers}
    mapping: dict[int, str] = {}
    notes: list[str] = []
    for i, raw in enumerate(delivered):
        name = lookup.get(_clean_header(raw))
        if name is None or name in mapping.values():
            continue
        mapping[i] = name
        col = spec.column(name)
        if _clean_header(raw) != col.header:
            notes.append(f"column {_clean_header(raw)} mapped to {col.header} ({name}) by alias")
    found = set(mapping.values())
    for col in spec.columns:
        if col.name in found:
            continue
        if col.required:
            raise FileRejected(
                path,
                f"required column {col.header} ({col.name}) is missing; expected a header "
                f"named {' or '.join(col.headers)}; "
                f"found {', '.join(map(_clean_header, delivered))}",
                kind="missing_required_column",
            )
        notes.append(f"optional column {col.header} ({col.name}) is missing: left empty")
    return mapping, notes


def _assemble(path: Path, spec: FileSpec, delivered: list[str], frame: pd.DataFrame) -> ReadResult:
    """Rename positional columns to canonical names; keep unknown columns aside."""
    mapping, notes = map_headers(path, spec, delivered)
    n = len(frame)
    out = {}
    headers = {}
    for col in spec.columns:
        pos = next((i for i, name in mapping.items() if name == col.name), None)
        if pos is None:
            out[col.name] = pd.Series(pd.NA, index=range(n), dtype="str")
            headers[col.name] = col.header
        else:
            out[col.name] = frame.iloc[:, pos].reset_index(drop=True)
            headers[col.name] = _clean_header(delivered[pos])
    extra_pos = [i for i in range(len(delivered)) if i not in mapping]
    extras = frame.iloc[:, extra_pos].reset_index(drop=True)
    extras.columns = [_clean_header(delivered[i]) or f"column_{i + 1}" for i in extra_pos]
    if extra_pos:
        notes.append(f"unknown columns kept aside: {', '.join(map(str, extras.columns))}")
    return ReadResult(pd.DataFrame(out), headers, extras, notes)


# --- formats ------------------------------------------------------------------------------


def read_csv(path: Path, spec: FileSpec) -> ReadResult:
    text = decode_strict(path, path.read_bytes(), spec.encoding)
    lines = text.split("\n", spec.header_row)
    if len(lines) < spec.header_row:
        raise FileRejected(path, "the file is empty: no header row", kind="unreadable")
    header = next(csv.reader(io.StringIO(lines[spec.header_row - 1].rstrip("\r")), delimiter=spec.delimiter))
    names = [f"c{i}" for i in range(len(header))]
    body = lines[spec.header_row] if len(lines) > spec.header_row else ""
    if not body.strip():  # header only: nothing happened this month
        empty = pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
        return _assemble(path, spec, header, empty)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=spec.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise FileRejected(path, f"cannot parse as CSV: {exc}", kind="unreadable") from exc
    return _assemble(path, spec, header, table.to_pandas())


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d" if v.time() == dt.time() else "%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_xlsx(path: Path, spec: FileSpec) -> ReadResult:
    """Excel: the header is on ``header_row`` (a title row may sit above it); dates → ISO."""
    import openpyxl  # only Excel sources pay for it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a broken zip or not an xlsx at all
        raise FileRejected(path, f"cannot open as an Excel workbook: {exc}", kind="unreadable") from exc
    try:
        if spec.sheet and spec.sheet not in wb.sheetnames:
            raise FileRejected(
                path,
                f"sheet {spec.sheet} not found; sheets: {', '.join(wb.sheetnames)}",
                kind="unreadable",
            )
        ws = wb[spec.sheet] if spec.sheet else wb.worksheets[0]
        rows = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    known = {h for c in spec.columns for h in c.headers}
    notes: list[str] = []

    def hits(r: list[str]) -> int:
        return sum(_clean_header(v) in known for v in r)

    header_at = spec.header_row - 1
    if header_at >= len(rows) or hits(rows[header_at]) == 0:
        best = max(range(min(HEADER_SEARCH_ROWS, len(rows))), key=lambda i: hits(rows[i]), default=None)
        if best is None or hits(rows[best]) == 0:
            raise FileRejected(
                path, "no header row with known column names found", kind="missing_required_column"
            )
        notes.append(f"header found on row {best + 1}, not on the declared row {spec.header_row}")
        header_at = best
    header = rows[header_at]
    body = [r for r in rows[header_at + 1 :] if any(v != "" for v in r)]
    width = len(header)
    frame = pd.DataFrame(
        [(r + [""] * width)[:width] for r in body],
        columns=[f"c{i}" for i in range(width)],
        dtype="str",
    )
    result = _assemble(path, spec, header, frame)
    result.notes[:0] = notes
    return result


def read_parquet(path: Path, spec: FileSpec) -> ReadResult:
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise FileRejected(path, f"cannot read as Parquet: {exc}", kind="unreadable") from exc
    delivered = list(table.column_names)
    frame = table.rename_columns([f"c{i}" for i in range(len(delivered))]).to_pandas()
    return _assemble(path, spec, delivered, frame)


READERS = {"csv": read_csv, "xlsx": read_xlsx, "parquet": read_parquet}


def read_delivered(path: Path, spec: FileSpec) -> ReadResult:
    """Read one delivered file per its definition; raises FileRejected."""
    return READERS[spec.format](path, spec)
