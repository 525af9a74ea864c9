"""The last check before logging: no ID numbers, fine division codes or names."""

from models.privacy import assert_clean, find_personal_data


def test_finds_id_numbers_village_codes_and_names():
    text = "户主 33050219800101123X, 村 330502001001, 联系人 张伟; 另一人 李秀英。"
    found = find_personal_data(text)
    assert "33050219800101123X" in found and "330502001001" in found
    assert "张伟" in found and "李秀英" in found


def test_numbers_in_a_model_file_and_county_codes_are_not_personal_data():
    text = (
        "threshold=0.12345678901234567\nleaf_value=0.330502001001 county 330502 低保 高风险 黄色 "
        "run_id=8db69b2fa0ef40ac949a2a0e123456789012e8"  # a hex id with a run of 12 digits
    )
    assert find_personal_data(text) == []


def test_assert_clean_refuses_given_values():
    try:
        assert_clean("rows: abc123", "a table", forbidden=["abc123"])
    except ValueError as exc:
        assert "abc123" in str(exc)
    else:
        raise AssertionError("a forbidden value passed")
