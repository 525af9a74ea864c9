"""Benchmark: the closed loop — monthly lists, simulated field visits, labels flowing back.

    .venv/bin/python -m benchmarks.closed_loop --households 20000 --loop-months 18 --home DIR

One region is simulated once (with the true fall probability by Monte Carlo at the loop's
quarterly as-of months); each variant gets its own home sharing those raw deliveries and truth
(hard links) and the same pseudonym key. Per variant: the first ``--backfill-months`` months
are ingested and the region's staff created; then every loop month runs
``lowinc monthly --month M`` (``--retrain`` at each new quarter; the first pass trains the
first model), and simulated workers visit that month's assigned tasks through the web form's
own code path (:mod:`simulator.visits`). The variants differ only by environment:

- ``full``: exploration on (``scoring.exploration.share`` as configured) and visit labels on;
- ``rank-visits``: no exploration, visit labels on;
- ``off``: no exploration, no visit labels (the observable label only).

Printed per quarterly as-of month: precision at capacity (k = ``model.visit_capacity``) on
latent falls; hidden falls in the top k (a latent fall whose household never applied, in the
truth, up to the horizon's end) and their share of the true-probability ranking's hidden falls
in its own top k; observed falls in the top k (latent falls that applied within the horizon);
then for the quarter's three lists of visits: the precision on what was visited, and the
inverse-propensity estimate of the hardship rate over the cohort (monitoring.selective) with
its interval, against the latent rate (truly poor and not yet assisted) and that rate times
(1 − the workers' miss rate), which is what perfect weighting of the recorded labels gives;
last, the lowest ratio of a county's or of urban or rural's recall at capacity on latent falls
to the overall recall (the issue's goal: at least 0.8 for every one), and which group it is.
``--exploration-share`` sets the ``full`` variant's share of each township's capacity,
``--signal-share`` the share of its fresh draw that goes to households with a signal of hidden
need (scoring.exploration), and ``--visit-weight-cap`` the largest weight of one visit label
(both variants with visit labels).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import command_line, peak_rss_gib
from lowinc.home import HomeLayout
from models.evaluation import group_metrics
from monitoring.selective import selective_evaluation

LOWINC = str(Path(sys.executable).parent / "lowinc")
START = "2022-01"
OVERRIDES: dict[str, tuple[str, str]] = {  # option: (setting's variable, help)
    "exploration-share": ("LOWINC_SCORING__EXPLORATION__SHARE", "the full variant's exploration share"),
    "signal-share": (
        "LOWINC_SCORING__EXPLORATION__SIGNAL_SHARE",
        "of the fresh pool's slots, the share to households with a hidden-need signal",
    ),
    "visit-weight-cap": ("LOWINC_MODEL__VISIT_WEIGHT_CAP", "model.visit_weight_cap"),
}
VARIANTS: dict[str, dict[str, str]] = {
    "full": {},
    "rank-visits": {"LOWINC_SCORING__EXPLORATION__SHARE": "0"},
    "off": {"LOWINC_SCORING__EXPLORATION__SHARE": "0", "LOWINC_MODEL__VISIT_LABELS": "false"},
}
ASSISTED = (1, 2)  # simulator.state DIBAO, TEKUN (the truth's assistance codes)


# ---------------------------------------------------------------- pure parts (tested)


def loop_calendar(start: str, backfill: int, loop: int) -> tuple[list[str], list[pd.Timestamp]]:
    """(the delivery months the loop ingests, one a pass; the scoring as-of date of each pass):
    pass i ingests month ``backfill + i`` of the region and scores the 1st of the next."""
    first = pd.Period(start, freq="M")
    months = [str(first + backfill + i) for i in range(loop)]
    as_ofs = [(pd.Period(m, freq="M") + 1).to_timestamp() for m in months]
    return months, as_ofs


def quarter_starts(as_ofs: Sequence[pd.Timestamp]) -> list[pd.Timestamp]:
    """The loop's quarterly as-of dates: the first pass's and every third after it."""
    return list(as_ofs[::3])


def applications_of(truth_months: pd.DataFrame) -> pd.DataFrame:
    """(household_key, month as a Timestamp) of every household-month the truth says applied."""
    rows = truth_months.loc[truth_months["applied"].astype(bool), ["household_key", "month"]]
    return pd.DataFrame(
        {"household_key": rows["household_key"].astype("str"), "month": pd.to_datetime(rows["month"] + "-01")}
    )


def capacity_metrics(
    scores: pd.DataFrame,
    truth: pd.DataFrame,
    applications: pd.DataFrame,
    as_of: pd.Timestamp,
    horizon: int,
    k: int,
) -> dict[str, Any]:
    """The model's top k against the latent truth at one as-of date.

    ``scores``: household_key, risk (the scored cohort). ``truth``: household_key, latent_fall,
    p_fall (the simulator's, per snapshot household). ``applications``: see
    :func:`applications_of`. Hidden: a latent fall whose household applied in no month before
    the horizon's end; observed: a latent fall that applied within the horizon. The ceiling is
    the ranking by the true fall probability over the households that have one.
    """
    end = as_of + pd.DateOffset(months=horizon)
    apps = applications[applications["month"] < end]
    ever = set(apps["household_key"])
    within = set(apps.loc[apps["month"] >= as_of, "household_key"])
    frame = scores.loc[:, ["household_key", "risk"]].merge(
        truth.loc[:, ["household_key", "latent_fall", "p_fall"]], on="household_key", how="left"
    )
    fall = frame["latent_fall"].fillna(False).astype(bool)
    frame["hidden"] = fall & ~frame["household_key"].isin(ever)
    frame["observed"] = fall & frame["household_key"].isin(within)
    frame["fall"] = fall
    top = frame.nlargest(k, "risk")
    ceiling = frame[frame["p_fall"].notna()].nlargest(k, "p_fall")
    hidden, ceiling_hidden = int(top["hidden"].sum()), int(ceiling["hidden"].sum())
    return {
        "as_of": f"{as_of:%Y-%m}",
        "k": k,
        "cohort": len(frame),
        "precision": float(top["fall"].mean()) if len(top) else float("nan"),
        "ceiling_precision": float(ceiling["fall"].mean()) if len(ceiling) else float("nan"),
        "hidden": hidden,
        "ceiling_hidden": ceiling_hidden,
        "hidden_share": hidden / ceiling_hidden if ceiling_hidden else float("nan"),
        "observed": int(top["observed"].sum()),
        "latent_falls": int(fall.sum()),
    }


GROUPS = ("county_code", "urban")  # the issue's fairness groups: every county, urban and rural


def group_recall(scores: pd.DataFrame, truth: pd.DataFrame, groups: pd.DataFrame, k: int) -> dict[str, Any]:
    """Recall of latent falls at capacity in every county and in urban and rural, against the
    overall recall (the k visits chosen over the whole region, as in practice).

    ``groups``: household_key and the GROUPS columns (the snapshot's). Returns the lowest
    ratio of a group with a latent fall, that group's name, and every ratio by name."""
    frame = (
        scores.loc[:, ["household_key", "risk"]]
        .merge(truth.loc[:, ["household_key", "latent_fall"]], on="household_key", how="left")
        .merge(groups.loc[:, ["household_key", *GROUPS]], on="household_key", how="left")
    )
    frame["fall"] = frame["latent_fall"].fillna(False).astype(bool)
    frame["urban"] = frame["urban"].map({True: "urban", False: "rural"})
    frame["as_of"] = 0  # one month: group_metrics chooses the k within each as-of date
    table = group_metrics(frame, "risk", "fall", k, list(GROUPS))
    table = table[table["positives"] > 0]
    ratios = {str(v): float(r) for v, r in zip(table["value"], table["recall_ratio"], strict=True)}
    if not ratios:
        return {"worst_ratio": float("nan"), "worst_group": "—", "recall_ratios": {}}
    worst = min(ratios, key=lambda name: ratios[name])
    return {"worst_ratio": ratios[worst], "worst_group": worst, "recall_ratios": ratios}


def latent_hardship_rate(cohort_keys: pd.Series, truth_month: pd.DataFrame) -> float:
    """The share of a scored cohort that is truly poor and not yet on 低保/特困 in a month: what
    a worker at every door would confirm."""
    t = truth_month.drop_duplicates("household_key").set_index("household_key")
    poor = t["in_poverty"].astype(bool) & ~t["assistance"].isin(ASSISTED)
    return (
        float(cohort_keys.map(poor).fillna(False).astype(bool).mean()) if len(cohort_keys) else float("nan")
    )


def visit_metrics(visits: pd.DataFrame, latent_rate: float, miss: float, seed: int = 0) -> dict[str, Any]:
    """The quarter's visits (selection, listing_probability, result): the visited precision and
    the inverse-propensity estimate against the latent rate."""
    if visits.empty:
        return {"visits": 0}
    ev = selective_evaluation(visits, seed=seed)
    return {
        "visits": ev.listed,
        "labelled": ev.labelled,
        "explored": int((visits["selection"] == "explore").sum()),
        "visited_precision": ev.visited_precision,
        "ipw_rate": ev.hardship_rate.value,
        "ipw_low": ev.hardship_rate.low,
        "ipw_high": ev.hardship_rate.high,
        "latent_rate": latent_rate,
        "recordable_rate": latent_rate * (1 - miss),
        "rank_recall": ev.rank_recall.value,
    }


def _f(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else f"{value:,}"


def quarter_table(rows: Sequence[dict[str, Any]]) -> str:
    """The markdown table of the per-quarter metrics of every variant."""
    head = (
        "| variant | as-of | precision@k | ceiling | hidden in top k | ceiling's | share | observed "
        "| visits (explored) | visited precision | IPW rate [95%] | latent rate | × (1−miss) "
        "| lowest recall ratio (group) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        ipw = (
            f"{_f(r.get('ipw_rate'))} [{_f(r.get('ipw_low'))}, {_f(r.get('ipw_high'))}]"
            if r.get("visits")
            else "—"
        )
        lines.append(
            f"| {r['variant']} | {r['as_of']} | {_f(r['precision'])} | {_f(r['ceiling_precision'])} "
            f"| {r['hidden']} | {r['ceiling_hidden']} | {_f(r['hidden_share'], 2)} | {r['observed']} "
            f"| {_f(r.get('visits', 0))} ({_f(r.get('explored', 0))}) | {_f(r.get('visited_precision'))} "
            f"| {ipw} | {_f(r.get('latent_rate'))} | {_f(r.get('recordable_rate'))} "
            f"| {_f(r.get('worst_ratio'), 2)} ({r.get('worst_group', '—')}) |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- driving the stages


@dataclass(frozen=True)
class Plan:
    households: int
    backfill: int
    loop: int
    horizon: int
    seed: int
    mc_paths: int
    k: int
    burn_in: int = 36
    # configured settings every variant overrides (``LOWINC_*`` variable: value), from the options
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def months(self) -> int:
        return self.backfill + self.loop + self.horizon

    def env(self) -> dict[str, str]:
        """The settings every stage of every variant shares (as ``LOWINC_*`` variables)."""
        _, as_ofs = loop_calendar(START, self.backfill, self.loop)
        return {
            "LOWINC_SIMULATION__LABEL_HORIZON": str(self.horizon),
            "LOWINC_FEATURES__LABEL_HORIZON": str(self.horizon),
            "LOWINC_SIMULATION__BURN_IN_MONTHS": str(self.burn_in),
            "LOWINC_SIMULATION__MC_MONTHS": json.dumps([f"{t:%Y-%m}" for t in quarter_starts(as_ofs)]),
            "LOWINC_SIMULATION__MC_HOUSEHOLDS": str(self.households * 2),
            "LOWINC_SIMULATION__MC_PATHS": str(self.mc_paths),
            "LOWINC_MODEL__VISIT_CAPACITY": str(self.k),
            "LOWINC_MODEL__SPLITS__TRAIN_MONTHS": "6",
            "LOWINC_MODEL__SPLITS__VALIDATION_MONTHS": "3",
            "LOWINC_MODEL__SPLITS__TEST_MONTHS": "3",
            "LOWINC_OUTREACH__CHANNELS__EMAIL__ENABLED": "false",
        } | self.settings


def lowinc_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without its ``LOWINC_*`` variables, plus the home and extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOWINC_")}
    return env | {"LOWINC_HOME": str(home)} | extra


def run_lowinc(args: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """One ``lowinc`` command with ``--json``; its stderr appended to ``log``; exits on failure."""
    with log.open("a") as err:
        done = subprocess.run(
            [LOWINC, *args, "--json"], env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
    if done.returncode != 0:
        sys.exit(f"lowinc {' '.join(args)} failed: see {log}")
    lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
    return json.loads(lines[-1]) if lines else {}


def benchmark_key(seed: int) -> str:
    """The pseudonym key of a benchmark region, from its seed. Household keys order the
    exploration draw, negative sampling and every tie, so a random key made two runs of the same
    seed differ by as much as the variants do; simulated people only, never a deployment's key."""
    return hashlib.sha256(f"lowinc-closed-loop|{seed}".encode()).hexdigest()


def simulate_region(base: Path, plan: Plan) -> None:
    """Simulate once into ``base`` and write its pseudonym key (from the seed), which every
    variant copies."""
    from lowinc.private import private_dir, private_file
    from lowinc.pseudonym import KEY_FILE

    base.mkdir(parents=True, exist_ok=True)
    env = lowinc_env(base, plan.env())
    args = ["simulate", "--households", str(plan.households), "--months", str(plan.months), "--start", START]
    run_lowinc([*args, "--seed", str(plan.seed)], env, base / "bench-simulate.log")
    key = private_dir(HomeLayout(base).secure) / KEY_FILE
    key.write_text(benchmark_key(plan.seed))
    private_file(key)


def ingest_backfill(base: Path, plan: Plan) -> None:
    """Ingest the months before the loop into the base home, once for every variant (as
    drift_scenarios ingests: the pipelines' worker pool)."""
    from ingest import delivery
    from lowinc.pseudonym import load_key
    from lowinc.settings import DEFAULT_CONFIG_DIR
    from pipelines.ingest.workers import ingest_with_workers

    paths = HomeLayout(base)
    sources = delivery.sources_from(DEFAULT_CONFIG_DIR / "sources")
    months = delivery.delivered_months(paths.raw)[: plan.backfill]
    ingest_with_workers(months, paths, sources, load_key(paths.secure, environ={}), workers=2)


def variant_home(base: Path, home: Path) -> None:
    """A fresh home from the base after its backfill: the raw deliveries and the truth as hard
    links (nothing writes them), everything else (canonical tables, identity, reports, the
    pseudonym key) copied, since later ingests write there."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    for entry in base.iterdir():
        if entry.name in ("raw", "truth"):
            shutil.copytree(entry, home / entry.name, copy_function=os.link)
        elif entry.is_dir():
            shutil.copytree(entry, home / entry.name)


def create_staff(home: Path, env: dict[str, str]) -> None:
    """The region's demo staff (workers per village, officers) in the variant's outreach
    database, before the first list is queued."""
    from pipelines.outreach.staff import create_demo_staff
    from pipelines.settings import load_settings

    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith("LOWINC_")})
    try:
        create_demo_staff(load_settings(home=home))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_variant(base: Path, root: Path, name: str, plan: Plan) -> tuple[pd.DataFrame, float]:
    """Backfill, then the loop with visits; the recorded visits of every pass and the miss rate."""
    from outreach.db import upgrade
    from simulator.field import FieldVisitConfig
    from simulator.visits import visit_month

    home = root / name
    variant_home(base, home)
    env = lowinc_env(home, plan.env() | VARIANTS[name])
    log = home / "bench-loop.log"
    create_staff(home, env)
    months, as_ofs = loop_calendar(START, plan.backfill, plan.loop)
    field = FieldVisitConfig(seed=plan.seed)
    recorded = []
    for i, (month, as_of) in enumerate(zip(months, as_ofs, strict=True)):
        mark = time.perf_counter()
        retrain = ["--retrain"] if i and i % 3 == 0 else []
        run_lowinc(["monthly", "--month", month, *retrain], env, log)
        engine = upgrade(f"sqlite:///{HomeLayout(home).outreach_db.resolve()}")
        try:
            summary, visits = visit_month(engine, home, as_of.date(), field)
        finally:
            engine.dispose()
        recorded.append(visits.assign(list_as_of=as_of))
        print(
            f"  {name}: {month} monthly{' --retrain' if retrain else ''} + {summary.tasks} visits "
            f"{summary.results} ({time.perf_counter() - mark:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    return pd.concat(recorded, ignore_index=True), field.rates()[0]


def evaluate_variant(
    home: Path, name: str, plan: Plan, visits: pd.DataFrame, miss: float
) -> list[dict[str, Any]]:
    """The per-quarter rows of one variant (reads its scores, snapshot truth and the truth)."""
    from features.store import read_snapshots
    from features.store import read_truth as snapshot_truth
    from lowinc.home import HomeLayout

    layout = HomeLayout(home)
    _, as_ofs = loop_calendar(START, plan.backfill, plan.loop)
    last = as_ofs[-1] + pd.DateOffset(months=plan.horizon)
    all_months = [f"{m:%Y-%m}" for m in pd.period_range(f"{START}-01", last, freq="M")]
    truth_months = read_truth_with_applied(home, all_months)
    applications = applications_of(truth_months)
    rows = []
    for q in quarter_starts(as_ofs):
        scores = pd.read_parquet(layout.scores_file(q.date()))
        truth = snapshot_truth(home, [q])
        row = capacity_metrics(scores, truth, applications, q, plan.horizon, plan.k)
        row |= group_recall(scores, truth, read_snapshots(home, [q], ["household_key", *GROUPS]), plan.k)
        quarter = [t for t in as_ofs if q <= t < q + pd.DateOffset(months=3)]
        seen = visits[visits["list_as_of"].isin(quarter)]
        rates = [
            latent_hardship_rate(
                pd.read_parquet(layout.scores_file(t.date()), columns=["household_key"])["household_key"],
                truth_months[truth_months["month"] == f"{t:%Y-%m}"],
            )
            for t in quarter
        ]
        row |= visit_metrics(seen, float(np.mean(rates)), miss, seed=plan.seed)
        rows.append({"variant": name, **row})
    return rows


def read_truth_with_applied(home: Path, months: Sequence[str]) -> pd.DataFrame:
    """The household-month truth of the months with ``applied``, keyed as ingest keys."""
    from features.truth import household_keys_of
    from lowinc.home import HomeLayout
    from lowinc.pseudonym import load_key, pseudonymise

    layout = HomeLayout(home)
    folder = layout.truth / "household_month"
    cols = ["month", "hh_no", "in_poverty", "applied", "assistance"]
    frames = [
        pd.read_parquet(folder / f"{m}.parquet", columns=cols)
        for m in months
        if (folder / f"{m}.parquet").exists()
    ]
    truth = pd.concat(frames, ignore_index=True)
    key = load_key(layout.secure, environ={})
    truth["household_key"] = household_keys_of(truth["hh_no"], lambda c: pseudonymise(c, key, "household"))
    return truth.drop(columns=["hh_no"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--loop-months", type=int, default=18)
    parser.add_argument("--backfill-months", type=int, default=18, help="ingested before the loop")
    parser.add_argument("--horizon", type=int, default=3, help="label horizon in months")
    parser.add_argument("--variants", default="full,off", help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--mc-paths", type=int, default=50, help="Monte Carlo paths of the true probability")
    parser.add_argument("--capacity", type=int, default=200, help="k: model.visit_capacity")
    parser.add_argument("--burn-in", type=int, default=36, help="simulated months before the first delivery")
    for option, (_, help_text) in OVERRIDES.items():
        parser.add_argument(f"--{option}", type=float, help=f"{help_text} (default: configured)")
    parser.add_argument("--home", default=None, help="folder for the homes (default: temporary)")
    parser.add_argument("--keep", action="store_true", help="keep the region's and the variants' homes")
    args = parser.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {', '.join(unknown)} (one of {', '.join(VARIANTS)})")
    for option in ("exploration-share", "signal-share"):
        value = getattr(args, option.replace("-", "_"))
        if value is not None and not 0 <= value < 1:
            parser.error(f"--{option} {value}: a share from 0 up to (not including) 1")
    plan = Plan(
        args.households,
        args.backfill_months,
        args.loop_months,
        args.horizon,
        args.seed,
        args.mc_paths,
        args.capacity,
        settings={
            variable: str(value)
            for option, (variable, _) in OVERRIDES.items()
            if (value := getattr(args, option.replace("-", "_"))) is not None
        },
    )
    root = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="closed-loop-"))
    started = time.perf_counter()
    try:
        base = root / "region"
        simulate_region(base, plan)
        print(f"  simulated {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        ingest_backfill(base, plan)
        print(f"  backfill ingested {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        rows, miss = [], float("nan")
        for name in names:
            visits, miss = run_variant(base, root, name, plan)
            rows += evaluate_variant(root / name, name, plan, visits, miss)
    finally:
        if not args.keep:  # only what this run made
            for made in [root / "region", *(root / n for n in names)]:
                shutil.rmtree(made, ignore_errors=True)
            if not args.home:
                shutil.rmtree(root, ignore_errors=True)
    print(f"command: {command_line('benchmarks.closed_loop')}")
    print(
        f"{plan.households:,} households, backfill {plan.backfill} + {plan.loop} loop months, horizon "
        f"{plan.horizon}, k = {plan.k}, miss {miss:.3f}; {time.perf_counter() - started:.0f} s, "
        f"peak memory (RSS, this process) {peak_rss_gib():.2f} GiB"
    )
    print(quarter_table(rows))


if __name__ == "__main__":
    main()
