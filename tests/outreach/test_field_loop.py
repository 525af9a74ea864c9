"""The field loop: a visit's result, needs and routes → referrals, the task's status, follow-up,
the needs register and the dashboard, all inside the acting user's scope (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import typer
import yaml
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from lowinc.errors import AccessDenied, NotFound, UserError
from outreach.audit import read_audit
from outreach.dashboard import view_dashboard
from outreach.export import HEADERS, export_town_list
from outreach.needs import export_register, view_register
from outreach.outcomes import record_outcome, visit_history, visit_outcomes
from outreach.referrals import mark_need_met, update_referral
from outreach.schema import AlertContact, OutcomeNeed, OutcomeRoute, Referral, VisitTask
from tests.outreach.factory import TOWN_A, TOWN_B, household_key, make_config
from tests.outreach.fieldkit import NOW, TOWN_B_OFFICER, listed

pytestmark = pytest.mark.integration
VISIT = dt.date(2024, 6, 10)
only_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _record(engine, alert_id, result="confirmed", user="王芳", **kw):
    return record_outcome(
        engine, alert_id=alert_id, user_name=user, visited_on=VISIT, result=result, now=NOW, **kw
    )


def _task_status(engine, alert_id) -> str:
    with Session(engine) as session:
        return session.execute(select(VisitTask.status).where(VisitTask.alert_id == alert_id)).scalar_one()


def _actions(engine) -> list[str]:
    return read_audit(engine)["action"].tolist()


def test_confirmed_hardship_with_needs_and_routes_opens_needs_and_referrals_of_other_departments(
    engine, config
):
    ids = listed(engine, config)
    done = _record(
        engine, ids[0], needs=["medical", "care"], routes=["medical_aid", "dibao", "housing_renovation"]
    )
    assert done.status == "visited" and len(done.needs) == 2 and len(done.referrals) == 2
    with Session(engine) as session:
        referrals = session.execute(select(Referral).order_by(Referral.id)).scalars().all()
        routes = session.execute(select(OutcomeRoute.route).order_by(OutcomeRoute.id)).scalars().all()
        needs = session.execute(select(OutcomeNeed.category, OutcomeNeed.status)).all()
    assert routes == ["medical_aid", "dibao", "housing_renovation"]  # 低保: civil affairs itself, no referral
    assert [(r.route, r.department, r.status, r.town_code) for r in referrals] == [
        ("medical_aid", "医保局", "sent", TOWN_A),
        ("housing_renovation", "住建局", "sent", TOWN_A),
    ]
    assert [r.due_date for r in referrals] == [VISIT + dt.timedelta(days=15), VISIT + dt.timedelta(days=30)]
    assert sorted(needs) == [("care", "open"), ("medical", "open")]
    entry = read_audit(engine).iloc[-1]
    assert (entry["actor"], entry["action"]) == ("王芳", "record_visit")
    assert entry["detail"]["needs"] == ["medical", "care"] and entry["detail"]["task_status"] == "visited"


def test_each_result_sets_the_task_status_and_only_two_give_a_label(engine, config):
    ids = listed(engine, config)
    cases = [  # household, result, task status after it, label
        (0, "confirmed", "closed", True),  # nothing left open
        (1, "no_hardship", "closed", False),
        (2, "assisted", "closed", None),
        (3, "unreachable", "new", None),  # still to visit
        (10, "refused", "closed", None),
    ]
    for n, result, status, _label in cases:
        user = "王芳" if n < 10 else "李强"
        assert (
            _record(engine, ids[n], result=result, user=user).status == status == _task_status(engine, ids[n])
        )
    labels = visit_outcomes(engine).set_index("household_key")["hardship_confirmed"].to_dict()
    assert labels == {household_key(n): label for n, _r, _s, label in cases if label is not None}


def test_a_correction_supersedes_the_record_and_its_needs_leave_the_register(engine, config):
    ids = listed(engine, config)
    first = _record(engine, ids[0], needs=["medical"], routes=["medical_aid"])
    with pytest.raises(UserError, match="already has a recorded visit"):
        _record(engine, ids[0], result="no_hardship")
    second = _record(engine, ids[0], result="unreachable", correction=True)
    assert second.supersedes == first.outcome and second.status == "new"
    assert visit_outcomes(engine).empty  # 联系不上 carries no label; the confirmed record is history
    assert visit_history(engine, ids[0])["id"].tolist() == [first.outcome, second.outcome]
    register = view_register(engine, user_name="李强", now=NOW, today=NOW.date())
    assert register.needs.empty and register.referrals.empty
    assert _actions(engine).count("correct_visit") == 1


def test_refusals_are_one_line_audited_and_outside_the_area_answers_as_for_nothing(engine, config):
    ids = listed(engine, config)
    cases = [
        (dict(result="no_hardship", needs=["medical"]), "only with confirmed hardship"),
        (dict(result="assisted", routes=["dibao"]), "only with confirmed hardship"),
        (dict(needs=["medical", "wealth"]), "unknown needs: wealth"),
        (dict(routes=["lottery"]), "unknown routes: lottery"),
        (dict(result="maybe"), "unknown result"),
        (dict(note="很" * 1001), "over the limit of 1000"),
        (dict(note="a\x00b"), "control characters"),
        (dict(source="fax"), "unknown source"),
    ]
    for kwargs, message in cases:
        with pytest.raises(UserError, match=message):
            _record(engine, ids[0], **kwargs)
    with pytest.raises(NotFound) as outside:  # village B1 is not 王芳's
        _record(engine, ids[20])
    with pytest.raises(NotFound) as absent:
        _record(engine, 99_999)
    assert str(outside.value).replace(str(ids[20]), "N") == str(absent.value).replace("99999", "N")
    with pytest.raises(AccessDenied):
        _record(engine, ids[0], user="数据组")
    with pytest.raises(UserError, match="outside"):
        record_outcome(
            engine,
            alert_id=ids[0],
            user_name="王芳",
            visited_on=dt.date(2024, 6, 21),
            result="refused",
            now=NOW,
        )
    assert _actions(engine).count("record_visit_denied") == len(cases) + 4
    assert _task_status(engine, ids[0]) == "new" and visit_outcomes(engine).empty


def test_referrals_move_by_allowed_steps_and_the_task_closes_when_nothing_is_open(engine, config):
    ids = listed(engine, config)
    done = _record(engine, ids[0], needs=["medical"], routes=["medical_aid", "employment_aid"])
    medical, employment = done.referrals
    (need,) = done.needs
    with pytest.raises(UserError, match="cannot become done"):
        update_referral(engine, referral_id=medical, user_name="李强", status="done", now=NOW)
    with pytest.raises(UserError, match="unknown referral status"):
        update_referral(engine, referral_id=medical, user_name="李强", status="lost", now=NOW)
    with pytest.raises(AccessDenied):  # a village worker does not follow referrals
        update_referral(engine, referral_id=medical, user_name="王芳", status="accepted", now=NOW)
    with pytest.raises(NotFound):  # town B's officer: not in the area, the same as no referral
        update_referral(engine, referral_id=medical, user_name="孙丽", status="accepted", now=NOW)
    with pytest.raises(NotFound):
        mark_need_met(engine, need_id=need, user_name="孙丽", now=NOW)
    assert (
        update_referral(engine, referral_id=medical, user_name="李强", status="accepted", now=NOW).task_status
        == "visited"
    )
    update_referral(
        engine, referral_id=medical, user_name="李强", status="done", note="已纳入医疗救助", now=NOW
    )
    with pytest.raises(UserError, match="cannot become accepted"):
        update_referral(engine, referral_id=medical, user_name="李强", status="accepted", now=NOW)
    assert (
        update_referral(
            engine, referral_id=employment, user_name="赵敏", status="declined", now=NOW
        ).task_status
        == "visited"
    )
    assert mark_need_met(engine, need_id=need, user_name="李强", now=NOW).task_status == "closed"
    with pytest.raises(UserError, match="already met"):
        mark_need_met(engine, need_id=need, user_name="李强", now=NOW)
    actions = _actions(engine)
    assert actions.count("update_referral") == 3 and actions.count("need_met") == 1
    assert actions.count("update_referral_denied") == 5 and actions.count("need_met_denied") == 2


def test_the_needs_register_is_scoped_by_township_and_its_export_is_formula_safe(engine, config):
    ids = listed(engine, config)
    with Session(engine) as session, session.begin():
        session.get(AlertContact, ids[0]).head_name = '=HYPERLINK("http://evil.example","x")'
    _record(engine, ids[0], needs=["medical", "housing"], routes=["housing_renovation"])
    _record(engine, ids[20], user="赵敏", needs=["education"], routes=["charity"])
    mine = view_register(engine, user_name="李强", now=NOW, today=dt.date(2024, 7, 20))
    assert sorted(mine.needs["category"]) == ["housing", "medical"] and set(mine.needs["town_code"]) == {
        TOWN_A
    }
    assert mine.referrals["department"].tolist() == ["住建局"] and mine.referrals["age_days"].tolist() == [30]
    assert mine.referrals["overdue"].tolist() == [True]  # due 07-10, 30 days after the visit
    theirs = view_register(engine, user_name="孙丽", now=NOW, today=NOW.date())
    assert theirs.needs["category"].tolist() == ["education"] and set(theirs.referrals["town_code"]) == {
        TOWN_B
    }
    county = view_register(engine, user_name="赵敏", now=NOW, today=NOW.date(), category="medical")
    assert county.needs["alert_id"].tolist() == [ids[0]]
    summary = mine.summary()
    assert summary[["kind", "what", "open"]].values.tolist() == [
        ["need", "housing", 1],
        ["need", "medical", 1],
        ["referral", "住建局", 1],
    ]
    with pytest.raises(NotFound):
        view_register(engine, user_name="李强", now=NOW, today=NOW.date(), town=TOWN_B)
    with pytest.raises(AccessDenied):
        view_register(engine, user_name="王芳", now=NOW, today=NOW.date())
    exported = export_register(engine, user_name="李强", now=NOW, today=NOW.date(), town=TOWN_A, as_csv=True)
    assert exported.filename.startswith(f"needs_{TOWN_A}_") and (exported.needs, exported.referrals) == (2, 1)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {r["户主姓名"] for r in rows} == {"'" + '=HYPERLINK("http://evil.example","x")'}
    workbook = load_workbook(
        io.BytesIO(export_register(engine, user_name="李强", now=NOW, today=NOW.date(), town=None).content)
    )
    assert workbook.sheetnames == ["需求", "转介"]
    assert not [c for s in workbook for r in s.iter_rows() for c in r if c.data_type == "f"]
    actions = _actions(engine)
    assert actions.count("export_needs") == 2 and actions.count("view_needs") == 3
    assert actions.count("view_needs_denied") == 2


def test_explored_visits_have_a_row_of_their_own_and_leave_the_lists_precision_alone(engine, config):
    from sqlalchemy import update

    from outreach.db import transaction
    from outreach.schema import Alert

    ids = listed(engine, config)
    with transaction(engine) as session:
        session.execute(
            update(Alert).where(Alert.id == ids[2]).values(selection="explore", listing_probability=0.02)
        )
    _record(engine, ids[0])  # red, listed by rank: confirmed
    _record(engine, ids[1], result="no_hardship")  # orange, by rank
    _record(engine, ids[2], result="no_hardship")  # drawn at random
    board = view_dashboard(engine, user_name="李强", now=NOW, today=dt.date(2024, 6, 20))
    tiers = board.outcomes_by_tier.set_index("tier")
    assert tiers.loc["explore", ["no_hardship", "labelled"]].tolist() == [1, 1]
    assert tiers.loc["yellow", "visited"] == 0  # the drawn yellow household counts as explored only
    assert board.precision == 0.5
    from outreach.outcomes import listed_outcomes

    june = listed_outcomes(engine, dt.date(2024, 6, 1))
    assert len(june) == len(ids) - 1  # blue is watch only: no task
    explored = june[june["selection"] == "explore"]
    assert explored[["listing_probability", "result"]].values.tolist() == [[0.02, "no_hardship"]]
    assert june["result"].isna().sum() == len(june) - 3


def test_the_dashboard_counts_completion_outcomes_precision_and_open_items_within_the_scope(engine, config):
    ids = listed(engine, config)
    _record(engine, ids[0], needs=["medical"], routes=["medical_aid"])
    _record(engine, ids[2], result="unreachable")
    _record(engine, ids[10], user="李强", result="no_hardship")
    _record(engine, ids[20], user="赵敏", result="confirmed")
    board = view_dashboard(engine, user_name="李强", now=NOW, today=dt.date(2024, 6, 20))
    assert board.as_of == dt.date(2024, 6, 1)
    villages = board.by_village.set_index("village_name")
    # 东村: red, orange and yellow have a task (blue is watch only); 联系不上 is still to visit
    assert villages.loc["东村", ["tasks", "visited", "overdue"]].tolist() == [3, 1, 1]
    assert villages.loc["西村", ["tasks", "visited", "completion"]].tolist() == [1, 1, 1.0]
    assert "南社区" not in villages.index  # town B is not 李强's
    tiers = board.outcomes_by_tier.set_index("tier")
    assert tiers.loc["red", ["confirmed", "no_hardship", "visited", "precision"]].tolist() == [1, 1, 2, 0.5]
    assert tiers.loc["yellow", ["unreachable", "labelled"]].tolist() == [1, 0]
    assert board.precision == 0.5
    assert board.overdue["alert_id"].tolist() == [ids[1]]  # orange, due 06-14, not visited
    assert board.overdue["days_overdue"].tolist() == [6] and board.overdue_total == 1
    assert board.needs_by_category[["category", "8-30", "open"]].values.tolist() == [["medical", 1, 1]]
    assert board.referrals_by_department[["department", "0-7", "open", "overdue"]].values.tolist() == [
        ["医保局", 1, 1, 0]
    ]
    assert board.top_reasons["confirmed"].tolist() == [1, 1, 1]
    assert board.top_reasons["reason"].iloc[0] == "近…个月医疗自付 … 元，占家庭可见收入 …%"
    county = view_dashboard(engine, user_name="赵敏", now=NOW, today=dt.date(2024, 6, 20))
    assert county.precision == round(2 / 3, 3)
    town_b = view_dashboard(engine, user_name="孙丽", now=NOW, today=dt.date(2024, 6, 20))
    assert town_b.by_village["village_name"].tolist() == ["南社区"] and town_b.needs_by_category.empty
    with pytest.raises(AccessDenied):
        view_dashboard(engine, user_name="王芳", now=NOW, today=NOW.date())
    assert _actions(engine).count("view_dashboard") == 3


@only_sqlite
def test_the_field_commands_record_follow_up_and_export(engine, config, tmp_path, monkeypatch):
    from pipelines.outreach.cli import register

    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "outreach.yaml").write_text(
        yaml.safe_dump(
            {
                "outreach": make_config(users=[*config.users, TOWN_B_OFFICER]).model_dump(mode="json")
                | {"database_url": str(engine.url)}
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(tmp_path / "configs"))
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))
    ids = listed(engine, config)
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str) -> dict:
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    args = ["visits", "record", "--alert", str(ids[0]), "--visited-on", "2024-06-10", "--user", "王芳"]
    recorded = run(*args, "--result", "确认困难", "--need", "医疗", "--need", "care", "--route", "医疗救助")
    assert (
        recorded["result"] == "confirmed"
        and recorded["status"] == "visited"
        and len(recorded["referrals"]) == 1
    )
    listed_referrals = run("referrals", "list", "--user", "李强")["referrals"]
    assert [r["department"] for r in listed_referrals] == ["医保局"]
    updated = run(
        "referrals", "update", str(listed_referrals[0]["id"]), "--status", "accepted", "--user", "李强"
    )
    assert updated["status"] == "accepted"
    exported = run("needs", "export", "--town", TOWN_A, "--user", "李强")
    assert exported["needs"] == 2 and exported["file"].endswith(".xlsx")
    both = runner.invoke(app, [*args, "--result", "confirmed", "--hardship"])
    assert both.exit_code != 0
    alias = run(
        "visits",
        "record",
        "--alert",
        str(ids[1]),
        "--visited-on",
        "2024-06-10",
        "--user",
        "王芳",
        "--no-hardship",
    )
    assert alias["result"] == "no_hardship"
    listing = export_town_list(
        engine, tmp_path, town_code=TOWN_A, as_of=dt.date(2024, 6, 1), user_name="李强", now=NOW
    )
    workbook = load_workbook(listing.xlsx)
    sheet = workbook["东村"]
    sheet.cell(row=4, column=HEADERS.index("走访日期") + 1, value="2024-06-11")  # household 2
    sheet.cell(row=4, column=HEADERS.index("核查结果") + 1, value="拒绝")
    workbook.save(tmp_path / "filled.xlsx")
    imported = run("visits", "import", str(tmp_path / "filled.xlsx"), "--user", "王芳")
    counts = (imported["recorded"], imported["unchanged"], imported["empty"], imported["refused"])
    assert counts == (1, 2, 2, [])  # household 2 recorded; 0 (routes aside) and 1 as recorded; 3 and 10 empty
    foreign = runner.invoke(app, ["visits", "import", str(tmp_path / "filled.xlsx"), "--user", "孙丽"])
    assert foreign.exit_code == 1 and "refused: sheet 东村 row 2: no alert" in foreign.output


def test_the_application_role_of_postgresql_runs_the_whole_loop(postgres_server, config):
    """Recording, follow-up and the register need no privilege beyond the app role's (outcome
    routes are append-only like the visit records; needs and referrals are working tables)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from outreach.startup import open_outreach_db

    name = f"f_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    owner = f"{postgres_server}/{name}"
    app_url = make_url(owner).set(username="lowinc_app").render_as_string(hide_password=False)
    engine = open_outreach_db(
        make_config(migration_url=owner, database_url=app_url),
        home=None,  # type: ignore[arg-type]
    )
    try:
        ids = listed(engine, config)
        done = _record(engine, ids[0], needs=["medical"], routes=["medical_aid"])
        update_referral(engine, referral_id=done.referrals[0], user_name="李强", status="accepted", now=NOW)
        update_referral(engine, referral_id=done.referrals[0], user_name="李强", status="done", now=NOW)
        assert mark_need_met(engine, need_id=done.needs[0], user_name="李强", now=NOW).task_status == "closed"
        _record(engine, ids[0], result="no_hardship", correction=True)
        assert view_register(engine, user_name="李强", now=NOW, today=NOW.date()).needs.empty
        with engine.connect() as connection, pytest.raises(Exception, match="permission denied"):
            connection.execute(text("DELETE FROM outcome_routes"))
    finally:
        engine.dispose()
