"""`lowinc monitor`; wired in by pipelines.cli (imports inside the command, see pipelines/cli.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="print a machine-readable summary on stdout")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="scored as-of date YYYY-MM-01 (default: the latest)")
]
COLOURS = {"green": "green", "amber": "yellow", "red": "red", "watch": "cyan"}


def _num(figures: dict[str, Any], key: str, digits: int = 3) -> str:
    value = figures.get(key)
    return "–" if value is None else f"{value:.{digits}f}"


def print_summary(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(soft_wrap=True)
    colour = COLOURS[result["status"]]
    status = f"[{colour}]{result['status']}[/{colour}]"
    out.print(f"[bold]Monitoring {result['model']} at {result['as_of']}[/bold]: {status}")
    table = Table("version", "role", "status", "score PSI", "top PSI", "exp. falls", "exp. prec@k")
    for m in result["models"]:
        table.add_row(
            m["version"],
            m["role"],
            m["status"],
            f"{m['score_psi']:.3f}" if m["score_psi"] is not None else "–",
            f"{m['top_feature_psi_max']:.3f}" if m["top_feature_psi_max"] is not None else "–",
            f"{m['expected_falls']:,.0f}" if m["expected_falls"] is not None else "–",
            f"{m['expected_precision_at_k']:.3f}" if m["expected_precision_at_k"] is not None else "–",
        )
    out.print(table)
    for m in result["models"]:
        if r := m.get("realised"):
            out.print(
                f"v{m['version']}, labels of {r['as_of']} matured: precision@k {_num(r, 'precision_at_k')} "
                f"(expected {_num(r, 'expected_precision_at_k')}, band ≥ {_num(r, 'precision_band_low')}), "
                f"recall@k {_num(r, 'recall_at_k')}, falls {_num(r, 'observed_falls', 0)} observed / "
                f"{_num(r, 'expected_falls', 1)} expected"
            )
        for f in m["findings"][:10]:
            out.print(f"  [{COLOURS[f['level']]}]{f['level']}[/{COLOURS[f['level']]}] {f['text']}")
    if q := result.get("data_quality"):
        out.print(f"Data quality of delivery month {q['month']}: {q['status']}")
        for text in q["findings"][:10]:
            out.print(f"  {text}")
    field = result["field"]
    if field.get("field.labelled"):
        confirmed, labelled = field.get("field.confirmed", 0), field["field.labelled"]
        out.print(f"Field: {confirmed:.0f} of {labelled:.0f} visits with a label result confirmed hardship")
    ml = result["mlflow"]
    out.print(f"MLflow: experiment {ml['experiment']}, artifacts {ml['artifacts']}; report {ml['report']}")
    for who, sent in result["notified"].items():
        if not sent.get("recipients"):
            out.print(f"No {who.replace('_', ' ').rstrip('s')} user to notify (lowinc users add … --role …)")
        else:
            out.print(f"Notified {who}: {sent.get('queued', 0)} queued, {sent.get('sent', 0)} sent")


def monitor_command(as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """Drift, expected and observed outcomes, data quality and field precision of a month, to MLflow."""
    from pipelines.monitor.monitor import monitor
    from pipelines.settings import load_settings

    result = monitor(load_settings(), as_of)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
    else:
        print_summary(result)


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor_command)
