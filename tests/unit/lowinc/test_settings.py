import pydantic
import pytest

from lowinc.settings import load_settings


def test_yaml_defaults_load_and_environment_overrides_one_nested_field(monkeypatch, tmp_path):
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path))
    monkeypatch.setenv("LOWINC_SIMULATION__DEFECTS__ID_EMPTY", "0.25")
    s = load_settings()
    assert s.home == tmp_path
    assert s.raw_dir == tmp_path / "raw" and s.truth_dir == tmp_path / "truth"
    assert s.simulation.defects.id_empty == 0.25
    assert s.simulation.defects.id_15_digit == 0.001  # the rest of the section still from YAML
    assert s.thresholds.cities["湖州市"].dibao_annual[2022] == 12000


def test_unknown_keys_and_bad_months_are_refused(monkeypatch):
    with pytest.raises(pydantic.ValidationError):
        load_settings(simulation={"housholds": 5})
    with pytest.raises(pydantic.ValidationError):
        load_settings(simulation={"start": "2022-13-01"})


def test_settings_are_frozen():
    s = load_settings()
    with pytest.raises(pydantic.ValidationError):
        s.simulation.households = 3  # type: ignore[misc]
