"""One row per household at T: the spine, every catalogued feature and the labels.

Pure: takes canonical frames (each with ``known_month`` and, but for the membership,
``event_date``) and returns a frame; reading and writing live in pipelines/features. The
point-in-time filter is applied here, once: the spine and every feature function get only
the rows known before T, the labels only the deliveries of months T .. T+H-1. So the result
is the same whatever extra rows the caller passes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features import assistance, composition, disability, events, housing, income, labels, medical
from features.catalogue import FEATURE_NAMES, FEATURES
from features.config import FeaturesConfig
from features.hidden_need import hidden_need_features
from features.policy import PolicyLinesConfig, policy_lines
from features.spine import Spine, build_spine, label_spine
from features.timeline import add_months, known_before, known_between
from ingest.tables import PERSON_TABLES, TABLES

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
LABEL_COLUMNS = labels.LABEL_COLUMNS  # label, label_applied, visit_label, visit_weight, label_complete
SNAPSHOT_COLUMNS = (*SPINE_COLUMNS, *FEATURE_NAMES, *LABEL_COLUMNS)
NUMPY_DTYPE = {"float": "float64", "int": "int64", "bool": "bool", "category": "int64"}
TABLE_NAMES = tuple(t.name for t in TABLES)
LABEL_TABLES = tuple(t.name for t in TABLES if t.labels)


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass(frozen=True)
class Canonical:
    """The canonical tables a snapshot reads, named as ingest/tables.py declares them (one
    field per table, in its order); empty frames where a source has nothing."""

    households: pd.DataFrame  # ingest's membership per known month
    hukou_base: pd.DataFrame = field(default_factory=_empty)
    hukou_changes: pd.DataFrame = field(default_factory=_empty)
    pension_contributions: pd.DataFrame = field(default_factory=_empty)
    pension_payments: pd.DataFrame = field(default_factory=_empty)
    employment_registrations: pd.DataFrame = field(default_factory=_empty)
    assistance_roster: pd.DataFrame = field(default_factory=_empty)
    temporary_assistance: pd.DataFrame = field(default_factory=_empty)
    medical_settlements: pd.DataFrame = field(default_factory=_empty)
    disability_certificates: pd.DataFrame = field(default_factory=_empty)
    house_safety: pd.DataFrame = field(default_factory=_empty)
    property_registrations: pd.DataFrame = field(default_factory=_empty)
    delivered_through: str | None = None  # the last delivery month ('YYYY-MM'), for labels

    def frame(self, table: str) -> pd.DataFrame:
        frame: pd.DataFrame = getattr(self, table)
        return frame

    def replace(self, frames: dict[str, pd.DataFrame]) -> Canonical:
        """The same tables with some frames replaced."""
        changes: dict[str, Any] = dict(frames)  # table fields only; mypy checks ** against every field
        return dataclasses.replace(self, **changes)


def hukou_rows(base: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """The hukou base and change rows together (a base row has no ``change_type``)."""
    if not len(base):
        return changes
    # pandas-stubs: assign takes a scalar pd.NA (broadcast), the stubs do not list NAType
    tagged: pd.DataFrame = base.assign(change_type=pd.NA)  # type: ignore[arg-type]
    return pd.concat([tagged, changes], ignore_index=True)


def known_at(tables: Canonical, as_of: pd.Timestamp) -> Canonical:
    """Every table cut to the rows delivered before T's month: all a feature may see."""
    return tables.replace({t: known_before(tables.frame(t), as_of) for t in TABLE_NAMES})


def with_person_codes(spine: Spine, tables: Canonical) -> Canonical:
    """Every table reached through a member with its members looked up once (see features.spine)."""
    return tables.replace({t: spine.with_person_codes(tables.frame(t)) for t in PERSON_TABLES})


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
    known: Canonical,
    hukou: pd.DataFrame,
    config: FeaturesConfig,
    thresholds: PolicyLinesConfig,
    divisions: pd.DataFrame,
) -> tuple[pd.DataFrame, assistance.AssistanceState]:
    """Every catalogued feature for the spine's households, in catalogue order, from the
    tables ``known`` before T (with person codes) and the hukou rows known before T."""
    t = spine.as_of
    dibao, local_income, edge = policy_lines(spine.households["county_code"], divisions, thresholds, t)
    comp = composition.composition_features(spine, config)
    members = comp["members"].to_numpy()
    src = income.IncomeSources(
        known.pension_contributions,
        known.pension_payments,
        known.employment_registrations,
        known.assistance_roster,
    )
    inc = income.income_features(spine, src, dibao, edge * dibao, members)
    med = medical.medical_features(
        spine, known.medical_settlements, inc["visible_income"].to_numpy(), local_income, config
    )
    state = assistance.state_at(spine, known.assistance_roster)
    parts = [
        comp,
        inc,
        med,
        disability.disability_features(spine, known.disability_certificates),
        housing.housing_features(spine, known.house_safety, known.property_registrations),
        events.event_features(spine, hukou, known.pension_contributions, known.pension_payments),
        assistance.history_features(spine, known.assistance_roster),
        assistance.temporary_aid_features(spine, known.temporary_assistance),
        pd.DataFrame(
            {
                "assistance_category": state.code,
                "months_since_admitted": state.months_since_admitted,
                "assessed_income_ratio_to_dibao": state.assessed_income / dibao,
            }
        ),
    ]
    frame = pd.concat(parts, axis=1)
    frame = pd.concat(
        [frame, hidden_need_features(spine, frame, known, state.code, edge * dibao, config)], axis=1
    )
    missing = [n for n in FEATURE_NAMES if n not in frame.columns]
    if missing:
        raise KeyError(f"features catalogued but not built: {missing}")
    out = frame[FEATURE_NAMES]
    return out.astype({f.name: NUMPY_DTYPE[f.dtype] for f in FEATURES}), state


def label_frame(
    spine: Spine, in_cohort: np.ndarray, tables: Canonical, horizon: int, visits: pd.DataFrame | None
) -> pd.DataFrame:
    """The label columns (LABEL_COLUMNS) of the spine's households at T, from the label
    tables' deliveries of months T .. T+H-1 only, and the recorded visits."""
    t = spine.as_of
    after = {
        name: spine.with_person_codes(known_between(tables.frame(name), t, add_months(t, horizon - 1)))
        for name in LABEL_TABLES
    }
    return labels.snapshot_labels(
        spine,
        in_cohort,
        after["assistance_roster"],
        after["temporary_assistance"],
        horizon,
        tables.delivered_through,
        visits,
    )


def relabel(
    households: pd.DataFrame,
    keys: pd.Series,
    in_cohort: np.ndarray,
    tables: Canonical,
    as_of: pd.Timestamp,
    horizon: int,
    visits: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The label columns of an existing snapshot at T, again from later deliveries: what
    :func:`build_snapshot` gives, without any feature. ``keys`` and ``in_cohort`` are the
    snapshot's as written (the result is in their order). ``households`` is the
    membership known before T it was built from (ages and the hukou rows play no part in a
    label). Raises MembershipChanged when that membership no longer gives the snapshot's
    households (build it again instead)."""
    spine = label_spine(known_before(households, as_of), keys, as_of)
    if spine is None:
        raise MembershipChanged(f"the households at {as_of:%Y-%m-%d} differ from its snapshot's")
    return label_frame(spine, np.asarray(in_cohort, dtype=bool), tables, horizon, visits)


class MembershipChanged(ValueError):
    """A written snapshot no longer matches what it was built from: build it again."""


def build_snapshot(
    tables: Canonical,
    as_of: pd.Timestamp,
    config: FeaturesConfig,
    thresholds: PolicyLinesConfig,
    divisions: pd.DataFrame,
    visits: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The snapshot at T: spine columns, features (known before T), labels (after T)."""
    known = known_at(tables, as_of)
    hukou = hukou_rows(known.hukou_base, known.hukou_changes)
    spine = build_spine(known.households, hukou, divisions, as_of)
    feats, state = feature_frame(spine, with_person_codes(spine, known), hukou, config, thresholds, divisions)
    in_cohort = ~np.isin(state.state, assistance.ASSISTED)
    tail = label_frame(spine, in_cohort, tables, config.label_horizon, visits)
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
    return pd.concat([head, feats, tail], axis=1)


def check_snapshot(frame: pd.DataFrame) -> None:
    """Raise if a frame is not a snapshot: columns in order, feature dtypes as catalogued."""
    if tuple(frame.columns) != SNAPSHOT_COLUMNS:
        raise ValueError("snapshot columns differ from SNAPSHOT_COLUMNS")
    for f in FEATURES:
        want = NUMPY_DTYPE[f.dtype]
        if str(frame[f.name].dtype) != want:
            raise TypeError(f"{f.name}: {frame[f.name].dtype}, catalogued {want}")
