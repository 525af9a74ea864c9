"""Who lives in the household at T: counts by age, dependency, elderly alone, single parent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.config import FeaturesConfig
from features.spine import Spine


def composition_features(spine: Spine, config: FeaturesConfig) -> pd.DataFrame:
    """Member counts and household forms (age unknown: counted as working age, a neutral guess)."""
    m = spine.members
    hh = m["hh"].to_numpy()
    age = m["age"].to_numpy(dtype="float64")
    child = age < config.child_age
    elderly = age >= config.elderly_age
    working = ~child & ~elderly  # NaN ages compare False both ways: counted here
    members = spine.total(hh).astype("int64")
    children = spine.total(hh, child).astype("int64")
    old = spine.total(hh, elderly).astype("int64")
    work = spine.total(hh, working).astype("int64")
    adults = members - children
    head_age = np.full(spine.n, np.nan)
    heads = (m["relation"].to_numpy() == "head") & (hh >= 0)
    head_age[hh[heads]] = age[heads]
    return pd.DataFrame(
        {
            "members": members,
            "children": children,
            "elderly": old,
            "working_age": work,
            "dependency_ratio": (children + old) / np.maximum(work, 1),
            "elderly_alone": (members > 0) & (old == members),
            "single_parent": (children > 0) & (adults == 1),
            "head_age": head_age,
        }
    )
