import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from ingest.normalise import normalise_frame
from ingest.suites import build_expectations
from lowinc.sources import SourceSpec
from simulator.contract import COLUMN_ALIASES


def test_every_contract_source_is_defined(sources):
    assert set(sources) == {
        "hukou",
        "civil_affairs",
        "medical",
        "employment",
        "disability",
        "housing",
    }
    medical = sources["medical"].files[0]
    assert "身份证号码" in medical.column("id_no").aliases
    assert "结算时间" in medical.column("settled_at").aliases
    assert medical.sum_rules[0].total == "total_cost"
    assert "月缴费基数" in sources["employment"].files[1].column("contribution_base").aliases


def test_a_source_definition_with_an_unknown_key_is_refused(sources):
    data = sources["housing"].model_dump()
    data["files"][0]["columns"][0]["colour"] = "red"
    with pytest.raises(ValidationError, match="colour"):
        SourceSpec.model_validate(data)
    data = yaml.safe_load(
        "{source: x, files: [{table: t, pattern: '*.csv', format: csv, "
        "event_date: nowhere, columns: [{name: a, header: 甲, type: text}]}]}"
    )
    with pytest.raises(ValidationError, match="nowhere"):
        SourceSpec.model_validate(data)


def test_suites_are_built_from_the_definition(sources):
    spec = sources["hukou"].files[1]
    kinds = [(e.meta["kind"], e.meta["column"]) for e in build_expectations(spec)]
    assert ("id_bad_check_digit", "id_no") in kinds
    assert ("unknown_category", "change_type") in kinds
    assert ("id_birth_mismatch", "birth_date") in kinds and ("id_sex_mismatch", "sex") in kinds
    assert ("code_malformed", "household_no") in kinds and ("date_future", "change_date") in kinds
    assert ("duplicate_key", "id_no") in kinds
    required = {c.name for c in spec.columns if c.required}
    assert {c for k, c in kinds if k == "missing_value"} == required


def test_the_suite_names_each_failing_row(sources, runner):
    spec = sources["employment"].files[2]
    raw = pd.DataFrame(
        {
            "id_no": ["330502198001010116", "33050219800101011X"],
            "paid_month": [202303, 202305],
            "scheme": ["企业职工基本养老保险", "?"],
            "amount": [3000.0, -1.0],
        }
    )
    frame = normalise_frame(spec, raw.astype({"id_no": "str", "scheme": "str"})).frame
    failures = runner.run(spec, frame, pd.Timestamp("2023-03-31 23:59:59"))
    got = set(zip(failures["row_id"], failures["kind"], strict=True))
    assert got == {
        (2, "id_bad_check_digit"),
        (2, "date_future"),
        (2, "unknown_category"),
        (2, "money_negative"),
    }


def test_configs_accept_every_alias_the_departments_use(sources):
    headers = set()
    for src in sources.values():
        for spec in src.files:
            for col in spec.columns:
                if col.header in COLUMN_ALIASES:
                    headers.add(col.header)
                    missing = set(COLUMN_ALIASES[col.header]) - set(col.aliases)
                    assert not missing, (spec.table, col.header, missing)
    assert headers == set(COLUMN_ALIASES)
