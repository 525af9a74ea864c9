"""outreach.accounts: the password policy, Argon2id hashing, adding, disabling and resetting
users, and sign-in with its lock-out, on a real (SQLite) outreach database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lowinc.errors import BadValue, NotFound, UserError
from outreach.accounts import (
    HASHER,
    LoginFailed,
    LoginPolicy,
    RateLimited,
    add_user,
    authenticate,
    check_password,
    disable_user,
    hash_password,
    list_users,
    reset_password,
    verify_password,
)
from outreach.audit import read_audit
from outreach.db import transaction, upgrade
from outreach.schema import LoginAttempt, User, UserArea, WebSession

NOW = dt.datetime(2024, 6, 3, 9, 0)
GOOD = "correct horse battery staple"
VILLAGE, VILLAGE_2, TOWN, COUNTY = "330502001005", "330502001006", "330502001", "330502"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = upgrade(f"sqlite:///{tmp_path / 'outreach.db'}")
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short pass", "at least 12"),
        ("x" * 129, "at most 128"),
        ("Password1234", "common or breached"),
        ("QWERTYUIOP123", "common or breached"),
        ("wangfang-is-my-name", "user name"),
        ("line\nbreak in it", "control characters"),
    ],
)
def test_the_policy_refuses_weak_passwords_naming_the_rule_not_the_password(password, rule):
    with pytest.raises(BadValue, match=rule) as refused:
        check_password(password, "wangfang")
    assert password not in refused.value.message


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",  # spaces, no digits or capitals: no composition rules
        "我家门口有两棵树一棵是枣树",  # any Unicode
        "a" * 11 + "é",  # 12 characters (not bytes)
        "x" * 128,
    ],
)
def test_the_policy_accepts_long_passphrases_of_any_characters(password):
    assert check_password(password, "wangfang") == password


def test_hashes_are_argon2id_at_least_owasp_minimum_and_salted():
    first, second = hash_password(GOOD), hash_password(GOOD)
    assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert first != second
    assert verify_password(first, GOOD) and not verify_password(first, GOOD + " ")
    assert HASHER.memory_cost >= 19 * 1024 and HASHER.time_cost >= 2 and HASHER.type is Type.ID


def test_unicode_forms_of_one_password_verify_alike():
    composed, decomposed = "caf\u00e9 au lait ouvert", "cafe\u0301 au lait ouvert"
    assert verify_password(hash_password(composed), decomposed)


def test_a_missing_or_broken_hash_never_verifies():
    assert not verify_password(None, GOOD)
    assert not verify_password("not a hash", GOOD)


def test_add_user_validates_role_and_areas_and_audits(engine):
    with transaction(engine) as session:
        worker = add_user(
            session, "王芳", "village_worker", [VILLAGE, VILLAGE_2], GOOD, "cli", NOW, 30, actor="cli:root"
        )
        add_user(session, "李强", "town_officer", [TOWN], GOOD, "cli", NOW)
        add_user(session, "数据组", "data_team", [], None, "demo", NOW)
    with Session(engine) as session:
        row = session.get(User, worker.id)
        assert (row.level, row.code, row.origin, row.capacity) == ("village", VILLAGE, "cli", 30)
        assert session.execute(select(UserArea.code)).scalars().all() == [VILLAGE_2]
        summaries = {u.name: u for u in list_users(session)}
    assert summaries["王芳"].areas == (VILLAGE, VILLAGE_2)
    assert not summaries["数据组"].has_password
    audit = read_audit(engine)
    assert list(audit["action"]) == ["add_user"] * 3
    assert audit.iloc[0]["actor"] == "cli:root"
    assert GOOD not in audit["detail"].astype(str).str.cat()


@pytest.mark.parametrize(
    ("role", "areas", "message"),
    [
        ("mayor", [VILLAGE], "unknown role"),
        ("village_worker", [], "needs --area"),
        ("village_worker", [TOWN], "village code"),
        ("town_officer", [VILLAGE], "town code"),
        ("town_officer", [TOWN, "330502002"], "one town"),
        ("county_officer", ["999999"], "unknown division"),
        ("data_team", [COUNTY], "no area"),
        ("village_worker", [VILLAGE, VILLAGE], "twice"),
        ("village_worker", ["../../etc"], "ASCII digits"),
    ],
)
def test_add_user_refuses_a_role_area_mismatch(engine, role, areas, message):
    with transaction(engine) as session, pytest.raises(UserError, match=message):
        add_user(session, "某人", role, areas, GOOD, "cli", NOW)


def test_add_user_refuses_a_duplicate_or_bad_name(engine):
    with transaction(engine) as session:
        add_user(session, "王芳", "village_worker", [VILLAGE], GOOD, "cli", NOW)
    for name, message in [
        ("王芳", "exists already"),
        (" 王芳", "spaces"),
        ("a\u202eb", "printable"),
        ("", "1-100"),
    ]:
        with transaction(engine) as session, pytest.raises(UserError, match=message):
            add_user(session, name, "village_worker", [VILLAGE], GOOD, "cli", NOW)


def _open_session(engine: Engine, user_id: int) -> None:
    with transaction(engine) as session:
        session.add(
            WebSession(
                id="a" * 64,
                user_id=user_id,
                csrf_token="t",
                created_at=NOW,
                last_seen_at=NOW,
                expires_at=NOW + dt.timedelta(hours=12),
            )
        )


def test_disable_and_reset_end_sessions_and_are_audited(engine):
    with transaction(engine) as session:
        user_id = add_user(session, "王芳", "village_worker", [VILLAGE], GOOD, "cli", NOW).id
    _open_session(engine, user_id)
    with transaction(engine) as session:
        reset_password(session, "王芳", "a brand new passphrase", NOW)
    with Session(engine) as session:
        assert session.get(WebSession, "a" * 64).revoked_at == NOW
        assert verify_password(session.get(User, user_id).password_hash, "a brand new passphrase")
    with transaction(engine) as session:
        disable_user(session, "王芳", NOW)
        with pytest.raises(NotFound):
            disable_user(session, "无此人", NOW)
    assert list(read_audit(engine)["action"]) == ["add_user", "reset_password", "disable_user"]


def test_reset_password_applies_the_policy(engine):
    with transaction(engine) as session:
        add_user(session, "王芳", "village_worker", [VILLAGE], GOOD, "cli", NOW)
    with transaction(engine) as session, pytest.raises(BadValue, match="common"):
        reset_password(session, "王芳", "password1234", NOW)


def _try(
    engine: Engine, name: str, password: str, now: dt.datetime, policy: LoginPolicy | None = None
) -> str:
    with Session(engine) as session:
        try:
            user = authenticate(session, name, password, "10.0.0.1", now, policy)
            return f"ok:{user.name}"
        except RateLimited:
            return "rate_limited"
        except LoginFailed as failure:
            return f"failed:{failure.message}"
        finally:
            session.commit()


def test_authenticate_locks_after_the_threshold_and_says_the_same_thing(engine):
    with transaction(engine) as session:
        add_user(session, "王芳", "village_worker", [VILLAGE], GOOD, "cli", NOW)
    wrong = [_try(engine, "王芳", "not it at all!", NOW) for _ in range(5)]
    locked = _try(engine, "王芳", GOOD, NOW + dt.timedelta(minutes=1))
    unknown = _try(engine, "无此人", GOOD, NOW)
    assert len({*wrong, locked, unknown}) == 1 and locked.startswith("failed:")
    assert _try(engine, "王芳", GOOD, NOW + dt.timedelta(minutes=16)) == "ok:王芳"
    with Session(engine) as session:
        attempts = session.execute(select(LoginAttempt.ok).order_by(LoginAttempt.id)).scalars().all()
    assert attempts == [False] * 7 + [True]
    reasons = [d.get("reason") for d in read_audit(engine)["detail"]][1:]
    assert reasons[4:7] == ["wrong_password_locked", "locked", "unknown_user"]


def test_authenticate_rate_limits_a_client(engine):
    policy = LoginPolicy(rate_limit_attempts=2, rate_limit_window_minutes=5)
    with transaction(engine) as session:
        add_user(session, "王芳", "village_worker", [VILLAGE], GOOD, "cli", NOW)
    assert _try(engine, "甲", "x" * 12, NOW, policy).startswith("failed")
    assert _try(engine, "乙", "x" * 12, NOW, policy).startswith("failed")
    assert _try(engine, "王芳", GOOD, NOW, policy) == "rate_limited"
    assert _try(engine, "王芳", GOOD, NOW + dt.timedelta(minutes=6), policy) == "ok:王芳"


def test_a_hash_with_old_parameters_is_rehashed_at_sign_in(engine):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID).hash(GOOD)
    with transaction(engine) as session:
        add_user(session, "王芳", "village_worker", [VILLAGE], None, "cli", NOW, password_hash=weak)
    assert _try(engine, "王芳", GOOD, NOW) == "ok:王芳"
    with Session(engine) as session:
        stored = session.execute(select(User.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and verify_password(stored, GOOD)
