"""`lowinc deploy` against a real (temporary) Prefect server: the deployments' job variables and
parameters, which Prefect keeps in its database and shows in its UI, hold no secret; a worker
reads the pseudonym key from its own environment or a secret file."""

from __future__ import annotations

import json

import pytest

from lowinc.errors import UserError
from lowinc.pseudonym import load_key
from pipelines.deploy import deploy_all, job_environment
from pipelines.settings import load_settings

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
