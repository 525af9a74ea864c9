"""`lowinc`: the one command-line entry point.

Every command that does work prints a readable summary on stdout, or with ``--json`` one
JSON document on stdout; logs and progress bars go to stderr so scripts can pipe the JSON.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lowinc.runtime import prepare_environment
from lowinc.settings import Settings, load_settings
from pipelines.features.cli import register as register_features
from pipelines.ingest.cli import register as register_ingest
from pipelines.score.cli import register as register_score
from pipelines.train.cli import register as register_train

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="lowinc: low-income population dynamic monitoring and early warning.",
)
register_ingest(app)
register_features(app)
register_train(app)
register_score(app)
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="print a machine-readable summary on stdout")]


def _settings_with(**simulation: Any) -> Settings:
    """Configured settings with command-line simulation options layered on top."""
    base = load_settings()
    given = {k: v for k, v in simulation.items() if v is not None}
    merged = base.simulation.model_copy(update=given)
    return load_settings(simulation=type(base.simulation).model_validate(merged.model_dump()))


def run_simulation(settings: Settings, quiet: bool) -> dict[str, Any]:
    from simulator.run import simulate

    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]simulate[/bold] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} months"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet,
    ) as progress:
        task = progress.add_task("", total=None)

        def tick(month: str, done: int, total: int) -> None:
            progress.update(task, description=month, completed=done, total=total)

        summary = simulate(settings, progress=tick)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def print_simulation(summary: dict[str, Any]) -> None:
    out = Console()
    out.print(
        f"[bold]Simulated {summary['region']}[/bold]: {summary['households_start']:,} households, "
        f"{summary['villages']:,} villages/communities, "
        f"months {summary['months'][0]}..{summary['months'][1]}, "
        f"seed {summary['seed']} ({summary['seconds']} s)"
    )
    table = Table("base rate", "value", "expected (shared/domain.md)", "in range")
    for key, value in summary["rates"].items():
        lo_hi = summary["expected"].get(key)
        ok = summary["rates_in_range"].get(key)
        table.add_row(
            key,
            f"{value:.4f}",
            f"{lo_hi[0]:.3f}–{lo_hi[1]:.3f}" if lo_hi else "",
            "" if ok is None else ("yes" if ok else "[red]no[/red]"),
        )
    out.print(table)
    out.print(
        f"Department extracts: {summary['raw_dir']} ({summary['files_written']} files, "
        f"{summary['defects_injected']:,} injected defects listed in truth/defects_manifest.csv)"
    )
    out.print(f"Ground truth (evaluation only): {summary['truth_dir']}")


@app.command()
def simulate(
    city: Annotated[str | None, typer.Option(help="city name, e.g. 湖州市")] = None,
    county: Annotated[str | None, typer.Option(help="a county name or 6-digit code")] = None,
    province: Annotated[bool, typer.Option("--province", help="the whole of Zhejiang")] = False,
    households: Annotated[int | None, typer.Option(help="households at the start")] = None,
    start: Annotated[str | None, typer.Option(help="first delivered month, YYYY-MM")] = None,
    months: Annotated[int | None, typer.Option(help="months delivered")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (same seed, same bytes)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a region and write department extracts to <home>/raw, truth to <home>/truth."""
    settings = _settings_with(
        city=city,
        county=county,
        province=province or None,
        households=households,
        start=start,
        months=months,
        seed=seed,
    )
    summary = run_simulation(settings, quiet=as_json)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        print_simulation(summary)


def print_loop(result: dict[str, Any]) -> None:
    out = Console()
    ing = result["ingest"]
    out.print(
        f"[bold]Ingested[/bold] {ing['months']} months: {ing['rows_in']:,} rows in, "
        f"{ing['accepted']:,} accepted, {ing['quarantined']:,} quarantined, "
        f"{ing['duplicates']:,} duplicates, {ing['unlinked']:,} rows of people outside the hukou; "
        f"{ing['rejected_files']} files rejected, {ing['missing_files']} missing"
    )


@app.command()
def up(as_json: JsonFlag = False) -> None:
    """The main job on the embedded default: simulate the configured region, then run the
    monthly loop (a Prefect flow) over every delivered month."""
    settings = load_settings()
    prepare_environment(settings)
    summary = run_simulation(settings, quiet=as_json)
    if not as_json:
        print_simulation(summary)
        err.print("Running the monthly loop (Prefect flow lowinc-loop) ...")
    from pipelines.loop import loop_flow

    started = time.perf_counter()
    result = loop_flow()
    result["seconds"] = round(time.perf_counter() - started, 1)
    if as_json:
        typer.echo(json.dumps({"simulate": summary} | result, ensure_ascii=False))
        return
    print_loop(result)
    home = settings.home
    Console().print(
        f"\nIngest reports: {home / 'reports' / 'ingest'}\n"
        f"Prefect UI: PREFECT_HOME={home / 'prefect'} .venv/bin/prefect server start --host 127.0.0.1"
    )


@app.command()
def config(as_json: JsonFlag = False) -> None:
    """Show the effective configuration (configs/*.yaml plus LOWINC_* environment overrides)."""
    settings = load_settings()
    data = settings.model_dump(mode="json")
    typer.echo(json.dumps(data, ensure_ascii=False, indent=None if as_json else 2))


if __name__ == "__main__":
    app()
