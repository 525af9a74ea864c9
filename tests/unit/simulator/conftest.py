"""Small clean frames of every contract file, as the engine would hand them to the writer."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from lowinc.idno import complete_vec, make_first17
from simulator.contract import FILES, FileSpec

Frames = dict[str, pd.DataFrame]


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    birth = np.datetime64("1935-01-01") + rng.integers(0, 80 * 365, n).astype("timedelta64[D]")
    seq = rng.permutation(1000)[:n] if n <= 1000 else rng.integers(0, 1000, n)
    first17 = make_first17(np.full(n, "330502"), birth, seq)
    return complete_vec(first17).astype(str)


def _dates(rng: np.random.Generator, n: int, end: str, with_time: bool = False) -> pd.Series:
    start = pd.Timestamp("2015-01-01")
    span = int((pd.Timestamp(end) - start).total_seconds())
    secs = rng.integers(0, span, n)
    if not with_time:
        secs -= secs % 86400
    return pd.Series(start + pd.to_timedelta(secs, unit="s"))


def _money(rng: np.random.Generator, n: int, scale: float = 3000.0) -> np.ndarray:
    return np.round(rng.uniform(1, scale, n), 2)


def _column(spec: FileSpec, name: str, rng: np.random.Generator, n: int, end: str) -> object:
    col = spec.column(name)
    if col.kind == "id":
        return _ids(rng, n)
    if col.kind == "cert":
        return np.char.add(_ids(rng, n), rng.integers(11, 75, n).astype(str))
    if col.kind == "date":
        return _dates(rng, n, end)
    if col.kind == "datetime":
        return _dates(rng, n, end, with_time=True)
    if col.kind in ("money", "number"):
        values = _money(rng, n)
        if col.nullable:
            values[rng.random(n) < 0.2] = np.nan
        return values
    if col.kind == "int":
        return rng.integers(1, 6, n).astype(np.int64)
    if col.kind == "period":
        return np.full(n, int(end[:4] + end[5:7]), dtype=np.int64)
    if col.kind == "category":
        return np.array(col.values, dtype=object)[rng.integers(0, len(col.values), n)]
    if col.kind == "code":
        if name == "区划代码":
            return np.full(n, "330502001001", dtype=object)
        return np.char.add(f"{zlib.crc32(name.encode()) % 90 + 10}", np.arange(n).astype(str).astype("U10"))
    return np.array(["张三", "李小四", "欧阳娜娜"], dtype=object)[rng.integers(0, 3, n)]


def make_frame(spec: FileSpec, n: int, month: str, seed: int = 0) -> pd.DataFrame:
    """A clean frame of ``spec`` with ``n`` rows and values known before ``month``."""
    rng = np.random.default_rng([seed, len(spec.key)])
    frame = pd.DataFrame({c.name: _column(spec, c.name, rng, n, f"{month}-01") for c in spec.columns})
    for col in spec.columns:
        if col.kind in ("id", "cert", "code", "text", "category"):
            frame[col.name] = frame[col.name].astype("str")
    if spec.parts_total:
        total, *parts = spec.parts_total
        cents = rng.integers(0, 500_000, (n, len(parts)))
        for j, p in enumerate(parts):
            frame[p] = cents[:, j] / 100
        frame[total] = cents.sum(axis=1) / 100
    if "户主身份证号" in frame and "成员身份证号" in frame:
        frame.loc[::3, "户主身份证号"] = frame.loc[::3, "成员身份证号"]
    return frame


@pytest.fixture
def make_frames() -> Callable[..., Frames]:
    """Frames for every file of a month: ``make_frames(n, month, first=False)``."""

    def build(n: int, month: str, first: bool = False, seed: int = 0) -> Frames:
        return {
            spec.key: make_frame(spec, n, month, seed) for spec in FILES if first or not spec.first_month_only
        }

    return build
