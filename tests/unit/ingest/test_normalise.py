import pandas as pd

from lowinc.idno import birth_dates, is_valid, normalise_ids, sexes, upgrade_15
from pipelines.ingest.normalise import normalise_frame, parse_dates, parse_months, parse_numbers

from .factory import make_id, make_id_x


def test_ids_are_cleaned_upgraded_and_given_their_expected_check_character():
    good = make_id_x()
    old15 = "330502491231002"
    raw = pd.Series(
        [
            good.lower(),
            f" {good[:6]} {good[6:]} ",
            "３３０５０２" + good[6:],
            old15,
            "",
            None,
            "abc",
        ],
        dtype="str",
    )
    out = normalise_ids(raw)
    assert out["id"].tolist()[:4] == [good, good, good, upgrade_15(old15)]
    assert out["id"].isna().tolist()[4:6] == [True, True]
    assert out["expected"].tolist()[:4] == [good[-1], good[-1], good[-1], upgrade_15(old15)[-1]]
    assert pd.isna(out["expected"].iloc[6])  # malformed: left for the format check
    assert out[["lower_x", "spaces", "full_width", "upgraded_15"]].sum().tolist() == [1, 1, 1, 1]
    assert is_valid(out["id"].iloc[3])


def test_a_wrong_check_character_is_visible_as_a_mismatch():
    good = make_id(seq="011")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    out = normalise_ids(pd.Series([wrong], dtype="str"))
    assert out["check"].iloc[0] != out["expected"].iloc[0]


def test_birth_date_and_sex_are_read_from_the_id():
    ids = pd.Series([make_id(birth="19800102", seq="011"), make_id(seq="022")], dtype="str")
    assert birth_dates(ids).iloc[0] == pd.Timestamp("1980-01-02")
    assert sexes(ids).tolist() == ["M", "F"]


def test_certificate_numbers_split_into_id_and_suffix():
    cert = make_id(seq="011") + "41"
    out = normalise_ids(pd.Series([cert], dtype="str"), suffix_digits=2)
    assert out["id"].iloc[0] == cert[:18] and out["suffix"].iloc[0] == "41"


def test_dates_parse_in_the_file_format_and_fall_back_to_other_contract_formats():
    parsed, unparsed, other = parse_dates(
        pd.Series(["20230105", "20230231", "2023-01-06", "", "soon"], dtype="str"), ("%Y%m%d",)
    )
    assert parsed.iloc[0] == pd.Timestamp("2023-01-05")
    assert parsed.iloc[2] == pd.Timestamp("2023-01-06") and other.tolist()[2]
    assert unparsed.dropna().tolist() == ["20230231", "soon"]  # impossible date stays unparsed
    _, unparsed, _ = parse_dates(pd.Series(["2023-01-06"], dtype="str"), ("%Y%m%d",), False)
    assert unparsed.tolist() == ["2023-01-06"]


def test_excel_serial_dates_and_yyyymm_months():
    parsed, _, _ = parse_dates(pd.Series(["44986"], dtype="str"), ("excel",))
    assert parsed.iloc[0] == pd.Timestamp("2023-03-01")
    months, bad = parse_months(pd.Series([202303, 202313], dtype="int32"))
    assert months.iloc[0] == pd.Timestamp("2023-03-01") and bad.tolist()[1] == "202313"


def test_money_strips_yuan_and_separators_and_keeps_negatives_for_the_suite():
    values, unparsed, formatted = parse_numbers(
        pd.Series(["1,234.5元", "-5", "abc", "", "7"], dtype="str"), money=True
    )
    assert values.tolist()[:2] == [1234.5, -5.0] and values.iloc[4] == 7.0
    assert unparsed.dropna().tolist() == ["abc"]
    assert formatted.tolist() == [True, False, False, False, False]


def test_categories_map_to_codes_and_unknown_values_are_kept_for_the_set_check(sources):
    spec = sources["hukou"].files[0]
    raw = pd.DataFrame({c.name: pd.Series(["x"], dtype="str") for c in spec.columns})
    raw["sex"] = pd.Series(["外星"], dtype="str")
    raw["relation"] = pd.Series(["户主"], dtype="str")
    frame = normalise_frame(spec, raw).frame
    assert frame["sex"].iloc[0] == "外星" and frame["relation"].iloc[0] == "head"
    assert frame["row_id"].iloc[0] == 1


def test_every_date_format_a_department_falls_back_to_is_read():
    raw = pd.Series(
        [
            "2023年01月05日",
            "2023.01.05",
            "20230105",
            "2023-01-05 08:30:00",
            "20230105083000",
            "2023-01-05T08:30:00",
            "2023/01/05 08:30:00",
            "2023.02.30",
        ],
        dtype="str",
    )
    parsed, unparsed, other = parse_dates(raw, ("%Y-%m-%d",))
    assert (parsed.dropna().dt.normalize() == pd.Timestamp("2023-01-05")).all()
    assert parsed.iloc[4] == pd.Timestamp("2023-01-05 08:30:00")
    assert other.tolist()[:7] == [True] * 7
    assert unparsed.dropna().tolist() == ["2023.02.30"]
