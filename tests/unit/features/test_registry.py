"""The registry is the one declaration of features: contract names, templates, catalogue."""

from __future__ import annotations

import math

import pytest

from features.catalogue import DOC, feature_catalogue
from features.registry import FEATURE_NAMES, FEATURES
from models.schema import RULE_FEATURES

SAMPLE = {"float": 0.25, "int": 2, "bool": True, "category": 3}


def test_names_are_unique_and_include_the_contract_features():
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert set(RULE_FEATURES) <= set(FEATURE_NAMES)


def test_only_integer_coded_categories_are_categorical_and_they_list_their_codes():
    for f in FEATURES:
        assert f.categorical == (f.dtype == "category"), f.name
        assert bool(f.codes) == f.categorical, f.name
        assert f.raises_risk_when in ("high", "low", "true")
        assert f.raises_risk_when != "true" or f.dtype == "bool", f.name


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_reason_template_fills_from_feature_values_only(language):
    values = {f.name: SAMPLE[f.dtype] for f in FEATURES}
    for f in FEATURES:
        text = getattr(f, f"reason_{language}").format(**values)
        assert text and "{" not in text, f.name
    nan_values = {f.name: math.nan if f.dtype == "float" else SAMPLE[f.dtype] for f in FEATURES}
    for f in FEATURES:
        getattr(f, f"reason_{language}").format(**nan_values)  # NaN formats too (as 'nan')


def test_the_committed_catalogue_is_the_generated_one():
    assert DOC.read_text(encoding="utf-8") == feature_catalogue(), (
        "run: .venv/bin/python -m features.catalogue"
    )
    for name in FEATURE_NAMES:
        assert f"`{name}`" in DOC.read_text(encoding="utf-8")


def test_every_source_is_a_canonical_table_or_derived():
    from pipelines.features.inputs import COLUMNS

    allowed = set(COLUMNS) | {"hukou", "derived"}
    assert {f.source for f in FEATURES} <= allowed
    assert all(f.window_months is None or f.window_months in (3, 6, 12, 24) for f in FEATURES)
