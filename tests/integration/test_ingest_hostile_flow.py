"""Hostile deliveries through the real Prefect flow (issue 12): the Markdown artifact and the
flow's logs name each bad file alone and carry no delivered ID number or name.

Prefect and the flow are imported inside the tests, after the harness fixture has set the
environment Prefect reads when it is first imported (its analytics off)."""

import os
import re

import pytest

from tests.unit.ingest.factory import MEDICAL_HEADER, make_id, medical_row, write_csv
from tests.unit.ingest.hostile import IDS, NAMES, SECRETS, contributions, payments

pytestmark = pytest.mark.integration
MONTH = "2023-03"


@pytest.fixture(scope="module")
def harness():
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _deliver(raw):
    hukou = raw / "hukou" / MONTH / "户籍人口_全量.csv"  # without its header row
    hukou.parent.mkdir(parents=True)
    rows = [
        [i, n, "男", "19760312", "000000001", "户主", "330502001001", "正常"]
        for i, n in zip(IDS, NAMES, strict=True)
    ]
    hukou.write_bytes(("\n".join(",".join(r) for r in rows) + "\n").encode("gb18030"))
    employment = raw / "employment" / MONTH
    employment.mkdir(parents=True)
    (employment / "就业失业登记.csv").write_bytes(b"")
    contributions(employment / "社保缴费.parquet", IDS)
    payments(employment / "养老金发放.parquet", IDS[:2])
    header = [*MEDICAL_HEADER, IDS[2]]  # a shifted header: a person's ID as a column name
    write_csv(
        raw / "medical" / MONTH / "医保结算明细.csv",
        header,
        [[*medical_row("S1", make_id(seq="011")), NAMES[2]]],
        "utf-8-sig",
    )


def test_the_artifact_and_logs_name_bad_files_alone_and_quote_no_delivered_value(
    harness, tmp_path, monkeypatch
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter, TaskRunFilter
    from prefect.client.schemas.sorting import ArtifactSort
    from prefect.logging.handlers import APILogHandler

    from pipelines.ingest.flow import ingest_flow

    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    monkeypatch.setenv("LOWINC_PSEUDONYM_KEY", "integration-key")
    _deliver(tmp_path / "raw")
    (report,) = ingest_flow(month=MONTH)
    files = {f["file"]: f for f in report["files"]}
    assert files["户籍人口_全量.csv"]["status"] == "rejected"
    assert files["就业失业登记.csv"]["status"] == "rejected"
    assert files["社保缴费.parquet"]["accepted"] == 3 and files["养老金发放.parquet"]["accepted"] == 2
    assert files["医保结算明细.csv"]["extra_columns"] == ["column 18 (unrecognised header)"]
    assert "*" not in files
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = [log.message for log in client.read_logs(limit=200, offset=0)]
        artifacts = [
            str(a.data)
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(),
                flow_run_filter=FlowRunFilter(),
                task_run_filter=TaskRunFilter(),
                sort=ArtifactSort.CREATED_DESC,
                limit=50,
                offset=0,
            )
        ]
    markdown = next(a for a in artifacts if "就业失业登记.csv" in a)
    assert "| employment | 就业失业登记.csv | rejected |" in markdown
    assert "| employment | 社保缴费.parquet | ingested |" in markdown
    text = "\n".join(logs + artifacts)
    assert not [s for s in SECRETS if s in text]
    assert not re.search(r"\d{17}[\dXx]|\d{15}", text)
