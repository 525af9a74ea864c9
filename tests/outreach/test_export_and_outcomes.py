"""Township lists (Excel + CSV) by jurisdiction, audited; visit outcomes back as labels."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from lowinc.errors import NotFound
from outreach.audit import read_audit
from outreach.db import transaction
from outreach.export import HEADERS, export_town_list
from outreach.jurisdiction import authorize_household
from outreach.outcomes import record_visit, visit_outcomes
from outreach.queue import queue_alerts
from outreach.schema import User, UserArea
from tests.outreach.conftest import NOW
from tests.outreach.factory import (
    NAMES,
    TOWN_A,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    heads,
    household_key,
    visit_list,
)

pytestmark = pytest.mark.integration
JUNE = dt.date(2024, 6, 1)
LATER = NOW + dt.timedelta(days=10)  # the visits are recorded after they happen
TIERS = {0: "red", 1: "orange", 2: "blue", 10: "yellow", 11: "red", 20: "red"}


def _all_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml"))
    return path.read_text(encoding="utf-8-sig")


def test_a_town_officer_exports_one_sheet_per_village_with_masked_ids_only(engine, config, tmp_path):
    queue_alerts(engine, visit_list(TIERS), "run-1", NOW, config=config)
    people = heads(list(TIERS))
    result = export_town_list(
        engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name="李强", now=NOW, heads=people
    )
    assert (result.rows, result.villages) == (5, 2)
    assert Path(result.xlsx).parent == tmp_path / "outreach" / "exports" / "2024-06"
    workbook = load_workbook(result.xlsx)
    assert workbook.sheetnames == ["东村", "西村"]
    sheet = workbook["东村"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.freeze_panes == "A2"
    col = {h: get_column_letter(i) for i, h in enumerate(HEADERS, start=1)}
    assert sheet[f"{col['户主姓名']}2"].value == "张0"
    assert sheet[f"{col['身份证号(脱敏)']}2"].value == "330502********0000"
    assert sheet[f"{col['预警等级']}2"].value == "红色" and sheet[f"{col['主要原因']}2"].alignment.wrap_text
    assert [sheet.cell(row=r, column=1).value for r in range(2, 5)] == [1, 2, 3]
    csv = pd.read_csv(result.csv, encoding="utf-8-sig", dtype=str)
    assert list(csv.columns) == HEADERS and len(csv) == 5
    for path in (Path(result.xlsx), Path(result.csv)):
        text = _all_text(path)
        assert not any(id_no in text for id_no in people["head_id_no"])  # no plaintext ID
        assert not any(key in text for key in people["household_key"])  # no household key
    audit = read_audit(engine)
    assert audit.iloc[-1][["actor", "action", "target"]].tolist() == ["李强", "export_list", f"town:{TOWN_A}"]


def test_a_village_worker_gets_only_their_village_and_others_are_refused_and_audited(
    engine, config, tmp_path
):
    queue_alerts(engine, visit_list(TIERS), "run-1", NOW, config=config)
    own = export_town_list(
        engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name="王芳", now=NOW, write_csv=False
    )
    assert load_workbook(own.xlsx).sheetnames == ["东村"] and own.csv is None
    for name in ["数据组", "nobody"]:
        with pytest.raises(PermissionError):
            export_town_list(engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name=name, now=NOW)
    with pytest.raises(PermissionError):  # a town officer sees only their own town
        export_town_list(engine, tmp_path, town_code="330502002", as_of=JUNE, user_name="李强", now=NOW)
    actions = read_audit(engine)["action"].tolist()
    assert actions.count("export_denied") == 3 and actions.count("export_list") == 1


def test_a_cooldown_row_shows_when_it_was_last_alerted(engine, config, tmp_path):
    queue_alerts(engine, visit_list({0: "red"}, "2024-05-01"), "may", NOW, config=config)
    queue_alerts(engine, visit_list({0: "red"}), "june", NOW + dt.timedelta(days=30), config=config)
    result = export_town_list(engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name="李强", now=NOW)
    row = pd.read_csv(result.csv, encoding="utf-8-sig", dtype=str).iloc[0]
    assert row["状态"] == "冷却期内（已预警）" and row["上次预警"] == "2024-05 红色"
    assert pd.isna(row["户主姓名"])  # no identity rows given: blank, never a key


def test_visit_outcomes_flow_back_as_labels_from_the_responsible_worker_only(engine, config):
    queue_alerts(engine, visit_list({0: "red", 1: "orange", 2: "blue"}), "run-1", NOW, config=config)
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from outreach.schema import Alert

    with Session(engine) as session:
        ids = dict(session.execute(select(Alert.household_key, Alert.id)).all())
    keys = visit_list({0: "red", 1: "orange", 2: "blue"})["household_key"].tolist()
    with transaction(engine) as session:  # as the exploration draw queues it
        drawn = session.get(Alert, ids[keys[2]])
        assert drawn is not None and (drawn.selection, drawn.listing_probability) == ("rank", 1.0)
        drawn.selection, drawn.listing_probability = "explore", 0.02
    record_visit(
        engine,
        alert_id=ids[keys[0]],
        user_name="王芳",
        visited_on=dt.date(2024, 6, 5),
        hardship_confirmed=True,
        now=LATER,
        note="住院，收入中断",
    )
    record_visit(
        engine,
        alert_id=ids[keys[2]],
        user_name="李强",
        visited_on=dt.date(2024, 6, 7),
        hardship_confirmed=False,
        now=LATER,
    )
    with pytest.raises(PermissionError):
        record_visit(
            engine,
            alert_id=ids[keys[1]],
            user_name="数据组",
            visited_on=dt.date(2024, 6, 7),
            hardship_confirmed=False,
            now=LATER,
        )
    labels = visit_outcomes(engine)
    assert list(labels.columns) == [
        "household_key",
        "visit_date",
        "hardship_confirmed",
        "alert_as_of",
        "listing_probability",
        "selection",
    ]
    month = pd.Timestamp(JUNE)
    assert labels.to_dict("records") == [
        {
            "household_key": keys[0],
            "visit_date": pd.Timestamp("2024-06-05"),
            "hardship_confirmed": True,
            "alert_as_of": month,
            "listing_probability": 1.0,
            "selection": "rank",
        },
        {
            "household_key": keys[2],
            "visit_date": pd.Timestamp("2024-06-07"),
            "hardship_confirmed": False,
            "alert_as_of": month,
            "listing_probability": 0.02,
            "selection": "explore",
        },
    ]
    assert read_audit(engine)["action"].tolist().count("record_visit") == 2


def test_a_town_without_alerts_gets_an_empty_list_with_headers(engine, config, tmp_path):
    result = export_town_list(engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name="李强", now=NOW)
    assert (result.rows, result.villages) == (0, 0)
    assert [c.value for c in load_workbook(result.xlsx).active[1]] == HEADERS


def test_a_worker_over_two_villages_exports_both_and_sees_a_household_of_the_second(engine, config, tmp_path):
    """The further areas of user_areas count in the export and the household check (one Scope)."""
    queue_alerts(engine, visit_list(TIERS), "run-1", NOW, config=config)
    with transaction(engine) as session:
        worker = session.execute(select(User).where(User.name == "王芳")).scalar_one()
        session.add(UserArea(user_id=worker.id, level="village", code=VILLAGE_A2))
    both = export_town_list(
        engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name="王芳", now=NOW, write_csv=False
    )
    assert sorted(load_workbook(both.xlsx).sheetnames) == sorted([NAMES[VILLAGE_A1], NAMES[VILLAGE_A2]])
    key = household_key(10)  # a household of village A2 in the factory's list
    assert (
        authorize_household(engine, user_name="王芳", household_key=key, village_code=VILLAGE_A2, now=NOW)
        == "王芳"
    )
    with pytest.raises(NotFound):
        authorize_household(engine, user_name="王芳", household_key=key, village_code=VILLAGE_B1, now=NOW)
