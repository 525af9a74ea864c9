"""The demo's staff: planned from the region's villages, created once, passwords in a 0600 file
that stays consistent with the database over a second `lowinc up`."""

from __future__ import annotations

import csv
import datetime as dt
import re
import stat

import pandas as pd
import pytest
from sqlalchemy import select

from lowinc.errors import UserError
from outreach.accounts import verify_password
from outreach.config import DemoStaffConfig, UserConfig
from outreach.db import transaction, upgrade
from outreach.jurisdiction import scope_of, sync_users
from outreach.schema import AuditLog, User
from outreach.staff import LOGINS_FILE, ensure_demo_staff, plan_staff, read_logins, region_villages
from pipelines.outreach.staff import register_villages

NOW = dt.datetime(2024, 6, 3, 9)
TOWN = "330502001"  # 月河街道: villages 330502001005, 006, 007 ... (real codes)


def _villages(sizes: dict[str, int]) -> pd.DataFrame:
    rows = [(code, f"{code}-{i}") for code, n in sizes.items() for i in range(n)]
    return region_villages(pd.DataFrame(rows, columns=["village_code", "household_no"]))


@pytest.fixture
def villages() -> pd.DataFrame:
    from lowinc.divisions import load_divisions

    codes = load_divisions().query("town_code == @TOWN")["village_code"].head(4).tolist()
    # two small villages, one middling, one large (shared by two workers); a bad code is dropped
    return _villages({codes[0]: 30, codes[1]: 40, codes[2]: 60, codes[3]: 150, "330502001999": 5})


def test_small_villages_share_a_worker_and_a_large_one_has_several(villages):
    staff = plan_staff(villages, DemoStaffConfig(households_per_worker=100, max_villages_per_worker=5))
    codes = villages["village_code"].tolist()
    workers = [m for m in staff if m.role == "village_worker"]
    assert [m.areas for m in workers] == [(codes[0], codes[1]), (codes[2],), (codes[3],), (codes[3],)]
    assert [m.name for m in workers][-2:] == [f"cw-{codes[3]}", f"cw-{codes[3]}-2"]
    assert [(m.name, m.role) for m in staff if m.role != "village_worker"] == [
        (f"to-{TOWN}", "town_officer"),
        ("co-330502", "county_officer"),
        ("data-team", "data_team"),
        ("model-owner", "model_owner"),
    ]
    assert all(re.fullmatch(r"[a-z0-9-]+", m.name) for m in staff)  # a person can type them
    assert "330502001999" not in {a for m in staff for a in m.areas}


@pytest.fixture
def engine(tmp_path):
    engine = upgrade(f"sqlite:///{tmp_path / 'outreach.db'}")
    yield engine
    engine.dispose()


def test_staff_are_created_with_their_areas_and_a_private_logins_file(engine, villages, tmp_path):
    staff = plan_staff(villages, DemoStaffConfig())
    with transaction(engine) as session:
        result = ensure_demo_staff(session, staff, tmp_path / "secure", NOW)
    path = tmp_path / "secure" / LOGINS_FILE
    assert result.added == result.users == len(staff) and result.logins_file == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    logins = read_logins(path)
    with transaction(engine) as session:
        users = {u.name: u for u in session.execute(select(User)).scalars()}
        first = staff[0]
        assert scope_of(session, users[first.name]).villages == first.areas  # user_areas rows
        assert all(users[n].origin == "demo" for n in logins)
        assert verify_password(users[first.name].password_hash, logins[first.name])
        assert users["to-330502001"].level == "town" and users["data-team"].level is None
        audit = session.execute(select(AuditLog).where(AuditLog.action == "demo_staff")).scalar_one()
        assert not any(p in str(audit.detail) for p in logins.values())
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["role"] for r in rows} >= {"village_worker", "town_officer", "county_officer", "data_team"}
    assert all(len(r["password"]) >= 12 for r in rows)


def test_a_second_run_keeps_users_and_file_and_repairs_what_drifted(engine, villages, tmp_path):
    staff = plan_staff(villages, DemoStaffConfig())
    secure = tmp_path / "secure"
    with transaction(engine) as session:
        ensure_demo_staff(session, staff, secure, NOW)
    before = read_logins(secure / LOGINS_FILE)
    with transaction(engine) as session:
        again = ensure_demo_staff(session, staff, secure, NOW)
    assert (again.added, again.new_passwords, again.disabled) == (0, 0, 0)
    assert read_logins(secure / LOGINS_FILE) == before
    (secure / LOGINS_FILE).unlink()  # the file lost: every user gets a new password, written down
    fewer = [m for m in staff if m.name != staff[0].name]
    with transaction(engine) as session:
        third = ensure_demo_staff(session, fewer, secure, NOW)
        gone = session.execute(select(User).where(User.name == staff[0].name)).scalar_one()
        assert not gone.active  # a worker the region no longer needs is disabled, not deleted
        kept = session.execute(select(User).where(User.name == fewer[0].name)).scalar_one()
        after = read_logins(secure / LOGINS_FILE)
        assert verify_password(kept.password_hash, after[fewer[0].name])
    assert third.new_passwords == len(fewer) and third.disabled == 1 and staff[0].name not in after


def test_a_demo_name_taken_by_a_configured_user_is_refused(engine, villages, tmp_path):
    with transaction(engine) as session:
        sync_users(session, [UserConfig(name="data-team", role="data_team")])
    with (
        pytest.raises(UserError, match="taken by users not made by lowinc up"),
        transaction(engine) as session,
    ):
        ensure_demo_staff(session, plan_staff(villages, DemoStaffConfig()), tmp_path / "secure", NOW)


def test_the_register_gives_households_per_village_from_two_columns_only(tmp_path):
    folder = tmp_path / "raw" / "hukou" / "2022-01"
    folder.mkdir(parents=True)
    frame = pd.DataFrame(
        {
            "公民身份号码": ["330502199001011234", "330502199001021234", "330502199001031234"],
            "姓名": ["张三", "李四", "王五"],
            "户号": ["000000001", "000000001", "000000002"],
            "区划代码": ["330502001005", "330502001005", "330502001006"],
        }
    )
    frame.to_csv(folder / "户籍人口_全量.csv", index=False, encoding="gb18030")
    read = register_villages(tmp_path / "raw")
    assert list(read.columns) == ["village_code", "household_no"]
    counts = region_villages(read).set_index("village_code")["households"].to_dict()
    assert counts == {"330502001005": 1, "330502001006": 1}  # two people, one household
