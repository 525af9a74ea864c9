"""The entitlement check (应救尽救): hand-built snapshot rows, one programme at a time, against
the configured rules and the lines of their county."""

from __future__ import annotations

import pandas as pd
import pytest

from features.policy import CityPolicyLines, PolicyLinesConfig
from pipelines.cli import main
from scoring.entitlement_config import EntitlementConfig, MedicalGroup, MedicalRule
from scoring.entitlements import (
    COLUMNS,
    check_entitlements,
    county_standards,
    likely_eligible_not_receiving,
    programme_counts,
)

HUZHOU, HANGZHOU = "330502", "330102"
STD = 1120.0  # Huzhou's monthly 低保 standard in 2024 (13,440 a year)
LOCAL = 69000.0  # Huzhou's local per-capita disposable income of 2023
STANDARDS = pd.DataFrame(
    {
        "county_code": [HUZHOU, HANGZHOU],
        "city_name": ["湖州市", "杭州市"],
        "dibao_monthly": [STD, 1200.0],
        "local_income_annual": [LOCAL, 77500.0],
        "edge_multiple": [1.5, 2.0],  # Hangzhou's 低保边缘 line is 2 x the standard
    }
)
CFG = EntitlementConfig()


def household(key: str, **values: object) -> dict[str, object]:
    """A household with a decent visible income and nothing else, unless told."""
    county = str(values.pop("county_code", HUZHOU))
    row: dict[str, object] = {
        "household_key": key,
        "county_code": county,
        "town_code": county + "001",
        "village_code": county + "001001",
        "members": 2,
        "head_age": 45.0,
        "visible_income": 9000.0,
        "assistance_income": 0.0,
        "assistance_state": "none",
        "oop_medical_3m": 0.0,
        "oop_medical_12m": 0.0,
        "medical_assistance_paid_12m": 0.0,
        "disabled_members": 0,
        "severe_disability_members": 0,
        "disability_subsidy_members": 0,
        "expenditure_aid_12m": 0,
    }
    row.update(values)
    return row


def check(*rows: dict[str, object], cfg: EntitlementConfig = CFG) -> pd.DataFrame:
    return check_entitlements(pd.DataFrame(list(rows)), STANDARDS, cfg)


def only(found: pd.DataFrame, key: str, programme: str) -> pd.Series:
    rows = found[(found["household_key"] == key) & (found["programme"] == programme)]
    assert len(rows) == 1, f"{key} {programme}: {len(rows)} rows"
    return rows.iloc[0]


def programmes(found: pd.DataFrame, key: str) -> set[str]:
    return set(found.loc[found["household_key"] == key, "programme"])


def test_a_comfortable_household_gets_no_row_and_the_columns_are_fixed():
    found = check(household("rich"))
    assert list(found.columns) == list(COLUMNS)
    assert found.empty


def test_dibao_pays_the_gap_times_members_and_says_the_numbers():
    found = check(household("poor", visible_income=1000.0))  # 500 a head against 1,120
    row = only(found, "poor", "dibao")
    assert row["likely_eligible"] and not row["receiving"]
    assert row["est_monthly_amount"] == (STD - 500.0) * 2
    assert (
        "500 元/月" in row["reason_zh"] and "1,120" in row["reason_zh"] and "1,240 元/月" in row["reason_zh"]
    )
    assert programmes(found, "poor") == {"dibao"}  # not also 低保边缘


def test_dibao_income_leaves_out_the_assistance_already_paid():
    # own income 360 (180 a head) plus 1,880 of 低保: still below the line it is paid for
    found = check(household("on", visible_income=2240.0, assistance_income=1880.0, assistance_state="dibao"))
    row = only(found, "on", "dibao")
    assert row["likely_eligible"] and row["receiving"]
    assert row["est_monthly_amount"] == (STD - 180.0) * 2


def test_a_recipient_above_the_line_is_receiving_not_likely_eligible():
    found = check(household("up", visible_income=9000.0, assistance_income=500.0, assistance_state="dibao"))
    row = only(found, "up", "dibao")
    assert not row["likely_eligible"] and row["receiving"] and row["est_monthly_amount"] == 0
    assert "宜核查" in row["reason_zh"]


def test_edge_band_uses_the_city_multiple():
    # 1,800 a head: above Huzhou's 1.5 x 1,120 = 1,680, below Hangzhou's 2 x 1,200 = 2,400
    found = check(
        household("hz", visible_income=3600.0),
        household("hang", visible_income=3600.0, county_code=HANGZHOU),
        household("edge", visible_income=3000.0),  # 1,500 a head in Huzhou
        household("listed", visible_income=3000.0, assistance_state="edge"),
    )
    assert programmes(found, "hz") == set()
    hang = only(found, "hang", "dibao_edge")
    assert hang["likely_eligible"] and "2,400" in hang["reason_zh"] and "× 2" in hang["reason_zh"]
    edge = only(found, "edge", "dibao_edge")
    assert edge["likely_eligible"] and not edge["receiving"] and edge["est_monthly_amount"] == 0
    assert only(found, "listed", "dibao_edge")["receiving"]
    below = check(household("below", visible_income=1000.0, assistance_state="edge"))
    row = only(below, "below", "dibao_edge")  # on the edge roster, likely 低保 now
    assert row["receiving"] and not row["likely_eligible"] and "可能符合低保" in row["reason_zh"]
    assert only(below, "below", "dibao")["likely_eligible"]


def test_tekun_single_without_work_capacity_or_income_instead_of_dibao():
    found = check(
        household("old", members=1, head_age=72.0, visible_income=300.0),
        household("severe", members=1, head_age=40.0, visible_income=0.0, severe_disability_members=1),
        household("young", members=1, head_age=40.0, visible_income=0.0),  # can work: 低保
        household("couple", members=2, head_age=72.0, visible_income=300.0),  # someone to support
        household("pension", members=1, head_age=72.0, visible_income=1500.0),  # has an income
    )
    old = only(found, "old", "tekun")
    assert old["likely_eligible"] and old["est_monthly_amount"] == pytest.approx(1.3 * STD, abs=0.5)
    assert "72 岁" in old["reason_zh"] and "1,456" in old["reason_zh"]
    assert programmes(found, "old") == {"tekun"}
    assert only(found, "severe", "tekun")["likely_eligible"]
    assert "tekun" not in programmes(found, "young") and only(found, "young", "dibao")["likely_eligible"]
    assert programmes(found, "couple") == {"dibao"}
    assert programmes(found, "pension") == {"dibao_edge"}
    on = check(household("on", members=1, head_age=72.0, visible_income=300.0, assistance_state="tekun"))
    assert programmes(on, "on") == {"tekun"} and only(on, "on", "tekun")["receiving"]
    pair = check(household("pair", members=2, head_age=72.0, visible_income=4000.0, assistance_state="tekun"))
    listed = only(pair, "pair", "tekun")
    assert listed["receiving"] and not listed["likely_eligible"] and listed["reason_zh"].startswith("2 人户")


def test_medical_assistance_by_group_deductible_and_share():
    found = check(
        household("dibao", visible_income=1000.0, oop_medical_12m=12000.0),
        household("edge", visible_income=3000.0, oop_medical_12m=12000.0),
        household("edge_small", visible_income=3000.0, oop_medical_12m=5000.0),  # below 6,900
        household("rich", oop_medical_12m=50000.0, visible_income=30000.0),
        household("paid", visible_income=1000.0, oop_medical_12m=3000.0, medical_assistance_paid_12m=8000.0),
    )
    dibao = only(found, "dibao", "medical_assistance")
    assert dibao["likely_eligible"] and dibao["est_monthly_amount"] == 0.7 * 12000 / 12
    assert "低保无起付线" in dibao["reason_zh"] and "700 元/月" in dibao["reason_zh"]
    edge = only(found, "edge", "medical_assistance")
    assert edge["est_monthly_amount"] == round(0.6 * (12000 - 0.1 * LOCAL) / 12)
    assert "6,900" in edge["reason_zh"] and "低保边缘起付线" in edge["reason_zh"]
    assert "medical_assistance" not in programmes(found, "edge_small")
    assert "medical_assistance" not in programmes(found, "rich")
    paid = only(found, "paid", "medical_assistance")
    assert paid["likely_eligible"] and paid["receiving"] and "已获医疗救助 8,000" in paid["reason_zh"]


def test_rigid_spending_household_gets_medical_assistance_above_its_deductible():
    # 4,000 a head (above the edge line) but a year's 60,000 bill leaves 1,500 a head
    found = check(household("rigid", visible_income=8000.0, oop_medical_12m=60000.0))
    row = only(found, "rigid", "medical_assistance")
    assert row["likely_eligible"] and "刚性支出困难" in row["reason_zh"]
    assert row["est_monthly_amount"] == round(0.5 * (60000 - 0.25 * LOCAL) / 12)
    cfg = CFG.model_copy(update={"medical": MedicalRule(groups={"dibao": MedicalGroup()})})
    assert "medical_assistance" not in programmes(
        check(household("rigid", visible_income=8000.0, oop_medical_12m=60000.0), cfg=cfg), "rigid"
    )


def test_disability_subsidies_living_for_poor_households_care_for_severe():
    found = check(
        household("poor", visible_income=1000.0, disabled_members=1),
        household("severe", disabled_members=1, severe_disability_members=1),
        household("gets", disabled_members=1, severe_disability_members=1, disability_subsidy_members=1),
    )
    living = only(found, "poor", "disability_living")
    assert living["likely_eligible"] and living["est_monthly_amount"] == round(0.3 * STD)
    assert "disability_care" not in programmes(found, "poor")
    care = only(found, "severe", "disability_care")
    assert care["likely_eligible"] and not care["receiving"] and care["est_monthly_amount"] == 0.5 * STD
    assert "disability_living" not in programmes(found, "severe")  # not a 低保/边缘 household
    assert only(found, "gets", "disability_care")["receiving"]


def test_temporary_aid_after_a_catastrophic_bill_is_one_off_and_not_for_dibao():
    found = check(
        household("hit", visible_income=6000.0, oop_medical_3m=20000.0, oop_medical_12m=20000.0),
        household("huge", visible_income=6000.0, oop_medical_3m=90000.0, oop_medical_12m=90000.0),
        household(
            "dibao",
            visible_income=1000.0,
            assistance_state="dibao",
            oop_medical_3m=20000.0,
            oop_medical_12m=20000.0,
        ),
    )
    hit = only(found, "hit", "temporary_aid")  # 20,000 > 6 x 1,120 x 2 = 13,440
    assert hit["likely_eligible"] and hit["est_one_off_amount"] == 6000 and hit["est_monthly_amount"] == 0
    assert "13,440" in hit["reason_zh"]
    assert only(found, "huge", "temporary_aid")["est_one_off_amount"] == 13440  # the cap
    assert "temporary_aid" not in programmes(found, "dibao")


def test_a_county_with_its_own_line():
    divisions = pd.DataFrame({"county_code": [HUZHOU, "330503"], "city_name": ["湖州市", "湖州市"]})
    lines = PolicyLinesConfig(
        cities={
            "湖州市": CityPolicyLines(
                dibao_annual={2024: 13440.0},
                disposable_income_annual={2023: LOCAL},
                counties={"330503": {2024: 15000.0}},
            )
        }
    )
    standards = county_standards(
        pd.Series([HUZHOU, "330503", HUZHOU]), divisions, lines, pd.Timestamp("2024-06-01")
    )
    assert standards.set_index("county_code")["dibao_monthly"].to_dict() == {HUZHOU: STD, "330503": 1250.0}
    rows = pd.DataFrame(
        [household("a", visible_income=2300.0), household("b", visible_income=2300.0, county_code="330503")]
    )
    found = check_entitlements(rows, standards, CFG)  # 1,150 a head: above 1,120, below 1,250
    assert programmes(found, "a") == {"dibao_edge"}
    b = only(found, "b", "dibao")
    assert b["likely_eligible"] and b["est_monthly_amount"] == (1250 - 1150) * 2


def test_township_view_and_counts_of_eligible_not_receiving():
    found = check(
        household("p1", visible_income=1000.0),
        household("p2", visible_income=800.0),
        household("on", visible_income=1000.0, assistance_state="dibao"),
        household("far", visible_income=1000.0, county_code=HANGZHOU),
    )
    view = likely_eligible_not_receiving(found)
    hz = view[(view["town_code"] == HUZHOU + "001") & (view["programme"] == "dibao")].iloc[0]
    assert hz["households"] == 2 and sorted(hz["household_keys"]) == ["p1", "p2"]
    assert set(view.columns) == {"county_code", "town_code", "programme", "households", "household_keys"}
    counts = programme_counts(found).set_index("programme")
    assert counts.loc["dibao", "eligible"] == 4 and counts.loc["dibao", "receiving"] == 1
    assert counts.loc["dibao", "eligible_not_receiving"] == 3
    assert counts.loc["dibao", "est_monthly_not_receiving"] == 1240 + 1440 + (1200 - 500) * 2
    by_county = programme_counts(found, by=("county_code",)).set_index(["county_code", "programme"])
    assert by_county.loc[(HANGZHOU, "dibao"), "eligible_not_receiving"] == 1


def test_a_snapshot_without_a_column_or_a_county_without_lines_is_refused():
    frame = pd.DataFrame([household("a")]).drop(columns="oop_medical_3m")
    with pytest.raises(ValueError, match="oop_medical_3m"):
        check_entitlements(frame, STANDARDS, CFG)
    with pytest.raises(ValueError, match="330999"):
        check(household("b", county_code="330999"))


def test_the_command_without_a_snapshot_is_one_line_with_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LOWINC_DEBUG", raising=False)
    with pytest.raises(SystemExit) as caught:
        main(["entitlements", "--as-of", "2024-06-01"])
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: no feature snapshot for 2024-06-01 (run: lowinc features --as-of 2024-06-01)"


def test_the_edge_line_is_the_citys_from_the_policy_lines():
    # one 低保边缘 multiple for the features and the check: the city's, else the default
    divisions = pd.DataFrame({"county_code": [HUZHOU, HANGZHOU], "city_name": ["湖州市", "杭州市"]})
    lines = PolicyLinesConfig(
        edge_multiple=1.6,
        cities={
            "杭州市": CityPolicyLines(
                dibao_annual={2024: 14400.0}, disposable_income_annual={2023: 77500.0}, edge_multiple=2.0
            )
        },
    )
    standards = county_standards(pd.Series([HUZHOU, HANGZHOU]), divisions, lines, pd.Timestamp("2024-06-01"))
    assert standards.set_index("county_code")["edge_multiple"].to_dict() == {HUZHOU: 1.6, HANGZHOU: 2.0}
    with pytest.raises(ValueError):
        CityPolicyLines(dibao_annual={}, disposable_income_annual={}, edge_multiple=0.9)
