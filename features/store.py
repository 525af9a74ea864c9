"""Where snapshots and their truth live under the home, one folder per as-of date and county.

    <home>/features/snapshots/as_of=YYYY-MM-01/county_code=XXXXXX/part-0.parquet
    <home>/features/truth/as_of=YYYY-MM-01/part-0.parquet

Partition values live in the folder names (hive style, so Dask or pyarrow.dataset can take
one county at a time) and are restored as columns on reading. The truth tree is apart from
the snapshots: nothing that reads snapshots can pick up an evaluation-only column.
A re-run replaces an as-of date whole (written beside it, then swapped in).

The labels travel with the snapshot (``label``, ``label_applied``, ``visit_label``,
``visit_weight``, ``label_complete``: features/labels.py). The nullable booleans come back as
pandas ``boolean`` from the pandas metadata pyarrow stores, also from a county file whose
visit labels are all missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lowinc.home import HomeLayout

PART = "part-0.parquet"
PARTITION_COLUMNS = ("as_of", "county_code")


def snapshots_dir(home: Path) -> Path:
    return HomeLayout(Path(home)).snapshots


def truth_dir(home: Path) -> Path:
    return HomeLayout(Path(home)).feature_truth


def _as_of_folder(as_of: pd.Timestamp) -> str:
    return f"as_of={pd.Timestamp(as_of):%Y-%m-%d}"


def _replace(target: Path, fill: Callable[[Path], None]) -> None:
    """Write a folder beside its final place, then swap it in (a crash leaves the old one)."""
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    fill(staging)
    old = target.with_name(target.name + ".old")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd")


def write_snapshot(home: Path, as_of: pd.Timestamp, frame: pd.DataFrame, truth: pd.DataFrame | None) -> Path:
    """Write one snapshot, a file per county, and its truth (if any) in the truth tree."""
    target = snapshots_dir(home) / _as_of_folder(as_of)
    data = frame.drop(columns=list(PARTITION_COLUMNS))
    county = frame["county_code"].astype("str").to_numpy()

    def fill(folder: Path) -> None:
        for code in sorted(set(county)):
            _write(data[county == code], folder / f"county_code={code}" / PART)

    _replace(target, fill)
    truth_target = truth_dir(home) / _as_of_folder(as_of)
    if truth is not None:
        _replace(truth_target, lambda folder: _write(truth.drop(columns=["as_of"]), folder / PART))
    else:
        shutil.rmtree(truth_target, ignore_errors=True)
    return target


def rewrite_labels(home: Path, as_of: pd.Timestamp, labels: pd.DataFrame) -> Path:
    """Replace the label columns of the written snapshot at T, county file by county file,
    leaving every other column as written. ``labels`` has ``household_key`` and the label
    columns, for exactly the snapshot's households (any order). The as-of folder is swapped
    in whole, as a build writes it."""
    target = snapshots_dir(home) / _as_of_folder(as_of)
    keys = labels["household_key"].astype("str")
    if not keys.is_unique:
        raise ValueError("labels: one row per household")
    columns = [c for c in labels.columns if c != "household_key"]
    value_set = pa.array(keys.to_numpy(dtype=object), type=pa.string())
    given = pa.Table.from_pandas(labels[columns], preserve_index=False)

    def fill(folder: Path) -> None:
        for county_dir in sorted(target.glob("county_code=*")):
            table = pq.read_table(county_dir / PART)
            where = pc.index_in(table.column("household_key").cast(pa.string()), value_set=value_set)
            if where.null_count:  # a hash join in Arrow: pandas' isin on Arrow strings loops in Python
                raise ValueError(f"labels: households of {county_dir.name} missing")
            new = given.take(where)
            for name in columns:
                idx = table.schema.get_field_index(name)
                field = table.schema.field(idx)
                table = table.set_column(idx, field, new.column(name).cast(field.type))
            out = folder / county_dir.name / PART
            out.parent.mkdir(parents=True)
            pq.write_table(table, out, compression="zstd")

    _replace(target, fill)
    return target


def snapshot_columns(home: Path, as_of: pd.Timestamp) -> tuple[str, ...]:
    """The columns of the written snapshot at T in the order read_snapshots gives them
    (empty when there is none, or when its county files disagree)."""
    files = sorted((snapshots_dir(home) / _as_of_folder(as_of)).glob(f"county_code=*/{PART}"))
    schemas = {tuple(pq.read_schema(f).names) for f in files}
    if len(schemas) != 1:
        return ()
    names = schemas.pop()
    return (names[0], *PARTITION_COLUMNS, *names[1:])


def truth_rows(home: Path, as_of: pd.Timestamp) -> int:
    """Households with a latent fall outcome in the truth at T (0 without truth)."""
    path = truth_dir(home) / _as_of_folder(as_of) / PART
    if not path.exists():
        return 0
    fall = pq.read_table(path, columns=["latent_fall"]).column("latent_fall")
    return int(len(fall) - fall.null_count)


def _as_ofs_in(root: Path) -> list[pd.Timestamp]:
    if not root.exists():
        return []
    found = [
        p.name.split("=", 1)[1]
        for p in root.glob("as_of=*")
        if p.is_dir() and not p.name.endswith((".tmp", ".old"))
    ]
    return [pd.Timestamp(d) for d in sorted(found)]


def available_as_ofs(home: Path) -> list[pd.Timestamp]:
    """As-of dates with a snapshot written, oldest first."""
    return _as_ofs_in(snapshots_dir(home))


def _chosen(available: list[pd.Timestamp], as_ofs: Iterable[pd.Timestamp | str] | None) -> list[pd.Timestamp]:
    if as_ofs is None:
        return available
    wanted = {pd.Timestamp(a) for a in as_ofs}
    return [a for a in available if a in wanted]


def read_snapshots(
    home: Path, as_ofs: Iterable[pd.Timestamp | str] | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """Snapshots (all, or the given as-of dates), with ``as_of`` and ``county_code`` restored
    and rows ordered by as-of date, county, then as written."""
    parts = []
    for as_of in _chosen(available_as_ofs(home), as_ofs):
        folder = snapshots_dir(home) / _as_of_folder(as_of)
        for county_dir in sorted(folder.glob("county_code=*")):
            cols = None if columns is None else [c for c in columns if c not in PARTITION_COLUMNS]
            frame = pq.read_table(county_dir / PART, columns=cols).to_pandas()
            frame.insert(0, "county_code", county_dir.name.split("=", 1)[1])
            frame.insert(0, "as_of", pd.Series(as_of, index=frame.index).astype("datetime64[us]"))
            parts.append(frame)
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    out["county_code"] = out["county_code"].astype("str")
    if columns is not None:
        chosen: pd.DataFrame = out[list(columns)]
        return chosen
    # the written column order: household_key first, then the partition columns
    order = ["household_key", "as_of", *[c for c in out.columns if c not in ("household_key", "as_of")]]
    ordered: pd.DataFrame = out[order]
    return ordered


def read_truth(home: Path, as_ofs: Iterable[pd.Timestamp | str] | None = None) -> pd.DataFrame:
    """Latent truth rows (household_key, as_of, latent_fall, p_fall); evaluation only."""
    parts: list[pd.DataFrame] = []
    for as_of in _chosen(_as_ofs_in(truth_dir(home)), as_ofs):
        frame = pq.read_table(truth_dir(home) / _as_of_folder(as_of) / PART).to_pandas()
        frame.insert(1, "as_of", pd.Series(as_of, index=frame.index).astype("datetime64[us]"))
        parts.append(frame)
    if not parts:
        return pd.DataFrame(
            {
                "household_key": pd.Series(dtype="str"),
                "as_of": pd.Series(dtype="datetime64[us]"),
                "latent_fall": pd.Series(dtype="boolean"),
                "p_fall": pd.Series(dtype="float64"),
            }
        )
    out = pd.concat(parts, ignore_index=True)
    out["latent_fall"] = out["latent_fall"].astype("boolean")
    return out
