"""Houses, village disasters and property: appraisals, renovation, sales and purchases."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.state import (
    DIBAO,
    EDGE,
    HOUSE_GRADES,
    MONITOR,
    TEKUN,
    World,
)
from simulator.timeline import Context, Recorder, days_in, heads, monthly


# --- housing, disasters, property -----------------------------------------------------
def housing_and_property(
    world: World, t: int, rng: np.random.Generator, ctx: Context, rec: Recorder | None
) -> np.ndarray:
    """House decay, renovation, village disasters and property sales; rigid spending per household."""
    cfg = ctx.cfg
    p, h = world.people, world.households
    n = len(h)
    rural = h.present & ~h.urban
    rigid = np.zeros(n)
    old_grade = h.house_grade.copy()
    decay = rural & (h.house_grade < 3) & (rng.random(n) < monthly(cfg.house_deteriorate_rate * 1.5))
    h.house_grade[decay] += 1
    # disasters strike whole villages (clusters), then a share of their households
    struck = rng.random(int(h.vgroup.max()) + 1) < monthly(cfg.disaster_village_rate)
    hit = h.present & struck[h.vgroup] & (rng.random(n) < cfg.disaster_household_share)
    rigid[hit] = np.round(6000 * rng.lognormal(0, 0.8, hit.sum()), 0)
    h.farm_cut_until[hit] = t + 6
    damaged = hit & rural & (rng.random(n) < 0.3)
    h.house_grade[damaged] = np.minimum(3, h.house_grade[damaged] + rng.integers(1, 3, damaged.sum()))
    # renovation of dangerous houses of assisted households
    assisted = np.isin(h.category, [DIBAO, TEKUN, EDGE, MONITOR])
    start_reno = rural & assisted & (h.house_grade >= 2) & (h.renovating == 0) & (rng.random(n) < 0.08)
    h.renovating[start_reno] = 1
    done = (h.renovating == 1) & ~start_reno & (rng.random(n) < 0.25)
    h.renovating[done] = 2
    h.house_grade[done] = 0
    routine = rural & (rng.random(n) < 0.004)
    appraised = (rural & (h.house_grade >= 2) & (h.house_grade != old_grade)) | routine
    # property: sales (more likely when money is short) and purchases
    net = np.nan_to_num(h.net_hist[:, -1], nan=0.0)
    sells = (
        h.present
        & (h.properties > 0)
        & (rng.random(n) < monthly(cfg.property_sale_rate) * np.where(net < 1500, 3, 1))
    )
    buys = h.present & (net > 4000) & (rng.random(n) < monthly(cfg.property_buy_rate))
    h.properties[sells] -= 1
    h.properties[buys] += 1
    world.disaster_hit = hit
    if rec is None:
        return rigid
    head = heads(world)
    rows = np.flatnonzero((appraised | start_reno | done) & (head >= 0))
    if len(rows):
        hd = head[rows]
        reno = np.array(["未改造", "改造中", "已改造"])[h.renovating[rows]]
        day = days_in(t, rng, len(rows))
        rec.add(
            "housing/农村房屋安全鉴定.csv",
            pd.DataFrame(
                {
                    "房屋编号": h.house_id[rows],
                    "户主身份证号": p.id_no[hd],
                    "户主姓名": p.name[hd],
                    "区划代码": ctx.village_code[h.village[rows]],
                    "鉴定日期": pd.to_datetime(day),
                    "鉴定等级": HOUSE_GRADES[h.house_grade[rows]],
                    "改造状态": reno,
                    "改造完成日期": pd.to_datetime(
                        np.where(h.renovating[rows] == 2, day, np.datetime64("NaT"))
                    ),
                }
            ),
        )
    deals = np.flatnonzero((sells | buys) & (head >= 0))
    if len(deals):
        hd = head[deals]
        sold = sells[deals]
        unit = np.char.add(
            np.char.add(ctx.village_code[h.village[deals]], "GB"),
            np.char.zfill((rng.integers(0, 10**7, len(deals))).astype("U7"), 7),
        )
        rec.add(
            "housing/不动产登记.csv",
            pd.DataFrame(
                {
                    "不动产单元号": unit,
                    "权利人证件号码": p.id_no[hd],
                    "登记类型": "转移登记",
                    "登记日期": pd.to_datetime(days_in(t, rng, len(deals))),
                    "登记原因": np.where(
                        sold, "买卖", np.where(rng.random(len(deals)) < 0.85, "买卖", "继承")
                    ),
                    "转移方向": np.where(sold, "转出", "取得"),
                    "建筑面积": np.round(rng.uniform(45, 160, len(deals)), 2),
                    "用途": np.where(rng.random(len(deals)) < 0.95, "住宅", "商业"),
                }
            ),
        )
    return rigid
