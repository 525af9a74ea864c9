"""Monthly rolls departments deliver: employment registrations, contributions, pensions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.assistance import roster_frame
from simulator.state import (
    ENTERPRISE,
    PUBLIC,
    RESIDENT,
    SCHEMES,
    World,
)
from simulator.timeline import Context, Recorder, days_in


# --- employment records ---------------------------------------------------------------
def record_employment(
    rec: Recorder,
    world: World,
    t: int,
    rng: np.random.Generator,
    ctx: Context,
    registers: np.ndarray,
    finds: np.ndarray,
    deregister: np.ndarray,
) -> None:
    p, h = world.people, world.households
    frames = []
    for mask, kind in ((registers, "失业登记"), (finds & p.formal, "就业登记"), (deregister, "失业登记注销")):
        idx = np.flatnonzero(mask)
        if len(idx):
            frames.append(
                pd.DataFrame(
                    {
                        "公民身份号码": p.id_no[idx],
                        "姓名": p.name[idx],
                        "登记类型": kind,
                        "登记日期": pd.to_datetime(days_in(t, rng, len(idx))),
                        "失业保险金月额": np.where(kind == "失业登记", p.ue_benefit[idx], np.nan),
                        "区划代码": ctx.village_code[h.village[p.hh[idx]]],
                    }
                )
            )
    if frames:
        rec.add("employment/就业失业登记.csv", pd.concat(frames, ignore_index=True))


# --- monthly rolls: contributions, pensions, the assistance roster --------------------
CONTRIB_FLOOR, CONTRIB_CAP = 3957.0, 19783.0


def record_monthly_rolls(
    rec: Recorder, world: World, t: int, ctx: Context, live: np.ndarray, age: np.ndarray
) -> None:
    p, _h = world.people, world.households
    ym = np.int32((t // 12) * 100 + t % 12 + 1)
    paying = live & p.formal & p.employed & np.isin(p.scheme, [ENTERPRISE, PUBLIC])
    lapsed = (
        live
        & np.isin(p.scheme, [ENTERPRISE])
        & ~p.employed
        & (p.jobless_since >= 0)
        & (t - p.jobless_since < 24)
    )
    resident = live & (p.scheme == RESIDENT) & (age >= 16) & (age < 60) & (t % 12 == 0)
    idx = np.concatenate([np.flatnonzero(paying), np.flatnonzero(lapsed), np.flatnonzero(resident)])
    status = np.concatenate(
        [
            np.full(paying.sum(), "正常应缴"),
            np.full(lapsed.sum(), "中断"),
            np.full(resident.sum(), "正常应缴"),
        ]
    )
    is_resident = np.arange(len(idx)) >= len(idx) - resident.sum()
    # resident scheme: a yearly grade chosen by the household, not a wage
    base = np.where(
        is_resident, 500.0 * (1 + p.hh[idx] % 4), np.clip(p.wage[idx], CONTRIB_FLOOR, CONTRIB_CAP)
    )
    order = np.argsort(idx, kind="stable")
    rec.add(
        "employment/社保缴费.parquet",
        pd.DataFrame(
            {
                "公民身份号码": p.id_no[idx][order],
                "费款所属期": np.full(len(idx), ym, np.int32),
                "险种": SCHEMES[p.scheme[idx]][order],
                "缴费基数": np.round(base[order], 2),
                "缴费状态": status[order],
            }
        ),
    )
    pens = np.flatnonzero(live & (p.pension > 0))
    rec.add(
        "employment/养老金发放.parquet",
        pd.DataFrame(
            {
                "公民身份号码": p.id_no[pens],
                "发放年月": np.full(len(pens), ym, np.int32),
                "险种": SCHEMES[np.where(p.scheme[pens] == 0, RESIDENT, p.scheme[pens])],
                "月发放金额": np.round(p.pension[pens], 2),
            }
        ),
    )
    rec.add("civil_affairs/救助对象花名册.csv", roster_frame(world, t, ctx, live, age))
