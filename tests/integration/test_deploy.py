"""`lowinc deploy` against a real (temporary) Prefect server: the deployments' job variables and
parameters, which Prefect keeps in its database and shows in its UI, hold no secret; a worker
reads the pseudonym key from its own environment or a secret file; a worker loads each flow
with the repository's packages, not the stage folders named like them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lowinc.errors import UserError
from lowinc.pseudonym import load_key
from lowinc.settings import REPO_ROOT
from pipelines.deploy import declared, deploy_all, job_environment
from pipelines.settings import load_settings

# A fresh interpreter loads the entrypoint as a worker does once it is in the deployment's
# working directory, then says where the packages the stages are named after came from.
LOAD_AS_WORKER = """
import importlib, json, sys
from prefect.flows import load_flow_from_entrypoint
flow = load_flow_from_entrypoint(sys.argv[1], use_placeholder_flow=False)
names = ["features", "features.snapshot", "outreach", "scoring", "models"]
print(json.dumps({"flow": flow.name, **{n: importlib.import_module(n).__file__ for n in names}}))
"""

# every flow a worker can start: the deployments' and the stages the monthly flow runs
STAGE_FLOWS = [
    "pipelines.features.flow.features_flow",
    "pipelines.score.flow.score_flow",
    "pipelines.ingest.flow.ingest_flow",
]


def load_as_worker(entrypoint: str, working_dir: Path) -> dict[str, str]:
    """{flow: its name, package: the file it was imported from} in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AS_WORKER, entrypoint],
        cwd=working_dir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def assert_real_packages(loaded: dict[str, str]) -> None:
    """Each package came from the repository's own folder, not pipelines/<stage>/."""
    for name in ("features", "features.snapshot", "outreach", "scoring", "models"):
        real = REPO_ROOT.joinpath(*name.split(".")) / "__init__.py"
        if not real.exists():
            real = REPO_ROOT.joinpath(*name.split(".")).with_suffix(".py")
        assert Path(loaded[name]) == real, (name, loaded[name])


pytestmark = pytest.mark.integration

SECRET_ENV = {
    "LOWINC_PSEUDONYM_KEY": "deploy-key-s3cret",
    "LOWINC_OUTREACH__DATABASE_URL": "postgresql+psycopg://lowinc:db-s3cret@db.internal/outreach",
    "LOWINC_MODEL__TRACKING_URI": "postgresql+psycopg://mlflow:ml-s3cret@db.internal/mlflow",
    "LOWINC_OUTREACH__CHANNELS__EMAIL__PASSWORD": "mail-s3cret",
}


def test_deployments_store_no_secret_in_prefect(tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.testing.utilities import prefect_test_harness

    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))
    settings = load_settings()
    with prefect_test_harness(server_startup_timeout=180):
        names = deploy_all(settings)
        with get_client(sync_client=True) as client:
            stored = [client.read_deployment_by_name(name) for name in names]
    assert len(stored) == 3
    for deployment in stored:
        assert deployment.job_variables["env"] == {"LOWINC_HOME": str(tmp_path / "home")}
        shown = json.dumps([deployment.job_variables, deployment.parameters, deployment.description])
        assert "s3cret" not in shown and "PSEUDONYM" not in shown
        # what a worker runs: the pull step's directory, then the stored entrypoint
        (step,) = deployment.pull_steps
        working_dir = Path(step["prefect.deployments.steps.set_working_directory"]["directory"])
        assert working_dir == REPO_ROOT
        loaded = load_as_worker(deployment.entrypoint, working_dir)
        assert f"{loaded['flow']}/{deployment.name}" in names
        assert_real_packages(loaded)


@pytest.mark.parametrize("entrypoint", STAGE_FLOWS)
def test_a_stage_flow_loaded_as_a_worker_does_keeps_the_real_packages(entrypoint):
    assert_real_packages(load_as_worker(entrypoint, REPO_ROOT))


def test_a_flow_file_loaded_by_path_would_shadow_the_packages():
    """Why the entrypoints are module paths: by path, pipelines/ goes first on sys.path and
    ``features`` is pipelines/features, which has no ``store`` (what this test guards against)."""
    assert all(":" not in d.entrypoint for d in declared(load_settings()))
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AS_WORKER, "pipelines/loop.py:monthly_flow"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0 and "No module named 'features.store'" in done.stderr


def test_a_secret_passed_for_the_job_environment_is_refused(tmp_path):
    settings = load_settings(home=tmp_path)
    assert job_environment(settings, {}, {"LOWINC_INGEST__WORKERS": "2"})["LOWINC_INGEST__WORKERS"] == "2"
    for name in ("LOWINC_PSEUDONYM_KEY", "LOWINC_OUTREACH__DATABASE_URL", "SMTP_PASSWORD", "ROBOT_TOKEN"):
        with pytest.raises(UserError, match=name):
            job_environment(settings, {}, {name: "x"})


def test_a_worker_reads_the_key_from_its_environment_or_a_secret_file(tmp_path):
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text("file-key\n")
    secure = tmp_path / "secure"
    assert load_key(secure, {"LOWINC_PSEUDONYM_KEY": "env-key"}) == b"env-key"
    assert load_key(secure, {"LOWINC_PSEUDONYM_KEY_FILE": str(key_file)}) == b"file-key"
    assert not secure.exists()  # a named key file: no key of the home's own is made
    with pytest.raises(UserError, match="cannot be read"):
        load_key(secure, {"LOWINC_PSEUDONYM_KEY_FILE": str(tmp_path / "missing.key")})
    assert load_key(secure, {}) == load_key(secure, {})  # the home's own, made once
