"""The simulated world as arrays: one entry per person and per household.

Everything is a numpy array so that a month of the whole region advances with vectorised
operations; a household is an integer index into the household arrays and a person points
to their household by that index.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Self

import numpy as np

# Relation to head (与户主关系), as coded in the contract.
RELATIONS = np.array(["户主", "配偶", "子", "女", "父母", "孙子女", "兄弟姐妹", "其他"])
HEAD, SPOUSE, SON, DAUGHTER, PARENT, GRANDCHILD, SIBLING, OTHER = range(8)

# Pension schemes (险种).
SCHEMES = np.array(["", "企业职工基本养老保险", "城乡居民基本养老保险", "机关事业单位养老保险"])
NO_SCHEME, ENTERPRISE, RESIDENT, PUBLIC = range(4)

# Assistance categories (救助类别), 0 = none.
CATEGORIES = np.array(["", "低保", "特困", "低保边缘", "刚性支出困难", "防止返贫监测"])
NONE, DIBAO, TEKUN, EDGE, RIGID, MONITOR = range(6)

HOUSE_GRADES = np.array(["A", "B", "C", "D"])
DISABILITY_KINDS = np.array(["", "视力", "听力", "言语", "肢体", "智力", "精神", "多重"])


def month_index(month: str) -> int:
    """'2023-03' -> 2023*12 + 2 (a month count that subtracts cleanly)."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(index: int) -> np.datetime64:
    return np.datetime64(month_label(index), "D")


@dataclass
class Arrays:
    """A struct of equal-length arrays with row selection and concatenation."""

    def take(self, idx: np.ndarray) -> Self:
        return type(self)(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def extend(self, other: Arrays) -> None:
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))


@dataclass
class People(Arrays):
    hh: np.ndarray  # household index
    id_no: np.ndarray  # U18
    name: np.ndarray  # U4
    birth: np.ndarray  # datetime64[D]
    male: np.ndarray  # bool
    rel: np.ndarray  # int8, RELATIONS
    alive: np.ndarray  # bool
    present: np.ndarray  # bool: registered in the area (not moved out)
    wage: np.ndarray  # float64: monthly gross wage while working (formal or informal)
    formal: np.ndarray  # bool: works in a job with social insurance
    employed: np.ndarray  # bool: has work now (formal or informal)
    scheme: np.ndarray  # int8, SCHEMES
    jobless_since: np.ndarray  # int32 month index or -1
    ue_registered: np.ndarray  # bool
    ue_benefit: np.ndarray  # float64 monthly unemployment benefit while registered
    ue_until: np.ndarray  # int32 month index the benefit ends
    pension: np.ndarray  # float64 monthly
    chronic: np.ndarray  # bool
    disab_kind: np.ndarray  # int8, DISABILITY_KINDS
    disab_grade: np.ndarray  # int8, 1 most severe .. 4, 0 none


@dataclass
class Households(Arrays):
    hh_no: np.ndarray  # U9 户号
    village: np.ndarray  # int32 index into the region's villages
    vgroup: np.ndarray  # int64 disaster cluster (the village; a path-specific one in Monte Carlo)
    urban: np.ndarray  # bool
    present: np.ndarray  # bool
    farm: np.ndarray  # float64 monthly farming income (seen by no department)
    transfers: np.ndarray  # float64 monthly support from relatives elsewhere (seen by no one)
    supported: np.ndarray  # bool: has relatives obliged to support them (rules out 特困)
    farm_cut_until: np.ndarray  # int32: a disaster halves farming income until then
    house_id: np.ndarray  # U14
    house_grade: np.ndarray  # int8 0..3 = A..D (rural houses)
    renovating: np.ndarray  # int8: 0 none, 1 in progress, 2 done
    properties: np.ndarray  # int16 registered properties
    takeup: np.ndarray  # float64 propensity to apply when in need
    category: np.ndarray  # int8, CATEGORIES
    case_no: np.ndarray  # U12 assistance case number, "" when none
    admitted: np.ndarray  # int32 month index
    phase_out_until: np.ndarray  # int32 month index, -1 when not in 渐退期
    next_review: np.ndarray  # int32 month index
    monitor_until: np.ndarray  # int32 month index for 防止返贫监测
    benefit: np.ndarray  # float64 monthly assistance paid to the household
    assessed_pc: np.ndarray  # float64 assessed per-capita monthly income
    net_hist: np.ndarray  # float64 (n, window): per-capita net income, latest last
    rigid_12: np.ndarray  # float64 (n, 12): rigid spending per month, latest last
    ever_poor: np.ndarray  # bool


def new_households(n: int, window: int) -> dict[str, np.ndarray]:
    """Default-valued household columns for n households (assistance state empty)."""
    return {
        "present": np.ones(n, bool),
        "farm_cut_until": np.full(n, -1, np.int32),
        "renovating": np.zeros(n, np.int8),
        "category": np.zeros(n, np.int8),
        "case_no": np.full(n, "", dtype="U12"),
        "admitted": np.full(n, -1, np.int32),
        "phase_out_until": np.full(n, -1, np.int32),
        "next_review": np.full(n, -1, np.int32),
        "monitor_until": np.full(n, -1, np.int32),
        "benefit": np.zeros(n),
        "assessed_pc": np.zeros(n),
        "net_hist": np.full((n, window), np.nan),
        "rigid_12": np.zeros((n, 12)),
        "ever_poor": np.zeros(n, bool),
    }


@dataclass
class World:
    """People, households and the bookkeeping that lives across months."""

    people: People
    households: Households
    next_hh_serial: int
    next_case: int
    id_pool: np.ndarray  # sorted int64 of every 17-digit ID prefix issued, to keep IDs unique
    disaster_hit: np.ndarray | None = None  # households a disaster struck this month
    temp_aid: np.ndarray | None = None  # households given temporary aid this month
    # per-household 遗属待遇 paid this month; set by demographic_events before income is summed
    death_grant: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def members(self) -> np.ndarray:
        """Count of living, present members per household."""
        p = self.people
        live = p.alive & p.present
        return np.bincount(p.hh[live], minlength=len(self.households))
