"""What monitoring reads from the project home: scored months, scores, shadow scores, the
month's cohort features, a matured month's labels, and the months each version scored."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from features import store
from lowinc.errors import NotFound
from lowinc.home import SCORES_FILE, HomeLayout
from lowinc.inputs import parse_as_of
from lowinc.private import write_parquet

SHADOW = re.compile(r"^shadow-v(?P<version>[0-9]+)\.parquet$")
LABEL_COLUMNS = ["household_key", "in_cohort", "label_complete", "label"]


def scored_months(layout: HomeLayout) -> list[pd.Timestamp]:
    """As-of dates with a scores file, oldest first."""
    return [pd.Timestamp(d) for d in layout.dates_with(SCORES_FILE)]


def resolve_month(layout: HomeLayout, as_of: str | None) -> pd.Timestamp:
    """The given scored as-of date (1st of a month), or the latest scored one."""
    months = scored_months(layout)
    if as_of is None:
        if not months:
            raise NotFound("no scored month to monitor yet", hint="lowinc score (or lowinc monthly)")
        return months[-1]
    ts = parse_as_of(str(as_of))
    if ts not in months:
        raise NotFound(f"no scores for {ts:%Y-%m-%d}", hint=f"lowinc score --as-of {ts:%Y-%m-%d} first")
    return ts


def shadow_file(layout: HomeLayout, as_of: pd.Timestamp, version: str) -> Path:
    return layout.scores_at(as_of) / f"shadow-v{version}.parquet"


def read_scores(layout: HomeLayout, as_of: pd.Timestamp) -> pd.DataFrame:
    return pd.read_parquet(
        layout.scores_file(as_of), columns=["household_key", "risk", "tier", "model_version"]
    )


def shadow_versions(layout: HomeLayout, as_of: pd.Timestamp) -> list[str]:
    folder = layout.scores_at(as_of)
    found = [m["version"] for p in folder.glob("shadow-v*.parquet") if (m := SHADOW.match(p.name))]
    return sorted(found, key=int)


def write_shadow(
    layout: HomeLayout, as_of: pd.Timestamp, version: str, keys: pd.Series, risk: np.ndarray
) -> Path:
    """A challenger's risks for the month (household key and risk only), replaced whole on a re-run."""
    frame = pd.DataFrame({"household_key": keys.to_numpy(), "risk": risk})
    return write_parquet(frame, shadow_file(layout, as_of, version))


def first_month(layout: HomeLayout, version: str) -> pd.Timestamp | None:
    """The first as-of date the version scored, serving or in shadow (its step 0)."""
    for as_of in scored_months(layout):
        if shadow_file(layout, as_of, version).exists():
            return as_of
        column = pq.read_table(layout.scores_file(as_of), columns=["model_version"]).column(0)
        if version in set(column.unique().to_pylist()):
            return as_of
    return None


def months_between(start: pd.Timestamp, end: pd.Timestamp) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def snapshot_columns(home: Path, as_of: pd.Timestamp) -> set[str]:
    """The columns of the month's snapshot (its first county's file schema, no rows read)."""
    folder = store.snapshots_dir(home) / f"as_of={as_of:%Y-%m-%d}"
    first = next(iter(sorted(folder.glob("county_code=*/*.parquet"))), None)
    return set() if first is None else {*pq.read_schema(first).names, "as_of", "county_code"}


def cohort_frame(home: Path, as_of: pd.Timestamp, scores: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The month's cohort: the scored households with ``columns`` of their snapshot row, in the
    scores' order (a household scored but missing from the snapshot is an error, not a gap)."""
    wanted = list(dict.fromkeys(["household_key", *columns]))
    snapshot = store.read_snapshots(home, [as_of], columns=wanted)
    if snapshot.empty:
        raise NotFound(
            f"no feature snapshot for {as_of:%Y-%m-%d}", hint=f"lowinc features --as-of {as_of:%Y-%m-%d}"
        )
    snapshot = single_precision(snapshot)
    return scores[["household_key"]].merge(snapshot, on="household_key", how="left", validate="one_to_one")


def single_precision(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns as float32, as the model reads them (``models.schema.design_matrix``): half
    the memory, and the reference and a month are binned on the very same values (a float64
    value at a decile edge can round above it in float32)."""
    numeric = [c for c in frame.columns if frame[c].dtype == "float64"]
    return frame.astype({c: "float32" for c in numeric})


def matured_labels(home: Path, as_of: pd.Timestamp, group_columns: list[str]) -> pd.DataFrame | None:
    """The cohort's labels of ``as_of`` when every one is complete, else None (not yet matured,
    or the snapshot is gone)."""
    if as_of not in store.available_as_ofs(home):
        return None
    frame = store.read_snapshots(home, [as_of], columns=list(dict.fromkeys([*LABEL_COLUMNS, *group_columns])))
    cohort = frame.loc[frame["in_cohort"].to_numpy(bool)]
    if cohort.empty or not cohort["label_complete"].astype(bool).all():
        return None
    known = cohort.loc[cohort["label"].notna()]  # as in training: a row without a label is not judged
    return known.assign(label=known["label"].astype(bool))
