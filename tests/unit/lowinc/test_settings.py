import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

from lowinc.errors import BadValue
from lowinc.settings import DEFAULT_CONFIG_DIR, mask_url
from pipelines.settings import load_settings


def test_yaml_defaults_load_and_environment_overrides_one_nested_field(monkeypatch, tmp_path):
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    monkeypatch.setenv("LOWINC_SIMULATION__DEFECTS__ID_EMPTY", "0.25")
    s = load_settings()
    assert s.home == tmp_path
    assert s.layout.raw == tmp_path / "raw" and s.layout.truth == tmp_path / "truth"
    assert s.simulation.defects.id_empty == 0.25
    assert s.simulation.defects.id_15_digit == 0.001  # the rest of the section still from YAML
    assert s.policy_lines.cities["湖州市"].dibao_annual[2022] == 12000


def test_unknown_keys_and_bad_months_are_refused(monkeypatch):
    with pytest.raises(pydantic.ValidationError):
        load_settings(simulation={"housholds": 5})
    with pytest.raises(pydantic.ValidationError):
        load_settings(simulation={"start": "2022-13-01"})


def test_settings_are_frozen():
    s = load_settings()
    with pytest.raises(pydantic.ValidationError):
        s.simulation.households = 3  # type: ignore[misc]


def _copied_configs(tmp_path: Path) -> Path:
    configs = tmp_path / "etc-lowinc"
    shutil.copytree(DEFAULT_CONFIG_DIR, configs)
    return configs


def test_sources_follow_the_configuration_folder(monkeypatch, tmp_path):
    configs = _copied_configs(tmp_path)
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(configs))
    assert load_settings().ingest.sources_dir == configs / "sources"
    # a relative sources_dir in YAML is taken from the configuration folder
    (configs / "ingest.yaml").write_text("ingest:\n  sources_dir: our-sources\n", encoding="utf-8")
    assert load_settings().ingest.sources_dir == configs / "our-sources"
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("LOWINC_INGEST__SOURCES_DIR", str(elsewhere))
    assert load_settings().ingest.sources_dir == elsewhere  # an absolute path stays as given


def test_a_bureaus_own_source_definitions_are_the_ones_ingest_reads(monkeypatch, tmp_path):
    from ingest.delivery import sources_from

    configs = _copied_configs(tmp_path)
    medical = configs / "sources" / "medical.yaml"
    medical.write_text(
        medical.read_text(encoding="utf-8").replace("encoding: utf-8-sig", "encoding: gb18030")
    )
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(configs))
    ours = sources_from(load_settings().ingest.sources_dir)
    stock = sources_from(DEFAULT_CONFIG_DIR / "sources")
    assert ours.keys() == stock.keys() and ours != stock


def _config_json(tmp_path: Path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOWINC_", "PREFECT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "config", "--json"],
        cwd=DEFAULT_CONFIG_DIR.parent,
        env=clean | {"LOWINC_HOME": str(tmp_path / "home"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) | {"_raw": done.stdout + done.stderr}


def test_lowinc_config_shows_which_folder_and_file_each_part_came_from(tmp_path):
    configs = _copied_configs(tmp_path)
    shown = _config_json(tmp_path, LOWINC_CONFIG_DIR=str(configs), LOWINC_MODEL__VISIT_CAPACITY="40")
    origin = shown["from"]
    assert origin["config_dir"] == str(configs) and origin["config_dir_from"] == "LOWINC_CONFIG_DIR"
    assert origin["sources_dir"] == str(configs / "sources") and "medical.yaml" in origin["source_files"]
    assert origin["yaml_files"][str(configs / "model.yaml")] == ["model"]
    assert "LOWINC_MODEL__VISIT_CAPACITY" in origin["environment_overrides"]
    assert shown["settings"]["ingest"]["sources_dir"] == str(configs / "sources")
    assert shown["settings"]["model"]["visit_capacity"] == 40


SECRETS = {
    "LOWINC_OUTREACH__DATABASE_URL": "postgresql+psycopg://lowinc:db-s3cret@db.internal/outreach",
    "LOWINC_MODEL__TRACKING_URI": "postgresql+psycopg://mlflow:ml-s3cret@db.internal/mlflow",
    "LOWINC_OUTREACH__CHANNELS__EMAIL__USER": "lowinc",
    "LOWINC_OUTREACH__CHANNELS__EMAIL__PASSWORD": "mail-s3cret",
    "LOWINC_OUTREACH__USERS": json.dumps(
        [
            {
                "name": "数据组",
                "role": "data_team",
                "addresses": {
                    "dingtalk": "SECrobot-s3cret@tok",
                    "webhook": "https://h.example/x?key=hook-s3cret",
                },
            }
        ]
    ),
}


def test_lowinc_config_masks_every_secret(tmp_path):
    shown = _config_json(tmp_path, **SECRETS)
    assert "s3cret" not in shown["_raw"]
    outreach = shown["settings"]["outreach"]
    assert outreach["database_url"] == "postgresql+psycopg://lowinc:***@db.internal/outreach"
    assert shown["settings"]["model"]["tracking_uri"] == "postgresql+psycopg://mlflow:***@db.internal/mlflow"
    assert outreach["channels"]["email"]["password"] == "**********"
    assert outreach["users"][0]["addresses"] == {"dingtalk": "**********", "webhook": "**********"}


def test_secrets_are_masked_in_reprs_and_mlflow_params_but_used_where_needed(monkeypatch, tmp_path):
    from models.tracking import flat_params
    from outreach.channels import apprise_url

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert "s3cret" not in repr(s) and "s3cret" not in str(flat_params(s.model))
    assert s.outreach.url_for(tmp_path) == SECRETS["LOWINC_OUTREACH__DATABASE_URL"]
    assert "ml-s3cret" in s.model.resolved_tracking_uri(tmp_path)
    assert "mail-s3cret" in apprise_url("email", "a@b.cn", "k1", s.outreach)
    assert mask_url("sqlite:////srv/lowinc/outreach.db") == "sqlite:////srv/lowinc/outreach.db"
    assert mask_url("http://mlflow.internal:5000") == "http://mlflow.internal:5000"


def test_a_bureaus_old_thresholds_file_is_refused_with_what_to_rename(monkeypatch, tmp_path):
    configs = _copied_configs(tmp_path)
    lines = (configs / "policy_lines.yaml").read_text(encoding="utf-8")
    (configs / "policy_lines.yaml").unlink()
    (configs / "thresholds.yaml").write_text(lines.replace("policy_lines:", "thresholds:"), encoding="utf-8")
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(configs))
    with pytest.raises(BadValue) as refused:
        load_settings()
    assert refused.value.line() == (
        "thresholds.yaml: the configuration key `thresholds` is now `policy_lines` "
        f"(run: rename `thresholds` to `policy_lines` in {configs / 'thresholds.yaml'})"
    )


def test_old_tier_share_keys_and_variables_are_refused_not_ignored(monkeypatch, tmp_path):
    configs = _copied_configs(tmp_path)
    (configs / "ours.yaml").write_text("scoring:\n  red_top_share: 0.02\n", encoding="utf-8")
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(configs))
    with pytest.raises(BadValue, match=r"`scoring.red_top_share` is now `scoring.tier_shares.red`"):
        load_settings()
    (configs / "ours.yaml").unlink()
    monkeypatch.setenv("LOWINC_THRESHOLDS__YEARLY_GROWTH", "0.05")
    with pytest.raises(BadValue) as refused:
        load_settings()
    assert refused.value.hint == "set LOWINC_POLICY_LINES__YEARLY_GROWTH instead"
    monkeypatch.delenv("LOWINC_THRESHOLDS__YEARLY_GROWTH")
    monkeypatch.setenv("LOWINC_SCORING__TIER_SHARES__RED", "0.02")
    assert load_settings().scoring.tier_shares.red == 0.02


def test_the_bottom_layer_knows_no_section():
    source = (DEFAULT_CONFIG_DIR.parent / "lowinc" / "settings.py").read_text(encoding="utf-8")
    imported = {
        node.module.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= {"__future__", "os", "collections", "pathlib", "typing", "urllib", "yaml", "pydantic",
                        "pydantic_settings", "lowinc"}  # fmt: skip


def test_a_file_that_is_not_yaml_is_named_in_the_error(monkeypatch, tmp_path):
    configs = _copied_configs(tmp_path)
    (configs / "model.yaml").write_text("model:\n  name: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(configs))
    with pytest.raises(BadValue, match=rf"^{configs / 'model.yaml'} line 3 is not valid YAML$"):
        load_settings()
