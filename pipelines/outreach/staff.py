"""The demo's staff for `lowinc up`: the villages of the simulated region's hukou register, the
users planned from them (outreach.staff), their webhook at the local inbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ingest import delivery
from lowinc.errors import UserError
from outreach.db import transaction
from outreach.staff import (
    ROLE_ZH,
    ensure_demo_staff,
    example_logins,
    plan_staff,
    region_villages,
    set_demo_addresses,
)
from outreach.startup import open_outreach_db
from pipelines.outreach.dispatch import utcnow
from pipelines.settings import Settings

HUKOU = "hukou"
REGISTER = "户籍人口_全量*.csv"
# headers of the register's division code and household number (configs/sources/hukou.yaml)
DIVISION_HEADERS = ("区划代码", "行政区划代码", "村社区代码")
HOUSEHOLD_HEADERS = ("户号",)
COLUMNS = ["village_code", "household_no"]


def register_villages(raw: Path) -> pd.DataFrame:
    """(village_code, household_no) of the first full hukou register delivered under raw/: only
    the two columns are read (never a name or an ID number)."""
    for month in delivery.delivered_months(raw, HUKOU):
        files = sorted((raw / HUKOU / month).glob(REGISTER))
        if files:
            break
    else:
        raise UserError(
            "no hukou register (户籍人口_全量*.csv) under raw/hukou", hint="run `lowinc simulate` first"
        )
    frames = []
    for path in files:
        header = pd.read_csv(path, nrows=0, encoding="gb18030", encoding_errors="replace").columns
        division = next((h for h in DIVISION_HEADERS if h in header), None)
        household = next((h for h in HOUSEHOLD_HEADERS if h in header), None)
        if division is None or household is None:
            raise UserError(
                f"{path.name} has no 区划代码 or 户号 column", hint="check the hukou register's headers"
            )
        frame = pd.read_csv(
            path, usecols=[division, household], dtype=str, encoding="gb18030", encoding_errors="replace"
        )
        frames.append(frame.rename(columns={division: "village_code", household: "household_no"})[COLUMNS])
    return pd.concat(frames, ignore_index=True).dropna()


def create_demo_staff(settings: Settings, inbox_url: str | None = None) -> dict[str, Any]:
    """Create or keep the demo's users from the region's villages (before the loop) and point
    their webhooks at the local inbox; a summary with a few logins to try (names, no password)."""
    config = settings.outreach
    villages = region_villages(register_villages(settings.layout.raw))
    if villages.empty:
        raise UserError("the hukou register names no known village", hint="re-run `lowinc simulate`")
    staff = plan_staff(villages, config.demo_staff)
    engine = open_outreach_db(config, settings.home)
    try:
        with transaction(engine) as session:
            result = ensure_demo_staff(session, staff, settings.layout.secure, utcnow())
            if inbox_url:
                set_demo_addresses(session, inbox_url)
    finally:
        engine.dispose()
    examples = [
        {"username": m.name, "role": m.role, "role_zh": ROLE_ZH[m.role], "area": "、".join(m.area_names[:3])}
        for m in example_logins(staff)
    ]
    return result.to_dict() | {
        "villages": len(villages),
        "by_role": pd.Series([m.role for m in staff]).value_counts().to_dict(),
        "examples": examples,
        "login_url": f"{config.link_base_url.rstrip('/')}/login",
    }
