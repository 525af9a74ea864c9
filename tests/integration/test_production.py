"""The production configuration on 127.0.0.1: PostgreSQL for Prefect's server, MLflow's
tracking store and the outreach database; a Prefect server and a process worker; the
monthly loop run through its deployment. Then the worker is killed mid-flow and the loop
re-run: the same outputs, no alert sent twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration.regions import small_region_env
from tests.outreach.receivers import HttpReceiver
from tests.postgres import free_port, postgres_cluster

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, env=env, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_healthy(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(url)


def _run(args: list[str], env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    home = tmp_path_factory.mktemp("production")
    receiver = HttpReceiver().start()
    # production configures its users (the embedded default has none: `lowinc up` makes the
    # demo's staff): the small region's county bureau and a data team
    users = [
        {"name": "南浔区民政局", "role": "county_officer", "level": "county", "code": "330503"},
        {"name": "数据组", "role": "data_team"},
    ]
    for i, user in enumerate(users):
        user["addresses"] = {"webhook": f"{receiver.url}/user{i}"}
    with postgres_cluster(("prefect", "mlflow", "outreach")) as pg:
        port = free_port()
        env = small_region_env(
            home,
            LOWINC_PSEUDONYM_KEY="production-test-key",
            LOWINC_MODEL__TRACKING_URI=f"{pg}/mlflow",
            LOWINC_OUTREACH__DATABASE_URL=f"{pg}/outreach",
            LOWINC_OUTREACH__USERS=json.dumps(users, ensure_ascii=False),
            PREFECT_HOME=str(home / "prefect"),
            PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
            PREFECT_API_DATABASE_CONNECTION_URL=f"{pg.replace('+psycopg', '+asyncpg')}/prefect",
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_WORKER_QUERY_SECONDS="2",
        )
        server = _start(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env,
            home / "server.log",
        )
        try:
            _run([str(BIN / "lowinc"), "simulate", "--json"], env)
            _wait_healthy(f"http://127.0.0.1:{port}/api/health")
            deployed = json.loads(_run([str(BIN / "lowinc"), "deploy", "--json"], env).stdout)
            yield home, env, pg, deployed, receiver
        finally:
            _stop(server)
            receiver.stop()


def _worker(env: dict[str, str], home: Path, name: str) -> subprocess.Popen:
    return _start([str(BIN / "prefect"), "worker", "start", "--pool", "lowinc"], env, home / f"{name}.log")


def _run_monthly(env: dict[str, str]) -> str:
    done = _run(
        [
            str(BIN / "prefect"),
            "deployment",
            "run",
            "lowinc-monthly/monthly",
            "--watch",
            "--watch-timeout",
            "900",
        ],
        env,
        timeout=960,
    )
    return done.stdout + done.stderr


def _alerts(pg: str) -> list[tuple]:
    engine = sa.create_engine(f"{pg}/outreach")
    with engine.connect() as c:
        return sorted(c.execute(sa.text("select household_key, as_of, tier from alerts")).all())


def _outbox_keys(pg: str, kind: str) -> list[str]:
    engine = sa.create_engine(f"{pg}/outreach")
    with engine.connect() as c:
        query = sa.text("select idempotency_key from outbox where kind = :kind")
        return [r[0] for r in c.execute(query, {"kind": kind})]


def test_deployments_are_declared_with_schedules_in_shanghai_time(production):
    _, env, _, deployed, _ = production
    assert set(deployed["deployments"]) == {"lowinc-monthly/monthly", "deliver/deliver", "train/retrain"}
    shown = _run([str(BIN / "prefect"), "deployment", "inspect", "lowinc-monthly/monthly"], env).stdout
    assert "Asia/Shanghai" in shown and "0 2 8 * *" in shown
    # the worker reads the key and the database URLs from its own environment: none is in Prefect
    assert "job_variables" in shown and "production-test-key" not in shown and "PSEUDONYM" not in shown
    assert env["LOWINC_OUTREACH__DATABASE_URL"] not in shown


def test_monthly_loop_runs_through_the_worker_on_postgresql(production):
    home, env, pg, _, receiver = production
    worker = _worker(env, home, "worker-1")
    try:
        out = _run_monthly(env)
    finally:
        _stop(worker)
    assert "Completed" in out, out[-3000:]
    assert list((home / "scores").glob("as_of=*/visit_list.parquet"))
    engine = sa.create_engine(f"{pg}/mlflow")
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from registered_models")).scalar() == 1
    assert _alerts(pg)
    assert (home / "mlflow" / "artifacts").is_dir() and not (REPO / "mlruns").exists()
    assert receiver.keys() and len(set(receiver.keys())) == len(receiver.keys())


def test_killing_the_worker_mid_flow_then_rerunning_sends_nothing_twice(production):
    home, env, pg, _, receiver = production
    before, received = _alerts(pg), list(receiver.keys())
    worker = _worker(env, home, "worker-2")
    started = subprocess.Popen(
        [str(BIN / "prefect"), "deployment", "run", "lowinc-monthly/monthly", "-p", "all_months=true"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    started.wait(timeout=120)
    time.sleep(25)  # the worker has picked the run up and is ingesting
    _stop(worker, signal.SIGKILL)
    worker = _worker(env, home, "worker-3")
    try:
        out = _run_monthly(env)
    finally:
        _stop(worker)
    assert "Completed" in out, out[-3000:]
    assert _alerts(pg) == before  # same month, same alerts: nothing new queued
    # data-team notices (the killed run's flow-<id>-Crashed, an ingest notice whose findings
    # changed) may come too; alerts may not
    notices = set(_outbox_keys(pg, "ingest"))
    alerts_sent = [k for k in list(receiver.keys()) if not k.startswith("flow-") and k not in notices]
    assert alerts_sent == [k for k in received if k not in notices]  # no alert sent twice
