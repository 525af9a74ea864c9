"""The delivery flow under a real (temporary) Prefect server: wiring only, the logic is tested
directly. The harness costs ~18 s, most of this folder's time."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.outreach.factory import make_config, visit_list

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def harness():
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_deliver_flow_queues_a_visit_list_and_delivers_it(harness, tmp_path, monkeypatch, webhook, smtp):
    from pipelines.outreach.flow import deliver_flow

    config = make_config(webhook_url=f"{webhook.url}/hook", smtp_port=smtp.port)
    (tmp_path / "outreach.yaml").write_text(
        yaml.safe_dump({"outreach": config.model_dump(mode="json")}, allow_unicode=True), encoding="utf-8"
    )
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))
    frame = visit_list({0: "red", 1: "orange", 10: "yellow"})
    frame.to_parquet(tmp_path / "visits.parquet")
    result = deliver_flow(visit_list_path=str(tmp_path / "visits.parquet"), run_id="flow-1")
    assert result["queue"]["alerts"] == 3
    assert (
        result["deliver"]["sent"] == result["queue"]["messages"] == len(webhook.received) + len(smtp.received)
    )
    again = deliver_flow(visit_list_path=str(tmp_path / "visits.parquet"), run_id="flow-2")
    assert again["queue"]["messages"] == 0 and again["deliver"]["due"] == 0
    summary = json.dumps(result, ensure_ascii=False)
    assert not any(key in summary for key in frame["household_key"])  # Prefect sees counts only
