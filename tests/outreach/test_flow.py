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
    queued = result["queue"]["messages"] + result["exports"]["list_ready_queued"]
    assert result["deliver"]["sent"] == queued == len(webhook.received) + len(smtp.received)
    again = deliver_flow(visit_list_path=str(tmp_path / "visits.parquet"), run_id="flow-2")
    assert again["queue"]["messages"] == 0 and again["deliver"]["due"] == 0
    assert again["exports"]["list_ready_queued"] == 0  # once per town and month
    summary = json.dumps(result, ensure_ascii=False)
    assert not any(key in summary for key in frame["household_key"])  # Prefect sees counts only


def test_the_flow_exports_every_townships_list_and_tells_its_officer(
    harness, tmp_path, monkeypatch, webhook, smtp
):
    from pipelines.outreach.flow import deliver_flow

    config = make_config(webhook_url=f"{webhook.url}/hook", smtp_port=smtp.port)
    (tmp_path / "outreach.yaml").write_text(
        yaml.safe_dump({"outreach": config.model_dump(mode="json")}, allow_unicode=True), encoding="utf-8"
    )
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))
    visit_list({0: "orange", 11: "yellow", 20: "yellow", 21: "blue"}).to_parquet(tmp_path / "v.parquet")
    result = deliver_flow(visit_list_path=str(tmp_path / "v.parquet"), run_id="flow-x")
    exports = result["exports"]
    # town A as its town officer (李强), town B as the county officer (赵敏): no town officer there
    assert exports["towns"] == exports["exported"] == 2 and exports["without_officer"] == 0
    assert all(os.path.exists(p) for p in exports["files"])
    assert sorted(os.path.basename(p)[:9] for p in exports["files"]) == ["330502001", "330502002"]
    ready = [r for r in webhook.received if r.body["title"].startswith("【名单已生成】")]
    mails = [m for m in smtp.received if m.body["subject"].startswith("【名单已生成】")]
    assert len(ready) == 1 and "甲镇" in ready[0].body["title"] and "/visits" in ready[0].body["message"]
    assert len(mails) == 2  # 李强 and 赵敏 by e-mail
    assert exports["list_ready_queued"] == 3
