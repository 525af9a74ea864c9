"""Score one as-of date: read the snapshot, load the champion, score, explain, tier and list;
write the scores and the visit list under <home>/scores/as_of=YYYY-MM-01/.

The outputs carry household keys (keyed hashes) and division codes only: names and masked
IDs are added when a list is exported for the worker entitled to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds

from features.store import available_as_ofs, read_snapshots
from lowinc.divisions import load_divisions
from lowinc.errors import NotFound
from lowinc.home import HomeLayout
from lowinc.inputs import parse_as_of
from lowinc.private import write_parquet
from models.registry import load_champion
from pipelines.settings import Settings
from scoring.scorer import Scored, Scorer, score_snapshot
from scoring.tiers import TRIGGER_FEATURES


@dataclass
class ScoreRun:
    """What one scoring run did (the CLI's --json)."""

    as_of: str
    model_version: str
    households_scored: int
    explained: int
    tiers: dict[str, int]
    listed: int
    output: str
    seconds: dict[str, float] = field(default_factory=dict)


def resolve_as_of(home: Path, as_of: str | None) -> pd.Timestamp:
    """The given as-of date (1st of a month), or the latest snapshot's."""
    available = available_as_ofs(home)
    if as_of is None:
        if not available:
            raise NotFound("no feature snapshot yet", hint="lowinc features --from ... --to ... first")
        return available[-1]
    ts = parse_as_of(str(as_of))
    if ts not in available:
        raise NotFound(
            f"no feature snapshot for {ts:%Y-%m-%d}", hint=f"lowinc features --as-of {ts:%Y-%m-%d}"
        )
    return ts


def with_names(visit_list: pd.DataFrame) -> pd.DataFrame:
    """Village and township names from the division list."""
    names = load_divisions()[["village_code", "village_name", "town_name"]]
    return visit_list.merge(names, on="village_code", how="left", validate="many_to_one")


def ever_listed(layout: HomeLayout, as_of: pd.Timestamp) -> pd.Series:
    """Household keys on the visit list of any as-of date before ``as_of``: one scan of the
    key column of every earlier list (a list is a town's capacity, so this stays small)."""
    paths = [str(p) for p in layout.visit_lists_before(as_of)]
    if not paths:
        return pd.Series(dtype="str")
    keys = ds.dataset(paths, format="parquet").to_table(columns=["household_key"]).column(0)
    return pd.Series(pc.unique(keys).to_pandas(), dtype="str")


def write_outputs(layout: HomeLayout, as_of: pd.Timestamp, scored: Scored) -> Path:
    write_parquet(scored.scores, layout.scores_file(as_of))  # a re-run replaces each file whole
    write_parquet(scored.visit_list, layout.visit_list(as_of))
    return layout.scores_at(as_of)


def score_as_of(
    settings: Settings, as_of: str | None, model: Scorer | None = None
) -> tuple[ScoreRun, Scored]:
    """Score the snapshot of ``as_of`` (default: the latest) with the champion."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ts = resolve_as_of(settings.home, as_of)
    snapshot = read_snapshots(settings.home, [ts])
    before = ts - pd.DateOffset(months=1)
    previous = (
        read_snapshots(settings.home, [before], columns=["household_key", *TRIGGER_FEATURES])
        if before in available_as_ofs(settings.home)
        else None
    )
    timings["read"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    model = model or load_champion(settings.model, settings.home)
    timings["load_model"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    scored = score_snapshot(snapshot, model, settings.scoring, previous, ever_listed(settings.layout, ts))
    scored = Scored(scored.scores, with_names(scored.visit_list), scored.explained)
    timings["score_explain_list"] = round(time.perf_counter() - t, 2)
    folder = write_outputs(settings.layout, ts, scored)
    tiers = scored.scores["tier"].value_counts()
    run = ScoreRun(
        as_of=f"{ts:%Y-%m-%d}",
        model_version=str(model.version or ""),
        households_scored=len(scored.scores),
        explained=scored.explained,
        tiers={t: int(tiers.get(t, 0)) for t in ("red", "orange", "yellow", "blue")},
        listed=len(scored.visit_list),
        output=str(folder),
        seconds=timings,
    )
    return run, scored


def read_visit_list(layout: HomeLayout, as_of: pd.Timestamp) -> pd.DataFrame:
    return pd.read_parquet(layout.visit_list(as_of))
