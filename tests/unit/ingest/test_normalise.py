import numpy as np
import pandas as pd

from ingest.normalise import normalise_frame, parse_dates, parse_months, parse_numbers
from lowinc import idno
from lowinc.idno import birth_dates, is_valid, normalise_ids, sexes, upgrade_15

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


def test_numbers_in_shape_take_the_fast_path_with_the_same_result_as_the_clean_up():
    good, wrong = make_id_x(), make_id(seq="011")[:-1] + "0"
    raw = pd.Series(
        [
            good,
            good.lower(),
            wrong,
            "３３０５０２" + good[6:],
            " " + good,
            "330502491231002",
            None,
            "",
            "12X",
            good,
        ],
        dtype="str",
    )
    for suffix in (0, 2):
        values = raw + "41" if suffix else raw
        fast = normalise_ids(values, suffix)
        slow = idno._normalise_messy(values, suffix)
        for col in slow.columns:
            assert (
                fast[col].astype(object).fillna("<NA>").tolist()
                == slow[col].astype(object).fillna("<NA>").tolist()
            ), (suffix, col)


def test_birth_dates_and_sexes_from_the_digit_matrix_agree_with_parsing_the_text():
    rng = np.random.default_rng(5)
    days = rng.integers(1, 32, 400)  # some 31 Februaries and Aprils: no such date
    ids = pd.Series(
        [
            idno.complete_vec(np.array([f"330502{y}{m:02d}{d:02d}0{s:02d}".encode()]))[0].decode()
            for y, m, d, s in zip(
                rng.integers(1920, 2020, 400),
                rng.integers(1, 13, 400),
                days,
                rng.integers(0, 99, 400),
                strict=True,
            )
        ],
        dtype="str",
    )
    expected = pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce").astype("datetime64[us]")
    assert birth_dates(ids).equals(expected)
    assert expected.isna().any()
    digit = ids.str[16].astype(int)
    assert sexes(ids).tolist() == np.where(digit % 2 == 1, "M", "F").tolist()


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


def test_months_delivered_as_numbers_read_as_their_text_does():
    numbers = pd.Series([202303, 202313, 199912, None, 202301.0, 202302.5, 12], dtype="float64")
    as_text = numbers.map(lambda v: "" if pd.isna(v) else repr(v)).astype("str")
    got, got_bad = parse_months(numbers)
    want, want_bad = parse_months(as_text)
    assert got.equals(want)
    assert (
        got_bad.fillna("").tolist()
        == want_bad.fillna("").tolist()
        == ["", "202313", "", "", "", "202302.5", "12"]
    )


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
