"""`lowinc unlinked` end to end on a small ingested month: people outside the hukou placed by
their own rows, listed per township, the file written with keys and codes only."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from ingest import delivery
from ingest.suites import default_runner
from lowinc.errors import UserError
from lowinc.home import HomeLayout
from lowinc.settings import DEFAULT_CONFIG_DIR
from lowinc.sources import load_sources
from pipelines.cli import print_loop
from pipelines.score.unlinked import list_unlinked
from pipelines.settings import load_settings
from scoring.unlinked_list import COLUMNS
from tests.unit.ingest.factory import (
    HUKOU_HEADER,
    MEDICAL_HEADER,
    hukou_rows,
    make_id,
    medical_row,
    write_csv,
)
from tests.unit.lowinc.test_cli_errors import lowinc, one_line_error

MONTH = "2023-03"
T = "2023-04-01"
VILLAGE = "330502002009"  # 车站社区, 朝阳街道, 吴兴区
JOBLESS = make_id(area="110105", seq="071")  # registered unemployed here: listed
EMPLOYED = make_id(area="110105", seq="072")  # registered employed: placed, no signal
PATIENT = make_id(area="110105", seq="073")  # only medical settlements: not placed
MEMBER = make_id(seq="011")  # in the hukou: never on this list
EMPLOYMENT_HEADER = ["公民身份号码", "姓名", "登记类型", "登记日期", "失业保险金月额", "区划代码"]
NAMES = ("王五", "赵六", "孙七", "张三")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    paths = HomeLayout(tmp_path_factory.mktemp("unlinked") / "home")
    write_csv(paths.raw / "hukou" / MONTH / "户籍人口_全量.csv", HUKOU_HEADER, hukou_rows(), "gb18030")
    medical = [medical_row("S1", PATIENT), medical_row("S2", MEMBER)]
    write_csv(paths.raw / "medical" / MONTH / "医保结算明细.csv", MEDICAL_HEADER, medical, "utf-8-sig")
    jobs = [
        [JOBLESS, "王五", "失业登记", "2023/03/10", "1500", VILLAGE],
        [EMPLOYED, "赵六", "就业登记", "2023/03/12", "", VILLAGE],
        [MEMBER, "张三", "失业登记", "2023/03/11", "1500", VILLAGE],
    ]
    write_csv(paths.raw / "employment" / MONTH / "就业失业登记.csv", EMPLOYMENT_HEADER, jobs, "utf-8")
    sources = load_sources(DEFAULT_CONFIG_DIR / "sources")
    chosen = {k: sources[k] for k in ("hukou", "medical", "employment")}
    delivery.ingest_month(MONTH, paths, chosen, b"test-pseudonym-key", default_runner())
    return paths


def test_the_list_places_scores_and_writes_keys_and_codes_only(home):
    run = list_unlinked(load_settings(home=home.root), T)
    assert (run.as_of, run.people, run.placed, run.listed) == (T, 3, 2, 1)
    assert run.unplaced == {"unplaced": 1} and run.by_county == {"330502": 1}
    path = home.unlinked_list(T)
    assert run.output == str(path) and path.exists()
    assert not list(path.parent.glob(".*.tmp"))  # written beside, then renamed over
    out = pd.read_parquet(path)
    assert list(out.columns) == COLUMNS
    row = out.iloc[0]
    assert (row["village_code"], row["town_code"], row["county_code"]) == (VILLAGE, VILLAGE[:9], "330502")
    assert row["sources"] == "employment_registrations" and row["score"] == 2.0 and row["rank_in_town"] == 1
    assert "近3个月新登记失业" in row["reasons_zh"] and "unemployed" in row["reasons_en"]
    assert row["as_of"] == pd.Timestamp(T) and row["due_date"] > row["as_of"]
    assert out["rank_in_town"].dtype == "int64" and out["score"].dtype == "float64"
    text = out.astype("str").to_numpy().ravel()
    id_like = re.compile(r"\d{17}[\dX]")
    assert not any(id_like.search(v) for v in text)  # no ID number in any column
    assert not any(name in v for v in text for name in NAMES)  # no name either
    assert not any(i in v for v in text for i in (JOBLESS, EMPLOYED, PATIENT))


def test_before_the_first_delivery_it_refuses_rather_than_write_an_empty_list(home):
    with pytest.raises(UserError, match="nothing ingested before 2023-03-01"):
        list_unlinked(load_settings(home=home.root), MONTH + "-01")
    assert not home.unlinked_list(MONTH + "-01").exists()
    assert "lowinc ingest" in one_line_error(lowinc(home.root, "unlinked", "--as-of", MONTH + "-01"))


def test_the_command_prints_json_and_refuses_a_bad_date_in_one_line(home):
    done = lowinc(home.root, "unlinked", "--as-of", T, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["listed"] == 1
    assert "not the 1st of a month" in one_line_error(lowinc(home.root, "unlinked", "--as-of", "2023-04-15"))
    # without --as-of the latest snapshot's date is used, and this home has none
    assert "no feature snapshot yet" in one_line_error(lowinc(home.root, "unlinked"))


def test_lowinc_up_prints_the_counts(home, capsys):
    run = list_unlinked(load_settings(home=home.root), T)
    result = {"ingest": {"months": 0}, "features": {"snapshots_built": 0}, "unlinked": run.__dict__}
    print_loop(result, home, [])
    printed = capsys.readouterr().out
    assert "Without local hukou: 1 listed of 3 people (2 placed in a village, 1 not placed)" in printed
    assert str(home.unlinked_list(T)) in printed
