"""docs/features.md, generated from the feature catalogue (features/catalogue.py).

.venv/bin/python -m features.catalogue_doc      # rewrite docs/features.md
"""

from __future__ import annotations

from pathlib import Path

from features.catalogue import DERIVED, FEATURES, Feature
from features.config import FeaturesConfig

DOC = Path(__file__).resolve().parents[1] / "docs" / "features.md"
RISK = {"high": "higher", "low": "lower", "true": "true"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _window(f: Feature) -> str:
    return "at T" if f.window is None else f"{f.window} m"


def _kind(f: Feature) -> str:
    if f.categorical:
        return "category: " + ", ".join(f"{i} {c}" for i, c in enumerate(f.codes))
    return f.dtype


def _reason(f: Feature) -> str:
    """The reason template, then each other wording with the values it is for."""
    cases = [f"when {c.when}: {c.zh}" for c in f.reason_cases]
    return "<br>".join([f.reason_zh, *cases])


def feature_catalogue() -> str:
    """Markdown: how snapshots are made, then one table row per feature, by group."""
    cfg = FeaturesConfig()
    lines = [
        "# Feature catalogue",
        "",
        "Generated from `features/catalogue.py` by `python -m features.catalogue_doc`; do not edit by",
        "hand (a test checks that this file equals the generated one).",
        "",
        "A feature's source is the canonical table it is computed from (declared in `ingest/tables.py`;",
        "*derived* features combine other features and name the tables they look back into); its",
        "window is how far back it looks. Both drive the reader: each table is read back as far as its",
        "features' longest window (plus a month of delivery lag), every delivery when one needs the",
        "latest state however old. Adding a feature from an existing source touches three files: its",
        "record in `features/catalogue.py`, its code in the feature module of its group, its test.",
        "",
        "One row per household registered at the as-of date T (the 1st of a month). Every feature",
        "uses only rows delivered before T's month (knowledge month < T), whatever their event date;",
        "windows count events dated in the months before T (`3 m` = from T minus 3 months to T).",
        "Money is in yuan; income is the latest month delivered before T. Labels look only at",
        f"deliveries of the {cfg.label_horizon} months from T on (configs/features.yaml `label_horizon`).",
        "",
        "Missing values: counts and sums are 0 when a household has no row; a column marked NaN",
        "is unknown (LightGBM's missing value); shares with a zero denominator are capped at",
        f"{cfg.ratio_cap:g}.",
        "",
        "Snapshot columns besides the features: `household_key`, `as_of`, `county_code`, `town_code`,",
        "`village_code`, `urban`, `household_type`, `assistance_state`, `in_phase_out`, `in_cohort`,",
        "`label`, `label_applied`, `visit_label`, `visit_weight`, `label_complete`. `label`: an",
        "application, 支出型 temporary aid or a visit confirming hardship; `label_applied`: the same",
        "without visits; `visit_label` (True/False/NA) and `visit_weight` (1 / listing probability):",
        "a household listed at T itself and visited with a result before T+H (see docs/model.md).",
        "The simulator's latent truth is in a separate tree (`features/truth/`), never in a snapshot.",
        "",
        "Reasons: a worker reads each listed household's strongest reasons, the `reason (zh)`",
        "template filled with its values (`scoring/reasons.py`). Where a value would read wrong, a",
        "`reason_cases` wording replaces it (the lines `when …` below): no income is said so (never",
        '"0.0 倍" or a capped "1000%"), no working-age member is not "仅 0 名", a share above 1 is',
        '"超过家庭同期可见收入", codes are words; an amount of money stands only next to what it is',
        "compared with (the local 低保 line, the cohort's median as `typical_<name>`), and an unknown",
        "value gives no reason.",
        "",
        "Build and read:",
        "",
        "```bash",
        "lowinc features --as-of 2023-06-01                       # one snapshot",
        "lowinc features --from 2022-07-01 --to 2024-06-01 --json # monthly, a JSON summary",
        "```",
        "",
        "Snapshots: `<home>/features/snapshots/as_of=YYYY-MM-01/county_code=XXXXXX/part-0.parquet`,",
        "read with `features.store.read_snapshots(home, as_ofs, columns)`; truth with",
        "`features.store.read_truth(home, as_ofs)`.",
        "",
    ]
    groups: dict[str, list[Feature]] = {}
    for f in FEATURES:
        groups.setdefault(f.group, []).append(f)
    for group, feats in groups.items():
        lines += [
            f"## {group}",
            "",
            "| name | source | window | type | meaning | 含义 | risk rises when | missing | reason (zh) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for f in feats:
            cells = [
                f"`{f.name}`",
                f.source if f.source != DERIVED else f"derived ({', '.join(f.reads)})",
                _window(f),
                _kind(f),
                f.meaning_en,
                f.meaning_zh,
                RISK[f.raises_risk_when],
                f.missing,
                _reason(f),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(feature_catalogue(), encoding="utf-8")
    print(DOC)


if __name__ == "__main__":
    main()
