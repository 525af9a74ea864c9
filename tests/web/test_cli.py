"""`lowinc users ...` and `lowinc web` through the real entry point, on the embedded SQLite."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from outreach.accounts import authenticate
from outreach.audit import read_audit
from outreach.db import make_engine
from pipelines.cli import main
from tests.postgres import free_port

pytestmark = pytest.mark.integration
GOOD = "correct horse battery staple"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "outreach.yaml").write_text(yaml.safe_dump({"outreach": {"users": []}}), encoding="utf-8")
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(configs))
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LOWINC_USER", "operator")
    return tmp_path / "home"


def lowinc(capsys, monkeypatch, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
    code = 0
    try:
        main(list(args))
    except SystemExit as ended:
        code = int(ended.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_users_add_list_disable_and_reset_password(home, capsys, monkeypatch):
    add = [
        "users",
        "add",
        "王芳",
        "--role",
        "village_worker",
        "--area",
        "330502001005",
        "--area",
        "330502001006",
    ]
    code, out, _ = lowinc(
        capsys, monkeypatch, *add, "--password-stdin", "--capacity", "40", stdin=GOOD + "\n"
    )
    assert code == 0 and "added 王芳" in out
    code, out, _ = lowinc(capsys, monkeypatch, "users", "list", "--json")
    (user,) = json.loads(out)
    assert user == {
        "name": "王芳",
        "role": "village_worker",
        "areas": ["330502001005", "330502001006"],
        "origin": "cli",
        "active": True,
        "locked": False,
        "capacity": 40,
        "has_password": True,
    }
    engine = make_engine(f"sqlite:///{home / 'outreach' / 'outreach.db'}")
    with Session(engine) as session:
        assert authenticate(session, "王芳", GOOD, "cli-test", dt.datetime.now(dt.UTC)).name == "王芳"
        session.commit()
    new = "another long passphrase"
    assert (
        lowinc(capsys, monkeypatch, "users", "reset-password", "王芳", "--password-stdin", stdin=new)[0] == 0
    )
    assert lowinc(capsys, monkeypatch, "users", "disable", "王芳")[0] == 0
    code, out, _ = lowinc(capsys, monkeypatch, "users", "list")
    assert "disabled" in out
    audit = read_audit(engine)
    assert set(audit["actor"]) >= {"cli:operator"}
    assert {"add_user", "reset_password", "disable_user"} <= set(audit["action"])
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "village_worker", "--area", "330502001005", "--password-stdin"], "short", "at least 12"),
        (["--role", "village_worker", "--area", "330502001005"], None, "no terminal"),
        (["--role", "village_worker", "--area", "33050200100"], GOOD, "12 digits"),
        (["--role", "king", "--password-stdin"], GOOD, "unknown role"),
        (["--role", "data_team", "--area", "330502", "--password-stdin"], GOOD, "no area"),
    ],
)
def test_users_add_refuses_in_one_line(home, capsys, monkeypatch, args, stdin, message):
    code, _out, err = lowinc(capsys, monkeypatch, "users", "add", "某人", *args, stdin=stdin)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and (stdin is None or stdin not in err)


def test_lowinc_web_serves_the_sign_in_page(home):
    port = free_port()
    env = {**os.environ, "LOWINC_HOME": str(home)}
    lowinc_bin = Path(sys.executable).parent / "lowinc"
    process = subprocess.Popen(
        [str(lowinc_bin), "web", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    body = response.read().decode()
                    headers = response.headers
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert "用户名" in body and headers["X-Frame-Options"] == "DENY"
        assert (home / "secure" / "web.key").stat().st_mode & 0o077 == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
