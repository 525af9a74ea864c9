"""Feature snapshots on a simulated, ingested region: the contract, point in time on real
data, the narrowed read, labels against the simulator's truth, the CLI and the flow."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from features import store
from features.catalogue import FEATURE_NAMES
from features.labels import LABEL_COLUMNS
from features.snapshot import SNAPSHOT_COLUMNS, Canonical, build_snapshot, check_snapshot
from ingest.store import months_of
from ingest.tables import TABLES
from pipelines.features import snapshots
from pipelines.features.inputs import delivered_through, load_canonical, read_table
from pipelines.settings import load_settings

pytestmark = pytest.mark.integration
T = pd.Timestamp("2022-07-01")  # labels complete (horizon to 2022-12), truth sampled at 2022-07
# the region's last as-of date (deliveries 2022-01 .. 2023-02): the 13 months of settlements,
# temporary aid and property read back from it leave January 2022 out
LATE = pd.Timestamp("2023-03-01")


@pytest.fixture(scope="module")
def home(ingested_region, tmp_path_factory) -> Path:
    """A home of this module's own that shares the region's canonical tables, truth and key
    (so snapshots written here never meet another stage's)."""
    own = tmp_path_factory.mktemp("features_home")
    for name in ("canonical", "truth", "secure"):
        (own / name).symlink_to(ingested_region.home / name)
    return own


@pytest.fixture(scope="module")
def settings(home):
    return load_settings(home=home)


@pytest.fixture(scope="module")
def divisions():
    return snapshots.load_divisions()


@pytest.fixture(scope="module")
def built(settings, divisions):
    return snapshots.build_one(settings, T, divisions=divisions)


def full_tables(canonical: Path) -> Canonical:
    """Every partition of every table, unnarrowed."""
    every = {t.name: read_table(canonical, t.name, months_of(canonical, t.name)) for t in TABLES}
    return Canonical(**every, delivered_through=delivered_through(canonical))


def test_a_snapshot_keeps_the_contract(built, home):
    frame = store.read_snapshots(home, [T])
    assert tuple(frame.columns) == SNAPSHOT_COLUMNS
    check_snapshot(frame)
    assert len(frame) == built.rows == frame["household_key"].nunique()
    assert built.label_complete and frame["label_complete"].all()
    cohort = frame[frame["in_cohort"]]
    assert not cohort["assistance_state"].isin(["dibao", "tekun"]).any()
    assert frame.loc[~frame["in_cohort"], "label"].isna().all()
    assert cohort["label"].notna().all()
    rate = cohort["label"].astype(bool).mean()
    assert 0.001 < rate < 0.05, rate  # entries within 6 months: ~0.5-2% of households
    assert built.positives == int(cohort["label"].sum())
    # every household of the membership delivered before T, no other
    members = read_table(home / "canonical", "households", ["2022-06"])
    assert set(frame["household_key"]) == set(members["household_key"])
    assert frame["household_type"].nunique() <= 5 and frame["urban"].any() and not frame["urban"].all()


def test_the_narrowed_read_gives_the_snapshot_of_a_full_read(settings, divisions, home):
    cfg = settings.features
    full = full_tables(home / "canonical")
    narrowed = load_canonical(home / "canonical", LATE, cfg.label_horizon)
    for table in ("medical_settlements", "temporary_assistance", "property_registrations"):
        read = narrowed.frame(table)["known_month"]
        assert read.min() == "2022-02" and len(read) < len(full.frame(table)), table
    a = build_snapshot(narrowed, LATE, cfg, settings.policy_lines, divisions)
    b = build_snapshot(full, LATE, cfg, settings.policy_lines, divisions)
    pd.testing.assert_frame_equal(a, b)
    assert a["oop_medical_12m"].gt(0).sum() > 100  # the read window carries the features


def test_nothing_known_at_or_after_t_changes_a_feature(settings, divisions, home):
    full = full_tables(home / "canonical")
    cut = {t.name: full.frame(t.name)[full.frame(t.name)["known_month"] < "2022-07"] for t in TABLES}
    before = Canonical(**cut, delivered_through=full.delivered_through)
    cfg = settings.features
    a = build_snapshot(full, T, cfg, settings.policy_lines, divisions)
    b = build_snapshot(before, T, cfg, settings.policy_lines, divisions)
    features = ["household_key", "assistance_state", "in_cohort", *FEATURE_NAMES]
    pd.testing.assert_frame_equal(a[features], b[features])
    assert a["label"].sum() > 0 and b.loc[b["in_cohort"], "label"].sum() == 0  # labels need the future


def test_observable_labels_track_the_latent_truth(built, home):
    frame = store.read_snapshots(home, [T]).merge(store.read_truth(home, [T]), on=["household_key", "as_of"])
    cohort = frame[frame["in_cohort"]]
    known = cohort[cohort["latent_fall"].notna()]
    assert len(known) > 0.9 * len(cohort)  # the hash of 户号 finds the simulator's households
    fell = known["latent_fall"].astype(bool)
    assert known.loc[fell, "label"].mean() > 5 * known.loc[~fell, "label"].mean()
    assert frame["p_fall"].notna().sum() > 100
    # the policy line features point the same way as the truth
    assert (
        known.loc[fell, "income_ratio_to_dibao"].median() < known.loc[~fell, "income_ratio_to_dibao"].median()
    )


def test_cli_prints_a_json_summary(home, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from pipelines.features.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps `features` a subcommand
    monkeypatch.setenv("LOWINC_HOME", str(home))
    result = CliRunner().invoke(app, ["features", "--from", "2022-08-01", "--to", "2022-09-01", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [s["as_of"] for s in out["snapshots"]] == ["2022-08-01", "2022-09-01"]
    first = out["snapshots"][0]
    assert first["rows"] > 1000 and first["columns"] == len(SNAPSHOT_COLUMNS)
    assert Path(first["path"]).exists() and {"read", "build", "write"} <= set(first["seconds"])
    assert store.available_as_ofs(home)[-2:] == [pd.Timestamp("2022-08-01"), pd.Timestamp("2022-09-01")]


def test_the_flow_runs_a_task_per_as_of_date(home, monkeypatch):
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    from pipelines.features.flow import features_flow

    monkeypatch.setenv("LOWINC_HOME", str(home))
    with prefect_test_harness(server_startup_timeout=120):
        summaries = features_flow(start="2022-10-01", end="2022-11-01")
    assert [s["as_of"] for s in summaries] == ["2022-10-01", "2022-11-01"]
    assert all(s["rows"] > 1000 for s in summaries)


def partial_home(home: Path, root: Path, last_month: str) -> Path:
    """A home sharing ``home``'s truth and key whose canonical tables end at ``last_month``
    (partitions linked, later ones left out): the deliveries as they stood then."""
    root.mkdir()
    for name in ("truth", "secure"):
        (root / name).symlink_to(home / name)
    for table in (home / "canonical").iterdir():
        if not table.is_dir():
            (root / "canonical" / table.name).symlink_to(table)
            continue
        (root / "canonical" / table.name).mkdir(parents=True)
        for part in table.iterdir():
            month = part.name.removeprefix("known_month=")
            if month == part.name or month <= last_month:
                (root / "canonical" / table.name / part.name).symlink_to(part)
    return root


def test_maturing_labels_are_brought_up_to_date_without_the_features(home, divisions, tmp_path):
    then = partial_home(home, tmp_path / "then", "2022-09")  # the horizon from T runs to 2022-12
    settings = load_settings(home=then)
    first = snapshots.build_one(settings, T, divisions=divisions)
    assert not first.label_complete and not first.relabelled
    early = store.read_snapshots(then, [T])
    listed = early.loc[early["in_cohort"], "household_key"].iloc[:2].tolist()
    visits = pd.DataFrame(
        {
            "household_key": listed,
            "visit_date": pd.to_datetime(["2022-07-20", "2022-08-03"]),
            "hardship_confirmed": [True, False],
            "alert_as_of": pd.to_datetime([T, T]),
            "listing_probability": [1.0, 0.25],
            "selection": ["rank", "explore"],
        }
    )
    # the months after 2022-09 arrive, and the two visits are recorded
    shutil.rmtree(then / "canonical")
    (then / "canonical").symlink_to(home / "canonical")
    later = snapshots.relabel_one(settings, T, divisions=divisions, visits=visits)
    assert later.relabelled and later.label_complete and later.visit_labels == 2
    assert later.explored_visit_labels == 1 and "build" not in later.seconds
    got = store.read_snapshots(then, [T])
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for name in ("canonical", "truth", "secure"):
        (fresh / name).symlink_to(home / name)
    rebuilt = snapshots.build_one(load_settings(home=fresh), T, divisions=divisions, visits=visits)
    pd.testing.assert_frame_equal(got, store.read_snapshots(fresh, [T]))
    assert later.positives == rebuilt.positives > first.positives
    assert later.truth_rows == rebuilt.truth_rows > 0
    unchanged = [c for c in SNAPSHOT_COLUMNS if c not in LABEL_COLUMNS]
    pd.testing.assert_frame_equal(got[unchanged], early[unchanged])


def test_a_snapshot_whose_households_changed_is_built_again(home, divisions, tmp_path):
    then = partial_home(home, tmp_path / "then", "2022-09")
    settings = load_settings(home=then)
    snapshots.build_one(settings, T, divisions=divisions)
    written = store.read_snapshots(then, [T])
    store.write_snapshot(then, T, written.iloc[1:], None)  # one household short of the membership
    again = snapshots.relabel_one(settings, T, divisions=divisions)
    assert not again.relabelled and again.rows == len(written) and "build" in again.seconds
