"""Read a delivered file as its source definition says, or reject it with a clear reason.

A reader returns the rows under canonical column names (CSV and Excel values as strings,
Parquet values in their delivered types), the columns the definition does not know
(kept aside and reported), and notes on what was mapped. A file that is not in its
declared encoding, cannot be parsed, lacks a required column or is over its source's
limits raises :class:`FileRejected`; nothing half-decoded is ever returned.

Delivered files are hostile until read. So: a file is opened without following a
symbolic link and must be a regular file; its size, row count and column count are
checked against ``limits`` before it is parsed; Excel formulas are reported, never
evaluated or silently emptied; and no message ever quotes delivered content. A header
is quoted only when it is one the definition knows (in a file without its header row
the "headers" are a person's ID number and name), anything else as its column number.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import errno
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lowinc.sources import FileSpec, LimitName

if TYPE_CHECKING:  # openpyxl itself is imported only when an Excel file is read
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gb18030": "GB18030"}
HEADER_SEARCH_ROWS = 5  # an Excel header is looked for this far down when not where declared
CSV_BLOCK_BYTES = 16 << 20  # pyarrow's unit of parallel parsing; also the longest CSV row
FORMULA_KIND = "formula_in_data"
FORMULA_DETAIL = "formula in data (deliver values, not formulas)"


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
    notes: list[str] = field(default_factory=list)  # safe to report: no delivered values
    extra_labels: list[str] = field(default_factory=list)  # the unknown columns, safe to report
    # cells holding a formula: row position (0-based), canonical or extra column, header
    formulas: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"row": pd.Series(dtype="int64"), "column": [], "header": []})
    )


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


def header_label(spec: FileSpec, delivered: object, position: int) -> str:
    """A delivered header as a report may show it: itself when the definition knows it,
    else only its column number (an unknown "header" may be the first row of data)."""
    text = _clean_header(delivered)
    return text if text in spec.known_headers else f"column {position + 1} (unrecognised header)"


def describe_headers(spec: FileSpec, delivered: list[str]) -> str:
    """The delivered header row without quoting anything the definition does not know."""
    known = [h for h in map(_clean_header, delivered) if h in spec.known_headers]
    unknown = [i + 1 for i, h in enumerate(delivered) if _clean_header(h) not in spec.known_headers]
    parts = [f"{len(delivered)} columns"]
    if known:
        parts.append(f"known headers {', '.join(known)}")
    if unknown:
        parts.append(f"{len(unknown)} unrecognised (columns {_spans(unknown)})")
    return "; ".join(parts)


def _spans(numbers: list[int]) -> str:
    """[1, 2, 3, 5] → '1-3, 5'."""
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


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
                f"named {' or '.join(col.headers)}; found {describe_headers(spec, delivered)}",
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
    labels = [header_label(spec, delivered[i], i) for i in extra_pos]
    if extra_pos:  # the delivered headers are kept with the values, in quarantine/extra_columns
        notes.append(f"unknown columns kept aside: {', '.join(labels)}")
    return ReadResult(pd.DataFrame(out), headers, extras, notes, labels)


# --- opening and limits --------------------------------------------------------------------


def open_delivered(path: Path) -> IO[bytes]:
    """The file opened for reading, never through a symbolic link, and only a regular file
    (a FIFO or device would block or never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRejected(
                path, "is a symbolic link: not followed, nothing read", kind="symbolic_link"
            ) from None
        raise FileRejected(
            path, f"cannot be opened ({errno.errorcode.get(exc.errno or 0, 'error')})", kind="unreadable"
        ) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileRejected(path, "is not a regular file: nothing read", kind="unreadable")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def over_limit(path: Path, spec: FileSpec, name: LimitName, found: int, what: str) -> None:
    """Reject a file over one of its limits, naming the limit and where it is set."""
    limit = spec.limit(name)
    if found > limit:
        raise FileRejected(
            path,
            f"{what} {found:,} is over the limit of {limit:,} (limits.{name} of the source "
            "config); file rejected (split the file, or raise the limit if the size is genuine)",
            kind="over_limit",
        )


def _unexpected(path: Path, what: str, exc: BaseException) -> FileRejected:
    """A parser's own error, reported by its type only: its message may quote file content."""
    return FileRejected(path, f"cannot be read as {what} ({type(exc).__name__})", kind="unreadable")


# --- formats ------------------------------------------------------------------------------


def _csv_header(path: Path, spec: FileSpec, line: str) -> list[str]:
    try:
        header = next(csv.reader([line.rstrip("\r")], delimiter=spec.delimiter), [])
    except csv.Error as exc:
        raise FileRejected(path, "the header row cannot be parsed as CSV", kind="unreadable") from exc
    if not any(_clean_header(h) for h in header):
        raise FileRejected(path, f"row {spec.header_row} (the header row) is empty", kind="unreadable")
    over_limit(path, spec, "max_columns", len(header), "columns in the header row")
    return header


def _csv_body(path: Path, spec: FileSpec, body: str, names: list[str]) -> pa.Table:
    """The rows after the header as strings; a row with the wrong number of fields rejects
    the file, reported by counts (pyarrow's own message quotes the row)."""
    bad: list[tuple[int, int]] = []

    def invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.expected_columns, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, block_size=CSV_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=spec.delimiter, invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        big = "straddl" in str(exc)
        reason = f"a row is longer than {CSV_BLOCK_BYTES >> 20} MB" if big else "malformed CSV"
        raise FileRejected(path, f"cannot parse as CSV: {reason}", kind="unreadable") from exc
    if bad:
        raise FileRejected(
            path,
            f"cannot parse as CSV: {len(bad):,} rows do not have the header's {bad[0][0]} fields "
            f"(the first has {bad[0][1]}); file rejected",
            kind="unreadable",
        )
    return table


def read_csv(path: Path, spec: FileSpec, fh: IO[bytes]) -> ReadResult:
    size = os.fstat(fh.fileno()).st_size
    over_limit(path, spec, "max_uncompressed_bytes", size, "file size (bytes)")
    data = fh.read()
    over_limit(path, spec, "max_rows", max(data.count(b"\n") - spec.header_row, 0), "rows (lines)")
    text = decode_strict(path, data, spec.encoding)
    lines = text.split("\n", spec.header_row)
    if not text.strip() or len(lines) < spec.header_row:
        raise FileRejected(path, f"the file is empty ({size:,} bytes): no header row", kind="empty_file")
    header = _csv_header(path, spec, lines[spec.header_row - 1])
    names = [f"c{i}" for i in range(len(header))]
    body = lines[spec.header_row] if len(lines) > spec.header_row else ""
    if not body.strip():  # header only: nothing happened this month
        empty = pd.DataFrame({n: pd.Series([], dtype="str") for n in names})
        return _assemble(path, spec, header, empty)
    table = _csv_body(path, spec, body, names)
    over_limit(path, spec, "max_rows", table.num_rows, "rows")  # the line count was an estimate
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


ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*>")
ROW_NUMBER = re.compile(rb"\sr=[\"'](\d+)[\"']")


def sheet_rows(stream: IO[bytes]) -> int:
    """The rows a worksheet part spans, from its XML, without parsing it: the larger of the
    row elements' count and their highest row number (openpyxl yields every row up to it,
    so one cell on row 1,048,576 costs a million empty rows)."""
    count = last = 0
    tail = b""
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        data = tail + chunk
        cut = data.rfind(b"<")
        tail, data = (data[cut:][-65536:], data[:cut]) if data.find(b">", cut) == -1 else (b"", data)
        for tag in ROW_TAG.findall(data):
            count += 1
            if m := ROW_NUMBER.search(tag):
                digits = m.group(1)
                last = max(last, int(digits) if len(digits) <= 18 else 10**18)
    return max(count, last)


def _check_workbook(path: Path, spec: FileSpec, fh: IO[bytes]) -> None:
    """Before openpyxl sees it: a zip whose parts together unpack within the limit."""
    try:
        with zipfile.ZipFile(fh) as archive:
            declared = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise FileRejected(
            path, "cannot open as an Excel workbook (not a valid .xlsx zip archive)", kind="unreadable"
        ) from exc
    over_limit(path, spec, "max_uncompressed_bytes", declared, "unpacked size of the workbook (bytes)")
    fh.seek(0)


def _row_texts(cells: tuple[Any, ...]) -> tuple[list[str], list[int]]:
    """One sheet row as strings, and the positions of its formula cells (their text kept
    as delivered, for the quarantine record)."""
    values = [
        _cell_text(c.value) if c.data_type != "f" else str(getattr(c.value, "text", c.value)) for c in cells
    ]
    return values, [i for i, c in enumerate(cells) if c.data_type == "f"]


def _find_header(path: Path, spec: FileSpec, top: list[list[str]]) -> tuple[int, list[str]]:
    """The header row (0-based) among the first rows, where declared or the best match."""

    def hits(r: list[str]) -> int:
        return sum(_clean_header(v) in spec.known_headers for v in r)

    header_at = spec.header_row - 1
    notes: list[str] = []
    if header_at >= len(top) or hits(top[header_at]) == 0:
        best = max(range(len(top)), key=lambda i: hits(top[i]), default=None)
        if best is None or hits(top[best]) == 0:
            raise FileRejected(
                path, "no header row with known column names found", kind="missing_required_column"
            )
        notes.append(f"header found on row {best + 1}, not on the declared row {spec.header_row}")
        header_at = best
    return header_at, notes


def read_xlsx(path: Path, spec: FileSpec, fh: IO[bytes]) -> ReadResult:
    """Excel: the header is on ``header_row`` (a title row may sit above it); dates → ISO.

    Read with formulas visible (``data_only=False``): a formula without a cached value would
    otherwise read as an empty cell, and one with a cached value is still not delivered
    data; both are reported in ``formulas`` and their rows quarantined.
    """
    import openpyxl  # only Excel sources pay for it

    _check_workbook(path, spec, fh)
    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
    except Exception as exc:  # a broken zip or not an xlsx at all
        raise _unexpected(path, "an Excel workbook", exc) from exc
    try:
        if spec.sheet and spec.sheet not in wb.sheetnames:
            raise FileRejected(
                path,
                f"sheet {spec.sheet} not found; the workbook has {len(wb.sheetnames)} other sheet(s)",
                kind="unreadable",
            )
        ws = wb[spec.sheet] if spec.sheet else wb.worksheets[0]
        with wb._archive.open(ws._worksheet_path) as part:  # openpyxl keeps the zip open
            over_limit(path, spec, "max_rows", sheet_rows(part), "rows of the sheet (its last row number)")
        ws.reset_dimensions()  # a sheet's declared size is not trusted: it pads every row to it
        return _read_sheet(path, spec, ws)
    except FileRejected:
        raise
    except Exception as exc:
        raise _unexpected(path, "an Excel workbook", exc) from exc
    finally:
        wb.close()


def _read_sheet(path: Path, spec: FileSpec, ws: ReadOnlyWorksheet) -> ReadResult:
    """Header among the first rows (at most ``max_columns`` wide), then the rows below it
    cut to the header's width; stops at ``max_rows`` whatever the sheet claims."""
    wide = spec.limit("max_columns")
    top = [
        _row_texts(r)[0]
        for r in ws.iter_rows(max_row=max(HEADER_SEARCH_ROWS, spec.header_row), max_col=wide + 1)
    ]
    header_at, notes = _find_header(path, spec, top)
    header = top[header_at]
    width = max((i + 1 for i, v in enumerate(header) if v != ""), default=0)
    over_limit(path, spec, "max_columns", width, "columns in the header row")
    header = header[:width]
    body: list[list[str]] = []
    formulas: list[tuple[int, int]] = []
    for n, cells in enumerate(ws.iter_rows(min_row=header_at + 2, max_col=width)):
        over_limit(path, spec, "max_rows", n + 1, "rows of the sheet")
        values, at = _row_texts(cells)
        if any(v != "" for v in values):
            formulas.extend((len(body), i) for i in at)
            body.append(values)
    frame = pd.DataFrame(body, columns=[f"c{i}" for i in range(width)], dtype="str")
    result = _assemble(path, spec, header, frame)
    result.notes[:0] = notes
    result.formulas = _formula_cells(spec, header, result, formulas)
    return result


def _formula_cells(
    spec: FileSpec, header: list[str], result: ReadResult, cells: list[tuple[int, int]]
) -> pd.DataFrame:
    """Formula cells by row and column: the canonical name where the column maps to one,
    else the extra column's name (as it is stored in quarantine/extra_columns)."""
    mapping, _ = map_headers(Path(""), spec, header)
    extra = iter(result.extras.columns)
    extra_names = {i: next(extra) for i in range(len(header)) if i not in mapping}
    rows = [r for r, _ in cells]
    columns = [mapping.get(i, extra_names.get(i, "")) for _, i in cells]
    headers = [
        result.headers.get(c, _clean_header(header[i])) if i in mapping else extra_names[i]
        for (_, i), c in zip(cells, columns, strict=True)
    ]
    return pd.DataFrame({"row": pd.Series(rows, dtype="int64"), "column": columns, "header": headers})


def read_parquet(path: Path, spec: FileSpec, fh: IO[bytes]) -> ReadResult:
    """Parquet: its metadata (rows, unpacked size, columns) is checked before any data is read."""
    try:
        meta = pq.ParquetFile(fh).metadata
    except Exception as exc:
        raise _unexpected(path, "Parquet", exc) from exc
    over_limit(path, spec, "max_rows", meta.num_rows, "rows")
    over_limit(path, spec, "max_columns", meta.num_columns, "columns")
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    over_limit(path, spec, "max_uncompressed_bytes", unpacked, "unpacked size (bytes)")
    try:
        fh.seek(0)
        table = pq.read_table(fh)
        delivered = list(table.column_names)
        frame = table.rename_columns([f"c{i}" for i in range(len(delivered))]).to_pandas()
    except Exception as exc:
        raise _unexpected(path, "Parquet", exc) from exc
    return _assemble(path, spec, delivered, frame)


READERS = {"csv": read_csv, "xlsx": read_xlsx, "parquet": read_parquet}


def read_delivered(path: Path, spec: FileSpec) -> ReadResult:
    """Read one delivered file per its definition; raises FileRejected (any failure of the
    parsers becomes one, naming only its type: their messages may quote the file)."""
    with open_delivered(path) as fh:
        try:
            return READERS[spec.format](path, spec, fh)
        except FileRejected:
            raise
        except Exception as exc:
            raise _unexpected(path, spec.format.upper(), exc) from exc
