"""Monitoring on the simulator's regions, month by month as the loop runs it (score, then
monitor), with a real MLflow store and a real webhook receiver for the model owners.

- stable region: 12 monthly runs raise no red and at most one amber; expected and observed
  falls agree within the calibration tolerance;
- drift region: a factory closure in county 330503 from 2023-10 and a reimbursement cut from
  2023-10: the county is flagged within two months on its employment and income features,
  the out-of-pocket medical features shift, the model owners hear of the red month, and a
  challenger trained in the middle is shadow-scored beside the champion.

The harness is benchmarks/drift_scenarios.py (which prints the same on larger regions).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from benchmarks.drift_scenarios import (
    FACTORY,
    REIMBURSEMENT,
    Region,
    build_region,
    region_settings,
    run_months,
)
from pipelines.train.training import train_and_register
from tests.outreach.receivers import HttpReceiver

pytestmark = pytest.mark.integration

HOUSEHOLDS = 3000
EMPLOYMENT = {
    "contribution_interrupted",
    "contribution_gap_months_12m",
    "newly_unemployed_3m",
    "unemployed_members",
    "unemployment_benefit_income",
    "earners",
    "wage_income",
    "visible_income",
    "visible_income_per_capita",
    "income_ratio_to_dibao",
    "income_ratio_to_edge",
}
OOP = ("oop_medical_3m", "oop_medical_6m")


def client_of(region: Region) -> MlflowClient:
    uri = region.settings.model.resolved_tracking_uri(region.settings.home)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def psi_by_month(client: MlflowClient, run_id: str, key: str) -> dict[str, float]:
    return {
        f"{pd.Timestamp(m.timestamp, unit='ms'):%Y-%m}": m.value
        for m in client.get_metric_history(run_id, key)
    }


@pytest.fixture(scope="module")
def stable(tmp_path_factory) -> tuple[Region, list[dict[str, Any]]]:
    region = build_region(region_settings(tmp_path_factory.mktemp("stable"), HOUSEHOLDS, 21, []))
    return region, run_months(region)


@pytest.fixture(scope="module")
def drift(tmp_path_factory) -> tuple[Region, list[dict[str, Any]], HttpReceiver]:
    receiver = HttpReceiver().start()
    owners = [{"name": "模型组", "role": "model_owner", "addresses": {"webhook": f"{receiver.url}/owner"}}]
    home = tmp_path_factory.mktemp("drift")
    settings = region_settings(
        home,
        HOUSEHOLDS,
        21,
        [FACTORY, REIMBURSEMENT],
        outreach={"users": owners, "link_base_url": "http://127.0.0.1:8000"},
    )
    region = build_region(settings)
    # a challenger trained on the months up to 2023-09, kept out of service by the margin
    challenger = settings.model_copy(
        update={"model": settings.model.model_copy(update={"promotion_margin": 1.0})}
    )

    def retrain(as_of: pd.Timestamp) -> None:
        if as_of == pd.Timestamp("2023-10-01"):
            train_and_register(challenger)

    try:
        results = run_months(region, before=retrain)
    finally:
        receiver.stop()
    return region, results, receiver


def test_a_stable_region_raises_no_red_and_at_most_one_amber_in_twelve_months(stable):
    _, results = stable
    statuses = [r["status"] for r in results]
    assert len(statuses) == 12
    alarms = sum(s != "green" for s in statuses)
    print(f"stable region: false-alarm rate {alarms}/12 months ({statuses})")
    assert "red" not in statuses and statuses.count("amber") <= 1


def test_expected_and_observed_falls_agree_within_the_calibration_tolerance(stable):
    region, results = stable
    matured = [m["realised"] for r in results for m in r["models"] if m.get("realised")]
    assert len(matured) >= 8  # 2023-08 .. 2024-04 matured within the 12 months
    tolerance = region.settings.monitoring.rules.falls_tolerance
    for r in matured:
        assert r["falls_band_low"] <= r["observed_falls"] <= r["falls_band_high"], r
    observed = sum(r["observed_falls"] for r in matured)
    expected = sum(r["expected_falls"] for r in matured)
    print(f"stable region: {observed:.0f} falls observed over {len(matured)} months, {expected:.1f} expected")
    assert abs(observed - expected) <= max(tolerance * expected, 2 * math.sqrt(expected))


def test_every_month_is_a_line_in_the_versions_monitoring_run(stable):
    region, results = stable
    client = client_of(region)
    experiment = client.get_experiment_by_name("lowinc-monitoring")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["lowinc.model_version"] == "1"
    history = client.get_metric_history(run.info.run_id, "score.psi")
    assert [m.step for m in history] == list(range(12))
    months = [f"{pd.Timestamp(m.timestamp, unit='ms'):%Y-%m-%d}" for m in history]
    assert months == [r["as_of"] for r in results]
    realised = client.get_metric_history(run.info.run_id, "realised.precision_at_k")
    assert realised and min(m.step for m in realised) == 0  # the first month's, once matured
    version = client.get_model_version(region.settings.model.name, "1")
    assert version.tags["monitoring_status"] == results[-1]["status"]
    assert version.tags["last_monitored_month"] == results[-1]["as_of"][:7]
    assert "score PSI" in version.tags["monitoring_summary"]
    paths = {a.path for a in client.list_artifacts(run.info.run_id, f"reports/{results[-1]['as_of'][:7]}")}
    assert {"drift_report.html", "drift_features.csv", "trend_drift.png"} <= {Path(p).name for p in paths}
    assert Path(results[-1]["mlflow"]["report"]).stat().st_mode & 0o077 == 0


def test_the_factory_closure_is_flagged_in_its_county_within_two_months(drift):
    _, results, _ = drift
    by_month = {r["as_of"][:7]: r for r in results}
    print("drift region:", {m: r["status"] for m, r in by_month.items()})
    assert by_month["2023-09"]["status"] == "green" and by_month["2023-10"]["status"] == "green"
    early = [by_month["2023-11"], by_month["2023-12"]]
    flagged = [
        f
        for r in early
        for f in r["models"][0]["findings"]
        if f["group"] == f"county_code={FACTORY['county']}"
        and f["subject"] in EMPLOYMENT
        and f["level"] in ("amber", "red")
    ]
    assert flagged, [r["models"][0]["findings"] for r in early]
    assert any(r["status"] in ("amber", "red") for r in early)
    # the employment features outside the model's top ones are shown as watch findings
    watched = {f["subject"] for r in early for f in r["models"][0]["findings"] if f["level"] == "watch"}
    assert watched & EMPLOYMENT


def test_the_reimbursement_cut_shifts_the_out_of_pocket_medical_features(drift, stable):
    region, _, _ = drift
    client = client_of(region)
    run = client.search_runs(
        [client.get_experiment_by_name("lowinc-monitoring").experiment_id],
        filter_string="tags.`lowinc.model_version` = '1'",
    )[0]
    stable_region, _ = stable
    sclient = client_of(stable_region)
    srun = sclient.search_runs([sclient.get_experiment_by_name("lowinc-monitoring").experiment_id])[0]
    for feature in OOP:
        moved = psi_by_month(client, run.info.run_id, f"feature.psi/{feature}")
        calm = psi_by_month(sclient, srun.info.run_id, f"feature.psi/{feature}")
        assert max(moved[m] for m in ("2023-08", "2023-09", "2023-10")) < 0.05  # before the cut
        assert max(v for m, v in moved.items() if m >= "2024-01") >= 0.1, moved
        assert max(calm.values()) < 0.05, calm


def test_the_model_owners_hear_of_a_red_month_once(drift):
    _, results, receiver = drift
    red = [r["as_of"][:7] for r in results if r["status"] == "red"]
    assert red
    titles = [m.body["title"] for m in receiver.received if m.path == "/owner"]
    assert titles and all(t.startswith("lowinc: model lowinc-risk v1 is red for ") for t in titles)
    assert sorted(t.rsplit(" ", 1)[1] for t in titles) == sorted(red)  # one message per red month


def test_the_challenger_is_shadow_scored_beside_the_champion(drift):
    region, results, _ = drift
    after = [r for r in results if r["as_of"] >= "2023-10-01"]
    assert all([m["version"] for m in r["models"]] == ["1", "2"] for r in after)
    assert all(r["models"][1]["role"] == "shadow" for r in after)
    client = client_of(region)
    version = client.get_model_version(region.settings.model.name, "2")
    assert int(version.tags["live_months_compared"]) >= 3  # 2023-10 .. matured by 2024-07
    compared = results[-1]["champion_vs_challenger"]
    assert {c["challenger"] for c in compared} == {"2"} and len(compared) >= 3
    shadow = Path(region.settings.layout.scores_at(pd.Timestamp("2023-10-01"))) / "shadow-v2.parquet"
    assert set(pd.read_parquet(shadow).columns) == {"household_key", "risk"}


def test_a_red_month_in_the_monthly_flow_starts_a_training_run(stable, monkeypatch):
    """Last in the module: it retrains the stable region. Thresholds no month can pass make the
    re-monitored month red; with retrain_on_red the flow trains, and the promotion rule decides."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    from pipelines.loop import monthly_flow

    region, results = stable
    s = region.settings
    env = {
        "LOWINC_HOME": str(s.home),
        "LOWINC_FEATURES__LABEL_HORIZON": str(s.features.label_horizon),
        "LOWINC_MODEL__VISIT_CAPACITY": str(s.model.visit_capacity),
        "LOWINC_MODEL__SPLITS__TRAIN_MONTHS": str(s.model.splits.train_months),
        "LOWINC_MODEL__SPLITS__VALIDATION_MONTHS": str(s.model.splits.validation_months),
        "LOWINC_SIMULATION__MC_MONTHS": "[]",
        "LOWINC_MONITORING__RULES__PSI_AMBER": "0.000001",
        "LOWINC_MONITORING__RULES__PSI_RED": "0.000002",
        "LOWINC_MONITORING__RETRAIN_ON_RED": "true",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with prefect_test_harness(server_startup_timeout=120):
        result = monthly_flow()
    assert result["ingest"]["months"] == 0 and result["score"]["as_of"] == results[-1]["as_of"]
    assert result["monitor"] == {"status": "red", "as_of": results[-1]["as_of"]}
    assert result["train"]["version"] == "2"  # a new version; promoted or not, the rule said
    assert result["train"]["decision"]


def test_nothing_personal_reaches_the_monitoring_runs(drift):
    from models.privacy import find_personal_data

    region, results, _ = drift
    client = client_of(region)
    experiment = client.get_experiment_by_name("lowinc-monitoring")
    keys = set(
        pd.read_parquet(region.settings.layout.scores_file(pd.Timestamp(results[-1]["as_of"])))[
            "household_key"
        ]
    )
    texts = []
    for run in client.search_runs([experiment.experiment_id]):
        texts.append(json.dumps(run.data.tags, ensure_ascii=False))
        folder = Path(
            client.download_artifacts(run.info.run_id, "", str(Path(region.settings.home) / "scan"))
        )
        texts += [
            p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.suffix in (".html", ".csv", ".json")
        ]
    assert len(texts) > 10
    for text in texts:
        assert find_personal_data(text, forbidden=list(keys)[:2000]) == []
