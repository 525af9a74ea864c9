"""One row per household at T: the spine, every registered feature and the labels.

Pure: takes canonical frames (each with ``known_month`` and ``event_date``) and returns a
frame; reading and writing live in pipelines/featurize. Each feature module filters to rows
known before T itself, so the result is the same whatever extra rows the caller passes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features import assistance, composition, disability, events, housing, income, labels, medical
from features.config import FeaturesConfig
from features.policy import PolicyLinesConfig, policy_lines
from features.registry import FEATURE_NAMES, FEATURES
from features.spine import Spine, build_spine

SPINE_COLUMNS = (
    "household_key",
    "as_of",
    "county_code",
    "town_code",
    "village_code",
    "urban",
    "household_type",
    "assistance_state",
    "in_phase_out",
    "in_cohort",
)
LABEL_COLUMNS = ("label", "label_complete")
SNAPSHOT_COLUMNS = (*SPINE_COLUMNS, *FEATURE_NAMES, *LABEL_COLUMNS)
NUMPY_DTYPE = {"float": "float64", "int": "int64", "bool": "bool", "category": "int64"}


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass(frozen=True)
class Canonical:
    """The canonical tables a snapshot reads (empty frames where a source has nothing)."""

    households: pd.DataFrame  # ingest's membership per known month
    hukou: pd.DataFrame  # hukou_base and hukou_changes rows together
    contributions: pd.DataFrame = field(default_factory=_empty)
    pensions: pd.DataFrame = field(default_factory=_empty)
    registrations: pd.DataFrame = field(default_factory=_empty)
    roster: pd.DataFrame = field(default_factory=_empty)
    temporary_aid: pd.DataFrame = field(default_factory=_empty)
    settlements: pd.DataFrame = field(default_factory=_empty)
    certificates: pd.DataFrame = field(default_factory=_empty)
    appraisals: pd.DataFrame = field(default_factory=_empty)
    properties: pd.DataFrame = field(default_factory=_empty)
    delivered_through: str | None = None  # the last delivery month ('YYYY-MM'), for labels


PERSON_TABLES = (
    "contributions",
    "pensions",
    "registrations",
    "roster",
    "temporary_aid",
    "settlements",
    "certificates",
    "appraisals",
    "properties",
)


def with_person_codes(spine: Spine, tables: Canonical) -> Canonical:
    """Every person-keyed table with its members looked up once (see features.spine)."""
    return dataclasses.replace(
        tables, **{t: spine.with_person_codes(getattr(tables, t)) for t in PERSON_TABLES}
    )


def household_type(frame: pd.DataFrame) -> np.ndarray:
    """One low-cardinality type per household, the first that applies."""
    return np.select(
        [
            frame["elderly_alone"].to_numpy(),
            frame["single_parent"].to_numpy(),
            frame["severe_disability_members"].to_numpy() > 0,
            frame["chronic_ill_members"].to_numpy() > 0,
        ],
        ["elderly_alone", "single_parent", "with_severe_disability", "with_chronic_illness"],
        default="other",
    )


def feature_frame(
    spine: Spine,
    tables: Canonical,
    config: FeaturesConfig,
    thresholds: PolicyLinesConfig,
    divisions: pd.DataFrame,
) -> tuple[pd.DataFrame, assistance.AssistanceState]:
    """Every registered feature for the spine's households, in registry order."""
    t = spine.as_of
    dibao, local_income = policy_lines(spine.households["county_code"], divisions, thresholds, t)
    comp = composition.composition_features(spine, config)
    members = comp["members"].to_numpy()
    src = income.known_income_sources(
        tables.contributions, tables.pensions, tables.registrations, tables.roster, t
    )
    inc = income.income_features(spine, src, dibao, members, config)
    med = medical.medical_features(
        spine, tables.settlements, inc["visible_income"].to_numpy(), local_income, config
    )
    state = assistance.state_at(spine, tables.roster)
    parts = [
        comp,
        inc,
        med,
        disability.disability_features(spine, tables.certificates),
        housing.housing_features(spine, tables.appraisals, tables.properties),
        events.event_features(spine, tables.hukou, tables.contributions, tables.pensions),
        assistance.history_features(spine, tables.roster, config.history_months),
        assistance.temporary_aid_features(spine, tables.temporary_aid),
        pd.DataFrame(
            {
                "assistance_category": state.code,
                "months_since_admitted": state.months_since_admitted,
                "assessed_income_ratio_to_dibao": state.assessed_income / dibao,
            }
        ),
    ]
    frame = pd.concat(parts, axis=1)
    missing = [n for n in FEATURE_NAMES if n not in frame.columns]
    if missing:
        raise KeyError(f"features registered but not built: {missing}")
    out = frame[FEATURE_NAMES]
    return out.astype({f.name: NUMPY_DTYPE[f.dtype] for f in FEATURES}), state


def build_snapshot(
    tables: Canonical,
    as_of: pd.Timestamp,
    config: FeaturesConfig,
    thresholds: PolicyLinesConfig,
    divisions: pd.DataFrame,
    visits: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The snapshot at T: spine columns, features (known before T), labels (after T)."""
    spine = build_spine(tables.households, tables.hukou, divisions, as_of)
    tables = with_person_codes(spine, tables)
    feats, state = feature_frame(spine, tables, config, thresholds, divisions)
    in_cohort = ~np.isin(state.state, assistance.ASSISTED)
    label, complete = labels.observable_label(
        spine,
        in_cohort,
        tables.roster,
        tables.temporary_aid,
        config.label_horizon,
        tables.delivered_through,
        visits,
    )
    h = spine.households
    head = pd.DataFrame(
        {
            "household_key": h["household_key"].astype("str"),
            "as_of": pd.Series(np.full(spine.n, np.datetime64(as_of, "us"))),
            "county_code": h["county_code"].astype("str"),
            "town_code": h["town_code"].astype("str"),
            "village_code": h["village_code"].astype("str"),
            "urban": h["urban"].to_numpy(dtype=bool),
            "household_type": pd.Series(household_type(feats), dtype="str"),
            "assistance_state": pd.Series(state.state, dtype="str"),
            "in_phase_out": state.in_phase_out,
            "in_cohort": in_cohort,
        }
    )
    tail = pd.DataFrame({"label": label.to_numpy(), "label_complete": complete})
    tail["label"] = tail["label"].astype("boolean")
    return pd.concat([head, feats, tail], axis=1)


def check_snapshot(frame: pd.DataFrame) -> None:
    """Raise if a frame is not a snapshot: columns in order, feature dtypes as registered."""
    if tuple(frame.columns) != SNAPSHOT_COLUMNS:
        raise ValueError("snapshot columns differ from SNAPSHOT_COLUMNS")
    for f in FEATURES:
        want = NUMPY_DTYPE[f.dtype]
        if str(frame[f.name].dtype) != want:
            raise TypeError(f"{f.name}: {frame[f.name].dtype}, registered {want}")
