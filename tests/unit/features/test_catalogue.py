"""The feature catalogue is the one declaration of features: contract names, sources and
windows, templates, the generated docs/features.md."""

from __future__ import annotations

import dataclasses
import math

import pytest

from features.catalogue import BY_NAME, DERIVED, FEATURE_NAMES, FEATURES, Feature
from features.catalogue_doc import DOC, feature_catalogue
from features.snapshot import Canonical
from ingest.tables import TABLES
from models.schema import RULE_FEATURES
from tests.unit.features.factory import snapshot, tables

SAMPLE = {"float": 0.25, "int": 2, "bool": True, "category": 3}


def test_names_are_unique_and_include_the_contract_features():
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert set(RULE_FEATURES) <= set(FEATURE_NAMES)


def test_categoricals_list_their_codes_and_only_booleans_raise_risk_when_true():
    for f in FEATURES:
        assert bool(f.codes) == (f.dtype == "category"), f.name
        assert f.raises_risk_when in ("high", "low", "true")
        assert (f.raises_risk_when == "true") == (f.dtype == "bool"), f.name


def test_a_built_category_is_one_of_its_codes():
    rows = [
        {
            "known_month": "2023-05",
            "event_date": "2023-05-31",
            "case_key": "c",
            "person_key": "p1",
            "category": "relapse_monitoring",
            "monthly_benefit": 0.0,
            "income_per_capita": 800.0,
            "admitted_date": "2023-01-01",
            "state": "active",
        }
    ]
    safety = [{"known_month": "2023-04", "event_date": "2023-04-02", "house_key": "x", "person_key": "p4"}]
    snap = snapshot(
        tables(assistance_roster=rows, house_safety=[safety[0] | {"safety_grade": "D"}]), "2023-06-01"
    )
    for f in FEATURES:
        if f.dtype == "category":
            assert snap[f.name].between(0, len(f.codes) - 1).all(), f.name
    assert BY_NAME["assistance_category"].codes[snap.loc["h1", "assistance_category"]] == "monitor"
    assert BY_NAME["house_grade"].codes[snap.loc["h2", "house_grade"]] == "D"


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
        "run: .venv/bin/python -m features.catalogue_doc"
    )
    for name in FEATURE_NAMES:
        assert f"`{name}`" in DOC.read_text(encoding="utf-8")


def test_the_generated_catalogue_shows_a_changed_declaration(monkeypatch):
    """A stale docs/features.md fails the test above: a changed window changes the page."""
    import features.catalogue_doc as doc

    first = FEATURES[0]
    changed = (dataclasses.replace(first, window=7), *FEATURES[1:])
    monkeypatch.setattr(doc, "FEATURES", changed)
    assert feature_catalogue() != DOC.read_text(encoding="utf-8")
    assert f"| `{first.name}` | {first.source} | 7 m |" in feature_catalogue()


def test_every_source_is_a_canonical_table_and_a_derived_feature_names_what_it_reads():
    declared = {t.name for t in TABLES}
    for f in FEATURES:
        assert f.source in declared | {DERIVED}, f.name
        assert (f.source == DERIVED) == bool(f.reads), f.name
        assert set(f.tables) <= declared, f.name
        assert f.window is None or f.window in (3, 6, 12, 24), f.name


def test_a_feature_is_a_keyword_record():
    with pytest.raises(TypeError):
        Feature("members", "households", None, "int", "", "", "", "", "composition", "low")  # type: ignore[misc]


def test_the_snapshot_reads_every_declared_table_by_its_name():
    fields = [f.name for f in dataclasses.fields(Canonical) if f.name != "delivered_through"]
    assert fields == [t.name for t in TABLES]
