"""The region a simulation covers: real villages and communities of Zhejiang.

The division list ships with the lowinc package (lowinc/data/zhejiang_divisions.csv.gz, 2023
statistical codes), so a fresh clone needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lowinc import divisions
from lowinc.errors import UserError

URBAN_MARKERS = ("社区", "居委会", "居民委员会", "生活区")


def load_divisions() -> pd.DataFrame:
    """Every village/community of Zhejiang with town, county and city codes (all str), and
    whether it is urban (a community); the list itself is production's (lowinc.divisions)."""
    frame = divisions.load_divisions()
    frame["urban"] = frame["village_name"].str.contains("|".join(URBAN_MARKERS))
    return frame


class UnknownRegion(UserError, ValueError):
    """The configured city or county is not in the division table."""


@dataclass(frozen=True)
class Region:
    """The villages of a simulated region, in code order."""

    name: str  # e.g. 湖州市, 吴兴区 or 浙江省
    city_name: str  # the city used for thresholds (the first one when a province)
    villages: pd.DataFrame  # village_code, town_code, county_code, city_name, urban, ...

    @property
    def n_villages(self) -> int:
        return len(self.villages)

    def county_codes(self) -> np.ndarray:
        return self.villages["county_code"].to_numpy(dtype="U6")


def select_region(city: str | None, county: str | None = None, province: bool = False) -> Region:
    """Pick the villages of a city, a county (name or 6-digit code) or the whole province."""
    div = load_divisions()
    if province:
        chosen, name = div, str(div["province_name"].iloc[0])
    elif county:
        chosen = div[(div["county_code"] == county) | (div["county_name"] == county)]
        in_city = chosen[chosen["city_name"] == city]
        # the configured city is a default: a county of another city is taken as named
        chosen = in_city if not in_city.empty else chosen
        name = str(chosen["county_name"].iloc[0]) if not chosen.empty else county
    else:
        chosen, name = div[div["city_name"] == city], str(city)
    if chosen.empty:
        known = ", ".join(sorted(div["city_name"].unique()))
        raise UnknownRegion(
            f"no villages for city={city!r} county={county!r}",
            hint=f"lowinc simulate --city NAME (one of {known}) or --county NAME_OR_CODE",
        )
    chosen = chosen.sort_values("village_code").reset_index(drop=True)
    return Region(name=name, city_name=str(chosen["city_name"].iloc[0]), villages=chosen)
