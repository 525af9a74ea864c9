"""Housing and property known before T: the latest safety appraisal of the members'
houses, renovation, property sold or acquired."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalogue import HOUSE_GRADES
from features.spine import Spine
from features.timeline import in_window

GRADE_CODE = {g: i for i, g in enumerate(HOUSE_GRADES)}


def housing_features(
    spine: Spine, house_safety: pd.DataFrame, property_registrations: pd.DataFrame
) -> pd.DataFrame:
    """Worst latest grade over the members' houses (0 when none is known), C/D flags, an
    unrenovated dangerous house, and property registrations in 12 months."""
    grade = np.zeros(spine.n, "int64")
    unrenovated = np.zeros(spine.n, bool)
    a = house_safety
    if len(a):
        a = a[a["event_date"].to_numpy() < np.datetime64(spine.as_of)]
        a = a.sort_values(["house_key", "event_date", "known_month"], kind="stable").drop_duplicates(
            "house_key", keep="last"
        )
        hh = spine.household_of(a)
        code = a["safety_grade"].map(GRADE_CODE).fillna(0).to_numpy(dtype="int64")
        keep = hh >= 0
        np.maximum.at(grade, hh[keep], code[keep])
        open_work = (code >= GRADE_CODE["C"]) & (a["renovation_status"].to_numpy() != "done")
        unrenovated = spine.any(hh[open_work])
    p = property_registrations
    sold = acquired = np.zeros(spine.n, "int64")
    if len(p):
        p = p[in_window(p, spine.as_of, 12)]
        hh = spine.household_of(p)
        direction = p["direction"].to_numpy()
        sold = spine.total(hh[(direction == "disposed") & (p["reason"].to_numpy() == "sale")]).astype("int64")
        acquired = spine.total(hh[direction == "acquired"]).astype("int64")
    return pd.DataFrame(
        {
            "house_grade": grade,
            "house_grade_c": grade == GRADE_CODE["C"],
            "house_grade_d": grade == GRADE_CODE["D"],
            "house_unrenovated_danger": unrenovated,
            "property_sold_12m": sold,
            "property_acquired_12m": acquired,
        }
    )
